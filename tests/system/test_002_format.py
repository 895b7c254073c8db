"""The tree follows its .clang-format: one formatting tool for all of it
(style.md), checked here so that CI keeps it that way."""

import subprocess
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_sources_are_clang_formatted():
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert files
    r = subprocess.run(["clang-format", "--dry-run", "--Werror"] + files, cwd=ROOT, capture_output=True,
                       text=True)
    bad = sorted({line.split(":")[0] for line in r.stderr.splitlines() if ": error:" in line})
    assert r.returncode == 0, "not clang-formatted (run `make format`): " + " ".join(bad)
