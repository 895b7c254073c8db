"""Security checks from the OCI runtimes' CVE history, checked from inside."""

import hashlib
import os
import shutil
import subprocess
import time

import helpers


def run_ok(rt, bundle, *args, **kw):
    bundle.set_args(*args)
    r = rt.run(bundle, **kw)
    assert r.returncode == 0, helpers.format_result(r)
    return r.stdout


def test_symlinked_mount_destination_stays_inside_rootfs(rt, work, bundle):
    # rootfs/mnt -> <host dir>: an absolute symlink must resolve inside the rootfs.
    hostdir = work.join("host-dir")
    os.makedirs(hostdir)
    payload = work.join("payload")
    os.makedirs(payload)
    with open(os.path.join(payload, "file"), "w") as f:
        f.write("payload\n")
    os.rmdir(os.path.join(bundle.rootfs, "mnt"))
    os.symlink(hostdir, os.path.join(bundle.rootfs, "mnt"))
    bundle.config["mounts"].append({"destination": "/mnt", "type": "bind",
                                    "source": payload, "options": ["bind", "ro"]})
    out = run_ok(rt, bundle, "sh", "-c", "cat /mnt/file; grep -c ' %s ' /proc/mounts" % hostdir)
    # Seen through the symlink inside: the mount is at rootfs/<hostdir>.
    assert out.split() == ["payload", "1"], out
    assert os.path.isdir(bundle.rootfs + hostdir)
    # The host's directory got nothing and is no mount point.
    assert os.listdir(hostdir) == []
    assert helpers.mounts_under(hostdir) == []


def test_relative_symlink_escape_is_clamped(rt, work, bundle):
    hostdir = work.join("host-dir2")
    os.makedirs(hostdir)
    os.rmdir(os.path.join(bundle.rootfs, "mnt"))
    os.symlink("../../../../../../../../.." + hostdir, os.path.join(bundle.rootfs, "mnt"))
    bundle.config["mounts"].append({"destination": "/mnt/sub", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["size=1m"]})
    bundle.config["root"]["readonly"] = False
    out = run_ok(rt, bundle, "sh", "-c", "echo inside > /mnt/sub/marker; cat /mnt/sub/marker")
    assert out == "inside\n"
    assert os.listdir(hostdir) == []
    assert helpers.mounts_under(hostdir) == []


def no_dev_mounts_bundle(work):
    b = work.bundle("echo", "ran")
    b.config["mounts"] = [m for m in b.config["mounts"] if not m["destination"].startswith("/dev")]
    return b.save()


def test_default_devices_made_without_a_dev_mount(rt, work):
    # With /dev not a tmpfs, the runtime still supplies the default devices,
    # inside the image's own /dev.
    b = no_dev_mounts_bundle(work)
    b.set_args("sh", "-c", "echo x > /dev/null && stat -c '%F %t:%T' /dev/null")
    r = rt.run(b)
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "character special file 1:3\n"


def test_dev_symlink_to_host_is_not_followed(rt, work):
    # A /dev entry in the image pointing at a host file must not make the
    # runtime write there (the 2025 /dev symlink family).
    victim = work.join("victim")
    with open(victim, "w") as f:
        f.write("untouched\n")
    bundle = no_dev_mounts_bundle(work)
    os.symlink(victim, os.path.join(bundle.rootfs, "dev", "null"))
    rt.run(bundle)  # may fail or succeed: what matters is the host file
    with open(victim) as f:
        assert f.read() == "untouched\n"
    assert os.path.islink(victim) is False
    st = os.stat(victim)
    assert st.st_size == len("untouched\n")


def test_no_host_fds_leak_into_the_container(rt, work, bundle):
    secret = work.join("secret")
    with open(secret, "w") as f:
        f.write("host secret\n")
    fd = os.open(secret, os.O_RDONLY)  # inheritable fd given to the runtime
    os.set_inheritable(fd, True)
    try:
        bundle.set_args("sh", "-c", "ls /proc/self/fd; echo --; ls -l /proc/self/fd")
        r = rt.run(bundle, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert r.returncode == 0, helpers.format_result(r)
    short, long_listing = r.stdout.split("--\n")
    # 0, 1, 2 and the directory fd of ls itself.
    assert sorted(int(x) for x in short.split()) == [0, 1, 2, 3], r.stdout
    assert "secret" not in long_listing


def test_no_host_fds_leak_into_exec(rt, work, bundle):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    secret = work.join("secret")
    with open(secret, "w") as f:
        f.write("host secret\n")
    fd = os.open(secret, os.O_RDONLY)
    os.set_inheritable(fd, True)
    try:
        r = c.exec("ls", "/proc/self/fd", pass_fds=(fd,))
    finally:
        os.close(fd)
    assert r.returncode == 0, helpers.format_result(r)
    assert sorted(int(x) for x in r.stdout.split()) == [0, 1, 2, 3], r.stdout


def test_init_holds_no_extra_fds(rt, bundle):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % c.pid))
    assert fds == [0, 1, 2], [(x, os.readlink("/proc/%d/fd/%d" % (c.pid, x))) for x in fds]


def test_cwd_symlink_out_of_rootfs_stays_inside(rt, work, bundle):
    hostdir = work.join("host-cwd")
    os.makedirs(hostdir)
    with open(os.path.join(hostdir, "host-secret"), "w") as f:
        f.write("x")
    os.symlink(hostdir, os.path.join(bundle.rootfs, "escape"))
    os.makedirs(bundle.rootfs + hostdir)
    open(os.path.join(bundle.rootfs + hostdir, "inside-marker"), "w").close()
    bundle.process["cwd"] = "/escape"
    bundle.config["root"]["readonly"] = False
    bundle.set_args("sh", "-c", "ls -a; pwd")
    r = rt.run(bundle)
    # The symlink is resolved inside the rootfs (and the directory made there).
    assert r.returncode == 0, helpers.format_result(r)
    assert "host-secret" not in r.stdout, r.stdout
    assert "inside-marker" in r.stdout.split(), r.stdout
    assert os.listdir(hostdir) == ["host-secret"]


def test_cwd_through_leaked_proc_fd_cannot_reach_host(rt, bundle):
    # CVE-2024-21626: cwd /proc/self/fd/N naming a runtime fd to a host directory.
    bundle.set_args("sh", "-c", "ls -a ../../../../../../../..")
    r = rt.run(bundle)
    assert r.returncode == 0 and "bin" in r.stdout.split(), helpers.format_result(r)
    for n in range(3, 9):
        bundle.process["cwd"] = "/proc/self/fd/%d" % n
        bundle.set_args("sh", "-c", "ls -a ../../../../../../../..")
        r = rt.run(bundle)
        if r.returncode == 0:
            names = r.stdout.split()
            assert "work" not in names and "vessel-test" not in r.stdout, (n, r.stdout)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_runtime_binary_cannot_be_overwritten_from_inside(work, bundle):
    # CVE-2019-5736: a container process opens /proc/PID/exe of a runtime process
    # that joins the container (exec) and writes through it once the runtime is
    # done. The test runs a copy of the runtime, so a vulnerable one only harms it.
    binary = work.join("runtime-copy")
    shutil.copy2(helpers.runtime_path(), binary)
    before = sha256(binary)
    rt = helpers.Runtime(work.path, binary=binary)
    try:
        bundle.config["root"]["readonly"] = False
        bundle.process["capabilities"] = {
            s: ["CAP_DAC_OVERRIDE", "CAP_SYS_PTRACE", "CAP_KILL"]
            for s in ("bounding", "permitted", "effective")}
        bundle.set_args("sh", "-c",
                        "while true; do for p in /proc/[0-9]*; do "
                        "t=$(readlink $p/exe 2>/dev/null); "
                        "case \"$t\" in *runtime-copy*) "
                        "(echo OVERWRITTEN >> $p/exe) 2>/dev/null && echo \"OPENED $t\";; "
                        "esac; done; done")
        c = rt.run_detached(bundle)
        for _ in range(15):
            c.exec("true")
        time.sleep(0.2)
        assert "OPENED" not in c.output(), c.output()
    finally:
        rt.cleanup()
    assert sha256(binary) == before


def test_runtime_process_seen_from_inside_is_not_the_host_binary(rt, work, bundle):
    # While exec joins, /proc/PID/exe of the joining process must not be the host
    # file itself (a sealed memfd copy or an equivalent).
    bundle.set_args("sh", "-c",
                    "while true; do for p in /proc/[0-9]*; do "
                    "readlink $p/exe; done; done | grep -v busybox | sort -u > /dev/shm/seen")
    c = rt.run_detached(bundle)
    for _ in range(10):
        c.exec("true")
    real = os.path.realpath(rt.binary)
    seen = subprocess.run(["cat", "/proc/%d/root/dev/shm/seen" % c.pid],
                          capture_output=True, text=True).stdout
    assert real not in seen.split("\n"), seen
