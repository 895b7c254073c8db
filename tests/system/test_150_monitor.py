"""vessel-monitor (src/monitor/), driven directly, without the engine.

A launcher forks the "container" (busybox sh with its stdio on pipes or a pty),
then the forked parent execs vessel-monitor with the fds and --pid, as the
engine's child does after starting a container: so the monitor is the
container's parent. The log is read back with Python's json, the attach socket
is spoken with the framing of src/monitor/protocol.h, and the exit file and the
--then program are checked as the engine will read them.
"""

import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import time

import pytest

import helpers

BUSYBOX = helpers.BUSYBOX
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")

MSG_STDIN, MSG_RESIZE, MSG_CLOSE_STDIN = 0, 1, 2


def monitor_path():
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.abspath(os.path.join(build, "src", "monitor", "vessel-monitor"))


def wait_for(cond, what, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class Monitor:
    """A container (sh -c script) under a vessel-monitor, in directory d."""

    def __init__(self, d, script, pty=False, stdin=True, then=None, log_args=()):
        self.d = d
        self.log = os.path.join(d, "container.log")
        self.exit_file = os.path.join(d, "exit.json")
        self.sock = os.path.join(d, "attach.sock")
        self.stderr = os.path.join(d, "monitor.err")
        self.pty = pty
        ready_r, ready_w = os.pipe()
        info_r, info_w = os.pipe()
        if pty:
            master, slave = os.openpty()
            child_fds = (slave, slave, slave)
            mon_fds = ["--pty-fd", str(master)]
            keep = [master]
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            in_r, in_w = os.pipe()
            child_fds = (in_r, out_w, err_w)
            mon_fds = ["--stdout-fd", str(out_r), "--stderr-fd", str(err_r)]
            keep = [out_r, err_r]
            if stdin:
                mon_fds += ["--stdin-fd", str(in_w)]
                keep.append(in_w)
        argv = [monitor_path(), "--id", "test", "--pid", "PID"] + mon_fds + [
            "--log", self.log, "--exit-file", self.exit_file,
            "--attach-socket", self.sock, "--ready-fd", str(ready_w)] + list(log_args)
        if then:
            argv += ["--then"] + list(then)
        errfd = os.open(self.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        pid = os.fork()
        if pid == 0:
            self._launcher(script, child_fds, argv, keep + [ready_w], errfd, info_w)
        os.close(errfd)
        os.close(ready_w)
        os.close(info_w)
        for fd in set(child_fds) | set(keep):
            os.close(fd)
        self.pid = pid  # the monitor
        with os.fdopen(info_r, "rb") as f:
            self.cpid = int(f.read().decode())  # the container
        self.status = None
        r, _, _ = select.select([ready_r], [], [], 20)
        got = os.read(ready_r, 1) if r else b""
        os.close(ready_r)
        if got != b"R":
            self.cleanup()
            raise AssertionError("monitor not ready: " + self.errors())

    def _launcher(self, script, child_fds, argv, keep, errfd, info_w):
        try:
            child = os.fork()
            if child == 0:
                if self.pty:
                    os.setsid()
                    fcntl.ioctl(child_fds[0], termios.TIOCSCTTY, 0)
                for i, fd in enumerate(child_fds):
                    os.dup2(fd, i)
                os.closerange(3, 1024)
                os.execv(BUSYBOX, ["sh", "-c", script])
            for fd in set(child_fds):
                os.close(fd)
            for fd in keep:
                os.set_inheritable(fd, True)
            os.dup2(errfd, 2)
            os.write(info_w, str(child).encode())
            os.close(info_w)
            argv[argv.index("PID")] = str(child)
            os.execv(argv[0], argv)
        finally:
            os._exit(99)

    def errors(self):
        with open(self.stderr) as f:
            return f.read()

    def entries(self, path=None):
        with open(path or self.log) as f:
            return [json.loads(line) for line in f]

    def text(self, stream=None):
        return "".join(e["log"] for e in self.entries()
                       if stream is None or e["stream"] == stream)

    def exit_info(self, timeout=20):
        wait_for(lambda: os.path.exists(self.exit_file), "the exit file", timeout)
        with open(self.exit_file) as f:
            return json.load(f)

    def wait(self, timeout=20):
        """The monitor's own exit status."""
        def done():
            p, st = os.waitpid(self.pid, os.WNOHANG)
            if p:
                self.status = os.waitstatus_to_exitcode(st)
            return p != 0
        if self.status is None:
            wait_for(done, "the monitor to exit", timeout)
        return self.status

    def alive(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    def attach(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.settimeout(20)
        return s

    def cleanup(self):
        for pid in (self.cpid, self.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.status is None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="vessel-test-150-")
    made = []

    def start(script, **kw):
        m = Monitor(d, script, **kw)
        made.append(m)
        return m
    yield d, start
    for m in made:
        m.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def frame(kind, payload=b""):
    return struct.pack(">BxxxI", kind, len(payload)) + payload


def read_frames(s, until):
    """Reads Docker-multiplexed frames until until(frames) or EOF: [(stream, bytes)]."""
    frames, buf = [], b""
    while not until(frames):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            stream, size = struct.unpack(">BxxxI", buf[:8])
            if len(buf) < 8 + size:
                break
            frames.append((stream, buf[8:8 + size]))
            buf = buf[8 + size:]
    return frames


def joined(frames, stream):
    return b"".join(data for s, data in frames if s == stream)


def test_log_lines_streams_and_partial_lines(tmp):
    d, start = tmp
    before = time.time()
    m = start("echo one; echo err1 >&2; printf 'two\\nthree'; "
              "printf '\\377\\001\"\\\\ h\\303\\251llo \\342\\234\\223\\n'; "
              "head -c 20000 /dev/zero | tr '\\0' x; echo; exit 3")
    info = m.exit_info()
    assert info["exit_code"] == 3
    assert info["signal"] == 0
    assert info["oom_killed"] is False
    entries = m.entries()
    out = [e["log"] for e in entries if e["stream"] == "stdout"]
    err = [e["log"] for e in entries if e["stream"] == "stderr"]
    assert err == ["err1\n"]
    # A line longer than 16 KiB is cut at 16 KiB, as Docker does; the
    # unfinished "three" is flushed with what follows it on the line.
    assert out == ["one\n", "two\n", "three\ufffd\x01\"\\ h\u00e9llo \u2713\n",
                   "x" * 16384, "x" * (20000 - 16384) + "\n"]
    assert [set(e) for e in entries] == [{"log", "stream", "time"}] * len(entries)
    for e in entries:
        assert TIME_RE.match(e["time"]), e["time"]
        t = time.mktime(time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert before - 1 <= t <= time.time() + 1
    assert TIME_RE.match(info["finished_at"])
    assert m.wait() == 0


def test_partial_line_at_eof(tmp):
    d, start = tmp
    m = start("printf 'no newline'; printf 'e' >&2")
    assert m.exit_info()["exit_code"] == 0
    assert [(e["stream"], e["log"]) for e in m.entries()] == [("stdout", "no newline"), ("stderr", "e")]


def test_rotation_keeps_max_file_files(tmp):
    d, start = tmp
    m = start("i=0; while [ $i -lt 300 ]; do echo \"line $i padding padding padding\"; i=$((i+1)); done",
              log_args=["--log-max-size", "2000", "--log-max-file", "3"])
    assert m.exit_info()["exit_code"] == 0
    names = sorted(n for n in os.listdir(d) if n.startswith("container.log"))
    assert names == ["container.log", "container.log.1", "container.log.2"]
    lines = []
    for n in ("container.log.2", "container.log.1", "container.log"):
        p = os.path.join(d, n)
        assert 0 < os.path.getsize(p) <= 2000
        lines += [e["log"] for e in m.entries(p)]
    nums = [int(line.split()[1]) for line in lines]
    # The newest lines, in order, nothing lost between the kept files.
    assert nums[-1] == 299
    assert nums == list(range(nums[0], 300))
    assert nums[0] > 0


def test_no_rotation_with_zero_size(tmp):
    d, start = tmp
    m = start("i=0; while [ $i -lt 100 ]; do echo \"line $i\"; i=$((i+1)); done",
              log_args=["--log-max-size", "0", "--log-max-file", "2"])
    m.exit_info()
    assert sorted(n for n in os.listdir(d) if n.startswith("container.log")) == ["container.log"]
    assert len(m.entries()) == 100


def test_killed_container_exit_code(tmp):
    d, start = tmp
    m = start("echo started; exec sleep 100")
    wait_for(lambda: os.path.exists(m.log) and "started" in m.text(), "output")
    os.kill(m.cpid, signal.SIGKILL)
    info = m.exit_info()
    assert info["exit_code"] == 128 + 9
    assert info["signal"] == 9
    assert m.wait() == 0
    assert not os.path.exists(m.sock)


def test_then_runs_after_exit_file(tmp):
    d, start = tmp
    saw = os.path.join(d, "saw")
    exit_file = os.path.join(d, "exit.json")
    m = start("exit 7", then=[BUSYBOX, "sh", "-c", 'cat "$1" > "$2"; echo "$3" >> "$2"', "sh",
                                exit_file, saw, "one arg"])
    assert m.wait() == 0
    with open(saw) as f:
        first, second = f.read().splitlines()
    assert json.loads(first)["exit_code"] == 7
    assert second == "one arg"


def test_attach_output_after_connect_and_input(tmp):
    d, start = tmp
    m = start("echo before; read x; echo \"got $x\"; echo \"err $x\" >&2; cat; echo after-eof")
    wait_for(lambda: os.path.exists(m.log) and "before" in m.text(), "output before attaching")
    s = m.attach()
    s.sendall(frame(MSG_STDIN, b"hel") + frame(MSG_STDIN, b"lo\n"))
    frames = read_frames(s, lambda f: b"got hello\n" in joined(f, 1) and b"err hello\n" in joined(f, 2))
    assert joined(frames, 1) == b"got hello\n"
    assert joined(frames, 2) == b"err hello\n"
    # Input reaches cat; closing stdin gives it EOF and the container ends.
    s.sendall(frame(MSG_STDIN, b"through cat\n") + frame(MSG_CLOSE_STDIN))
    frames += read_frames(s, lambda f: False)  # until EOF: the monitor closes at exit
    assert joined(frames, 1) == b"got hello\nthrough cat\nafter-eof\n"
    assert os.path.exists(m.exit_file)  # EOF on the socket means the exit file is there
    assert m.exit_info()["exit_code"] == 0
    assert m.text("stdout") == "before\ngot hello\nthrough cat\nafter-eof\n"
    s.close()


def test_half_closed_client_still_reads(tmp):
    d, start = tmp
    m = start("read x; echo \"got $x\"")
    s = m.attach()
    s.sendall(frame(MSG_STDIN, b"hi\n"))
    s.shutdown(socket.SHUT_WR)
    frames = read_frames(s, lambda f: False)
    assert joined(frames, 1) == b"got hi\n"
    s.close()


def test_bad_frame_drops_only_that_client(tmp):
    d, start = tmp
    m = start("read x; echo \"got $x\"")
    bad = m.attach()
    good = m.attach()
    bad.sendall(frame(9, b"??"))
    try:
        assert bad.recv(100) == b""  # dropped
    except ConnectionResetError:  # dropped with its "??" unread
        pass
    good.sendall(frame(MSG_STDIN, b"ok\n"))
    frames = read_frames(good, lambda f: False)
    assert joined(frames, 1) == b"got ok\n"
    good.close()
    bad.close()


def test_slow_client_does_not_block_container(tmp):
    d, start = tmp
    # 8 MiB of output while a client reads nothing: far past both the socket
    # buffer and the monitor's backlog for one client.
    m = start("read x; head -c 8388608 /dev/zero | tr '\\0' y | fold -w 1023; echo; echo done")
    s = m.attach()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(frame(MSG_STDIN, b"go\n"))
    info = m.exit_info(timeout=60)
    assert info["exit_code"] == 0
    assert m.entries()[-1]["log"] == "done\n"
    # The client was cut off: it gets a part of the output, then EOF.
    got = 0
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    assert got < 8388608
    s.close()


def test_pty_output_input_and_resize(tmp):
    d, start = tmp
    m = start("echo tty; read x; stty size; echo \"got $x\"", pty=True)
    s = m.attach()
    resize = struct.pack(">BxxxIHH", MSG_RESIZE, 4, 40, 100)
    s.sendall(resize + frame(MSG_STDIN, b"go\n"))
    raw = b""
    while b"got go" not in raw:
        chunk = s.recv(4096)
        assert chunk, "EOF before output: " + repr(raw)
        raw += chunk
    # Raw bytes on a tty, no framing; the tty turns \n into \r\n.
    assert b"40 100\r\n" in raw
    assert not raw.startswith(b"\x01\x00\x00\x00")
    assert m.exit_info()["exit_code"] == 0
    text = m.text()
    assert "tty\r\n" in text
    assert "40 100\r\n" in text
    assert {e["stream"] for e in m.entries()} == {"stdout"}
    s.close()


def test_sigterm_leaves_container_running(tmp):
    d, start = tmp
    m = start("while read x; do echo \"got $x\"; done; echo bye")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        os.kill(m.pid, sig)
    s = m.attach()
    s.sendall(frame(MSG_STDIN, b"still\n"))
    frames = read_frames(s, lambda f: b"got still\n" in joined(f, 1))
    assert joined(frames, 1) == b"got still\n"
    assert m.alive(m.cpid)
    assert m.alive(m.pid)
    s.sendall(frame(MSG_CLOSE_STDIN))
    assert m.exit_info()["exit_code"] == 0
    assert m.text() == "got still\nbye\n"
    s.close()


def test_container_outlives_killed_monitor(tmp):
    d, start = tmp
    m = start("exec sleep 100")
    os.kill(m.pid, signal.SIGKILL)
    m.wait()
    assert m.alive(m.cpid)


def test_idle_monitor_rss_under_1mb(tmp):
    d, start = tmp
    m = start("echo hi; exec sleep 100")
    wait_for(lambda: os.path.exists(m.log) and m.text() == "hi\n", "output")
    with open("/proc/%d/status" % m.pid) as f:
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))
    print("idle monitor VmRSS: %d kB" % rss)
    assert rss < 1024, "idle monitor RSS %d kB" % rss


def test_bad_invocations_fail_before_ready(tmp):
    d, _ = tmp
    base = [monitor_path(), "--id", "x", "--log", os.path.join(d, "l"), "--exit-file",
            os.path.join(d, "e"), "--attach-socket", os.path.join(d, "s")]
    r = subprocess.run(base + ["--pid", "1"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "not a child" in r.stderr
    r = subprocess.run(base, capture_output=True, text=True)
    assert r.returncode == 1
    assert "required" in r.stderr
    r = subprocess.run(base + ["--pid", "1", "--pty-fd", "3", "--stdout-fd", "4"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert not os.path.exists(os.path.join(d, "e"))
