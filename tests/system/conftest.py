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
