"""How long a network's bridge and rules live: like Docker's docker0, a
bridge, its address and its nftables rules are made when the first
container joins and stay while the network exists (a container's start and
exit only add and remove its veth and its published ports); a bridge found
missing is made again; `system reset` removes everything of one root (its
containers, images, volumes, networks, the default bridge and its nftables
rules) and nothing of another root's.

Traffic stays between the test's containers and their bridges' addresses."""

import json
import os
import pty
import select
import subprocess
import tempfile

from busybox_image import IMAGE, busybox_archive  # noqa: F401
from helpers import mounts_under
from test_300_network import (bridged_root, default_bridge, links, network, our_links,  # noqa: F401
                              our_rules, our_veths, ruleset, run_d, v)
from vessel import Vessel


def rules_of(owner):
    return [line.strip() for line in ruleset().splitlines() if '"%s"' % owner in line]


def net_id(v, name):
    return json.loads(v.ok("network", "inspect", name).stdout)[0]["Id"]


def bridge_of(v, name):
    return json.loads(v.ok("network", "inspect", name).stdout)[0]["Options"]["com.docker.network.bridge.name"]


def test_bridge_and_its_rules_outlive_the_last_container(v):
    port = free_port()
    cid = run_d(v, "web", "-p", "127.0.0.1:%d:80" % port)
    bridge, nid = default_bridge(v), net_id(v, "bridge")
    net_rules = rules_of("net:" + nid)
    assert net_rules and rules_of("ctr:" + cid)
    v.ok("rm", "-f", "web")
    # The container's veth and its port rule went; the bridge and the network's rules stayed.
    assert our_veths(v) == []
    assert rules_of("ctr:" + cid) == []
    assert bridge in links()
    assert rules_of("net:" + nid) == net_rules
    # The next container finds them as they were: no rule is added twice.
    v.ok("run", "--rm", IMAGE, "ping", "-c", "1", "-W", "2", str(next(v.bip_net.hosts())))
    assert rules_of("net:" + nid) == net_rules
    # A user network's bridge too, until `network rm`.
    network(v, "user")
    v.ok("run", "--rm", "--network", "user", IMAGE, "true")
    user_bridge, user_id = bridge_of(v, "user"), net_id(v, "user")
    assert user_bridge in links() and rules_of("net:" + user_id)
    v.ok("network", "rm", "user")
    assert user_bridge not in links()
    assert rules_of("net:" + user_id) == []
    # The default network cannot be removed: its bridge stays until `system reset`.
    v.fails("network", "rm", "bridge", code=1)
    assert bridge in links()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_bridge_deleted_by_hand_is_made_again(v):
    v.ok("run", "--rm", IMAGE, "true")
    bridge, nid = default_bridge(v), net_id(v, "bridge")
    net_rules = rules_of("net:" + nid)
    subprocess.run(["ip", "link", "del", bridge], check=True)
    assert bridge not in links()
    gateway = str(next(v.bip_net.hosts()))
    out = v.ok("run", "--rm", IMAGE, "ping", "-c", "1", "-W", "2", gateway).stdout
    assert "1 packets received" in out
    assert bridge in links()
    assert rules_of("net:" + nid) == net_rules
    # The same for a user network, and for a container that runs on.
    subnet = network(v, "again")
    run_d(v, "first", "--network", "again")
    ubridge = bridge_of(v, "again")
    v.ok("rm", "-f", "first")
    subprocess.run(["ip", "link", "del", ubridge], check=True)
    run_d(v, "second", "--network", "again")
    v.ok("exec", "second", "ping", "-c", "1", "-W", "2", str(next(subnet.hosts())))


def in_cgroups(cid):
    return [h for h in os.listdir("/sys/fs/cgroup")
            if os.path.exists(os.path.join("/sys/fs/cgroup", h, "vessel", cid))]


def other_root():
    return bridged_root("vessel-net-other-")


def test_system_reset_leaves_an_empty_root_and_other_roots_alone(v, busybox_archive):  # noqa: F811
    w = other_root()
    try:
        w.ok("load", "-i", busybox_archive.archive)
        w.ok("run", "-d", "--name", "neighbour", IMAGE, "sleep", "1000")
        w_bridge, w_id = default_bridge(w), net_id(w, "bridge")
        w_rules = rules_of("net:" + w_id)
        assert w_rules

        network(v, "front", "--label", "x=y")
        network(v, "back", "--internal")
        running = run_d(v, "web", "--network", "front", "-p", "127.0.0.1:%d:80" % free_port(),
                        "-v", "data:/data", "-v", "/anon")
        stopped = run_d(v, "done", "--network", "back", cmd=["true"])
        v.ok("wait", "done")
        plain = run_d(v, "plain")
        v.ok("volume", "create", "spare")
        v.ok("tag", IMAGE, "another:tag")
        created = v.ok("create", "--name", "never-started", IMAGE, "true").stdout.strip()
        v.cids.append(created)
        assert len(our_links(v)) == 3 + 2  # three bridges, two running containers' veths
        assert our_rules(v)
        assert mounts_under(v.base)

        r = v.ok("system", "reset", "-f")
        assert r.stderr == ""

        assert v.ok("ps", "-aq").stdout == ""
        assert v.ok("images", "-q").stdout == ""
        assert v.ok("volume", "ls", "-q").stdout == ""
        rows = v.ok("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.splitlines()
        assert sorted(rows) == ["bridge bridge", "host host", "none null"]
        assert our_links(v) == []
        assert our_rules(v) == []
        assert mounts_under(v.base) == []
        for cid in (running, stopped, plain, created):
            assert in_cgroups(cid) == []
            assert not os.path.exists(os.path.join(v.runroot, "netns", cid))

        # The other root: its container still runs on its bridge, with its rules.
        assert w_bridge in links()
        assert rules_of("net:" + w_id) == w_rules
        w.ok("exec", "neighbour", "ping", "-c", "1", "-W", "2", str(next(w.bip_net.hosts())))
        # A fresh root (and a root just reset) can be reset again.
        v.ok("system", "reset", "-f")
        fresh = Vessel(tempfile.mkdtemp(prefix="vessel-net-fresh-"))
        try:
            fresh.ok("system", "reset", "-f")
            fresh.ok("system", "reset", "--force")
            assert sorted(fresh.ok("network", "ls", "--format", "{{.Name}}").stdout.split()) == [
                "bridge", "host", "none"]
        finally:
            fresh.cleanup()
        assert w_bridge in links()
    finally:
        w_reset = w.reset()
        left = [name for name in links() if name == w_bridge]
        w.cleanup()
    assert w_reset.returncode == 0, w_reset.stderr
    assert left == []
    assert rules_of("net:" + w_id) == []


def answer_on_a_terminal(v, answer):
    """`system reset` with a terminal on its stdin and stdout, answering its question."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(v.cmd("system", "reset"), stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                             env=v.env)
        os.close(slave)
        slave = -1
        out = b""
        while b"[y/N]" not in out:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, "no question asked: %r" % out
            out += os.read(master, 4096)
        os.write(master, answer.encode() + b"\n")
        p.wait(120)
        return p.returncode, out.decode()
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)


def state(v):
    return (v.ok("ps", "-aq").stdout, v.ok("images", "-q").stdout, v.ok("volume", "ls", "-q").stdout,
            v.ok("network", "ls", "-q").stdout, sorted(our_links(v)), sorted(our_rules(v)))


def test_system_reset_asks_first_and_refuses_without_a_terminal(v):
    network(v, "kept")
    run_d(v, "still", "--network", "kept", "-v", "vol:/vol")
    v.ok("run", "--rm", IMAGE, "true")
    before = state(v)
    assert len(before[4]) == 3
    r = v.fails("system", "reset")
    assert "-f" in r.stderr and "terminal" in r.stderr
    assert state(v) == before
    code, out = answer_on_a_terminal(v, "n")
    assert code == 0 and "Are you sure you want to continue? [y/N]" in out
    assert state(v) == before
    v.ok("exec", "still", "true")
    code, out = answer_on_a_terminal(v, "y")
    assert code == 0
    assert v.ok("ps", "-aq").stdout == "" and v.ok("volume", "ls", "-q").stdout == ""
    assert our_links(v) == [] and our_rules(v) == []
