"""The libFuzzer targets of tests/fuzz, each run briefly on its seed corpus: a
crash, a leak, undefined behaviour or a broken invariant in a parser of untrusted
input fails the suite with the fuzzer's report.

The fuzz build is $VESSEL_FUZZ_BUILD, else <repo>/build-fuzz; it is configured
(CC=clang, -Dfuzz=true) when missing and brought up to date before the runs.
"""

import concurrent.futures
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUZZ_DIR = os.path.join(REPO, "tests", "fuzz")
RUN_SECONDS = 10


def fuzz_build():
    return os.path.abspath(os.environ.get("VESSEL_FUZZ_BUILD") or os.path.join(REPO, "build-fuzz"))


def target_names():
    """Every harness in tests/fuzz, and every fuzz-* binary already built: a
    harness whose binary the build did not make is a failure, not a skip."""
    names = {os.path.basename(p)[:-2] for p in glob.glob(os.path.join(FUZZ_DIR, "fuzz-*.c"))}
    names |= {os.path.basename(p) for p in glob.glob(os.path.join(fuzz_build(), "tests", "fuzz", "fuzz-*"))
              if os.path.isfile(p) and os.access(p, os.X_OK)}
    return sorted(names)


def run(cmd, env=None):
    return subprocess.run(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built():
    build = fuzz_build()
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        r = run(["meson", "setup", build, "-Dfuzz=true"], env=dict(os.environ, CC="clang"))
    else:
        r = run(["meson", "configure", build, "-Dfuzz=true"])
    assert r.returncode == 0, "configuring %s failed\n%s\n%s" % (build, r.stdout, r.stderr)
    r = run(["ninja", "-C", build, "fuzz-targets"])
    assert r.returncode == 0, "building the fuzz targets failed\n%s\n%s" % (r.stdout[-6000:], r.stderr)
    return os.path.join(build, "tests", "fuzz")


def fuzz_one(fuzz_dir, name):
    """Runs one target for RUN_SECONDS; returns (exit code, stderr, reproducers)."""
    binary = os.path.join(fuzz_dir, name)
    seeds = os.path.join(FUZZ_DIR, "corpus", name[len("fuzz-"):])
    if not os.access(binary, os.X_OK):
        return None, "%s was not built" % binary, {}
    if not os.path.isdir(seeds):
        return None, "no seed corpus for %s in %s" % (name, seeds), {}
    # The fuzzer adds what it finds to its corpus: it works on a copy, so the
    # repository's seeds stay as they are. Crash files land in the copy too.
    with tempfile.TemporaryDirectory(prefix="vessel-fuzz-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(seeds, corpus)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        try:
            r = subprocess.run([binary, "-max_total_time=%d" % RUN_SECONDS,
                                "-artifact_prefix=%s/" % tmp, corpus],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=RUN_SECONDS + 120, env=env)
            code, log = r.returncode, r.stderr
        except subprocess.TimeoutExpired as e:
            code, log = "timeout", (e.stderr or b"").decode(errors="replace")
        # The temporary directory goes: the reproducers' bytes go into the report.
        found = {}
        for f in sorted(os.listdir(tmp)):
            if f != "corpus":
                with open(os.path.join(tmp, f), "rb") as fh:
                    found[f] = fh.read(2000)
        return code, log, found


@pytest.fixture(scope="module")
def results(built):
    """All targets at once, so that the suite waits RUN_SECONDS, not that many times over."""
    names = target_names()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        runs = {n: pool.submit(fuzz_one, built, n) for n in names}
        return {n: f.result() for n, f in runs.items()}


@pytest.mark.parametrize("name", target_names())
def test_fuzz(results, name):
    code, log, found = results[name]
    assert code == 0 and not found, "%s exited %s; reproducers: %r\n%s" % (
        name, code, found or "none", log[-12000:])
