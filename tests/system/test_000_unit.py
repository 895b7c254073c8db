"""The cmocka unit tests, one pytest test per binary, so that `make check` ends
with a single summary that counts them too."""

import glob
import os
import subprocess

import pytest

import helpers


def unit_binaries():
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(helpers.runtime_path()))
    found = sorted(p for p in glob.glob(os.path.join(build, "tests", "unit", "test-*"))
                   if os.path.isfile(p) and os.access(p, os.X_OK))
    # No binaries at all is a failure of its own (the build did not make them),
    # not a reason to pass quietly.
    return found or [os.path.join(build, "tests", "unit", "test-*")]


@pytest.mark.parametrize("binary", unit_binaries(), ids=os.path.basename)
def test_unit(binary):
    assert os.access(binary, os.X_OK), "no unit test binaries under %s" % binary
    r = subprocess.run([binary], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, "%s exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        binary, r.returncode, r.stdout, r.stderr)
