"""Fixtures of vessel's system tests (see helpers.py).

  work    a temporary directory for the test (`work.bundle(*args)` makes a bundle)
  rt      the runtime with its own `--root` inside `work`; `rt(*args)` runs it
  bundle  a busybox bundle in `work` whose process is `true` (`bundle.set_args()`)

Teardown force-deletes every container the test made, kills what is left in their
cgroups, removes the cgroups, unmounts everything under `work` and removes it.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import helpers  # noqa: E402


def default_parent_cgroups():
    """The runtime's default parent cgroup ("/vessel") in every hierarchy."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2"):
                found.append(os.path.join(fields[4], "vessel"))
    return found


@pytest.fixture(scope="session", autouse=True)
def leave_no_parent_cgroup():
    """Containers without a cgroupsPath live under /vessel/<id>: the parent
    directory the runtime made is removed once the suite is done with it."""
    before = {p for p in default_parent_cgroups() if os.path.isdir(p)}
    yield
    for p in default_parent_cgroups():
        if p not in before and os.path.isdir(p):
            try:
                os.rmdir(p)
            except OSError:
                pass


@pytest.fixture
def work():
    w = helpers.Workdir()
    yield w
    w.cleanup()


@pytest.fixture
def rt(work):
    r = helpers.Runtime(work.path)
    yield r
    r.cleanup()


@pytest.fixture
def bundle(work):
    return work.bundle("true")


def pytest_report_header(config):
    return "runtime under test: %s" % helpers.runtime_path()
