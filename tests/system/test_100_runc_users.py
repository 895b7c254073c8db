"""Real users of runc's command line drive the runtime: Debian's dockerd (with
its own managed containerd) through `--add-runtime`, and containerd's `ctr run
--runc-binary`. Each daemon gets its own directories and unix socket; it is
stopped and everything it made is removed afterwards, even on failure."""

import json
import os
import signal
import subprocess
import tarfile
import time

import pytest

import helpers

DOCKER = "/usr/bin/docker"  # Debian's docker.io client, not /usr/local/bin/docker
DOCKERD = "/usr/sbin/dockerd"
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"


def procs_mentioning(text):
    """PIDs whose command line mentions `text` (our unique temp dir)."""
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


def stop_process(p, timeout=20):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def kill_leftovers(tag):
    for _ in range(20):
        pids = procs_mentioning(tag)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def wait_for_socket(path, proc, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    with open(log) as f:
        raise AssertionError("daemon did not come up on %s (exit %s):\n%s" %
                             (path, proc.poll(), f.read()[-4000:]))


def busybox_tar(work):
    rootfs = work.join("image-rootfs")
    os.makedirs(rootfs)
    helpers.make_rootfs(rootfs)
    path = work.join("busybox.tar")
    with tarfile.open(path, "w") as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    return path


def check(cmd, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=kw.pop("timeout", 120), **kw)
    assert r.returncode == 0, helpers.format_result(r)
    return r


@pytest.fixture
def dockerd(work):
    for tool in (DOCKER, DOCKERD, CONTAINERD):
        assert os.access(tool, os.X_OK), "%s missing: make check installs docker.io" % tool
    tag = work.path
    cgroup_parent = "vt-docker-%d" % os.getpid()
    guard = helpers.HostPaths(["/run/docker", "/run/docker/plugins", "/etc/docker",
                       "/etc/docker/key.json", "/run/containerd", "/run/containerd/s",
                       "/run/containerd/fifo", "/run/containerd/runc"],
                      dirs_to_diff=["/run/containerd/s", "/run/containerd/fifo"])
    sock = work.join("docker.sock")
    config = work.join("daemon.json")
    with open(config, "w") as f:
        json.dump({}, f)
    log = work.join("dockerd.log")
    cmd = [DOCKERD, "--config-file", config,
           "--data-root", work.join("docker-data"),
           "--exec-root", work.join("docker-exec"),
           "--pidfile", work.join("docker.pid"),
           "-H", "unix://" + sock,
           "--bridge=none", "--iptables=false", "--ip6tables=false",
           "--cgroup-parent", "/" + cgroup_parent,
           "--add-runtime", "vessel=" + helpers.runtime_path()]
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    env = dict(os.environ, DOCKER_CONFIG=work.join("docker-cli"))
    docker = [DOCKER, "-H", "unix://" + sock]
    try:
        wait_for_socket(sock, proc, log)
        # The socket exists a moment before the API answers.
        deadline = time.monotonic() + 30
        while subprocess.run(docker + ["version"], env=env, capture_output=True).returncode:
            assert time.monotonic() < deadline and proc.poll() is None, open(log).read()[-4000:]
            time.sleep(0.2)
        yield docker, env, log
    finally:
        r = subprocess.run(docker + ["ps", "-aq"], env=env, capture_output=True, text=True,
                           timeout=30)
        if r.returncode == 0 and r.stdout.split():
            subprocess.run(docker + ["rm", "-f"] + r.stdout.split(), env=env,
                           capture_output=True, timeout=60)
        stop_process(proc)
        kill_leftovers(tag)  # its managed containerd and shims
        helpers.thaw_cgroups(cgroup_parent)
        helpers.kill_cgroup_procs(cgroup_parent)
        helpers.remove_cgroups(cgroup_parent)
        helpers.unmount_all_under(work.path)
        guard.restore()


def test_docker_run_with_vessel_runtime(dockerd, work):
    docker, env, log = dockerd
    tar = busybox_tar(work)
    check(docker + ["import", tar, "vt-busybox:latest"], env=env)
    info = json.loads(check(docker + ["info", "--format", "{{json .Runtimes}}"], env=env).stdout)
    assert "vessel" in info
    r = subprocess.run(docker + ["run", "--rm", "--runtime", "vessel", "--network", "none",
                                 "vt-busybox:latest", "echo", "hi"],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, helpers.format_result(r) + "\n--- dockerd log ---\n" + \
        open(log).read()[-4000:]
    assert r.stdout == "hi\n"


def test_docker_exit_code_and_exec(dockerd, work):
    docker, env, log = dockerd
    check(docker + ["import", busybox_tar(work), "vt-busybox:latest"], env=env)
    r = subprocess.run(docker + ["run", "--rm", "--runtime", "vessel", "--network", "none",
                                 "vt-busybox:latest", "sh", "-c", "exit 3"],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 3, helpers.format_result(r)

    name = "vt-exec-%d" % os.getpid()
    check(docker + ["run", "-d", "--name", name, "--runtime", "vessel", "--network", "none",
                    "vt-busybox:latest", "sleep", "1000"], env=env)
    r = check(docker + ["exec", name, "sh", "-c", "echo in-$(hostname)"], env=env)
    assert r.stdout.startswith("in-")
    check(docker + ["stop", "-t", "1", name], env=env)
    check(docker + ["rm", name], env=env)


@pytest.fixture
def containerd(work):
    for tool in (CONTAINERD, CTR):
        assert os.access(tool, os.X_OK), "%s missing: make check installs containerd" % tool
    ns = "vt%d" % os.getpid()
    guard = helpers.HostPaths(["/run/containerd", "/run/containerd/s", "/run/containerd/fifo",
                       "/run/containerd/runc", "/run/containerd/runc/" + ns],
                      dirs_to_diff=["/run/containerd/s", "/run/containerd/fifo"])
    sock = work.join("containerd.sock")
    config = work.join("containerd.toml")
    with open(config, "w") as f:
        f.write('version = 2\nroot = "%s"\nstate = "%s"\n'
                'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
                % (work.join("containerd-root"), work.join("containerd-state"), sock, sock))
    log = work.join("containerd.log")
    with open(log, "w") as logf:
        proc = subprocess.Popen([CONTAINERD, "--config", config], stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=logf)
    try:
        wait_for_socket(sock, proc, log)
        yield [CTR, "-a", sock, "-n", ns], ns, log
    finally:
        subprocess.run([CTR, "-a", sock, "-n", ns, "task", "rm", "-f", "vt-ctr"],
                       capture_output=True, timeout=30)
        subprocess.run([CTR, "-a", sock, "-n", ns, "container", "rm", "vt-ctr"],
                       capture_output=True, timeout=30)
        stop_process(proc)
        kill_leftovers(work.path)  # shims started with our socket address
        helpers.thaw_cgroups(ns)
        helpers.kill_cgroup_procs(ns)
        helpers.remove_cgroups(ns)
        helpers.unmount_all_under(work.path)
        guard.restore()


def test_ctr_run_with_runc_binary(containerd, work):
    ctr, ns, log = containerd
    rootfs = work.join("ctr-rootfs")
    os.makedirs(rootfs)
    helpers.make_rootfs(rootfs)
    fifo = work.join("fifo")
    os.makedirs(fifo)
    r = subprocess.run(ctr + ["run", "--rm", "--fifo-dir", fifo,
                              "--runc-binary", helpers.runtime_path(),
                              "--rootfs", rootfs, "vt-ctr", "/bin/echo", "hi"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, helpers.format_result(r) + "\n--- containerd log ---\n" + \
        open(log).read()[-4000:]
    assert r.stdout == "hi\n"
