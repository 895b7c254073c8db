"""A user namespace joined by path while other namespaces are created.

The new namespaces must be owned by the joined user namespace (made from inside
it), or root in the container has no power over its own hostname, mounts, ...
The holder of the user namespace is a process of the test (`unshare --user`,
with maps written by us) or a first container with its own user namespace.
"""

import contextlib
import fcntl
import os
import subprocess
import time

import pytest

import helpers

NS_GET_USERNS = 0xB701  # _IO(0xb7, 0x1)
MAP = "0 100000 65536"


class Holder:
    def __init__(self, pid, proc=None):
        self.pid = pid
        self.proc = proc
        self.userns = "/proc/%d/ns/user" % pid
        st = os.stat(self.userns)
        self.ident = (st.st_dev, st.st_ino)

    def uid_map(self):
        with open("/proc/%d/uid_map" % self.pid) as f:
            return f.read().split()


@contextlib.contextmanager
def start_holder(*unshare_flags):
    """`unshare --user` (and unshare_flags) sleeping, its ids mapped by us."""
    proc = subprocess.Popen(["unshare", "--user", *unshare_flags, "sleep", "1000"],
                            stdin=subprocess.DEVNULL)
    try:
        ours = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + 10
        while os.readlink("/proc/%d/ns/user" % proc.pid) == ours:
            assert time.monotonic() < deadline, "unshare never made its user namespace"
            time.sleep(0.01)
        for name in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (proc.pid, name), "w") as f:
                f.write(MAP + "\n")
        yield Holder(proc.pid, proc)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def holder():
    with start_holder() as h:
        yield h


def ns_ident(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def owner_ident(ns_path):
    """The user namespace owning the namespace at ns_path (NS_GET_USERNS)."""
    fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        owner = fcntl.ioctl(fd, NS_GET_USERNS)
        try:
            st = os.fstat(owner)
            return (st.st_dev, st.st_ino)
        finally:
            os.close(owner)
    finally:
        os.close(fd)


def joining_bundle(work, holder, *args):
    """pid, network, ipc, uts, mount made; user joined from the holder. Root
    in it has CAP_SYS_ADMIN, so that what it may do depends on who owns them."""
    b = work.bundle(*args)
    b.add_namespace("user", holder.userns)
    for caps in b.process["capabilities"].values():
        caps.append("CAP_SYS_ADMIN")
    b.save()
    return b


def proc_state(pid):
    """The state letter of a process ("R", "S", "Z", ...), None once reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def live_pids_in(ident, but=()):
    """Live processes (not zombies: a detached container's init is reaped by
    whoever adopts it) in the user namespace `ident`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in but:
            continue
        try:
            if ns_ident("/proc/%s/ns/user" % name) == ident:
                if proc_state(int(name)) not in (None, "Z"):
                    found.append(int(name))
        except OSError:
            pass  # gone meanwhile
    return found


def assert_nothing_left(rt, cid, holder):
    assert not os.path.exists(os.path.join(rt.root, cid)), "state dir left"
    assert helpers.cgroup_dirs(cid) == [], "cgroups left"
    assert live_pids_in(holder.ident, but=(holder.pid,)) == [], "processes left"


def test_root_can_use_new_namespaces_made_in_the_joined_userns(rt, work, holder):
    b = joining_bundle(work, holder, "sh", "-c",
                       "hostname newname && hostname; id -u; cat /proc/self/uid_map;"
                       " mount -t tmpfs tmp /mnt && echo mounted; echo $$")
    r = rt.run(b)
    assert r.returncode == 0, helpers.format_result(r)
    lines = r.stdout.splitlines()
    assert lines[0] == "newname"
    assert lines[1] == "0"
    assert lines[2].split() == holder.uid_map() == MAP.split()
    assert lines[3] == "mounted"
    assert lines[4] == "1"


def test_new_namespaces_are_owned_by_the_joined_userns(rt, work, holder):
    b = joining_bundle(work, holder, "sleep", "1000")
    c = rt.run_detached(b)
    pid = c.pid
    assert ns_ident("/proc/%d/ns/user" % pid) == holder.ident
    for kind in ("uts", "ipc", "net", "mnt", "pid"):
        ns = "/proc/%d/ns/%s" % (pid, kind)
        assert ns_ident(ns) != ns_ident("/proc/self/ns/" + kind), kind
        assert owner_ident(ns) == holder.ident, kind

    # exec enters the joined user namespace first, then the container's.
    r = c.exec("sh", "-c", "id -u; hostname; readlink /proc/self/ns/user", check=True)
    assert r.stdout.split() == ["0", "runc", os.readlink(holder.userns)]
    c.exec("hostname", "fromexec", check=True)
    assert c.exec("hostname", check=True).stdout.strip() == "fromexec"

    assert c.status == "running"
    c.kill("KILL")
    c.wait_status("stopped")
    c.delete()
    assert_nothing_left(rt, c.id, holder)
    assert proc_state(pid) in (None, "Z")


def test_time_and_cgroup_namespaces_in_the_joined_userns(rt, work, holder):
    b = joining_bundle(work, holder, "sh", "-c",
                       "cat /proc/uptime; cat /proc/self/cgroup; exec sleep 1000")
    b.add_namespace("time")
    b.add_namespace("cgroup")
    b.linux["timeOffsets"] = {"boottime": {"secs": 10 * 86400, "nanosecs": 0},
                              "monotonic": {"secs": 10 * 86400, "nanosecs": 0}}
    b.save()
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    c = rt.run_detached(b)
    out = c.wait_output("\n", timeout=10)
    deadline = time.monotonic() + 10
    while len(out.splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        out = c.output()
    lines = out.splitlines()
    inside = float(lines[0].split()[0])
    assert 10 * 86400 - 60 < inside - host < 10 * 86400 + 60, (host, inside)
    for line in lines[1:]:
        assert line.split(":", 2)[2] == "/", out
    for kind in ("time", "cgroup"):
        ns = "/proc/%d/ns/%s" % (c.pid, kind)
        assert ns_ident(ns) != ns_ident("/proc/self/ns/" + kind), kind
        assert owner_ident(ns) == holder.ident, kind
    c.delete(force=True)
    assert_nothing_left(rt, c.id, holder)


def test_foreground_run_returns_the_exit_code_and_leaves_nothing(rt, work, holder):
    b = joining_bundle(work, holder, "sh", "-c", "exit 7")
    cid = rt.new_id()
    r = rt.run(b, cid=cid)
    assert r.returncode == 7, helpers.format_result(r)
    assert_nothing_left(rt, cid, holder)


def test_foreground_run_reaps_an_init_killed_by_a_signal(rt, work, holder):
    b = joining_bundle(work, holder, "sleep", "1000")
    cid = rt.new_id()
    run = subprocess.Popen(rt.argv("run", "--bundle", b.path, cid), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        c = helpers.Container(rt, cid, b, None, None)
        c.wait_status("running")
        pid = c.pid
        c.kill("KILL")
        _, err = run.communicate(timeout=helpers.DEFAULT_TIMEOUT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 128 + 9, err
    # `run` reaped it: a zombie of ours would be left if it had not.
    assert proc_state(pid) is None
    assert_nothing_left(rt, cid, holder)


@pytest.mark.parametrize("cmd", ["run", "create"])
def test_a_userns_path_that_is_no_user_namespace_fails_cleanly(rt, work, holder, cmd):
    b = joining_bundle(work, holder, "true")
    not_user = "/proc/%d/ns/net" % holder.pid
    b.add_namespace("user", not_user)
    b.save()
    cid = rt.new_id()
    r = rt(cmd, "--bundle", b.path, cid)
    assert r.returncode != 0, helpers.format_result(r)
    assert "join user namespace '%s'" % not_user in r.stderr, r.stderr
    assert "Invalid argument" in r.stderr, r.stderr
    assert_nothing_left(rt, cid, holder)
    assert rt.listed_ids() == []


def test_joining_the_userns_of_another_container(rt, work):
    first = work.bundle("sleep", "1000")
    first.add_namespace("user")
    first.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    first.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    first.save()
    c1 = rt.run_detached(first)
    holder = Holder(c1.pid)

    b = joining_bundle(work, holder, "sh", "-c",
                       "hostname second && hostname; cat /proc/self/uid_map; exec sleep 1000")
    c2 = rt.run_detached(b)
    out = c2.wait_output("65536")
    lines = out.splitlines()
    assert lines[0] == "second"
    assert lines[1].split() == ["0", "100000", "65536"]
    assert ns_ident("/proc/%d/ns/user" % c2.pid) == holder.ident
    assert owner_ident("/proc/%d/ns/uts" % c2.pid) == holder.ident
    # The first container's hostname is its own.
    assert c1.exec("hostname", check=True).stdout.strip() == "runc"
    c2.delete(force=True)
    c1.delete(force=True)
    assert not os.path.exists(os.path.join(rt.root, c2.id))
    assert helpers.cgroup_dirs(c2.id) == []


def test_namespaces_joined_by_path_with_the_joined_userns(rt, work):
    # The holder's network namespace is owned by its user namespace: joined
    # along with it, while the others are made.
    with start_holder("--net") as h:
        netns = "/proc/%d/ns/net" % h.pid
        b = joining_bundle(work, h, "sh", "-c",
                           "hostname joined && hostname; readlink /proc/self/ns/net")
        b.add_namespace("network", netns)
        b.save()
        r = rt.run(b)
        assert r.returncode == 0, helpers.format_result(r)
        assert r.stdout.split() == ["joined", os.readlink(netns)]


def test_terminal_over_console_socket_in_the_joined_userns(rt, work, holder):
    from test_070_terminal import ConsoleSocket

    b = joining_bundle(work, holder, "sh", "-c", "hostname tty-box && hostname; tty")
    b.process["terminal"] = True
    b.save()
    cs = ConsoleSocket(work.join("console.sock"))
    try:
        c = rt.create(b, extra=["--console-socket", cs.path])
        assert os.isatty(cs.wait())
        c.start()
        assert cs.read_until_eof().split() == ["tty-box", "/dev/pts/0"]
    finally:
        cs.close()
