"""The network bench of `make bench` (issue 5, "Speed"), peers in the same run:

1. `run --rm busybox /bin/true` on each engine's default bridge: vessel (its
   "bridge" network on a subnet picked here, given through its config file),
   docker (its default bridge docker0 on a subnet picked here; --iptables=false,
   so the host's iptables are left alone) and podman (its default "podman"
   network, in a network config dir of its own), interleaved, each run once
   the CPUs are idle (common.quiesce); medians and ratios. Goal: vessel's
   median at most 20 ms.
2. TCP throughput from the host to a container over vessel's bridge against a
   veth pair made by hand (`ip` into a namespace of this bench): busybox
   `nc -l` in the container reads what `dd | busybox nc` sends from the host.
   Goal: within 10% of the bare veth.

    python3 bench/net.py --build BUILD --work DIR [--n 30] [--mib 2000]
"""

import argparse
import ipaddress
import json
import os
import random
import subprocess
import time

from common import (Cleanup, Docker, Failed, Podman, Vessel, check, interleaved, quiesce, ratio, start_peers, table,
                    timed)
from containers import IMAGE, make_busybox


def free_subnets(n):
    out = subprocess.run(["ip", "-o", "-4", "route", "show", "table", "all"], capture_output=True,
                         text=True, check=True).stdout
    used = []
    for line in out.splitlines():
        try:
            used.append(ipaddress.ip_network(line.split()[0], strict=False))
        except ValueError:
            pass
    picked = []
    while len(picked) < n:
        s = ipaddress.ip_network("10.%d.%d.0/24" % (random.randint(150, 199), random.randint(0, 255)))
        if not any(s.overlaps(u) for u in used + picked):
            picked.append(s)
    return picked


class VesselBridge(Vessel):
    def __init__(self, build, base, subnet):
        super().__init__(build, base)
        os.makedirs(base, exist_ok=True)
        config = os.path.join(base, "config.json")
        with open(config, "w") as f:
            json.dump({"bip": "%s/%d" % (next(subnet.hosts()), subnet.prefixlen)}, f)
        self.env = dict(os.environ, VESSEL_CONFIG=config)

    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", image, *args)


class PodmanBridge(Podman):
    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", "--network", "bridge", image, *args)


class DockerBridge(Docker):
    """dockerd on its default bridge (docker0, --bip given), no iptables rules."""

    def __init__(self, base, subnet):
        super().__init__(base)
        self.subnet = subnet

    def daemon_config(self):
        return {"bip": "%s/%d" % (next(self.subnet.hosts()), self.subnet.prefixlen),
                "iptables": False, "ip6tables": False}, []

    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", image, *args)

    def stop(self):
        super().stop()
        subprocess.run(["ip", "link", "del", "docker0"], capture_output=True)


def bench_run(peers, n, warmup):
    times, failed = interleaved([(p.name, (lambda p: lambda i: timed(p.run_cmd(IMAGE, "/bin/true"),
                                                                      env=p.env))(p)) for p in peers],
                                n, warmup, before=quiesce)
    med = table("run --rm %s /bin/true on the default bridge: %d runs each after %d warm-up, "
                "interleaved, each once the CPUs are idle" % (IMAGE, n, warmup), [p.name for p in peers],
                times, failed)
    ratio(med, "vessel", "docker")
    ratio(med, "vessel", "podman")
    if "vessel" in med:
        print("  vessel median %.1f ms (goal: 20 ms or less)" % (med["vessel"] * 1e3))


def send(addr, mib):
    """Seconds to push mib MiB to addr:5001 with busybox nc (the listener exits at EOF; its
    stdin is a pipe that stays open, else it would hang up at once). busybox nc copies
    in small chunks, so both figures are bounded by it: the ratio is what counts."""
    cmd = "dd if=/dev/zero bs=1M count=%d 2>/dev/null | busybox nc %s 5001" % (mib, addr)
    t0 = time.perf_counter()
    check(["sh", "-c", cmd], timeout=300, what="nc to %s" % addr)
    return time.perf_counter() - t0


def wait_listening(run_in, port=5001, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ":%04X 00" % port in run_in(["cat", "/proc/net/tcp", "/proc/net/tcp6"]):
            return
        time.sleep(0.05)
    raise Failed("no listener on port %d" % port)


def bench_throughput(vessel, rounds, mib, cleanup):
    results = {"vessel bridge": [], "bare veth": []}
    # The bare veth: host end 198.18.0.1, a namespace of ours with 198.18.0.2.
    ns = "vbnet%d" % os.getpid()
    check(["ip", "netns", "add", ns])
    cleanup.push(lambda: subprocess.run(["ip", "netns", "del", ns], capture_output=True))
    host, peer = "vbh%d" % (os.getpid() % 100000), "vbc%d" % (os.getpid() % 100000)
    check(["ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns])
    cleanup.push(lambda: subprocess.run(["ip", "link", "del", host], capture_output=True))
    check(["ip", "addr", "add", "198.18.0.1/30", "dev", host])
    check(["ip", "link", "set", host, "up"])
    check(["ip", "netns", "exec", ns, "ip", "addr", "add", "198.18.0.2/30", "dev", peer])
    check(["ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"])
    check(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])

    def ns_run(cmd):
        return check(["ip", "netns", "exec", ns] + cmd).stdout

    name = "vbnc%d" % os.getpid()
    for _ in range(rounds):
        # vessel: a detached listener; its address from inspect.
        check(vessel.cmd("run", "-d", "--name", name, IMAGE, "sh", "-c", "sleep 1000 | nc -l -p 5001 > /dev/null"),
              env=vessel.env)
        try:
            ip = check(vessel.cmd("exec", name, "ip", "-o", "-4", "addr", "show", "eth0"),
                       env=vessel.env).stdout.split()[3].split("/")[0]
            wait_listening(lambda c: check(vessel.cmd("exec", name, *c), env=vessel.env).stdout)
            results["vessel bridge"].append(send(ip, mib))
        finally:
            subprocess.run(vessel.cmd("rm", "-f", name), env=vessel.env, capture_output=True)
        listener = subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "nc", "-l", "-p", "5001"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        try:
            wait_listening(ns_run)
            results["bare veth"].append(send("198.18.0.2", mib))
        finally:
            listener.stdin.close()
            try:
                listener.wait(30)
            except subprocess.TimeoutExpired:
                listener.kill()
                listener.wait()
    med = table("TCP from the host into a container, %d MiB with busybox nc, %d rounds (seconds)"
                % (mib, rounds), list(results), results, {})
    if med.get("vessel bridge"):
        print("  throughput: vessel bridge %.0f MiB/s, bare veth %.0f MiB/s (vessel/bare = %.2f; goal >= 0.90)"
              % (mib / med["vessel bridge"], mib / med["bare veth"], med["bare veth"] / med["vessel bridge"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", 30)))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--mib", type=int, default=int(os.environ.get("NET_MIB", 2000)))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--peers", default=os.environ.get("PEERS", "vessel,docker,podman"))
    args = ap.parse_args()
    cleanup = Cleanup()
    try:
        _, archive = make_busybox(args.work)
        subnets = free_subnets(2)

        def docker():
            if os.path.exists("/sys/class/net/docker0"):
                print("bench: docker left out: the host has a docker0 already")
                return None
            return DockerBridge(os.path.join(args.work, "docker"), subnets[1])

        peers = start_peers(args.peers, {
            "vessel": lambda: VesselBridge(args.build, os.path.join(args.work, "vessel"), subnets[0]),
            "podman": lambda: PodmanBridge(os.path.join(args.work, "podman")),
            "docker": docker,
        }, archive, cleanup)
        vessel = next((p for p in peers if isinstance(p, VesselBridge)), None)
        bench_run(peers, args.n, args.warmup)
        if vessel is not None:
            bench_throughput(vessel, args.rounds, args.mib, cleanup)
    finally:
        cleanup.run()


if __name__ == "__main__":
    main()
