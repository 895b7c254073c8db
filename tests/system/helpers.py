"""Helpers for vessel's system tests.

Every test gets its own temporary directory, its own runtime `--root` and busybox
bundles made offline from Debian's busybox-static, so tests never touch each
other, the host, or other people running the suite at the same time.  Whatever a
test creates (containers, cgroups, mounts, files) is removed afterwards, even when
the test fails: see `Runtime.cleanup()` and `Workdir.cleanup()`.

The runtime under test is $VESSEL_RUNTIME, else $VESSEL_BUILD/vessel-runtime;
the tests speak runc's command line, so `VESSEL_RUNTIME=/usr/bin/runc` runs the
same suite against runc.
"""

import copy
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

BUSYBOX = "/bin/busybox"
PYTHON = "/usr/bin/python3"
DEFAULT_TIMEOUT = 60


def runtime_path():
    path = os.environ.get("VESSEL_RUNTIME")
    if path:
        return path
    build = os.environ.get("VESSEL_BUILD")
    if not build:
        build = os.path.join(os.path.dirname(__file__), "..", "..", "build")
    return os.path.abspath(os.path.join(build, "vessel-runtime"))


# runc 1.1.5's `runc spec`, with terminal false: the base of every test bundle, so
# that tests of other features do not depend on the runtime's own `spec` command.
BASE_SPEC = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ],
        "cwd": "/",
        "capabilities": {
            s: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            for s in ("bounding", "effective", "permitted", "ambient")
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                     "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "maskedPaths": [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
            "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        ],
        "readonlyPaths": [
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
        ],
    },
}

PASSWD = """root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
wheel:x:10:user
audio:x:29:user
user:x:1000:
nogroup:x:65534:
"""

_applets = None


def busybox_applets():
    global _applets
    if _applets is None:
        out = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout
        _applets = [a for a in out.split() if a != "busybox"]
    return _applets


def make_rootfs(rootfs):
    """A busybox root filesystem: /bin/busybox, an applet symlink each, users."""
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "mnt"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    os.chown(os.path.join(rootfs, "home/user"), 1000, 1000)
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin/busybox"))
    for applet in busybox_applets():
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    with open(os.path.join(rootfs, "etc/passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(rootfs, "etc/group"), "w") as f:
        f.write(GROUP)


class Bundle:
    """An OCI bundle: `config` is the dict written to config.json by save()."""

    def __init__(self, path, args):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        os.makedirs(self.rootfs)
        make_rootfs(self.rootfs)
        self.config = copy.deepcopy(BASE_SPEC)
        self.config["process"]["args"] = list(args)
        self.save()

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def set_args(self, *args):
        self.process["args"] = list(args)
        return self.save()

    def add_namespace(self, ns_type, path=None):
        nss = self.linux["namespaces"]
        nss[:] = [n for n in nss if n["type"] != ns_type]
        entry = {"type": ns_type}
        if path:
            entry["path"] = path
        nss.append(entry)

    def remove_namespace(self, ns_type):
        nss = self.linux["namespaces"]
        nss[:] = [n for n in nss if n["type"] != ns_type]

    def save(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)
        return self


def format_result(r):
    return ("command: %s\nexit: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" %
            (" ".join(map(str, r.args)), r.returncode, r.stdout, r.stderr))


class RuntimeError_(AssertionError):
    pass


class Container:
    """A container made through Runtime.create/run_detached: output goes to files."""

    def __init__(self, rt, cid, bundle, out_path, err_path):
        self.rt = rt
        self.id = cid
        self.bundle = bundle
        self.out_path = out_path
        self.err_path = err_path

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def errors(self):
        with open(self.err_path) as f:
            return f.read()

    def state(self):
        return self.rt.json("state", self.id)

    @property
    def status(self):
        return self.state()["status"]

    @property
    def pid(self):
        return self.state()["pid"]

    def start(self):
        return self.rt.ok("start", self.id)

    def kill(self, sig="KILL", *flags):
        return self.rt.ok("kill", *flags, self.id, sig)

    def delete(self, force=False):
        return self.rt.ok("delete", *(["--force"] if force else []), self.id)

    def exec(self, *args, check=False, timeout=DEFAULT_TIMEOUT, **kw):
        """`exec ID ARGS` with flags in `flags=[...]`; returns CompletedProcess."""
        flags = kw.pop("flags", [])
        r = self.rt("exec", *flags, self.id, *args, timeout=timeout, **kw)
        if check:
            assert r.returncode == 0, format_result(r)
        return r

    def exec_detached(self, *args, flags=()):
        """`exec --detach`: stdio to files (a pipe would be held open by the
        detached process); returns the output file's path."""
        n = next(_ids)
        out = os.path.join(self.rt.workdir, "%s-exec%d.out" % (self.id, n))
        with open(out, "w") as fo:
            r = subprocess.run(self.rt.argv("exec", "--detach", *flags, self.id, *args),
                               stdin=subprocess.DEVNULL, stdout=fo, stderr=fo,
                               timeout=DEFAULT_TIMEOUT)
        if r.returncode != 0:
            with open(out) as f:
                raise RuntimeError_("exec --detach %s failed (exit %d): %s" %
                                    (self.id, r.returncode, f.read()))
        return out

    def wait_status(self, want, timeout=10):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.rt("state", self.id)
            if st.returncode == 0 and json.loads(st.stdout)["status"] == want:
                return
            time.sleep(0.05)
        raise AssertionError("container %s never became %r; last state: %s" %
                             (self.id, want, st and format_result(st)))

    def wait_output(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return self.output()
            time.sleep(0.05)
        raise AssertionError("container %s never printed %r; stdout=%r stderr=%r" %
                             (self.id, text, self.output(), self.errors()))


_ids = itertools.count(1)


class Runtime:
    """`rt(*args)` runs `RUNTIME --root ROOT *args` and returns CompletedProcess."""

    def __init__(self, workdir, binary=None):
        self.binary = binary or runtime_path()
        self.workdir = workdir
        self.root = os.path.join(workdir, "root")
        self.ids = []

    def new_id(self, tag="c"):
        # Unique across concurrent runs of the suite: pid plus a counter.
        cid = "vt%d-%d-%s" % (os.getpid(), next(_ids), tag)
        self.ids.append(cid)
        return cid

    def argv(self, *args):
        return [self.binary, "--root", self.root] + [str(a) for a in args]

    def __call__(self, *args, input=None, timeout=DEFAULT_TIMEOUT, stdin=None, **kw):
        if input is None and stdin is None:
            stdin = subprocess.DEVNULL
        kw.setdefault("capture_output", "stdout" not in kw and "stderr" not in kw)
        return subprocess.run(self.argv(*args), input=input, stdin=stdin, text=True,
                              timeout=timeout, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        if r.returncode != 0:
            raise RuntimeError_(format_result(r))
        return r

    def json(self, *args, **kw):
        r = self.ok(*args, **kw)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise AssertionError("not JSON:\n" + format_result(r))

    def run(self, bundle, cid=None, extra=(), timeout=DEFAULT_TIMEOUT, **kw):
        """Foreground `run`: returns CompletedProcess with the container's output."""
        cid = cid or self.new_id()
        return self("run", "--bundle", bundle.path, *extra, cid, timeout=timeout, **kw)

    def _spawn(self, cmd, bundle, cid, extra):
        cid = cid or self.new_id()
        out = os.path.join(self.workdir, cid + ".out")
        err = os.path.join(self.workdir, cid + ".err")
        with open(out, "w") as fo, open(err, "w") as fe:
            # The container inherits these files as its stdio: never pipes, or
            # waiting for the runtime would wait for the container too.
            r = subprocess.run(self.argv(cmd, "--bundle", bundle.path, *extra, cid),
                               stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                               timeout=DEFAULT_TIMEOUT)
        c = Container(self, cid, bundle, out, err)
        if r.returncode != 0:
            raise RuntimeError_("%s %s failed (exit %d):\nstdout: %s\nstderr: %s" %
                                (cmd, cid, r.returncode, c.output(), c.errors()))
        return c

    def create(self, bundle, cid=None, extra=()):
        return self._spawn("create", bundle, cid, extra)

    def run_detached(self, bundle, cid=None, extra=()):
        return self._spawn("run", bundle, cid, ["--detach"] + list(extra))

    def listed_ids(self):
        try:
            r = self("list", "--format", "json", timeout=20)
            return [c["id"] for c in json.loads(r.stdout or "null") or []]
        except Exception:
            return []

    def cleanup(self):
        """Force-delete every container this test made, then sweep what remains."""
        ids = list(dict.fromkeys(self.ids + self.listed_ids()))
        for cid in ids:
            thaw_cgroups(cid)
            try:
                self("delete", "--force", cid, timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for cid in ids:
            kill_cgroup_procs(cid)
            remove_cgroups(cid)


# -- host state sweeping -----------------------------------------------------------

CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_dirs(name, max_depth=5):
    """Every cgroup directory (any hierarchy) whose basename is `name`, deepest first."""
    found = []
    base_depth = CGROUP_ROOT.rstrip("/").count("/")
    for dirpath, dirnames, _ in os.walk(CGROUP_ROOT):
        depth = dirpath.count("/") - base_depth
        if depth >= max_depth:
            dirnames[:] = []
        if os.path.basename(dirpath) == name:
            found.append(dirpath)
    found.sort(key=lambda p: p.count("/"), reverse=True)
    return found


def thaw_cgroups(name):
    for d in cgroup_dirs(name):
        for f, v in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
            try:
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(v)
            except OSError:
                pass


def cgroup_pids(d):
    try:
        with open(os.path.join(d, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def kill_cgroup_procs(name):
    for _ in range(50):
        pids = set()
        for d in cgroup_dirs(name):
            for sub, _, _ in os.walk(d):
                pids.update(cgroup_pids(sub))
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def remove_cgroups(name):
    for d in cgroup_dirs(name):
        for sub, _, _ in sorted(os.walk(d), key=lambda w: w[0].count("/"), reverse=True):
            try:
                os.rmdir(sub)
            except OSError:
                pass


def mounts_under(path):
    """Mount points at or below `path` in our mount namespace, deepest first."""
    path = os.path.realpath(path).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=lambda p: p.count("/"), reverse=True)


def unmount_all_under(path):
    for _ in range(5):
        mps = mounts_under(path)
        if not mps:
            return
        for mp in mps:
            subprocess.run(["umount", "-l", mp], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


def remove_tree(path):
    """Removes path (a tree, a file or a link), its mounts unmounted first: a
    bind mount left behind must not let the removal reach the host."""
    unmount_all_under(path)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        try:
            os.unlink(path)
        except OSError:
            pass


class HostPaths:
    """Global paths that daemons (docker, containerd, podman) create despite
    their private roots (/run/containerd/s, /run/docker/plugins, ...): whatever
    did not exist before is removed afterwards, and so are new entries of
    `dirs_to_diff`."""

    def __init__(self, paths, dirs_to_diff=()):
        self.existed = {p: os.path.lexists(p) for p in paths}
        self.listings = {d: set(os.listdir(d)) if os.path.isdir(d) else None
                         for d in dirs_to_diff}

    def restore(self):
        for d, before in self.listings.items():
            if before is not None and os.path.isdir(d):
                for name in set(os.listdir(d)) - before:
                    remove_tree(os.path.join(d, name))
        # Deepest first, so a parent that existed keeps only its old entries.
        for p in sorted(self.existed, key=lambda p: p.count("/"), reverse=True):
            if not self.existed[p] and os.path.lexists(p):
                remove_tree(p)


class Workdir:
    """A temporary directory for one test, removed with everything mounted in it."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="vessel-test-")
        os.chmod(self.path, 0o755)
        self._bundles = itertools.count(1)

    def bundle(self, *args, name=None):
        name = name or "bundle%d" % next(self._bundles)
        return Bundle(os.path.join(self.path, name), args or ("true",))

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        # Unmount first: a bind mount left behind must not let rmtree reach the host.
        unmount_all_under(self.path)
        if mounts_under(self.path):
            raise AssertionError("cannot unmount %s" % mounts_under(self.path))
        shutil.rmtree(self.path, ignore_errors=True)


def read_status_field(text, field):
    """A field of a /proc/PID/status dump (`CapEff`, `NoNewPrivs`, ...)."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no %s in:\n%s" % (field, text))


def cap_mask(*numbers):
    m = 0
    for n in numbers:
        m |= 1 << n
    return "%016x" % m


def cgroup_v2_only():
    return os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


def cgroup_path(pid, controller):
    """The host directory of `pid`'s cgroup for `controller` (v1 name, e.g.
    "memory", "pids", "freezer", "cpu"), on a v1, hybrid or pure v2 host."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    if cgroup_v2_only():
        for hid, _, path in lines:
            if hid == "0":
                return CGROUP_ROOT + path
    for hid, ctrls, path in lines:
        if controller in ctrls.split(","):
            for mp in (controller, ctrls):
                d = os.path.join(CGROUP_ROOT, mp)
                if os.path.isdir(d):
                    return d + path
    raise AssertionError("no %s cgroup for pid %d in %s" % (controller, pid, lines))


def cgroup_read(pid, controller, v1_file, v2_file=None):
    """Read a cgroup file of `pid`: `v1_file` on v1/hybrid, `v2_file` on pure v2."""
    d = cgroup_path(pid, controller)
    name = v2_file if cgroup_v2_only() and v2_file else v1_file
    with open(os.path.join(d, name)) as f:
        return f.read().strip()
