"""exec: a new process joins the container's namespaces and cgroups."""

import json
import os
import time

import pytest

import helpers

NAMESPACES = ("pid", "net", "ipc", "uts", "mnt", "cgroup", "user")


@pytest.fixture
def ctr(rt, bundle):
    bundle.config["hostname"] = "exec-host"
    bundle.add_namespace("cgroup")
    bundle.set_args("sh", "-c", "echo $$ > /dev/shm/init; sleep 1000")
    return rt.run_detached(bundle)


def test_exec_sees_the_hostname(ctr):
    r = ctr.exec("hostname", check=True)
    assert r.stdout == "exec-host\n"


def test_exec_joins_every_namespace(ctr):
    script = "for n in %s; do echo $n $(readlink /proc/self/ns/$n) $(readlink /proc/1/ns/$n); done"
    r = ctr.exec("sh", "-c", script % " ".join(NAMESPACES), check=True)
    for line in r.stdout.splitlines():
        name, mine, init = line.split()
        assert mine == init, line
    # ... and they are the init's namespaces as the host sees them.
    init_pid = ctr.pid
    for line in r.stdout.splitlines():
        name, mine, _ = line.split()
        assert mine == os.readlink("/proc/%d/ns/%s" % (init_pid, name)), line


def test_exec_sees_init_as_pid_1(ctr):
    r = ctr.exec("sh", "-c", "cat /dev/shm/init; ps -o pid,args", check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "1"
    # busybox sh execs its last command: init is now `sleep 1000`.
    assert any(l.split(None, 1) == ["1", "sleep 1000"] for l in lines[2:]), r.stdout


def test_exec_joins_the_cgroup(ctr):
    r = ctr.exec("sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup", check=True)
    mine, init = r.stdout.split("--\n")
    assert mine == init


def test_exec_detached_process_is_in_the_cgroup(ctr, work):
    pidfile = work.join("exec.pid")
    ctr.exec_detached("sleep", "999", flags=["--pid-file", pidfile])
    with open(pidfile) as f:
        pid = int(f.read())
    with open("/proc/%d/cgroup" % pid) as f:
        mine = f.read()
    with open("/proc/%d/cgroup" % ctr.pid) as f:
        assert mine == f.read()
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert f.read() == b"sleep\x00999\x00"
    assert pid in ctr.rt.json("ps", "--format", "json", ctr.id)


def test_exec_exit_code(ctr):
    r = ctr.exec("sh", "-c", "exit 7")
    assert r.returncode == 7, helpers.format_result(r)


def test_exec_missing_binary_fails(ctr):
    r = ctr.exec("/no/such/exe")
    assert r.returncode != 0
    assert ctr.status == "running"


def test_exec_stdin(ctr):
    r = ctr.exec("sh", "-c", "read x; echo got-$x", input="data\n", check=True)
    assert r.stdout == "got-data\n"


def test_exec_env(ctr):
    r = ctr.exec("sh", "-c", "echo $FOO-$BAR", flags=["--env", "FOO=one", "--env", "BAR=two"],
                 check=True)
    assert r.stdout == "one-two\n"


def test_exec_inherits_the_spec_env(ctr):
    r = ctr.exec("sh", "-c", "echo $TERM", check=True)
    assert r.stdout == "xterm\n"


def test_exec_cwd(ctr):
    r = ctr.exec("pwd", flags=["--cwd", "/home/user"], check=True)
    assert r.stdout == "/home/user\n"


def test_exec_user(ctr):
    r = ctr.exec("sh", "-c", "id -u; id -g", flags=["--user", "1000:1000"], check=True)
    assert r.stdout.split() == ["1000", "1000"]


def test_exec_caps_default_to_the_spec(ctr):
    r = ctr.exec("cat", "/proc/self/status", check=True)
    mask = helpers.cap_mask(5, 10, 29)
    assert helpers.read_status_field(r.stdout, "CapEff") == mask
    assert helpers.read_status_field(r.stdout, "CapBnd") == mask
    assert helpers.read_status_field(r.stdout, "NoNewPrivs") == "1"


def test_exec_cap_adds_a_capability(ctr):
    r = ctr.exec("cat", "/proc/self/status", flags=["--cap", "CAP_NET_RAW"], check=True)
    mask = helpers.cap_mask(5, 10, 13, 29)
    assert helpers.read_status_field(r.stdout, "CapEff") == mask
    assert helpers.read_status_field(r.stdout, "CapBnd") == mask


def test_exec_process_file(ctr, work):
    path = work.join("process.json")
    with open(path, "w") as f:
        json.dump({"terminal": False, "user": {"uid": 1000, "gid": 1000},
                   "args": ["sh", "-c", "echo $WHO in $(pwd) as $(id -u)"],
                   "env": ["PATH=/bin", "WHO=procfile"], "cwd": "/tmp"}, f)
    r = ctr.exec(flags=["--process", path], check=True)
    assert r.stdout == "procfile in /tmp as 1000\n"


def test_exec_into_stopped_container_fails(rt, bundle):
    bundle.set_args("true")
    c = rt.create(bundle)
    c.start()
    c.wait_status("stopped")
    r = c.exec("true")
    assert r.returncode != 0, helpers.format_result(r)


def test_exec_into_user_namespace(rt, bundle):
    bundle.add_namespace("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    r = c.exec("sh", "-c", "cat /proc/self/uid_map; id -u", check=True)
    assert r.stdout.split() == ["0", "100000", "65536", "0"]


def test_exec_does_not_outlive_a_killed_container(rt, bundle):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    pidfile = os.path.join(os.path.dirname(c.out_path), "e.pid")
    c.exec_detached("sleep", "999", flags=["--pid-file", pidfile])
    with open(pidfile) as f:
        pid = int(f.read())
    c.kill("KILL")
    c.wait_status("stopped")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists("/proc/%d/cmdline" % pid):
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert b"999" not in f.read()
    except OSError:
        pass
