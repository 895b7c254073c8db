"""Terminal mode: the pty master arrives over --console-socket, as with runc's
recvtty, and the container's process has the slave as its controlling tty."""

import array
import os
import select
import socket
import threading
import time

import pytest

import helpers


class ConsoleSocket:
    """An AF_UNIX listener that receives one pty master by SCM_RIGHTS."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.master = None
        self.name = None
        self.error = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                fds = array.array("i")
                msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
                for level, kind, data in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                assert len(fds) == 1, "expected one fd, got %d" % len(fds)
                self.master = fds[0]
                self.name = msg.decode(errors="replace")
        except Exception as e:  # reported by wait()
            self.error = e

    def wait(self):
        self.thread.join(35)
        if self.error:
            raise self.error
        assert self.master is not None, "no pty master received on the console socket"
        return self.master

    def read_until_eof(self, timeout=15):
        """All output until the slave side is closed (EIO on Linux)."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace").replace("\r\n", "\n")

    def read_until(self, text, timeout=15):
        out = b""
        deadline = time.monotonic() + timeout
        while text.encode() not in out and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    out += os.read(self.master, 4096)
                except OSError:
                    break
        return out.decode(errors="replace").replace("\r\n", "\n")

    def close(self):
        self.sock.close()
        if self.master is not None:
            os.close(self.master)
            self.master = None


@pytest.fixture
def console(work):
    consoles = []

    def make():
        c = ConsoleSocket(work.join("console%d.sock" % len(consoles)))
        consoles.append(c)
        return c

    yield make
    for c in consoles:
        c.close()


def terminal_bundle(bundle, *args, size=None):
    bundle.process["terminal"] = True
    if size:
        bundle.process["consoleSize"] = {"height": size[0], "width": size[1]}
    bundle.set_args(*args)
    return bundle


def test_console_socket_receives_the_master(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "echo", "hello")
    c = rt.create(bundle, extra=["--console-socket", cs.path])
    master = cs.wait()
    assert os.isatty(master)
    c.start()
    assert cs.read_until_eof() == "hello\n"


def test_tty_inside_is_dev_pts_0(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty")
    c = rt.create(bundle, extra=["--console-socket", cs.path])
    cs.wait()
    c.start()
    assert cs.read_until_eof().split() == ["/dev/pts/0", "all-tty"]


def test_console_size(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "stty", "size", size=(33, 111))
    c = rt.create(bundle, extra=["--console-socket", cs.path])
    cs.wait()
    c.start()
    assert cs.read_until_eof().strip() == "33 111"


def test_terminal_input_reaches_the_process(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "sh", "-c", "echo ready; read x; echo got-$x")
    c = rt.create(bundle, extra=["--console-socket", cs.path])
    master = cs.wait()
    c.start()
    assert "ready" in cs.read_until("ready")
    os.write(master, b"typed\n")
    assert "got-typed" in cs.read_until_eof()


def test_dev_console_is_the_pty(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "sh", "-c", "stat -c '%F %t' /dev/console; ls -l /dev/ptmx")
    c = rt.create(bundle, extra=["--console-socket", cs.path])
    cs.wait()
    c.start()
    out = cs.read_until_eof().splitlines()
    # Major 136 (0x88): a Unix98 pty slave.
    assert out[0] == "character special file 88", out


def test_run_detach_with_terminal(rt, bundle, console):
    cs = console()
    terminal_bundle(bundle, "sh", "-c", "echo detached-tty; sleep 1000")
    c = rt.run_detached(bundle, extra=["--console-socket", cs.path])
    cs.wait()
    assert "detached-tty" in cs.read_until("detached-tty")
    assert c.status == "running"


def test_terminal_without_console_socket_fails_in_create(rt, bundle):
    terminal_bundle(bundle, "true")
    cid = rt.new_id()
    r = rt("create", "--bundle", bundle.path, cid)
    assert r.returncode != 0, helpers.format_result(r)
    assert "console" in r.stderr, helpers.format_result(r)
    assert "does not exist" in rt("state", cid).stderr


def test_exec_tty(rt, bundle, console):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    cs = console()
    out = c.exec_detached("sh", "-c", "tty; stty size; echo exec-done",
                          flags=["--tty", "--console-socket", cs.path])
    cs.wait()
    text = cs.read_until_eof()
    lines = text.split()
    assert lines[0].startswith("/dev/pts/"), text
    assert lines[-1] == "exec-done"
