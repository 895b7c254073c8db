"""`vessel run` and the container lifecycle: the seed's scenes and Docker's
behaviour, checked from inside the containers. Each test has its own roots
and the busybox image of busybox_image.py."""

import json
import os
import pty
import select
import signal
import subprocess
import threading
import time

import pytest


from busybox_image import IMAGE, busybox_archive, v  # noqa: F401
from helpers import mounts_under
from vessel import vessel  # noqa: F401

def container_dirs(v):
    d = os.path.join(v.root, "containers")
    return os.listdir(d) if os.path.isdir(d) else []


def overlay_dirs(v):
    d = os.path.join(v.root, "overlay")
    return [x for x in os.listdir(d) if not x.startswith(("tmp-", "del-"))] if os.path.isdir(d) else []


def assert_nothing_left(v):
    assert v.ok("ps", "-aq").stdout == ""
    assert container_dirs(v) == []
    assert overlay_dirs(v) == []
    assert mounts_under(v.base) == []


def test_hello_world(v):
    r = v.ok("run", "--rm", IMAGE, "echo", "Hello", "World")
    assert r.stdout == "Hello World\n"
    assert_nothing_left(v)


def test_exit_code_is_the_containers(v):
    assert v("run", "--rm", IMAGE, "sh", "-c", "exit 3").returncode == 3
    # Killed from outside: 128 + the signal.
    v.ok("run", "-d", "--name", "victim", IMAGE, "sleep", "30")
    v.ok("kill", "victim")
    assert v.ok("wait", "victim").stdout == "137\n"


def test_ps_shows_one_process_as_root(v):
    out = v.ok("run", "--rm", IMAGE, "ps", "-ef").stdout.splitlines()
    assert out[0].split() == ["PID", "USER", "COMMAND"]
    assert len(out) == 2
    assert out[1].split()[:3] == ["1", "root", "ps"]


def test_namespaces_differ_from_the_hosts(v):
    script = "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done"
    inside = v.ok("run", "--rm", IMAGE, "sh", "-c", script).stdout.split()
    host = [os.readlink("/proc/self/ns/" + n) for n in ("pid", "net", "ipc", "uts", "mnt", "cgroup")]
    for a, b in zip(inside, host):
        assert a != b


def test_changes_stay_in_the_container(v):
    v.ok("run", "--name", "breaker", IMAGE, "rm", "/etc/passwd")
    r = v.ok("run", "--rm", IMAGE, "cat", "/etc/passwd")
    assert r.stdout.startswith("root:x:0:0:")
    assert v.ok("inspect", "breaker")
    v.ok("rm", "breaker")


def test_image_config_and_flags(v):
    r = v.ok("run", "--rm", "-e", "A=1", "-w", "/tmp", "--hostname", "box", "-u", "nobody",
             IMAGE, "sh", "-c", "echo $A $FROM_IMAGE $(pwd) $(hostname) $(id -u)")
    assert r.stdout == "1 yes /tmp box 65534\n"


def test_etc_files(v):
    r = v.ok("run", "--rm", "--add-host", "db:10.1.2.3", IMAGE, "cat", "/etc/hosts", "/etc/hostname")
    assert "10.1.2.3\tdb" in r.stdout
    assert "127.0.0.1\tlocalhost" in r.stdout
    r = v.ok("run", "--rm", "--dns", "192.0.2.53", IMAGE, "cat", "/etc/resolv.conf")
    assert "nameserver 192.0.2.53" in r.stdout
    assert "127.0.0.1" not in r.stdout.replace("nameserver 192.0.2.53", "")


def test_defaults_of_docker(v):
    caps = v.ok("run", "--rm", IMAGE, "grep", "CapEff", "/proc/self/status").stdout.split()[1]
    # Docker's 14 default capabilities, as bits (chown 0, dac_override 1, fowner 3,
    # fsetid 4, kill 5, setgid 6, setuid 7, setpcap 8, net_bind_service 10,
    # net_raw 13, sys_chroot 18, mknod 27, audit_write 29, setfcap 31).
    bits = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
    assert int(caps, 16) == sum(1 << b for b in bits)
    shm = v.ok("run", "--rm", IMAGE, "df", "-k", "/dev/shm").stdout.splitlines()[1].split()
    assert shm[1] == str(64 * 1024)
    r = v("run", "--rm", IMAGE, "cat", "/proc/kcore")
    assert r.returncode != 0 or r.stdout == ""


def test_memory_limit_holds(v):
    r = v("run", "--rm", "--memory", "32m", "--memory-swap", "32m", IMAGE,
          "sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1")
    assert r.returncode == 137


def test_pids_limit_holds(v):
    r = v("run", "--rm", "--pids-limit", "8", IMAGE, "sh", "-c",
          "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done 2>&1")
    assert "can't fork" in r.stdout + r.stderr
    # The same loop runs without the limit.
    r = v("run", "--rm", IMAGE, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1 & done 2>&1; wait")
    assert r.returncode == 0 and "can't fork" not in r.stdout + r.stderr


def test_interactive_terminal(v):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(v.cmd("run", "--rm", "-ti", IMAGE, "sh")[0], v.cmd("run", "--rm", "-ti", IMAGE, "sh"))
    out = b""
    try:
        os.write(fd, b"echo hi-$((40+2)); tty; exit 7\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert b"hi-42" in out
    assert b"/dev/pts/0" in out or b"/dev/console" in out
    assert os.WEXITSTATUS(status) == 7


def test_command_not_found_and_not_executable(v):
    r = v.fails("run", "--rm", IMAGE, "no-such-command", code=127)
    assert "no-such-command" in r.stderr
    v.fails("run", "--rm", IMAGE, "/etc/passwd", code=126)
    assert_nothing_left(v)


def test_bad_input_leaves_nothing(v):
    r = v.fails("run", "--rm", "--memory", "lots", IMAGE, "true")
    assert "invalid size" in r.stderr
    r = v.fails("run", "--rm", "--pull", "never", "nosuch/image", "true")
    assert "No such image" in r.stderr
    r = v.fails("run", "--rm", "-v", "/does/not/exist:/x", IMAGE, "true")
    assert "does not exist" in r.stderr
    r = v.fails("run", "--rm", "--bogus-flag", IMAGE, "true")
    assert "unknown flag" in r.stderr
    assert_nothing_left(v)
    v.ok("create", "--name", "taken", IMAGE, "true")
    r = v.fails("run", "--name", "taken", IMAGE, "true")
    assert 'The container name "/taken" is already in use' in r.stderr
    v.ok("rm", "taken")
    assert_nothing_left(v)


def test_a_start_that_fails_leaves_nothing(v):
    # The user is looked up when the container starts, once its root is
    # mounted and its network namespace made: all of that goes again.
    r = v.fails("run", "--rm", "-u", "nosuchuser", IMAGE, "true", code=125)
    assert "unable to find user nosuchuser" in r.stderr
    assert_nothing_left(v)
    v.fails("run", "--name", "kept", "-u", "nosuchuser", IMAGE, "true", code=125)
    assert v.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout == "kept Created\n"
    assert mounts_under(v.base) == []
    v.ok("rm", "kept")
    assert_nothing_left(v)


def test_detached_lifecycle(v):
    cid = v.ok("run", "-d", "--name", "web", IMAGE, "sh", "-c",
               "echo started; trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done").stdout.strip()
    assert len(cid) == 64
    ps = v.ok("ps").stdout.splitlines()
    assert len(ps) == 2 and ps[1].startswith(cid[:12]) and ps[1].split()[-1] == "web" and "Up " in ps[1]
    for _ in range(50):
        if "started" in v.ok("logs", "web").stdout:
            break
        time.sleep(0.1)
    assert v.ok("logs", "web").stdout == "started\n"
    info = json.loads(v.ok("inspect", "web").stdout)[0]
    assert info["Id"] == cid and info["State"]["Running"] is True and info["Name"] == "/web"
    pid = info["State"]["Pid"]
    assert os.path.exists("/proc/%d" % pid)
    v.ok("stop", "web")
    assert v.ok("wait", "web").stdout == "0\n"
    assert "bye" in v.ok("logs", "web").stdout
    info = json.loads(v.ok("inspect", "web").stdout)[0]
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0
    assert "Exited (0)" in v.ok("ps", "-a").stdout
    v.ok("start", "web")
    assert "Up " in v.ok("ps").stdout
    v.ok("rm", "-f", "web")
    assert_nothing_left(v)


def test_detached_outlives_a_killed_monitor(v):
    v.ok("run", "-d", "--name", "lone", IMAGE, "sleep", "30")
    info = json.loads(v.ok("inspect", "lone").stdout)[0]
    pid = info["State"]["Pid"]
    with open("/proc/%d/stat" % pid) as f:
        monitor = int(f.read().rsplit(")", 1)[1].split()[1])
    os.kill(monitor, signal.SIGKILL)
    time.sleep(0.2)
    assert v.ok("inspect", "lone") and json.loads(v.ok("inspect", "lone").stdout)[0]["State"]["Running"]
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if json.loads(v.ok("inspect", "lone").stdout)[0]["State"]["Status"] == "exited":
            break
        time.sleep(0.05)
    assert json.loads(v.ok("inspect", "lone").stdout)[0]["State"]["Status"] == "exited"
    assert "Exited" in v.ok("ps", "-a").stdout
    v.ok("rm", "lone")
    assert_nothing_left(v)


def test_rm_refuses_a_running_container(v):
    v.ok("run", "-d", "--name", "busy", IMAGE, "sleep", "30")
    r = v.fails("rm", "busy", code=1)
    assert "stop the container before removing or force remove" in r.stderr
    v.ok("rm", "-f", "busy")
    assert_nothing_left(v)


def test_rm_flag_with_detached_container(v):
    v.ok("run", "-d", "--rm", "--name", "brief", IMAGE, "true")
    for _ in range(100):
        if v.ok("ps", "-aq").stdout == "":
            break
        time.sleep(0.05)
    assert_nothing_left(v)


def test_restart_on_failure(v):
    v.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", IMAGE, "sh", "-c", "echo run; exit 1")
    for _ in range(200):
        info = json.loads(v.ok("inspect", "flaky").stdout)[0]
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.05)
    assert info["RestartCount"] == 2 and info["State"]["ExitCode"] == 1
    assert v.ok("logs", "flaky").stdout == "run\nrun\nrun\n"


def test_rmi_refuses_an_image_in_use(v):
    v.ok("create", "--name", "user", IMAGE, "true")
    r = v("rmi", IMAGE)
    assert r.returncode != 0 and "container" in r.stderr
    v.ok("rm", "user")
    v.ok("rmi", IMAGE)


def test_parallel_run_and_rm_leave_nothing(v):
    errors = []
    ids = []

    def loop(i):
        for j in range(3):
            name = "p%d-%d" % (i, j)
            r = v("run", "-d", "--name", name, IMAGE, "sleep", "10")
            if r.returncode != 0:
                errors.append(r.stderr)
                continue
            ids.append(r.stdout.strip())
            r = v("rm", "-f", name)
            if r.returncode != 0:
                errors.append(r.stderr)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ids) == 60
    assert_nothing_left(v)
    # No cgroup of these containers is left, in any hierarchy.
    left = [c for c in ids for h in os.listdir("/sys/fs/cgroup")
            if os.path.exists(os.path.join("/sys/fs/cgroup", h, "vessel", c))]
    assert left == []


def test_logs_of_a_foreground_container(v):
    r = v.ok("run", "--name", "fg", IMAGE, "sh", "-c", "echo out; echo err >&2")
    assert r.stdout == "out\n" and r.stderr == "err\n"
    logs = v.ok("logs", "fg")
    assert logs.stdout == "out\n" and logs.stderr == "err\n"
    v.ok("rm", "fg")


def test_stop_wins_over_restart_always(v):
    v.ok("run", "-d", "--name", "keeper", "--restart", "always", IMAGE, "sleep", "30")
    v.ok("stop", "-t", "1", "keeper")
    time.sleep(1)
    info = json.loads(v.ok("inspect", "keeper").stdout)[0]
    assert info["State"]["Status"] == "exited" and info["RestartCount"] == 0
    v.ok("rm", "keeper")


def test_vessel_runs_containers_from_a_read_only_copy_of_itself(v):
    # CVE-2019-5736: through /proc/<pid>/exe a container must not reach a
    # writable vessel binary; the process that made the container runs from a
    # read-only mount of it.
    p = subprocess.Popen(v.cmd("run", "--rm", IMAGE, "sleep", "3"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
            if kids:
                break
            time.sleep(0.05)
        assert kids, "no container process"
        assert os.statvfs("/proc/%d/exe" % p.pid).f_flag & os.ST_RDONLY
        with pytest.raises(OSError):
            open("/proc/%d/exe" % p.pid, "r+b")
    finally:
        p.wait(timeout=30)


def test_ctrl_p_ctrl_q_detaches_a_foreground_terminal(v):
    args = v.cmd("run", "-ti", "--name", "dt", IMAGE, "sh")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(args[0], args)
    out = b""
    try:
        os.write(fd, b"echo ready-$((1+1))\n")
        deadline = time.monotonic() + 20
        while b"ready-2" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 1)[0]:
                out += os.read(fd, 4096)
        os.write(fd, b"\x10\x11")
        # By time, not by rounds: once vessel closed the terminal, reads fail at
        # once (EIO), a moment before its exit can be reaped.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    time.sleep(0.05)
        assert done, "vessel did not return after Ctrl-P Ctrl-Q: %r" % out
        assert os.WEXITSTATUS(status) == 0
    finally:
        os.close(fd)
    # The container runs on under a monitor, and still takes commands.
    info = json.loads(v.ok("inspect", "dt").stdout)[0]
    assert info["State"]["Running"] is True
    assert v.ok("exec", "dt", "echo", "still-here").stdout == "still-here\n"
    v.ok("rm", "-f", "dt")
