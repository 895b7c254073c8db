"""A container's filesystem from the outside (cp, diff, export, commit), attach
to a detached container, and --init. What cp wrote into a container is
checked in its overlay layer on disk or by the container itself, not by cp."""

import io
import json
import os
import pty
import select
import stat
import subprocess
import tarfile
import tempfile
import time

import pytest

from busybox_image import IMAGE, busybox_archive, v  # noqa: F401
from helpers import mounts_under
from vessel import Vessel, vessel  # noqa: F401


def inspect(v, name):
    return json.loads(v.ok("inspect", name).stdout)[0]


def cid(v, name):
    return inspect(v, name)["Id"]


def upper(v, name, path=""):
    """The container's own layer (overlay upper dir) on the host."""
    return os.path.join(v.root, "overlay", cid(v, name), "diff", path.lstrip("/"))


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def run_sleeper(v, name, *extra):
    v.ok("run", "-d", "--name", name, *extra, IMAGE, "sleep", "300")


# ---- cp ----

def test_cp_file_in_and_out_keeps_content_and_mode(v, tmp_path):
    run_sleeper(v, "box")
    src = tmp_path / "hello.txt"
    write(src, "hello from the host\n", 0o640)
    os.chown(src, 1234, 5678)

    v.ok("cp", str(src), "box:/tmp/hello.txt")
    inside = upper(v, "box", "/tmp/hello.txt")
    assert read(inside) == "hello from the host\n"
    st = os.lstat(inside)
    assert stat.S_IMODE(st.st_mode) == 0o640
    # Without -a the container's root owns it; with -a the source's owner stays.
    assert (st.st_uid, st.st_gid) == (0, 0)
    v.ok("cp", "-a", str(src), "box:/tmp/owned.txt")
    st = os.lstat(upper(v, "box", "/tmp/owned.txt"))
    assert (st.st_uid, st.st_gid) == (1234, 5678)

    out = tmp_path / "back.txt"
    v.ok("cp", "-a", "box:/tmp/owned.txt", str(out))
    assert read(out) == "hello from the host\n"
    st = os.lstat(out)
    assert stat.S_IMODE(st.st_mode) == 0o640 and (st.st_uid, st.st_gid) == (1234, 5678)
    out2 = tmp_path / "mine.txt"
    v.ok("cp", "box:/tmp/owned.txt", str(out2))
    assert (os.lstat(out2).st_uid, os.lstat(out2).st_gid) == (os.getuid(), os.getgid())

    # An existing file is overwritten; a file into an existing directory takes its name.
    v.ok("cp", "box:/etc/motd", str(out))
    assert read(out) == "welcome\n"
    v.ok("cp", "box:/etc/motd", str(tmp_path))
    assert read(tmp_path / "motd") == "welcome\n"


def test_cp_directories_follow_dockers_naming_rules(v, tmp_path):
    run_sleeper(v, "box")
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    write(d / "a", "A\n")
    write(d / "sub" / "b", "B\n")

    # DEST does not exist: it is created with SRC's content.
    v.ok("cp", str(d), "box:/tmp/new")
    assert read(upper(v, "box", "/tmp/new/a")) == "A\n"
    assert read(upper(v, "box", "/tmp/new/sub/b")) == "B\n"
    # DEST is a directory: SRC goes inside it under its own name.
    v.ok("cp", str(d), "box:/tmp/new")
    assert read(upper(v, "box", "/tmp/new/data/sub/b")) == "B\n"
    # SRC/. : the content goes into the existing directory.
    v.ok("cp", str(d) + "/.", "box:/root")
    assert read(upper(v, "box", "/root/a")) == "A\n"
    assert not os.path.exists(upper(v, "box", "/root/data"))
    # A directory never replaces a file; a file into a missing directory fails.
    r = v.fails("cp", str(d), "box:/etc/motd", code=125)
    assert "cannot copy a directory to a file" in r.stderr
    r = v.fails("cp", str(d / "a"), "box:/nowhere/", code=125)
    assert "must exist" in r.stderr

    # And out of the container, by the same rules.
    out = tmp_path / "out"
    v.ok("cp", "box:/tmp/new", str(out))
    assert read(out / "a") == "A\n" and read(out / "data" / "sub" / "b") == "B\n"
    v.ok("cp", "box:/tmp/new", str(out))
    assert read(out / "new" / "sub" / "b") == "B\n"
    v.ok("cp", "box:/tmp/new/sub/.", str(out))
    assert read(out / "b") == "B\n"
    r = v.fails("cp", "box:/no/such/file", str(out), code=125)
    assert "could not find the file /no/such/file in container box" in r.stderr


def test_cp_from_and_to_a_stopped_container(v, tmp_path):
    v.ok("run", "--name", "stopped", IMAGE, "sh", "-c", "echo made inside > /made")
    v.ok("cp", "stopped:/made", str(tmp_path / "made"))
    assert read(tmp_path / "made") == "made inside\n"
    # Its root is mounted only for the copy.
    assert mounts_under(v.base) == []

    write(tmp_path / "input", "given\n")
    v.ok("create", "--name", "reader", IMAGE, "cat", "/tmp/input")
    v.ok("cp", str(tmp_path / "input"), "reader:/tmp/")
    assert mounts_under(v.base) == []
    # The container itself sees it.
    assert v.ok("start", "-a", "reader").stdout == "given\n"


def test_cp_resolves_symlinks_inside_the_container_only(v, tmp_path):
    secret = tmp_path / "host-secret"
    write(secret, "HOST SECRET\n", 0o600)
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    script = ("echo container shadow > /etc/shadow; "
              "ln -s /etc/shadow /shadow-link; ln -s ../../../../../../../etc/shadow /deep-link; "
              "ln -s %s /secret-link; ln -s %s /dir-link" % (secret, hostdir))
    v.ok("run", "--name", "box", IMAGE, "sh", "-c", script)

    # -L follows the link, and inside the container's root only.
    v.ok("cp", "-L", "box:/shadow-link", str(tmp_path / "s1"))
    assert read(tmp_path / "s1") == "container shadow\n"
    v.ok("cp", "-L", "box:/deep-link", str(tmp_path / "s2"))
    assert read(tmp_path / "s2") == "container shadow\n"
    # A link to a host path names a path in the container, which is not there.
    r = v.fails("cp", "-L", "box:/secret-link", str(tmp_path / "s3"), code=125)
    assert "could not find the file" in r.stderr
    assert not (tmp_path / "s3").exists()
    # Without -L the link itself is copied.
    v.ok("cp", "box:/secret-link", str(tmp_path / "s4"))
    assert os.readlink(tmp_path / "s4") == str(secret)
    # Writing through a link in the container stays in the container.
    write(tmp_path / "payload", "payload\n")
    v.fails("cp", str(tmp_path / "payload"), "box:/dir-link/")
    assert os.listdir(hostdir) == []
    v.ok("cp", str(tmp_path / "payload"), "box:/shadow-link")
    assert read(upper(v, "box", "/etc/shadow")) == "payload\n"
    assert read(secret) == "HOST SECRET\n"


def test_cp_tar_streams(v, tmp_path):
    run_sleeper(v, "box")
    r = subprocess.run(v.cmd("cp", "box:/etc/motd", "-"), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as t:
        assert t.getnames() == ["motd"]
        assert t.extractfile("motd").read() == b"welcome\n"

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("x/y", b"streamed\n"), ("../../escape", b"no\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            t.addfile(info, io.BytesIO(data))
    r = subprocess.run(v.cmd("cp", "-", "box:/tmp"), input=buf.getvalue(), capture_output=True,
                       timeout=60)
    # The escaping entry is refused; what came before it is in the container.
    assert r.returncode == 125 and b"path escapes" in r.stderr
    assert read(upper(v, "box", "/tmp/x/y")) == "streamed\n"
    assert not os.path.exists(os.path.join(v.root, "overlay", "escape"))


# ---- diff, export ----

def edit(v, name):
    v.ok("run", "--name", name, IMAGE, "sh", "-c",
         "echo new > /etc/new; rm /etc/motd; echo more >> /etc/passwd")


def test_diff_shows_added_changed_deleted(v):
    edit(v, "edited")
    lines = v.ok("diff", "edited").stdout.splitlines()
    assert "C /etc" in lines
    assert "A /etc/new" in lines
    assert "D /etc/motd" in lines
    assert "C /etc/passwd" in lines
    assert not any(l.endswith("/bin/busybox") for l in lines)


def test_the_containers_own_mountpoints_are_no_changes(v):
    # The image has /etc but no hosts, hostname or resolv.conf: the runtime
    # mounts them, and (as with Docker) neither diff nor commit shows them.
    v.ok("run", "--name", "quiet", IMAGE, "cat", "/etc/hosts", "/etc/hostname")
    assert v.ok("diff", "quiet").stdout == ""
    v.ok("commit", "quiet", "quiet:img")
    saved = subprocess.run(v.cmd("save", "quiet:img"), capture_output=True, check=True,
                           env=v.env).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as t:
        layers = json.load(t.extractfile("manifest.json"))[0]["Layers"]
        with tarfile.open(fileobj=t.extractfile(layers[-1])) as top:
            names = [n.lstrip("./") for n in top.getnames()]
    assert names == [] or not any(n.startswith("etc/") or n == "etc" for n in names), names
    v.ok("rm", "quiet")
    v.ok("rmi", "quiet:img")


def test_export_is_the_whole_root(v, tmp_path):
    edit(v, "edited")
    out = tmp_path / "e.tar"
    v.ok("export", "-o", str(out), "edited")
    with tarfile.open(out) as t:
        names = set(n.lstrip("./") for n in t.getnames())
        assert "bin/busybox" in names
        assert "etc/motd" not in names
        member = [m for m in t.getmembers() if m.name.lstrip("./") == "etc/new"][0]
        assert t.extractfile(member).read() == b"new\n"
    assert mounts_under(v.base) == []
    # Never a tar to a terminal.
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(v.cmd()[0], v.cmd("export", "edited"))
    text = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        text += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 125
    assert b"cowardly refusing to save to a terminal" in text


# ---- commit ----

def test_commit_makes_an_image_with_the_change(v):
    v.ok("run", "--name", "box", "-e", "FROM_CONTAINER=1", IMAGE, "sh", "-c", "echo committed > /hello")
    r = v.ok("commit", "-m", "a message", "-a", "Someone <s@example.com>",
             "-c", 'CMD ["cat", "/hello"]', "-c", "ENV ADDED=yes", "box", "mine:v1")
    image_id = r.stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert v.ok("run", "--rm", "mine:v1").stdout == "committed\n"
    env = v.ok("run", "--rm", "mine:v1", "env").stdout.splitlines()
    assert "ADDED=yes" in env and "FROM_CONTAINER=1" in env and "FROM_IMAGE=yes" in env

    info = v.inspect_image("mine:v1")
    assert info["Id"] == image_id
    assert info["Config"]["Cmd"] == ["cat", "/hello"]
    assert info["Author"] == "Someone <s@example.com>"
    assert info["Comment"] == "a message"
    parent = v.inspect_image(IMAGE)
    assert info["RootFS"]["Layers"][:-1] == parent["RootFS"]["Layers"]
    assert len(info["RootFS"]["Layers"]) == len(parent["RootFS"]["Layers"]) + 1
    # The history entry, from the stored config itself.
    with open(os.path.join(v.root, "blobs", "sha256", image_id.split(":")[1])) as f:
        history = json.load(f)["history"]
    assert history[-1]["comment"] == "a message"
    assert history[-1]["created_by"] == "sh -c echo committed > /hello"


def test_commit_of_a_running_container(v):
    v.ok("run", "-d", "--name", "running", IMAGE, "sh", "-c", "echo live > /live; sleep 300")
    time.sleep(0.5)
    image_id = v.ok("commit", "running").stdout.strip()
    assert inspect(v, "running")["State"]["Status"] == "running"
    assert v.ok("run", "--rm", image_id, "cat", "/live").stdout == "live\n"


# ---- attach ----

def read_until(fd, want, timeout=20):
    got = b""
    deadline = time.time() + timeout
    while want not in got and time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


@pytest.fixture
def short_v(busybox_archive):  # noqa: F811
    """A Vessel whose runroot is short enough for the start path's console
    socket, which must fit in sun_path (containers.c binds it by its path)."""
    sv = Vessel(tempfile.mkdtemp(prefix="v", dir="/tmp"))
    try:
        sv.ok("load", "-i", busybox_archive.archive)
        yield sv
    finally:
        try:
            ids = sv("ps", "-aq").stdout.split()
            if ids:
                sv("rm", "-f", *ids)
        finally:
            sv.cleanup()


def test_attach_to_a_tty_container_and_detach(short_v):
    v = short_v
    v.ok("run", "-dit", "--name", "tty", IMAGE, "sh")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(v.cmd()[0], v.cmd("attach", "tty"))
    try:
        time.sleep(0.5)
        os.write(fd, b"echo att''ached\r")
        assert b"attached" in read_until(fd, b"attached")
        os.write(fd, b"\x10\x11")
        out = read_until(fd, b"read escape sequence")
        assert b"read escape sequence" in out
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert inspect(v, "tty")["State"]["Status"] == "running"


def test_attach_streams_output_and_returns_the_exit_code(v):
    v.ok("run", "-d", "--name", "nontty", IMAGE, "sh", "-c",
         "sleep 2; echo to-stdout; echo to-stderr >&2; exit 7")
    r = v("attach", "nontty")
    assert r.returncode == 7, r.stderr
    assert r.stdout == "to-stdout\n"
    assert "to-stderr\n" in r.stderr


def test_attach_to_a_stopped_container_is_refused(v):
    v.ok("run", "--name", "done", IMAGE, "true")
    r = v.fails("attach", "done", code=125)
    assert "cannot attach to a stopped container" in r.stderr


# ---- --init ----

def test_init_is_pid_1_and_the_command_its_child(v):
    out = v.ok("run", "--rm", "--init", IMAGE, "sh", "-c",
               "echo $PPID; tr '\\0' ' ' < /proc/1/cmdline").stdout.splitlines()
    assert out[0] == "1"
    assert out[1].startswith("/dev/init -- sh -c echo $PPID")


def test_init_forwards_sigterm(v):
    v.ok("run", "-d", "--init", "--name", "sleeper", IMAGE, "sleep", "300")
    start = time.time()
    v.ok("stop", "sleeper")
    assert time.time() - start < 5
    assert v.ok("wait", "sleeper").stdout == "143\n"


def test_init_reaps_orphans(v):
    script = ("sh -c 'sleep 0.3 & exit 0'; sleep 1.5; "
              "for s in /proc/[0-9]*/stat; do read -r l < $s && echo \"$l\"; done")
    out = v.ok("run", "--rm", "--init", IMAGE, "sh", "-c", script).stdout.splitlines()
    states = [l.rsplit(")", 1)[1].split()[0] for l in out if ")" in l]
    assert states and "Z" not in states
