"""The pull bench of `make bench` (issue 3, "Speed"): a Debian minbase image
(bench/minbase.py: debootstrap, cached) served by Debian's docker-registry on
127.0.0.1, pulled into an empty store by each peer in the same run, rounds
interleaved, once with the stores on disk and once on a tmpfs:

    vessel          vessel pull
    podman          podman pull (own --root/--runroot)
    docker          docker pull (own dockerd; `docker rmi` between runs empties it)
    skopeo          skopeo copy to an OCI directory (download only)
    skopeo+umoci    skopeo copy, then umoci unpack (if Debian's umoci is installed)
    floor           curl | gzip -d | tar -x of the image's layer

    python3 bench/pull.py --build BUILD --work DIR --cache DIR [--n 3]
"""

import argparse
import os
import subprocess
import sys

import minbase
from common import (Cleanup, Docker, Failed, HostPaths, Podman, Vessel, check, interleaved, remove_tree,
                    ratio, table, timed)

REPO = "debian"
UMOCI = "/usr/bin/umoci"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--n", type=int, default=int(os.environ.get("PULL_N", 3)))
    ap.add_argument("--modes", default=os.environ.get("PULL_MODES", "disk,tmpfs"))
    ap.add_argument("--tmpfs-size", default="4g")
    args = ap.parse_args()

    cleanup = Cleanup()
    guard = HostPaths(["/var/lib/containers", "/var/lib/containers/cache"])
    cleanup.push(guard.restore)
    try:
        layout = minbase.build(args.cache)
        layer_digest, layer_size = minbase.layer_of(layout)

        from registry import Registry
        reg = Registry().start()
        cleanup.push(reg.stop)
        ref = "%s/%s:%s" % (reg.domain, REPO, minbase.TAG)
        check(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
               "oci:%s:%s" % (layout, minbase.TAG), "docker://" + ref],
              what="skopeo copy to the registry")
        blob_url = "%s/v2/%s/blobs/%s" % (reg.url, REPO, layer_digest)
        print("pull: %s, one layer of %.1f MB (gzip), from docker-registry on %s" %
              (ref, layer_size / 1e6, reg.domain))
        have_umoci = os.access(UMOCI, os.X_OK)
        if not have_umoci:
            print("pull: umoci is not installed (Debian package umoci): skopeo+umoci left out")

        for mode in args.modes.split(","):
            store = os.path.join(args.work, "store-" + mode)
            os.makedirs(store)
            cleanup.push(remove_tree, store)
            if mode == "tmpfs":
                check(["mount", "-t", "tmpfs", "-o", "size=" + args.tmpfs_size, "bench-tmpfs",
                       store], what="mount tmpfs")
                cleanup.push(lambda s=store: subprocess.run(["umount", "-l", s]))
            elif mode != "disk":
                print("bench: unknown mode '%s'" % mode, file=sys.stderr)
                continue
            bench_mode(args, mode, store, ref, blob_url, have_umoci, cleanup)
    finally:
        cleanup.run()


def bench_mode(args, mode, store, ref, blob_url, have_umoci, cleanup):
    def fresh(name):
        d = os.path.join(store, name)
        remove_tree(d)
        return d

    def vessel_once(i):
        v = Vessel(args.build, fresh("vessel"))
        try:
            return timed(v.pull_cmd(ref), env=v.env)
        finally:
            v.stop()

    def podman_once(i):
        p = Podman(fresh("podman"))
        try:
            return timed(p.pull_cmd(ref), env=p.env)
        finally:
            p.stop()

    docker = Docker(os.path.join(args.work, "docker-" + mode),
                    data_root=os.path.join(store, "docker-data"))
    cleanup.push(docker.stop)
    docker_err = None
    try:
        docker.start()
    except Failed as e:
        docker_err = str(e)

    def docker_once(i):
        if docker_err:
            raise Failed(docker_err)
        subprocess.run(docker.cmd("rmi", "-f", ref), env=docker.env, capture_output=True)
        return timed(docker.pull_cmd(ref), env=docker.env)

    def skopeo_once(i):
        d = fresh("oci")
        try:
            return timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                          "docker://" + ref, "oci:%s:%s" % (d, minbase.TAG)])
        finally:
            remove_tree(d)

    def umoci_once(i):
        d, b = fresh("oci"), fresh("bundle")
        try:
            t = timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                       "docker://" + ref, "oci:%s:%s" % (d, minbase.TAG)])
            return t + timed([UMOCI, "unpack", "--image", "%s:%s" % (d, minbase.TAG), b])
        finally:
            remove_tree(d)
            remove_tree(b)

    def floor_once(i):
        d = fresh("floor")
        os.makedirs(d)
        try:
            return timed(["bash", "-o", "pipefail", "-c",
                          'curl -sSf "$1" | gzip -d | tar -x -C "$2"', "floor", blob_url, d])
        finally:
            remove_tree(d)

    peers = [("vessel", vessel_once), ("podman", podman_once), ("docker", docker_once),
             ("skopeo", skopeo_once)]
    if have_umoci:
        peers.append(("skopeo+umoci", umoci_once))
    peers.append(("floor", floor_once))

    def settle(name, i):
        # Dirty pages of the previous pull must not be written back in this one's time.
        os.sync()

    times, failed = interleaved(peers, args.n, warmup=0, before=settle)
    names = [n for n, _ in peers]
    med = table("pull into an empty store on %s: %d rounds, interleaved" %
                (mode, args.n), names, times, failed)
    for name in names:
        if name != "floor" and name in med and "floor" in med:
            ratio(med, name, "floor")
    for name in names:
        if name not in ("podman", "floor", "skopeo") and name in med and "podman" in med:
            print("  podman/%s = %.2f" % (name, med["podman"] / med[name]))
    if mode == "tmpfs" and "vessel" in med:
        if "floor" in med:
            print("  goal: vessel <= 1.1x the floor on tmpfs: %s" %
                  ("met" if med["vessel"] <= 1.1 * med["floor"] else "NOT met"))
        if "podman" in med:
            print("  goal: vessel >= 1.8x faster than podman on tmpfs: %s" %
                  ("met" if med["podman"] >= 1.8 * med["vessel"] else "NOT met"))
    docker.stop()


if __name__ == "__main__":
    main()
