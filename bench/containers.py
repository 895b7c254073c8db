"""The container bench of `make bench` (issue 4, "Speed and weight"), all peers
measured in the same run, each with its own temporary stores:

1. `run --rm --network none busybox /bin/true`: vessel, Debian's docker.io and
   podman (the same busybox image, made offline by tests/system/images.py, written
   as a docker-archive by skopeo and loaded into each), and `crun run` of a prepared
   bundle; interleaved rounds after a warm-up, each run once the CPUs are idle
   (common.quiesce: no peer is timed with another's leftover work); medians and
   ratios; and the kernel's
   floor (bench/floor.c), the least any engine's run costs on this machine.
2. The first runs after a pull from a local docker-registry against the steady
   state: a run right after a pull should cost no more than any other.
3. Memory per detached idle container: the processes that exist for it besides its
   own (vessel-monitor, podman's conmon, docker's containerd-shim), Pss and Rss.
4. MANY detached containers started one by one, listed, removed with one `rm -f`,
   and checked that no container, helper process, cgroup or mount is left.

    python3 bench/containers.py --build BUILD --work DIR [--n 30] [--many 200]
"""

import argparse
import os
import statistics
import subprocess
import time

from common import (CRUN, Cleanup, Docker, Failed, HostPaths, Podman, Vessel, cgroups_named,
                    check, helpers, interleaved, memory_of, ms, quiesce, ratio, start_peers, table, timed)

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "busybox:latest"
IDLE = ["sleep", "1000000"]


def make_busybox(work):
    """The busybox image as an OCI layout and as a docker-archive of it."""
    from images import build_image, busybox_layer
    img = build_image(os.path.join(work, "busybox-layout"), [busybox_layer()],
                      config={"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]})
    archive = os.path.join(work, "busybox.tar")
    check(["skopeo", "copy", "--quiet", "oci:%s:latest" % img.layout,
           "docker-archive:%s:%s" % (archive, IMAGE)], what="skopeo copy")
    return img.layout, archive


def bench_run(peers, bundle, crun_root, n, warmup):
    tag = "vb%d" % os.getpid()

    def engine_once(peer):
        return lambda i: timed(peer.run_cmd(IMAGE, "/bin/true"), env=peer.env)

    def crun_once(i):
        cid = "%s-%d" % (tag, i + warmup)
        try:
            return timed([CRUN, "--root", crun_root, "run", "--bundle", bundle, cid])
        except Failed:
            subprocess.run([CRUN, "--root", crun_root, "delete", "--force", cid],
                           capture_output=True)
            raise

    runs = [(p.name, engine_once(p)) for p in peers] + [("crun", crun_once)]
    times, failed = interleaved(runs, n, warmup, before=quiesce)
    names = [name for name, _ in runs]
    med = table("run --rm --network none %s /bin/true: %d runs each after %d warm-up, "
                "interleaved, each once the CPUs are idle" % (IMAGE, n, warmup), names, times, failed)
    ratio(med, "vessel", "crun", "   (goal <= 1.5)")
    for other in ("docker", "podman"):
        if other in med and "vessel" in med:
            print("  %s/vessel = %.1f" % (other, med[other] / med["vessel"]))
    if "vessel" in med:
        print("  goal: vessel median <= 10 ms: %s (%.1f ms)" %
              ("met" if med["vessel"] <= 0.010 else "NOT met", med["vessel"] * 1e3))
    if "vessel" in med and "crun" in med:
        print("  goal: vessel <= 1.5x crun: %s" %
              ("met" if med["vessel"] <= 1.5 * med["crun"] else "NOT met"))
    floor = kernel_floor(bundle, n)
    if floor and "vessel" in med:
        print("  the kernel's floor (bench/floor.c: cgroup, overlay, namespaces, pivot_root, exec "
              "/bin/true): median %.1f ms, min %.1f ms; vessel/floor = %.1f" %
              (floor[0], floor[1], med["vessel"] * 1e3 / floor[0]))
    return med


def kernel_floor(bundle, n):
    """(median, min) ms of bench/floor.c over the bundle's root filesystem, or None."""
    work = os.path.join(os.path.dirname(bundle), "floor")
    os.makedirs(work, exist_ok=True)
    binary = os.path.join(work, "floor")
    unified = "/sys/fs/cgroup/unified"
    parent = os.path.join(unified if os.path.ismount(unified) else "/sys/fs/cgroup",
                          "vessel-bench-floor-%d" % os.getpid())
    try:
        check(["cc", "-O2", "-o", binary, os.path.join(HERE, "floor.c")], what="cc floor.c")
        os.mkdir(parent)
        out = check([binary, os.path.join(bundle, "rootfs"), work, parent, str(n)],
                    what="floor").stdout.split()
        return float(out[0]), float(out[1])
    except (Failed, OSError) as e:
        print("  (the kernel's floor not measured: %s)" % e)
        return None
    finally:
        if os.path.isdir(parent):
            os.rmdir(parent)


def remove_image(peer, ref):
    subprocess.run(peer.cmd("rmi", "-f", ref) if not isinstance(peer, Vessel)
                   else peer.cmd("rmi", ref), env=peer.env, capture_output=True, timeout=120)


def bench_after_pull(peers, registry_ref, steady, rounds):
    """Per round and peer: rmi, pull, then three timed runs (each once the CPUs
    are idle, as the steady runs they are compared with)."""
    res = {p.name: {"pull": [], 1: [], 2: [], 3: []} for p in peers}
    failed = {}
    for _ in range(rounds):
        for p in peers:
            if p.name in failed:
                continue
            try:
                remove_image(p, registry_ref)
                quiesce()
                res[p.name]["pull"].append(timed(p.pull_cmd(registry_ref), env=p.env))
                for k in (1, 2, 3):
                    quiesce()
                    res[p.name][k].append(timed(p.run_cmd(registry_ref, "/bin/true"), env=p.env))
            except (Failed, OSError, subprocess.TimeoutExpired) as e:
                failed[p.name] = str(e)
    print()
    print("first runs of an image just pulled from the local registry (%d rounds: rmi, pull, "
          "3 runs), medians" % rounds)
    print("  %-10s %11s %11s %11s %11s %11s %9s" % ("", "pull", "1st run", "2nd run", "3rd run",
                                                    "steady", "1st/stdy"))
    for p in peers:
        if p.name in failed:
            print("  %-10s FAILED: %s" % (p.name, failed[p.name]))
            continue
        m = {k: statistics.median(v) for k, v in res[p.name].items() if v}
        st = steady.get(p.name)
        print("  %-10s %11s %11s %11s %11s %11s %9s" % (
            p.name, ms(m["pull"]), ms(m[1]), ms(m[2]), ms(m[3]), ms(st) if st else "-",
            "%.2f" % (m[1] / st) if st else "-"))
    for p in peers:
        remove_image(p, registry_ref)


def bench_memory(peers, count):
    print()
    print("memory per detached idle container (%d containers of `%s` each; the processes "
          "that exist for it besides its own)" % (count, " ".join(IDLE)))
    print("  %-10s %-24s %7s %13s %13s" % ("", "helper", "procs", "Pss/ctr", "Rss/ctr"))
    for p in peers:
        ids = []
        try:
            for _ in range(count):
                ids.append(check(p.run_detached_cmd(IMAGE, *IDLE), env=p.env,
                                 what=p.name + " run -d").stdout.strip().splitlines()[-1])
            time.sleep(1.0)  # let every helper settle into its idle state
            pids = p.helper_pids(ids)
            names = sorted({exe(pid) for pid in pids})
            pss = rss = 0
            for pid in pids:
                a, b = memory_of(pid)
                pss, rss = pss + a, rss + b
            print("  %-10s %-24s %7.1f %10.0f KiB %10.0f KiB" % (
                p.name, ",".join(names) or "(none found)", len(pids) / count, pss / count,
                rss / count))
        except (Failed, OSError, subprocess.TimeoutExpired) as e:
            print("  %-10s FAILED: %s" % (p.name, e))
        finally:
            if ids:
                subprocess.run(p.cmd("rm", "-f", *ids), env=p.env, capture_output=True,
                               timeout=300)
    print("  (dockerd and containerd themselves are shared by all containers, not counted)")


def exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return "?"


def mounts_of(p):
    """Mounts under the peer's own directories."""
    dirs = {p.base} | {getattr(p, a) for a in ("runroot", "data_root") if getattr(p, a, None)}
    return {m for d in dirs for m in helpers.mounts_under(d)}


def leftovers(p, ids, mounts_before):
    """What is left of removed containers: a list of findings, empty if clean."""
    left = []
    r = subprocess.run(p.cmd("ps", "-aq", "--no-trunc"), env=p.env, capture_output=True,
                       text=True, timeout=120)
    rows = set(r.stdout.split()) & set(ids)
    if rows:
        left.append("%d containers still listed" % len(rows))
    helpers_left = p.helper_pids(ids)
    if helpers_left:
        left.append("%d helper processes" % len(helpers_left))
    cg = cgroups_named([i for i in ids])
    if cg:
        left.append("%d cgroups (e.g. %s)" % (len(cg), cg[0]))
    mounts = mounts_of(p) - mounts_before
    if mounts:
        left.append("%d mounts (e.g. %s)" % (len(mounts), sorted(mounts)[0]))
    if isinstance(p, Vessel):
        d = os.path.join(p.root, "containers")
        dirs = os.listdir(d) if os.path.isdir(d) else []
        if dirs:
            left.append("%d container directories" % len(dirs))
    return left


def bench_many(peers, many):
    print()
    print("%d detached containers (`run -d %s %s`) started one by one, listed with "
          "`ps -a`, removed with one `rm -f`" % (many, IMAGE, " ".join(IDLE)))
    print("  %-10s %11s %11s %11s %11s  %s" % ("", "start all", "per start", "ps -a", "rm -f all",
                                               "left behind"))
    for p in peers:
        ids = []
        mounts_before = mounts_of(p)
        try:
            t0 = time.perf_counter()
            for _ in range(many):
                ids.append(check(p.run_detached_cmd(IMAGE, *IDLE), env=p.env,
                                 what=p.name + " run -d").stdout.strip().splitlines()[-1])
            t_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            r = check(p.cmd("ps", "-a", "--no-trunc"), env=p.env, what=p.name + " ps -a")
            t_ps = time.perf_counter() - t0
            listed = sum(1 for i in ids if i in r.stdout)
            if listed != many:
                raise Failed("ps -a lists %d of the %d containers" % (listed, many))
            t0 = time.perf_counter()
            rm = p.cmd("rm", "-f", *ids) if not isinstance(p, Podman) else \
                p.cmd("rm", "-f", "-t", "0", *ids)
            check(rm, env=p.env, timeout=1200, what=p.name + " rm -f")
            t_rm = time.perf_counter() - t0
            time.sleep(0.5)
            left = leftovers(p, ids, mounts_before)
            ids = []
            print("  %-10s %11s %11s %11s %11s  %s" % (
                p.name, ms(t_start), ms(t_start / many), ms(t_ps), ms(t_rm),
                "; ".join(left) if left else "nothing"))
        except (Failed, OSError, subprocess.TimeoutExpired) as e:
            print("  %-10s FAILED: %s" % (p.name, e))
        finally:
            if ids:
                subprocess.run(p.cmd("rm", "-f", *ids), env=p.env, capture_output=True,
                               timeout=1200)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", 30)))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--pull-rounds", type=int, default=5)
    ap.add_argument("--idle", type=int, default=10)
    ap.add_argument("--many", type=int, default=int(os.environ.get("MANY", 200)))
    ap.add_argument("--peers", default=os.environ.get("PEERS", "vessel,docker,podman"))
    args = ap.parse_args()

    cleanup = Cleanup()
    guard = HostPaths(["/run/crun", "/var/lib/containers", "/var/lib/containers/cache"])
    cleanup.push(guard.restore)
    try:
        work = args.work
        layout, archive = make_busybox(work)
        bundle = os.path.join(work, "bundle")
        check(["sh", os.path.join(HERE, "..", "scripts", "make-bundle.sh"), bundle, "/bin/true"],
              env=dict(os.environ, RUNTIME="/usr/bin/runc"), what="make-bundle")
        crun_root = os.path.join(work, "crun-root")

        peers = start_peers(args.peers, {
            "vessel": lambda: Vessel(args.build, os.path.join(work, "vessel")),
            "podman": lambda: Podman(os.path.join(work, "podman")),
            "docker": lambda: Docker(os.path.join(work, "docker")),
        }, archive, cleanup)

        steady = bench_run(peers, bundle, crun_root, args.n, args.warmup)

        from registry import Registry
        reg = Registry().start()
        cleanup.push(reg.stop)
        ref = "%s/bench/busybox:latest" % reg.domain
        check(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:%s:latest" % layout,
               "docker://" + ref], what="skopeo copy to the registry")
        bench_after_pull(peers, ref, steady, args.pull_rounds)
        bench_memory(peers, args.idle)
        if args.many > 0:
            bench_many(peers, args.many)
    finally:
        cleanup.run()


if __name__ == "__main__":
    main()
