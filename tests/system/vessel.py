"""Driving the `vessel` command in tests: each test gets its own --root and
--runroot under a temporary directory, reset (`vessel system reset -f`: its
containers, images, volumes, networks, bridges and nftables rules go) and
removed afterwards (with any overlay mounts under it), so tests never see
each other's images or containers and leave nothing on the host."""

import json
import os
import subprocess
import tempfile

import pytest

from helpers import unmount_all_under

TIMEOUT = 180


def vessel_path():
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.abspath(os.path.join(build, "vessel"))


class Vessel:
    """`v(*args)` runs `vessel --root ROOT --runroot RUNROOT *args` and returns the
    CompletedProcess (text mode); `v.ok(...)` also asserts exit code 0."""

    def __init__(self, base, env=None, extra=()):
        self.base = base
        self.root = os.path.join(base, "root")
        self.runroot = os.path.join(base, "run")
        self.env = dict(os.environ, **(env or {}))
        self.extra = list(extra)

    def cmd(self, *args):
        return [vessel_path(), "--root", self.root, "--runroot", self.runroot] + self.extra + \
            [str(a) for a in args]

    def __call__(self, *args, input=None, timeout=TIMEOUT):
        kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(self.cmd(*args), capture_output=True, text=True, timeout=timeout,
                              env=self.env, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, "vessel %s: exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), r.returncode, r.stdout, r.stderr)
        return r

    def fails(self, *args, code=125, **kw):
        r = self(*args, **kw)
        assert r.returncode == code, "vessel %s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), r.returncode, code, r.stdout, r.stderr)
        return r

    def inspect_image(self, name):
        return json.loads(self.ok("image", "inspect", name).stdout)[0]

    def image_ids(self):
        return set(self.ok("images", "-q").stdout.split())

    def reset(self):
        """`system reset -f`: every container, image, volume and network of this root
        goes, with the default bridge's link and this root's nftables rules. None when
        the root was never made (nothing to reset)."""
        if not os.path.isdir(self.root) or not os.path.exists(vessel_path()):
            return None
        return self("system", "reset", "-f")

    def cleanup(self):
        """The reset first (bridges and nftables rules are the host's, not under base),
        then mounts and files; a failed reset fails the test after all that is done."""
        r = None
        try:
            r = self.reset()
        finally:
            unmount_all_under(self.base)
            subprocess.run(["rm", "-rf", self.base], check=False)
        assert r is None or r.returncode == 0, "vessel system reset -f: exit %d\nstderr: %s" % (
            r.returncode, r.stderr)


def reset_roots_under(d):
    """`system reset -f` of every Vessel root made directly under d (by tests that
    make several roots in one temporary directory): what outlives containers, a
    network's bridge and rules, is the host's, not under d."""
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        base = os.path.join(d, name)
        if os.path.isdir(os.path.join(base, "root")):
            Vessel(base).reset()


@pytest.fixture
def vessel():
    """A Vessel with fresh roots; everything under them is removed afterwards."""
    v = Vessel(tempfile.mkdtemp(prefix="vessel-test-"))
    try:
        yield v
    finally:
        v.cleanup()
