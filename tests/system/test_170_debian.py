"""A real distribution image end to end: Debian 12 minbase made by debootstrap
from the Debian mirror apt uses (bench/minbase.py; cached in tests/system/.cache
between runs), pushed by skopeo into the loopback registry acting as docker.io's
mirror, pulled and run by vessel as `debian:bookworm`."""

import os
import sys

import pytest

from images import skopeo_push
from registry import registry  # noqa: F401
from vessel import vessel  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import minbase  # noqa: E402

CACHE = os.path.join(HERE, ".cache")


@pytest.fixture(scope="module")
def debian_layout():
    return minbase.build(CACHE)


def test_debian_minbase_through_a_mirror(vessel, registry, debian_layout):  # noqa: F811
    skopeo_push(debian_layout, minbase.TAG, registry.domain + "/library/debian:bookworm")
    v = lambda *a: vessel.ok("--registry-mirror", registry.url, *a)  # noqa: E731
    r = v("run", "--rm", "debian:bookworm", "cat", "/etc/debian_version")
    assert r.stdout.startswith("12.")
    # Owners, modes and setuid bits of a real distribution survive the layer apply.
    r = v("run", "--rm", "debian:bookworm", "sh", "-c",
          "id -un; stat -c '%a %U' /usr/bin/passwd /tmp /etc/shadow; dpkg-query -W -f '${Status}\\n' bash")
    assert r.stdout.splitlines() == ["root", "4755 root", "1777 root", "640 root",
                                     "install ok installed"]
    info = vessel.inspect_image("debian:bookworm")
    assert info["RepoTags"] == ["debian:bookworm"]
    assert info["Size"] > 50 * 1000 * 1000
