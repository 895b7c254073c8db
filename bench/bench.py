"""Timing loop of bench/run.sh: `RUNTIME --root DIR run --bundle B ID` of the
bundle's /bin/true, runtimes interleaved (so drift hits all alike), after a
warm-up; prints medians and ratios, then the 512 KiB memory limit check."""

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import time

MEMORY_LIMIT = 512 * 1024


def run_once(binary, root, bundle, cid):
    t0 = time.perf_counter()
    r = subprocess.run([binary, "--root", root, "run", "--bundle", bundle, cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return time.perf_counter() - t0, r


def force_delete(binary, root, cid):
    try:
        subprocess.run([binary, "--root", root, "delete", "--force", cid],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("runtimes", nargs="+", help="NAME=PATH")
    args = ap.parse_args()

    runtimes = [tuple(s.split("=", 1)) for s in args.runtimes]
    roots = {name: os.path.join(args.work, "root-" + name) for name, _ in runtimes}
    times = {name: [] for name, _ in runtimes}
    failed = {}
    tag = "bench%d" % os.getpid()

    print("bench: %d runs each of /bin/true (after %d warm-up runs), interleaved" %
          (args.n, args.warmup))
    for i in range(-args.warmup, args.n):
        for name, binary in runtimes:
            if name in failed:
                continue
            cid = "%s-%s-%d" % (tag, name, i + args.warmup)
            try:
                dt, r = run_once(binary, roots[name], args.bundle, cid)
            except (OSError, subprocess.TimeoutExpired) as e:
                failed[name] = str(e)
                force_delete(binary, roots[name], cid)
                continue
            if r.returncode != 0:
                failed[name] = "exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])
                force_delete(binary, roots[name], cid)
                continue
            if i >= 0:
                times[name].append(dt)

    med = {}
    print("%-8s %9s %9s %9s" % ("runtime", "median", "min", "p90"))
    for name, _ in runtimes:
        if name in failed:
            print("%-8s FAILED: %s" % (name, failed[name]))
            continue
        t = sorted(times[name])
        med[name] = statistics.median(t)
        print("%-8s %7.2fms %7.2fms %7.2fms" % (name, med[name] * 1e3, t[0] * 1e3,
                                                 t[int(len(t) * 0.9) - 1] * 1e3))
    if "vessel" in med:
        for other in ("crun", "runc"):
            if other in med:
                print("vessel/%s: %.2f  (%s is %.2fx the time of vessel)" %
                      (other, med["vessel"] / med[other], other, med[other] / med["vessel"]))

    # A container under a 512 KiB memory limit.
    small = os.path.join(args.work, "bundle-512k")
    os.makedirs(small)
    os.symlink(os.path.join(os.path.abspath(args.bundle), "rootfs"),
               os.path.join(small, "rootfs"))
    with open(os.path.join(args.bundle, "config.json")) as f:
        config = json.load(f)
    config = copy.deepcopy(config)
    config["root"]["path"] = os.path.join(os.path.abspath(args.bundle), "rootfs")
    config.setdefault("linux", {}).setdefault("resources", {})["memory"] = {
        "limit": MEMORY_LIMIT}
    with open(os.path.join(small, "config.json"), "w") as f:
        json.dump(config, f)
    print("memory limit %d KiB (linux.resources.memory.limit %d):" %
          (MEMORY_LIMIT // 1024, MEMORY_LIMIT))
    for name, binary in runtimes:
        cid = "%s-%s-512k" % (tag, name)
        try:
            _, r = run_once(binary, roots[name], small, cid)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("  %-8s did not run: %s" % (name, e))
            force_delete(binary, roots[name], cid)
            continue
        if r.returncode == 0:
            print("  %-8s ran" % name)
        else:
            msg = r.stderr.strip().splitlines()[-1:] or [""]
            print("  %-8s did not run (exit %d) %s" % (name, r.returncode, msg[0][:200]))
            force_delete(binary, roots[name], cid)
    for root in roots.values():
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
