"""Namespaces, checked from inside the container."""

import os
import socket
import subprocess

import helpers


def run_ok(rt, bundle):
    r = rt.run(bundle)
    assert r.returncode == 0, helpers.format_result(r)
    return r.stdout


def test_ps_shows_pid_1_and_nothing_of_the_host(rt, work):
    # `; true` keeps sh alive as PID 1 while ps runs as its child.
    out = run_ok(rt, work.bundle("sh", "-c", "ps -o pid,args; true"))
    rows = [line.split(None, 1) for line in out.splitlines()[1:]]
    pids = sorted(int(r[0]) for r in rows)
    assert pids[0] == 1, out
    assert len(pids) == 2, "more than sh and ps visible:\n" + out
    args = {int(r[0]): r[1] for r in rows}
    assert args[1].startswith("sh -c ps"), out
    for host_only in ("pytest", "python3", "runc", "vessel-runtime", "dockerd"):
        assert host_only not in out


def test_pid_namespace_is_new(rt, work):
    out = run_ok(rt, work.bundle("sh", "-c", "echo $$; readlink /proc/self/ns/pid"))
    pid, ns = out.split()
    assert pid == "1"
    assert ns != os.readlink("/proc/self/ns/pid")


def test_hostname_and_domainname(rt, work):
    b = work.bundle("sh", "-c", "hostname; cat /proc/sys/kernel/domainname")
    b.config["hostname"] = "vessel-box"
    b.config["domainname"] = "example.test"
    b.save()
    host_before = socket.gethostname()
    assert run_ok(rt, b) == "vessel-box\nexample.test\n"
    assert socket.gethostname() == host_before


def test_uts_ipc_net_mount_namespaces_differ_from_host(rt, work):
    kinds = ("uts", "ipc", "net", "mnt")
    out = run_ok(rt, work.bundle(
        "sh", "-c", "for n in %s; do readlink /proc/self/ns/$n; done" % " ".join(kinds)))
    inside = out.split()
    for kind, link in zip(kinds, inside):
        assert link.startswith(kind + ":["), out
        assert link != os.readlink("/proc/self/ns/" + kind), kind


def test_new_network_namespace_has_only_loopback(rt, work):
    out = run_ok(rt, work.bundle("cat", "/proc/net/dev"))
    ifaces = [line.split(":")[0].strip() for line in out.splitlines()[2:]]
    assert ifaces == ["lo"], out


def test_user_namespace_maps(rt, work):
    b = work.bundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")
    b.add_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    b.save()
    lines = run_ok(rt, b).splitlines()
    assert lines[0].split() == ["0", "100000", "65536"]
    assert lines[1].split() == ["0", "200000", "65536"]
    assert lines[2:] == ["0", "0"]


def test_user_namespace_process_is_mapped_on_the_host(rt, work):
    b = work.bundle("sleep", "1000")
    b.add_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.save()
    c = rt.run_detached(b)
    with open("/proc/%d/status" % c.pid) as f:
        status = f.read()
    assert helpers.read_status_field(status, "Uid").split()[0] == "101000"
    assert helpers.read_status_field(status, "Gid").split()[0] == "101000"


def test_join_existing_network_namespace_by_path(rt, work):
    # A network namespace pinned on a file of our own (not /run/netns): the
    # work dir's cleanup unmounts it.
    nsfile = work.join("netns")
    open(nsfile, "w").close()
    subprocess.run(["unshare", "--net=" + nsfile, "true"], check=True)
    ino = os.stat(nsfile).st_ino

    b = work.bundle("readlink", "/proc/self/ns/net")
    b.add_namespace("network", nsfile)
    b.save()
    assert run_ok(rt, b).strip() == "net:[%d]" % ino


def test_join_existing_uts_namespace_by_path(rt, work):
    nsfile = work.join("utsns")
    open(nsfile, "w").close()
    subprocess.run(["unshare", "--uts=" + nsfile, "hostname", "joined-uts"], check=True)

    b = work.bundle("hostname")
    b.add_namespace("uts", nsfile)
    del b.config["hostname"]
    b.save()
    assert run_ok(rt, b).strip() == "joined-uts"


def test_cgroup_namespace(rt, work):
    b = work.bundle("sh", "-c", "cat /proc/self/cgroup; readlink /proc/self/ns/cgroup")
    b.add_namespace("cgroup")
    b.save()
    out = run_ok(rt, b).splitlines()
    assert out[-1] != os.readlink("/proc/self/ns/cgroup")
    # Inside its own cgroup namespace every hierarchy shows the container at "/".
    for line in out[:-1]:
        assert line.split(":", 2)[2] == "/", out


def test_time_namespace_offsets(rt, work):
    b = work.bundle("cat", "/proc/uptime")
    b.add_namespace("time")
    b.linux["timeOffsets"] = {"boottime": {"secs": 10 * 86400, "nanosecs": 0},
                              "monotonic": {"secs": 10 * 86400, "nanosecs": 0}}
    b.save()
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    inside = float(run_ok(rt, b).split()[0])
    assert 10 * 86400 - 60 < inside - host < 10 * 86400 + 60, (host, inside)
