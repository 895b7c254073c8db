"""The cmocka unit tests, one pytest test per binary, so that `make check` ends
with a single summary that counts them too."""

import glob
import os
import subprocess

import pytest

import helpers


def binaries_in(build):
    found = sorted(p for p in glob.glob(os.path.join(build, "tests", "unit", "test-*"))
                   if os.path.isfile(p) and os.access(p, os.X_OK))
    # No binaries at all is a failure of its own (the build did not make them),
    # not a reason to pass quietly.
    return found or [os.path.join(build, "tests", "unit", "test-*")]


def unit_binaries():
    # Not dirname(runtime_path()): VESSEL_RUNTIME may name /usr/bin/runc.
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    found = binaries_in(build)
    # scripts/check.sh also builds them with ASan+UBSan: they must pass there too.
    asan = os.environ.get("VESSEL_ASAN_BUILD")
    if asan:
        found += binaries_in(asan)
    return found


def unit_id(path):
    kind = "asan-" if os.environ.get("VESSEL_ASAN_BUILD") and \
        path.startswith(os.environ["VESSEL_ASAN_BUILD"]) else ""
    return kind + os.path.basename(path)


@pytest.mark.parametrize("binary", unit_binaries(), ids=unit_id)
def test_unit(binary):
    assert os.access(binary, os.X_OK), "no unit test binaries under %s" % binary
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    r = subprocess.run([binary], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, "%s exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        binary, r.returncode, r.stdout, r.stderr)
