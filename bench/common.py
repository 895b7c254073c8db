"""What the run and pull benches share: timing loops, tables, and the peers
(vessel, Debian's docker.io and podman, crun) each set up in its own temporary
directories, so that a bench never touches the host's engines or stores.

Everything a peer starts (dockerd and its containerd, podman's conmons, the
containers) is stopped and removed by `Cleanup.run()`, which the benches call
from `finally` and on SIGTERM/SIGINT; global paths the daemons create despite
their private roots are removed again if they did not exist before.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))

import helpers  # noqa: E402,F401  (tests/system: mounts, cgroups, host paths; the benches' too)
from helpers import HostPaths, remove_tree  # noqa: E402,F401

DOCKER = "/usr/bin/docker"  # Debian's docker.io client
DOCKERD = "/usr/sbin/dockerd"
PODMAN = "/usr/bin/podman"
CRUN = "/usr/bin/crun"
CGROUP_ROOT = "/sys/fs/cgroup"


class Failed(Exception):
    pass


def check(cmd, env=None, timeout=300, what=None):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=env, timeout=timeout)
    if r.returncode != 0:
        raise Failed("%s: exit %d: %s" % (what or os.path.basename(cmd[0]), r.returncode,
                                           (r.stderr.strip() or r.stdout.strip())[-400:]))
    return r


def timed(cmd, env=None, timeout=300):
    """Seconds that `cmd` took; Failed if it did not exit 0."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise Failed("exit %d: %s" % (r.returncode, r.stderr.strip()[-400:]))
    return dt


def cpu_idle_fraction(window=0.05):
    """Share of all CPUs' time spent idle over the next `window` seconds."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total
    i0, t0 = sample()
    time.sleep(window)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def quiesce(name=None, i=None, idle=0.9, settle=0.2, timeout=2.0):
    """Waits `settle` s, then (at most `timeout` s) until the CPUs are nearly
    idle: what a peer leaves running after its command returned (a daemon's
    cleanup, the kernel's deferred teardown of a network namespace, which
    holds its locks while it waits for RCU and so does not show as CPU) is
    then not timed in the next peer's run. Used before every run of every
    peer alike."""
    time.sleep(settle)
    end = time.monotonic() + timeout
    while cpu_idle_fraction() < idle and time.monotonic() < end:
        pass


def interleaved(peers, n, warmup=0, before=None):
    """Runs each peer's `once(i)` (returns seconds) in rounds, peers interleaved so
    that drift of the machine hits all alike. A peer that fails is dropped with its
    message. Returns ({name: [seconds]}, {name: message})."""
    times = {name: [] for name, _ in peers}
    failed = {}
    for i in range(-warmup, n):
        for name, once in peers:
            if name in failed:
                continue
            try:
                if before:
                    before(name, i)
                dt = once(i)
            except (Failed, OSError, subprocess.TimeoutExpired) as e:
                failed[name] = str(e)
                continue
            if i >= 0:
                times[name].append(dt)
    return times, failed


def ms(s):
    return "%8.1f ms" % (s * 1e3) if s < 10 else "%8.2f s " % s


def table(title, names, times, failed, unit=ms):
    """Median, min, max per peer; returns {name: median}."""
    print()
    print(title)
    print("  %-16s %11s %11s %11s %4s" % ("", "median", "min", "max", "n"))
    med = {}
    for name in names:
        if name in failed:
            print("  %-16s FAILED: %s" % (name, failed[name]))
            continue
        t = sorted(times.get(name, []))
        if not t:
            print("  %-16s (not run)" % name)
            continue
        med[name] = statistics.median(t)
        print("  %-16s %11s %11s %11s %4d" % (name, unit(med[name]), unit(t[0]), unit(t[-1]),
                                              len(t)))
    return med


def ratio(med, a, b, note=""):
    if a in med and b in med and med[b] > 0:
        print("  %s/%s = %.2f%s" % (a, b, med[a] / med[b], note))


class Cleanup:
    """A stack of undo steps, run newest first; each step's failure is reported
    and the others still run. SIGTERM and SIGINT unwind it too."""

    def __init__(self):
        self.steps = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._signal)

    def _signal(self, signum, frame):
        raise SystemExit(128 + signum)

    def push(self, fn, *args):
        self.steps.append((fn, args))

    def run(self):
        # A second signal must not cut the cleanup short.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while self.steps:
            fn, args = self.steps.pop()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - every step must get its turn
                print("bench: cleanup step %s failed: %s" % (getattr(fn, "__name__", fn), e),
                      file=sys.stderr)


def procs_mentioning(text):
    """PIDs (not ours) whose command line mentions `text`."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def kill_mentioning(text):
    for _ in range(50):
        pids = procs_mentioning(text)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def cgroups_named(words, max_depth=6):
    """Cgroup directories (any hierarchy) whose name contains one of `words`."""
    found = []
    base = CGROUP_ROOT.rstrip("/").count("/")
    for dirpath, dirnames, _ in os.walk(CGROUP_ROOT):
        if dirpath.count("/") - base >= max_depth:
            dirnames[:] = []
        name = os.path.basename(dirpath)
        if any(w in name for w in words):
            found.append(dirpath)
    return found


def rmdir_cgroups_named(words):
    """Removes those cgroups, deepest first, once their processes have gone
    (waiting a while for processes that are exiting); kills nothing."""
    deadline = time.monotonic() + 15
    for d in sorted(cgroups_named(words), key=lambda p: p.count("/"), reverse=True):
        for sub, _, _ in sorted(os.walk(d), key=lambda w: w[0].count("/"), reverse=True):
            while True:
                try:
                    os.rmdir(sub)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


def remove_cgroups_named(words):
    for d in sorted(cgroups_named(words), key=lambda p: p.count("/"), reverse=True):
        for sub, _, _ in sorted(os.walk(d), key=lambda w: w[0].count("/"), reverse=True):
            try:
                with open(os.path.join(sub, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except OSError:
                            pass
            except OSError:
                pass
            for _ in range(20):
                try:
                    os.rmdir(sub)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def memory_of(pid):
    """(Pss, Rss) in KiB of a process, from /proc/PID/smaps_rollup."""
    pss = rss = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    return pss, rss


def mkdtemp(prefix, base=None):
    return tempfile.mkdtemp(prefix=prefix, dir=base)


# ---------------------------------------------------------------------------
# The peers


class Vessel:
    name = "vessel"

    def __init__(self, build, base):
        self.bin = os.path.join(build, "vessel")
        self.base = base
        self.root = os.path.join(base, "root")
        # As by default (/run/vessel) and as podman's: the runroot under /run (a tmpfs on
        # most hosts, though not on every VM).
        self.runroot = tempfile.mkdtemp(prefix="vbv-", dir="/run" if os.path.isdir("/run")
                                        else None)
        self.env = dict(os.environ)

    def cmd(self, *args):
        return [self.bin, "--root", self.root, "--runroot", self.runroot] + list(args)

    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", "--network", "none", image, *args)

    def run_detached_cmd(self, image, *args):
        return self.cmd("run", "-d", "--network", "none", image, *args)

    def pull_cmd(self, ref):
        return self.cmd("pull", "-q", ref)

    def helper_pids(self, ids):
        """The per-container processes besides the container's own: vessel-monitor."""
        return [p for p in procs_mentioning(self.root) if exe_name(p) == "vessel-monitor"
                and any(i in cmdline(p) for i in ids)]

    def stop(self):
        r = subprocess.run(self.cmd("ps", "-aq", "--no-trunc"), capture_output=True, text=True,
                           timeout=60)
        ids = r.stdout.split() if r.returncode == 0 else []
        if ids:
            subprocess.run(self.cmd("rm", "-f", *ids), capture_output=True, timeout=300)
        # Whatever outlives containers (a network's bridge and rules) goes with the reset.
        subprocess.run(self.cmd("system", "reset", "-f"), env=self.env, capture_output=True,
                       timeout=300)
        kill_mentioning(self.root)
        if ids:
            remove_cgroups_named(ids)
        remove_tree(self.runroot)
        remove_tree(self.base)


class Podman:
    """Debian's podman with its own --root/--runroot/--tmpdir and a containers.conf
    of its own (hard rlimits no higher than this host allows: podman's default
    RLIMIT_NOFILE/NPROC are refused by crun on hosts with lower hard limits)."""

    name = "podman"

    def __init__(self, base):
        self.base = base
        os.makedirs(base, exist_ok=True)
        conf = os.path.join(base, "containers.conf")
        import resource
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        with open(conf, "w") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=%d:%d", "nproc=4096:4096"]\n'
                    '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n'
                    '[network]\nnetwork_config_dir = "%s"\n'
                    % (nofile, nofile, os.path.join(base, "cni")))
        self.env = dict(os.environ, CONTAINERS_CONF=conf,
                        CONTAINERS_REGISTRIES_CONF=os.path.join(base, "registries.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(base, "storage.conf"))
        with open(os.path.join(base, "registries.conf"), "w") as f:
            f.write("unqualified-search-registries = []\n")
        self.root = os.path.join(base, "root")
        # podman refuses a runroot longer than 50 characters; its usual place is
        # a tmpfs (/run/containers/storage).
        self.runroot = tempfile.mkdtemp(prefix="vbp-", dir="/run" if os.path.isdir("/run")
                                        else None)
        with open(os.path.join(base, "storage.conf"), "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n'
                    % (self.root, self.runroot))
        self.guard = HostPaths(["/run/containers", "/run/libpod", "/var/lib/containers",
                                "/etc/cni", "/etc/cni/net.d", "/var/lib/cni", "/run/netns",
                                "/run/crun", "/var/lib/containers/storage"])
        # With cgroupfs, podman puts containers and conmons under libpod_parent.
        self.had_parent_cgroup = bool(cgroups_named(["libpod_parent"], max_depth=2))

    def cmd(self, *args):
        return [PODMAN, "--root", self.root, "--runroot", self.runroot,
                "--tmpdir", os.path.join(self.base, "tmp"), "--storage-driver", "overlay",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file"] + list(args)

    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", "--network", "none", image, *args)

    def run_detached_cmd(self, image, *args):
        return self.cmd("run", "-d", "--network", "none", image, *args)

    def pull_cmd(self, ref):
        return self.cmd("pull", "-q", "--tls-verify=false", ref)

    def helper_pids(self, ids):
        return [p for p in procs_mentioning(self.root) if exe_name(p) == "conmon"
                and any(i in cmdline(p) for i in ids)]

    def stop(self):
        r = subprocess.run(self.cmd("ps", "-aq", "--no-trunc"), capture_output=True, text=True,
                           env=self.env, timeout=60)
        ids = r.stdout.split() if r.returncode == 0 else []
        if ids:
            subprocess.run(self.cmd("rm", "-f", "-t", "0", *ids), capture_output=True,
                           env=self.env, timeout=300)
        kill_mentioning(self.base)
        kill_mentioning(self.runroot)
        if ids:
            remove_cgroups_named(ids)
        remove_tree(self.base)  # with the overlay mounts podman's storage keeps
        remove_tree(self.runroot)
        if not self.had_parent_cgroup:
            rmdir_cgroups_named(["libpod_parent"])
            left = cgroups_named(["libpod_parent"], max_depth=2)
            if left:
                print("bench: podman's cgroup %s is still busy, left in place" % left[0],
                      file=sys.stderr)
        self.guard.restore()


class Docker:
    """Debian's dockerd with its own data root, exec root, socket and config, its
    own managed containerd; no bridge and no iptables rules (the benches use
    --network none only)."""

    name = "docker"

    def __init__(self, base, data_root=None):
        self.base = base
        os.makedirs(base, exist_ok=True)
        self.data_root = data_root or os.path.join(base, "data")
        self.exec_root = os.path.join(base, "exec")
        self.sock = os.path.join(base, "docker.sock")
        self.cgroup_parent = "vessel-bench-docker-%d" % os.getpid()
        self.env = dict(os.environ, DOCKER_CONFIG=os.path.join(base, "cli"))
        self.proc = None
        self.log = os.path.join(base, "dockerd.log")
        self.guard = HostPaths(["/run/docker", "/run/docker/plugins", "/etc/docker",
                                "/etc/docker/key.json", "/run/containerd", "/run/containerd/s",
                                "/run/containerd/fifo", "/run/containerd/runc"],
                               dirs_to_diff=["/run/containerd/s", "/run/containerd/fifo"])

    def cmd(self, *args):
        return [DOCKER, "-H", "unix://" + self.sock] + list(args)

    def daemon_config(self):
        """daemon.json, and the flags on its network (a subclass's bridge)."""
        return {}, ["--bridge=none", "--iptables=false", "--ip6tables=false"]

    def start(self):
        config = os.path.join(self.base, "daemon.json")
        settings, flags = self.daemon_config()
        with open(config, "w") as f:
            json.dump(settings, f)
        cmd = [DOCKERD, "--config-file", config, "--data-root", self.data_root,
               "--exec-root", self.exec_root, "--pidfile", os.path.join(self.base, "docker.pid"),
               "-H", "unix://" + self.sock, "--cgroup-parent", "/" + self.cgroup_parent] + flags
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        deadline = time.monotonic() + 60
        while True:
            if os.path.exists(self.sock) and subprocess.run(
                    self.cmd("version"), env=self.env, capture_output=True).returncode == 0:
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log) as f:
                    raise Failed("dockerd did not come up: %s" % f.read()[-2000:])
            time.sleep(0.2)

    def run_cmd(self, image, *args):
        return self.cmd("run", "--rm", "--network", "none", image, *args)

    def run_detached_cmd(self, image, *args):
        return self.cmd("run", "-d", "--network", "none", image, *args)

    def pull_cmd(self, ref):
        return self.cmd("pull", "-q", ref)

    def helper_pids(self, ids):
        return [p for p in procs_mentioning(self.exec_root)
                if exe_name(p).startswith("containerd-shim") and any(i in cmdline(p) for i in ids)]

    def stop(self):
        if self.proc is not None:
            r = subprocess.run(self.cmd("ps", "-aq", "--no-trunc"), env=self.env,
                               capture_output=True, text=True, timeout=60)
            if r.returncode == 0 and r.stdout.split():
                subprocess.run(self.cmd("rm", "-f") + r.stdout.split(), env=self.env,
                               capture_output=True, timeout=300)
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        kill_mentioning(self.base)  # its managed containerd and shims
        if self.data_root != os.path.join(self.base, "data"):
            kill_mentioning(self.data_root)
        remove_cgroups_named([self.cgroup_parent])
        remove_tree(self.base)
        remove_tree(self.data_root)
        self.guard.restore()


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def exe_name(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return ""


def load(peer, archive):
    quiet = [] if isinstance(peer, Vessel) else ["-q"]
    check(peer.cmd("load", *quiet, "-i", archive), env=peer.env, what=peer.name + " load")


def start_peers(names, makers, archive, cleanup):
    """The peers in `names` (comma-separated), each made by makers[name]() (None:
    left out, the maker said why), started, with the image archive loaded; one
    that fails is left out with the reason printed."""
    peers = []
    for name in names.split(","):
        if name not in makers:
            print("bench: unknown peer '%s'" % name, file=sys.stderr)
            continue
        try:
            p = makers[name]()
            if p is None:
                continue
            cleanup.push(p.stop)
            if isinstance(p, Docker):
                p.start()
            load(p, archive)
            peers.append(p)
        except (Failed, OSError, subprocess.TimeoutExpired) as e:
            print("bench: %s left out: %s" % (name, e))
    return peers
