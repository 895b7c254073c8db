"""What users do to running containers: exec, top, stats, pause/unpause,
restart, rename and container prune, each checked from inside the container
(what the command sees) and from outside (the host's view, inspect, logs)."""

import json
import os
import pty
import re
import select
import signal
import time

from busybox_image import IMAGE, busybox_archive, v  # noqa: F401
from helpers import mounts_under
from vessel import vessel  # noqa: F401

SLEEPER = ["sleep", "1000"]


def inspect(v, name):
    return json.loads(v.ok("inspect", name).stdout)[0]


def run_d(v, name, *args, cmd=SLEEPER):
    return v.ok("run", "-d", "--name", name, *args, IMAGE, *cmd).stdout.strip()


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def table(text):
    """Rows of a Docker table (columns apart by 2+ spaces), header first."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


# ---- exec ----

def test_exec_runs_in_the_containers_namespaces(v):
    run_d(v, "web", "--hostname", "webhost")
    assert v.ok("exec", "web", "hostname").stdout == "webhost\n"
    ps = [line.split(None, 1) for line in v.ok("exec", "web", "ps", "-o", "pid,args").stdout.splitlines()]
    assert ps[0] == ["PID", "COMMAND"]
    # PID 1 is the container's own command: exec joined its pid namespace.
    assert ps[1] == ["1", "sleep 1000"]
    assert [row[1] for row in ps[1:]] == ["sleep 1000", "ps -o pid,args"]
    # Its root is the container's: the image's file, not the host's.
    assert v.ok("exec", "web", "cat", "/etc/motd").stdout == "welcome\n"


def test_exec_env_workdir_and_user(v, tmp_path):
    run_d(v, "web", "-e", "RUNENV=a")
    show = ["sh", "-c", "echo $FROM_IMAGE,$RUNENV,$X,$FROMFILE"]
    # The container's env (image + run -e), plus exec -e, which may override it.
    assert v.ok("exec", "web", *show).stdout == "yes,a,,\n"
    assert v.ok("exec", "-e", "X=1", "-e", "RUNENV=b", "web", *show).stdout == "yes,b,1,\n"
    env_file = tmp_path / "env"
    env_file.write_text("# a comment\n\nFROMFILE=f\nX=from-file\n")
    # -e comes after the file and wins.
    assert v.ok("exec", "--env-file", str(env_file), "-e", "X=2", "web", *show).stdout == "yes,a,2,f\n"

    assert v.ok("exec", "web", "pwd").stdout == "/\n"
    assert v.ok("exec", "-w", "/etc", "web", "pwd").stdout == "/etc\n"

    assert v.ok("exec", "web", "id", "-u").stdout == "0\n"
    # A user name is looked up in the image's /etc/passwd.
    assert v.ok("exec", "-u", "nobody", "web", "id", "-u").stdout == "65534\n"
    assert v.ok("exec", "-u", "nobody", "web", "id", "-g").stdout == "65534\n"
    assert v.ok("exec", "-u", "1234:5678", "web", "id").stdout.startswith("uid=1234 gid=5678")
    r = v("exec", "-u", "nosuchuser", "web", "id")
    assert r.returncode != 0 and "nosuchuser" in r.stderr


def test_exec_exit_codes(v):
    run_d(v, "web")
    assert v("exec", "web", "sh", "-c", "exit 7").returncode == 7
    r = v.fails("exec", "web", "no-such-command", code=127)
    assert "no-such-command" in r.stderr
    # A file that is not executable.
    v.fails("exec", "web", "/etc/motd", code=126)
    # Its output reaches the caller, stdout and stderr apart.
    r = v("exec", "web", "sh", "-c", "echo out; echo err >&2")
    assert (r.stdout, r.stderr) == ("out\n", "err\n")


def test_exec_needs_a_running_container(v):
    run_d(v, "web")
    v.ok("stop", "-t", "0", "web")
    r = v.fails("exec", "web", "true", code=1)
    assert "is not running" in r.stderr
    r = v.fails("exec", "no-such-container", "true", code=1)
    assert "no-such-container" in r.stderr


def test_exec_stdin_only_with_i(v):
    run_d(v, "web")
    assert v.ok("exec", "-i", "web", "cat", input="through stdin\n").stdout == "through stdin\n"
    # Without -i the command reads nothing, even when the caller has input.
    assert v.ok("exec", "web", "cat", input="not passed\n").stdout == ""


def test_exec_detached_runs_on_alone(v):
    run_d(v, "web")
    r = v.ok("exec", "-d", "web", "sh", "-c", "echo lost; sleep 0.5; echo done > /tmp/marker")
    assert r.stdout == ""  # its output goes nowhere, as with Docker
    wait_for(lambda: v("exec", "web", "cat", "/tmp/marker").stdout == "done\n", what="the detached exec")


def test_exec_t_gives_a_terminal(v):
    run_d(v, "web")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(v.cmd()[0], v.cmd("exec", "-it", "web", "sh", "-c", "tty; stty size"))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, out
    lines = out.decode().replace("\r", "").splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), lines
    # Without -t there is no terminal.
    r = v("exec", "web", "tty")
    assert r.returncode == 1 and r.stdout == "not a tty\n"


# ---- top ----

def test_top_lists_the_containers_processes(v):
    run_d(v, "web", cmd=["sh", "-c", "sleep 1000 & sleep 2000 & wait"])
    host_pid = inspect(v, "web")["State"]["Pid"]
    wait_for(lambda: len(table(v.ok("top", "web").stdout)) == 4, what="both sleeps")
    rows = table(v.ok("top", "web").stdout)
    assert rows[0] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    cmds = sorted(r[-1] for r in rows[1:])
    assert cmds == ["sh -c sleep 1000 & sleep 2000 & wait", "sleep 1000", "sleep 2000"]
    # Host pids (the container's init among them), and nothing but the container's.
    pids = {int(r[1]) for r in rows[1:]}
    assert host_pid in pids
    assert os.getpid() not in pids and 1 not in pids
    # ps options as the host's ps takes them.
    rows = table(v.ok("top", "web", "-o", "pid,comm").stdout)
    assert rows[0] == ["PID", "COMMAND"]
    assert sorted(r[1] for r in rows[1:]) == ["sh", "sleep", "sleep"]
    v.ok("stop", "-t", "0", "web")
    assert "is not running" in v.fails("top", "web").stderr


# ---- stats ----

def test_stats_no_stream(v):
    run_d(v, "limited", "--memory", "64m", cmd=["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    run_d(v, "free")
    v.ok("create", "--name", "notrunning", IMAGE, "true")
    wait_for(lambda: len(table(v.ok("top", "limited").stdout)) == 4, what="the sleeps")
    rows = table(v.ok("stats", "--no-stream").stdout)
    assert rows[0] == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O",
                       "PIDS"]
    by_name = {r[1]: r for r in rows[1:]}
    # Running containers only, without -a.
    assert set(by_name) == {"limited", "free"}
    limited = by_name["limited"]
    assert limited[0] == inspect(v, "limited")["Id"][:12]
    usage, limit = limited[3].split(" / ")
    assert limit == "64MiB"
    assert re.fullmatch(r"[\d.]+(B|KiB|MiB)", usage)
    assert re.fullmatch(r"\d+\.\d\d%", limited[2]) and re.fullmatch(r"\d+\.\d\d%", limited[4])
    assert limited[7] == "3"
    assert by_name["free"][7] == "1"
    # Without a limit, the host's memory is the limit.
    assert by_name["free"][3].split(" / ")[1] != "64MiB"

    out = v.ok("stats", "--no-stream", "-a", "--format", "{{.Name}}:{{.PIDs}}:{{.MemUsage}}").stdout
    assert sorted(out.splitlines())[-1] == "notrunning:0:0B / 0B"
    out = v.ok("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}", "limited").stdout
    assert out == inspect(v, "limited")["Id"] + "\n"


def test_stats_streams_until_interrupted(v):
    run_d(v, "web")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(v.cmd()[0], v.cmd("stats", "web"))
    out = b""
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    os.kill(pid, signal.SIGINT)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode()
    # A fresh screen each second on a terminal, the table redrawn on it.
    assert text.count("\x1b[2J\x1b[H") >= 2, text
    assert text.count("CONTAINER ID") >= 2
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT


def test_stats_counts_cpu_of_a_busy_container(v):
    run_d(v, "busy", cmd=["sh", "-c", "while :; do :; done"])
    out = v.ok("stats", "--no-stream", "--format", "{{.CPUPerc}}", "busy").stdout.strip()
    # One shell spinning: about one CPU's worth (100%), never nothing.
    assert float(out.rstrip("%")) > 20.0


# ---- pause, unpause ----

def test_pause_freezes_and_unpause_resumes(v):
    counter = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"]
    run_d(v, "counter", cmd=counter)

    def lines():
        return len(v.ok("logs", "counter").stdout.splitlines())

    wait_for(lambda: lines() > 3, what="the counter")
    assert v.ok("pause", "counter").stdout == "counter\n"
    st = inspect(v, "counter")["State"]
    assert st["Status"] == "paused" and st["Paused"] and st["Running"]
    assert "(Paused)" in v.ok("ps").stdout
    frozen = lines()
    time.sleep(1.0)
    assert lines() == frozen  # not one more line while frozen
    assert "paused" in v.fails("exec", "counter", "true", code=1).stderr
    assert "already paused" in v.fails("pause", "counter", code=1).stderr

    assert v.ok("unpause", "counter").stdout == "counter\n"
    assert inspect(v, "counter")["State"]["Status"] == "running"
    wait_for(lambda: lines() > frozen + 3, what="the counter to go on")
    assert "not paused" in v.fails("unpause", "counter", code=1).stderr


def test_pause_needs_a_running_container(v):
    v.ok("create", "--name", "idle", IMAGE, "true")
    assert "is not running" in v.fails("pause", "idle", code=1).stderr


# ---- restart ----

def test_restart_starts_it_again_under_its_name(v):
    run_d(v, "rr")
    before = inspect(v, "rr")
    assert v.ok("restart", "-t", "1", "rr").stdout == "rr\n"
    after = inspect(v, "rr")
    assert after["Name"] == "/rr" and after["Id"] == before["Id"]
    assert after["State"]["Running"]
    assert after["State"]["StartedAt"] > before["State"]["StartedAt"]
    assert after["State"]["Pid"] != before["State"]["Pid"]
    assert v.ok("exec", "rr", "cat", "/proc/1/cmdline").stdout == "sleep\x001000\x00"

    # A stopped container is simply started.
    v.ok("stop", "-t", "0", "rr")
    v.ok("restart", "rr")
    assert inspect(v, "rr")["State"]["Running"]


def test_restart_keeps_a_rm_container(v):
    # As Docker's: --rm removes a container that exits, not one restarted;
    # when it exits afterwards, it goes.
    v.ok("run", "-d", "--rm", "--name", "rmr", IMAGE, "sleep", "1000")
    assert v.ok("restart", "-t", "0", "rmr").stdout == "rmr\n"
    assert inspect(v, "rmr")["State"]["Running"]
    v.ok("stop", "-t", "0", "rmr")
    wait_for(lambda: v.ok("ps", "-aq").stdout == "", what="the --rm container removed")


# ---- rename ----

def test_rename(v):
    cid = run_d(v, "old")
    v.ok("create", "--name", "other", IMAGE, "true")
    assert v.ok("rename", "old", "new").stdout == ""
    assert inspect(v, "new")["Id"] == cid
    assert inspect(v, "new")["Name"] == "/new"
    v.fails("inspect", "old", code=125)
    # It still runs, and exec finds it by its new name.
    assert v.ok("exec", "new", "echo", "hi").stdout == "hi\n"
    assert "already in use" in v.fails("rename", "new", "other").stderr
    assert "Invalid container name" in v.fails("rename", "new", "bad/name").stderr
    assert inspect(v, "new")["Id"] == cid


# ---- container prune ----

def test_prune_removes_only_stopped_containers(v):
    running = run_d(v, "running")
    v.ok("run", "--name", "exited", IMAGE, "true")
    exited = inspect(v, "exited")["Id"]
    created = v.ok("create", "--name", "created", "--label", "keep=yes", IMAGE, "true").stdout.strip()

    # Asked, and refused: nothing goes.
    r = v.ok("container", "prune", input="n\n")
    assert r.stdout.startswith("WARNING! This will remove all stopped containers.\n"
                               "Are you sure you want to continue? [y/N] ")
    assert len(v.ok("ps", "-aq").stdout.split()) == 3

    # A label filter spares what does not match.
    r = v.ok("container", "prune", "-f", "--filter", "label!=keep=yes")
    assert r.stdout == "Deleted Containers:\n%s\n\nTotal reclaimed space: 0B\n" % exited

    r = v.ok("container", "prune", input="y\n")
    assert ("Deleted Containers:\n%s\n\n" % created) in r.stdout
    assert v.ok("ps", "-aq", "--no-trunc").stdout.split() == [running]
    assert not os.path.exists(os.path.join(v.root, "containers", exited))
    assert not os.path.exists(os.path.join(v.root, "overlay", created))

    # Nothing left to prune.
    assert v.ok("container", "prune", "-f").stdout == "Total reclaimed space: 0B\n"
    v.ok("rm", "-f", "running")
    assert mounts_under(v.base) == []


def test_prune_counts_the_space_of_the_layers(v):
    v.ok("run", "--name", "writer", IMAGE, "sh", "-c", "head -c 300000 /dev/zero > /big")
    r = v.ok("container", "prune", "-f")
    assert r.stdout.endswith("Total reclaimed space: 300kB\n")


def test_prune_until(v):
    v.ok("create", "--name", "recent", IMAGE, "true")
    r = v.ok("container", "prune", "-f", "--filter", "until=1h")
    assert r.stdout == "Total reclaimed space: 0B\n"
    assert v.ok("ps", "-aq").stdout.strip() != ""


def test_stop_sends_the_images_stop_signal_or_the_one_asked(v):
    trap = "trap 'exit %d' %s; while true; do sleep 0.1; done"
    # The image's StopSignal (made with commit --change) is what stop sends.
    v.ok("create", "--name", "base", "--network", "none", IMAGE, "true")
    v.ok("commit", "--change", "STOPSIGNAL SIGUSR1", "base", "usr1:img")
    v.ok("run", "-d", "--name", "by-image", "--network", "none", "usr1:img", "sh", "-c",
         trap % (7, "USR1"))
    wait_for(lambda: "while" in v.ok("top", "by-image").stdout, what="the trap")
    v.ok("stop", "-t", "30", "by-image")
    assert inspect(v, "by-image")["State"]["ExitCode"] == 7
    # -s overrides it, for stop and for restart (the trap leaves a mark in the
    # container's own layer, which a restart keeps).
    run_d(v, "by-flag", "--network", "none",
          cmd=["sh", "-c", "trap 'echo got >> /marks; exit 9' USR2; while true; do sleep 0.1; done"])
    wait_for(lambda: "while" in v.ok("top", "by-flag").stdout, what="the trap")
    v.ok("stop", "-s", "SIGUSR2", "-t", "30", "by-flag")
    assert inspect(v, "by-flag")["State"]["ExitCode"] == 9
    v.ok("start", "by-flag")
    wait_for(lambda: "while" in v.ok("top", "by-flag").stdout, what="the trap")
    v.ok("restart", "-s", "usr2", "-t", "30", "by-flag")
    assert inspect(v, "by-flag")["State"]["Running"] is True
    assert v.ok("exec", "by-flag", "cat", "/marks").stdout == "got\ngot\n"
    for cmd in ("stop", "restart"):
        r = v.fails(cmd, "-s", "NOPE", "by-flag")
        assert "invalid signal: NOPE" in r.stderr
    v.ok("rm", "-f", "base", "by-image", "by-flag")
    v.ok("rmi", "usr1:img")
