"""Networks: the default bridge, user networks that resolve names, published
ports, isolation, internal networks, connect/disconnect, address reuse, and
nothing left on the host afterwards: a container's veth and port rules go
with it, a network's bridge and rules stay until the network goes (`network
rm`, or `system reset` for the default bridge: every test ends with one).

All traffic stays between the test's own containers, the bridge addresses
the test made and 127.0.0.1. Every test runs on subnets of its own (10.x.y.0/24
that no host route uses), given through vessel's config file."""

import ipaddress
import json
import os
import random
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

from busybox_image import IMAGE, busybox_archive  # noqa: F401
from vessel import Vessel

SLEEPER = ["sleep", "1000"]


def host_routes():
    out = subprocess.run(["ip", "-o", "-4", "route", "show", "table", "all"], capture_output=True,
                         text=True, check=True).stdout
    nets = []
    for line in out.splitlines():
        word = line.split()[0]
        if word in ("default", "broadcast", "local", "unreachable"):
            continue
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
    return nets


def free_subnets(n):
    used = host_routes()
    out = []
    while len(out) < n:
        s = ipaddress.ip_network("10.%d.%d.0/24" % (random.randint(200, 250), random.randint(0, 255)))
        if not any(s.overlaps(u) for u in used + out):
            out.append(s)
    return out


def links():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


def vessel_tables():
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip() in ("table ip vessel", "table ip6 vessel")]


def noted(v, what):
    with open(os.path.join(v.base, what)) as f:
        return set(f.read().split())


def our_links(v):
    """The links this root made: its bridges and the veths of its containers."""
    bridges = noted(v, "bridges")
    return [name for name in links() if name in bridges] + our_veths(v)


def our_veths(v):
    """The veths of this root's containers, once those of stopped ones are gone:
    vessel leaves their deletion to the kernel, which does it with the container's
    network namespace, a moment after the container stops."""
    deadline = time.monotonic() + 10
    while True:
        mine = [name for name in links() if any(name.startswith("vsl" + c[:6]) for c in v.cids)]
        running = v.ok("ps", "-q", "--no-trunc").stdout.split()
        if all(any(name.startswith("vsl" + c[:6]) for c in running) for name in mine) or \
                time.monotonic() > deadline:
            return mine
        time.sleep(0.05)


def ruleset():
    return subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True, check=True).stdout


def our_rules(v):
    """Lines of the host's nftables rules that belong to this root: its networks'
    ("net:<id>"), its containers' ("ctr:<id>") or naming one of its bridges."""
    marks = ["net:" + i for i in noted(v, "netids")] + ["ctr:" + c for c in v.cids] + \
        ['"%s"' % b for b in noted(v, "bridges")]
    return [line.strip() for line in ruleset().splitlines() if any(m in line for m in marks)]


def default_bridge(v):
    return json.loads(v.ok("network", "inspect", "bridge").stdout)[0]["Options"]["com.docker.network.bridge.name"]


def bridged_root(prefix):
    """A Vessel with fresh roots whose default bridge takes a /24 no host route uses."""
    base = tempfile.mkdtemp(prefix=prefix)
    bip_net, = free_subnets(1)
    config = os.path.join(base, "config.json")
    with open(config, "w") as f:
        json.dump({"bip": "%s/24" % next(bip_net.hosts())}, f)
    v = Vessel(base, env={"VESSEL_CONFIG": config})
    v.bip_net = bip_net
    return v


@pytest.fixture
def v(busybox_archive):  # noqa: F811
    v = bridged_root("vessel-net-")
    base = v.base
    v.cids = []
    # Bridges and ids of this test's networks (recorded as they appear, the default
    # bridge's from the start): after the reset nothing of them may be left.
    for what in ("bridges", "netids"):
        with open(os.path.join(base, what), "w"):
            pass
    v.ok("load", "-i", busybox_archive.archive)
    try:
        note_bridges(v)
        yield v
    finally:
        try:
            reset = v.reset()
            left, rules = our_links(v), our_rules(v)
        finally:
            v.cleanup()
        assert reset.returncode == 0, reset.stderr
        assert left == [], "links left behind: %s" % left
        assert rules == [], "nftables rules left behind: %s" % rules


def note_bridges(v):
    with open(os.path.join(v.base, "bridges"), "a") as f, open(os.path.join(v.base, "netids"), "a") as g:
        for name in v("network", "ls", "-q").stdout.split():
            info = json.loads(v.ok("network", "inspect", name).stdout)[0]
            if info["Driver"] == "bridge":
                f.write(info["Options"]["com.docker.network.bridge.name"] + "\n")
                g.write(info["Id"] + "\n")


def network(v, name, *args):
    subnet, = free_subnets(1)
    v.ok("network", "create", "--subnet", str(subnet), *args, name)
    note_bridges(v)
    return subnet


def run_d(v, name, *args, cmd=SLEEPER):
    cid = v.ok("run", "-d", "--name", name, *args, IMAGE, *cmd).stdout.strip()
    v.cids.append(cid)
    note_bridges(v)
    return cid


def ip_of(v, name, iface="eth0"):
    out = v.ok("exec", name, "ip", "-o", "-4", "addr", "show", iface).stdout
    return out.split()[3].split("/")[0]


def retry(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        r = fn()
        if r.returncode == 0 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_default_bridge_gives_address_route_and_hosts(v):
    out = v.ok("run", "--rm", IMAGE, "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/hosts").stdout
    note_bridges(v)
    addr = ipaddress.ip_interface(out.split()[3])
    assert addr.network == v.bip_net
    assert addr.ip != next(v.bip_net.hosts())
    assert "default via %s dev eth0" % next(v.bip_net.hosts()) in out
    assert "%s\t" % addr.ip in out  # its own name in /etc/hosts
    # Its veth went with it; the bridge stays, as docker0 does.
    assert our_links(v) == [default_bridge(v)]


def test_user_network_tcp_by_name_and_alias(v):
    network(v, "tnet")
    run_d(v, "server", "--network", "tnet", "--network-alias", "db",
          cmd=["sh", "-c", "while true; do echo hello-tcp | nc -l -p 1234; done"])
    for target in ("server", "db"):
        r = retry(lambda: v("run", "--rm", "--network", "tnet", IMAGE, "nc", "-w", "3", target, "1234"))
        assert r.returncode == 0 and r.stdout.strip() == "hello-tcp", r.stderr


def test_names_follow_containers_coming_and_going(v):
    network(v, "tnet")
    run_d(v, "alpha", "--network", "tnet")
    run_d(v, "beta", "--network", "tnet", "--network-alias", "bee")
    hosts = v.ok("exec", "alpha", "cat", "/etc/hosts").stdout
    assert "%s\tbeta bee" % ip_of(v, "beta") in hosts
    v.ok("exec", "alpha", "ping", "-c", "1", "-W", "2", "bee")
    v.ok("rm", "-f", "beta")
    assert "\tbeta bee" not in v.ok("exec", "alpha", "cat", "/etc/hosts").stdout
    assert v("exec", "alpha", "ping", "-c", "1", "-W", "1", "beta").returncode != 0
    run_d(v, "gamma", "--network", "tnet")
    v.ok("exec", "alpha", "ping", "-c", "1", "-W", "2", "gamma")


def test_published_port_from_the_host(v):
    port = random.randint(20000, 40000)
    run_d(v, "web", "-p", "127.0.0.1:%d:80" % port,
          cmd=["sh", "-c", "mkdir /www && echo hi-from-web > /www/index.html && httpd -f -p 80 -h /www"])
    assert v.ok("port", "web").stdout.strip() == "80/tcp -> 127.0.0.1:%d" % port
    deadline = time.monotonic() + 10
    while True:
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/index.html" % port, timeout=3).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert body == b"hi-from-web\n"
    assert "table ip vessel" in vessel_tables()


def test_taken_host_port_is_refused(v):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = v.fails("run", "--rm", "-p", "127.0.0.1:%d:80" % port, IMAGE, "true")
        assert "port is already allocated" in r.stderr
    finally:
        s.close()
    # Taken by another vessel container.
    port = random.randint(20000, 40000)
    run_d(v, "holder", "-p", "127.0.0.1:%d:80" % port)
    r = v.fails("run", "--rm", "-p", "127.0.0.1:%d:80" % port, IMAGE, "true")
    assert "port is already allocated" in r.stderr
    # A random host port: -p 80
    run_d(v, "rnd", "-p", "80")
    line = v.ok("port", "rnd").stdout.strip()
    assert line.startswith("80/tcp -> 0.0.0.0:") and int(line.rsplit(":", 1)[1]) > 0


def test_networks_are_isolated(v):
    network(v, "n1")
    network(v, "n2")
    run_d(v, "one", "--network", "n1", cmd=["sh", "-c", "while true; do echo x | nc -l -p 80; done"])
    run_d(v, "two", "--network", "n2")
    target = ip_of(v, "one")
    # Same network: reachable.
    assert retry(lambda: v("run", "--rm", "--network", "n1", IMAGE, "nc", "-w", "2", target, "80")).returncode == 0
    # Other network: neither by address nor by name.
    assert v("exec", "two", "nc", "-w", "2", target, "80").returncode != 0
    assert v("exec", "two", "ping", "-c", "1", "-W", "1", "one").returncode != 0


def test_internal_network_has_no_way_out(v):
    network(v, "inner", "--internal")
    run_d(v, "shut", "--network", "inner")
    routes = v.ok("exec", "shut", "ip", "route").stdout
    assert "default" not in routes
    info = json.loads(v.ok("network", "inspect", "inner").stdout)[0]
    assert info["Internal"] is True
    # No masquerade for its subnet in vessel's table.
    rules = subprocess.run(["nft", "list", "table", "ip", "vessel"], capture_output=True, text=True).stdout
    assert "ip saddr %s" % info["IPAM"]["Config"][0]["Subnet"] not in rules


def test_addresses_are_unique_and_reused_after_rm(v):
    subnet = network(v, "pool")
    names = ["p%d" % i for i in range(8)]
    errors = []

    def start(name):
        r = v("run", "-d", "--name", name, "--network", "pool", IMAGE, *SLEEPER)
        if r.returncode != 0:
            errors.append(r.stderr)

    threads = [threading.Thread(target=start, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ips = [ip_of(v, n) for n in names]
    assert len(set(ips)) == len(ips)
    assert all(ipaddress.ip_address(ip) in subnet for ip in ips)
    freed = ips[3]
    v.ok("rm", "-f", names[3])
    run_d(v, "again", "--network", "pool")
    assert ip_of(v, "again") == freed


def test_fixed_ip_and_mac(v):
    subnet = network(v, "fixed")
    want = str(list(subnet.hosts())[9])
    run_d(v, "pinned", "--network", "fixed", "--ip", want, "--mac-address", "02:42:de:ad:be:ef")
    assert ip_of(v, "pinned") == want
    link = v.ok("exec", "pinned", "ip", "-o", "link", "show", "eth0").stdout
    assert "02:42:de:ad:be:ef" in link
    r = v.fails("run", "--rm", "--network", "fixed", "--ip", want, IMAGE, "true")
    assert "in use" in r.stderr


def test_connect_and_disconnect_a_running_container(v):
    network(v, "extra")
    run_d(v, "peer", "--network", "extra")
    run_d(v, "mover")
    assert v("exec", "mover", "ip", "link", "show", "eth1").returncode != 0
    v.ok("network", "connect", "--alias", "mv", "extra", "mover")
    note_bridges(v)
    assert ipaddress.ip_address(ip_of(v, "mover", "eth1"))
    v.ok("exec", "peer", "ping", "-c", "1", "-W", "2", "mv")
    v.ok("exec", "mover", "ping", "-c", "1", "-W", "2", "peer")
    v.ok("network", "disconnect", "extra", "mover")
    assert v("exec", "mover", "ip", "link", "show", "eth1").returncode != 0
    assert v("exec", "peer", "ping", "-c", "1", "-W", "1", "mv").returncode != 0
    info = json.loads(v.ok("network", "inspect", "extra").stdout)[0]
    assert [c["Name"] for c in info["Containers"].values()] == ["peer"]


def test_network_commands(v):
    v.fails("network", "rm", "bridge", code=1)
    network(v, "keep")
    network(v, "gone")
    run_d(v, "user", "--network", "keep")
    r = v("network", "rm", "keep")
    assert r.returncode != 0 and "active endpoints" in r.stderr
    names = v.ok("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(names) == ["bridge", "gone", "host", "keep", "none"]
    drivers = dict(line.split() for line in v.ok("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.splitlines())
    assert drivers == {"bridge": "bridge", "gone": "bridge", "host": "host", "keep": "bridge", "none": "null"}
    v.fails("network", "rm", "host", code=1)
    v.fails("network", "rm", "none", code=1)
    assert v.ok("network", "prune", "-f").stdout.split() == ["Deleted", "Networks:", "gone"]
    r = v("network", "create", "--subnet", json.loads(v.ok("network", "inspect", "keep").stdout)[0]["IPAM"][
        "Config"][0]["Subnet"], "clash")
    assert r.returncode != 0 and "overlaps" in r.stderr


def test_nothing_left_after_containers_and_networks_go(v):
    network(v, "tmp")
    tmp = json.loads(v.ok("network", "inspect", "tmp").stdout)[0]
    tmp_bridge = tmp["Options"]["com.docker.network.bridge.name"]
    xx = run_d(v, "xx", "--network", "tmp", "-p", "127.0.0.1:%d:80" % random.randint(20000, 40000))
    run_d(v, "yy")
    assert our_veths(v) != []
    assert [line for line in ruleset().splitlines() if "ctr:" + xx in line]
    v.ok("rm", "-f", "xx", "yy")
    # The containers' veths and port rules went; the bridges and their rules stay.
    assert our_veths(v) == []
    assert sorted(our_links(v)) == sorted([tmp_bridge, default_bridge(v)])
    assert [line for line in ruleset().splitlines() if "ctr:" + xx in line] == []
    assert [line for line in ruleset().splitlines() if "net:" + tmp["Id"] in line]
    v.ok("network", "rm", "tmp")
    assert our_links(v) == [default_bridge(v)]
    rules = ruleset()
    assert "net:" + tmp["Id"] not in rules and '"%s"' % tmp_bridge not in rules


def test_crashed_sandbox_is_repaired_by_the_next_command(v):
    import sqlite3
    cid = run_d(v, "victim")
    assert [name for name in links() if name.startswith("vsl" + cid[:6])]
    # Its monitor and then the container die with -9: nothing runs `container cleanup`.
    pid = json.loads(v.ok("inspect", "victim").stdout)[0]["State"]["Pid"]
    monitor = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
    os.kill(monitor, 9)
    os.kill(pid, 9)
    time.sleep(0.3)
    assert [name for name in links() if name.startswith("vsl" + cid[:6])]
    # And a vessel was killed after dropping the record, before releasing the network.
    db = sqlite3.connect(os.path.join(v.root, "vessel.db"))
    db.execute("DELETE FROM containers WHERE id = ?", (cid,))
    db.commit()
    db.close()
    v.ok("run", "--rm", IMAGE, "true")  # the next start collects what is left
    assert not [name for name in our_veths(v) if name.startswith("vsl" + cid[:6])]
    assert not os.path.exists(os.path.join(v.runroot, "netns", cid))
    # Its cgroups too (the runtime's state of a container without a record).
    assert [h for h in os.listdir("/sys/fs/cgroup")
            if os.path.exists(os.path.join("/sys/fs/cgroup", h, "vessel", cid))] == []
    assert our_links(v) == [default_bridge(v)]
