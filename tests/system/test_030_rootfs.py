"""Root filesystem: mounts, masked and read-only paths, /dev, bind mounts."""

import os
import subprocess

import helpers


def run(rt, bundle, *args):
    bundle.set_args(*args)
    r = rt.run(bundle)
    return r


def run_ok(rt, bundle, *args):
    r = run(rt, bundle, *args)
    assert r.returncode == 0, helpers.format_result(r)
    return r.stdout


def parse_mounts(text):
    """[(source, mountpoint, fstype, {options})] from /proc/mounts."""
    out = []
    for line in text.splitlines():
        src, mp, fstype, opts = line.split()[:4]
        out.append((src, mp, fstype, set(opts.split(","))))
    return out


def test_spec_mounts_in_proc_mounts_in_order(rt, bundle):
    mounts = parse_mounts(run_ok(rt, bundle, "cat", "/proc/mounts"))
    by_mp = {m[1]: m for m in mounts}
    assert by_mp["/"][3] >= {"ro"}, mounts
    assert by_mp["/proc"][2] == "proc"
    assert by_mp["/dev"][2] == "tmpfs"
    assert by_mp["/dev"][3] >= {"nosuid", "mode=755"}
    assert by_mp["/dev/pts"][2] == "devpts"
    assert by_mp["/dev/pts"][3] >= {"nosuid", "noexec", "gid=5", "mode=620", "ptmxmode=666"}
    assert by_mp["/dev/shm"][2] == "tmpfs"
    assert by_mp["/dev/shm"][3] >= {"nosuid", "noexec", "nodev", "size=65536k"}
    assert by_mp["/dev/mqueue"][2] == "mqueue"
    assert by_mp["/sys"][2] == "sysfs"
    assert by_mp["/sys"][3] >= {"ro", "nosuid", "noexec", "nodev"}
    # cgroup (v1 hierarchies on this host, or cgroup2) mounted read-only under it.
    cg = [m for m in mounts if m[1].startswith("/sys/fs/cgroup")]
    assert cg, mounts
    assert all("ro" in m[3] for m in cg if m[2] in ("cgroup", "cgroup2")), cg
    # The spec's order is the mount order.
    order = [m[1] for m in mounts]
    spec_order = ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]
    assert [order.index(p) for p in spec_order] == sorted(order.index(p) for p in spec_order)
    # Nothing of the host's mount table leaks in.
    assert not any(m[1].startswith(("/work", "/tmp/vessel-test", "/run/")) for m in mounts), mounts


def host_nonempty(path):
    try:
        if os.path.isdir(path):
            return bool(os.listdir(path))
        with open(path, "rb") as f:
            return bool(f.read(1))
    except OSError:
        return False


def test_masked_paths_read_empty(rt, bundle):
    # Only the masked paths that have content on this host prove anything.
    paths = [p for p in bundle.linux["maskedPaths"] if host_nonempty(p)]
    assert len(paths) >= 2, "too few masked paths with content on this host"
    script = "; ".join(
        "echo %s $(ls -A %s | wc -l)" % (p, p) if os.path.isdir(p) else
        "echo %s $(cat %s | wc -c)" % (p, p) for p in paths)
    out = run_ok(rt, bundle, "sh", "-c", script)
    assert out.splitlines() == ["%s 0" % p for p in paths]


def test_masked_directory_is_an_empty_readonly_tmpfs(rt, bundle):
    out = run_ok(rt, bundle, "sh", "-c",
                 "grep ' /sys/firmware ' /proc/mounts; touch /sys/firmware/x || echo refused")
    line, last = out.splitlines()
    assert line.split()[2] == "tmpfs" and "ro" in line.split()[3].split(","), line
    assert last == "refused"


def test_masked_file_is_the_null_device(rt, bundle):
    # A masked file is /dev/null mounted over it (never a file of the container's
    # choosing: CVE-2025-31133).
    out = run_ok(rt, bundle, "stat", "-L", "-c", "%F %t:%T", "/proc/keys")
    assert out.strip() == "character special file 1:3"


def test_readonly_paths_refuse_writes(rt, bundle):
    # /proc/sys/kernel/hostname would only change our own UTS namespace if the
    # read-only mount were missing, so the probe is harmless to the host.
    r = run(rt, bundle, "sh", "-c", "echo probe > /proc/sys/kernel/hostname")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr, r.stderr
    out = run_ok(rt, bundle, "sh", "-c", "grep -E ' /proc/(sys|bus|fs|irq|sysrq-trigger) ' /proc/mounts")
    for line in out.splitlines():
        assert "ro" in line.split()[3].split(","), line


def test_root_readonly(rt, bundle):
    r = run(rt, bundle, "touch", "/newfile")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(bundle.rootfs, "newfile"))


def test_root_writable_when_not_readonly(rt, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.save()
    run_ok(rt, bundle, "sh", "-c", "echo written > /newfile")
    with open(os.path.join(bundle.rootfs, "newfile")) as f:
        assert f.read() == "written\n"


def test_tmpfs_mount(rt, bundle):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs",
                                    "options": ["nosuid", "nodev", "size=1m", "mode=1777"]})
    bundle.save()
    out = run_ok(rt, bundle, "sh", "-c",
                 "grep ' /scratch ' /proc/mounts; echo data > /scratch/f; cat /scratch/f;"
                 " stat -c %a /scratch")
    lines = out.splitlines()
    src, mp, fstype, opts = lines[0].split()[:4]
    assert (mp, fstype) == ("/scratch", "tmpfs")
    assert {"nosuid", "nodev", "size=1024k"} <= set(opts.split(","))
    assert lines[1:] == ["data", "1777"]


def test_bind_mount_rw(rt, bundle, work):
    hostdir = work.join("hostdir")
    os.makedirs(hostdir)
    with open(os.path.join(hostdir, "from-host"), "w") as f:
        f.write("hello from host\n")
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": hostdir, "options": ["rbind", "rw"]})
    bundle.save()
    out = run_ok(rt, bundle, "sh", "-c", "cat /data/from-host; echo back > /data/from-ctr")
    assert out == "hello from host\n"
    with open(os.path.join(hostdir, "from-ctr")) as f:
        assert f.read() == "back\n"


def test_bind_mount_ro(rt, bundle, work):
    hostdir = work.join("hostdir")
    os.makedirs(hostdir)
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": hostdir, "options": ["bind", "ro"]})
    bundle.save()
    r = run(rt, bundle, "touch", "/data/x")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr, r.stderr
    assert os.listdir(hostdir) == []


def test_bind_mount_of_a_file(rt, bundle, work):
    src = work.join("hosts")
    with open(src, "w") as f:
        f.write("127.0.0.1 bound-file\n")
    bundle.config["mounts"].append({"destination": "/etc/hosts", "type": "bind",
                                    "source": src, "options": ["bind", "ro"]})
    bundle.save()
    assert run_ok(rt, bundle, "cat", "/etc/hosts") == "127.0.0.1 bound-file\n"


def test_recursive_readonly_bind(rt, bundle, work):
    hostdir = work.join("hostdir")
    sub = os.path.join(hostdir, "sub")
    os.makedirs(sub)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": hostdir, "options": ["rbind", "rro"]})
    bundle.save()
    r = run(rt, bundle, "sh", "-c", "touch /data/sub/x")
    assert r.returncode != 0, helpers.format_result(r)
    assert "Read-only file system" in r.stderr, r.stderr
    # The host's submount is still writable: only the container's view is read-only.
    open(os.path.join(sub, "host-write"), "w").close()


def test_default_devices(rt, bundle):
    out = run_ok(rt, bundle, "sh", "-c",
                 "for d in null zero full random urandom tty; do "
                 "stat -c '%n %F %t:%T %a' /dev/$d; done")
    want = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8",
            "urandom": "1:9", "tty": "5:0"}
    got = {}
    for line in out.splitlines():
        name, kind, majmin, mode = line.rsplit(" ", 3)[0], None, line.split()[-2], line.split()[-1]
        assert "character special file" in line, line
        maj, mnr = majmin.split(":")
        got[os.path.basename(line.split()[0])] = "%d:%d" % (int(maj, 16), int(mnr, 16))
        assert mode == "666", line
    assert got == want


def test_default_devices_work(rt, bundle):
    out = run_ok(rt, bundle, "sh", "-c",
                 "echo gone > /dev/null && head -c 5 /dev/zero | wc -c && "
                 "head -c 16 /dev/urandom | wc -c; echo x > /dev/full || echo full-refused")
    assert out.split() == ["5", "16", "full-refused"]


def test_dev_symlinks(rt, bundle):
    out = run_ok(rt, bundle, "sh", "-c",
                 "for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done")
    links = dict(line.split() for line in out.splitlines())
    assert links == {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
                     "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
                     "ptmx": "pts/ptmx"}


def test_host_devices_not_visible(rt, bundle):
    out = run_ok(rt, bundle, "ls", "/dev")
    names = set(out.split())
    assert not names & {"vda", "sda", "mem", "kmsg", "loop0"}, names


def test_spec_device_created(rt, bundle):
    bundle.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1,
                                "minor": 3, "fileMode": 0o640, "uid": 0, "gid": 0}]
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    bundle.save()
    out = run_ok(rt, bundle, "sh", "-c",
                 "stat -c '%F %t:%T %a' /dev/mynull; echo ok > /dev/mynull && echo wrote")
    assert out.splitlines() == ["character special file 1:3 640", "wrote"]


def test_device_cgroup_denies_unlisted_device(rt, bundle):
    # A device node that exists in the container but is not in the allow list:
    # the device cgroup must refuse opening it.
    bundle.linux["devices"] = [{"path": "/dev/kmsg-copy", "type": "c", "major": 1,
                                "minor": 11, "fileMode": 0o666}]
    bundle.save()
    r = run(rt, bundle, "sh", "-c", "head -c 1 /dev/kmsg-copy")
    assert r.returncode != 0, helpers.format_result(r)
    assert "Operation not permitted" in r.stderr, r.stderr


def test_no_pivot(rt, bundle):
    bundle.set_args("sh", "-c", "ls /; cat /proc/self/mountinfo | wc -l")
    r = rt.run(bundle, extra=["--no-pivot"])
    assert r.returncode == 0, helpers.format_result(r)
    assert {"bin", "etc", "proc"} <= set(r.stdout.split()), r.stdout


def test_mountpoint_created_inside_rootfs(rt, bundle):
    bundle.config["mounts"].append({"destination": "/new/deep/dir", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["size=1m"]})
    bundle.save()
    out = run_ok(rt, bundle, "grep", " /new/deep/dir ", "/proc/mounts")
    assert out.split()[2] == "tmpfs"
    assert os.path.isdir(os.path.join(bundle.rootfs, "new/deep/dir"))


def test_bind_mount_rslave_receives_host_mounts(rt, bundle, work):
    # hostdir is made a shared mount; an rslave bind of it sees what the host
    # mounts below it after the container started.
    hostdir = work.join("shared")
    os.makedirs(os.path.join(hostdir, "sub"))
    subprocess.run(["mount", "--bind", hostdir, hostdir], check=True)
    subprocess.run(["mount", "--make-shared", hostdir], check=True)
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": hostdir, "options": ["rbind", "rslave"]})
    bundle.set_args("sh", "-c", "echo ready; while [ ! -e /data/sub/flag ]; do sleep 0.05; done;"
                                " echo saw-it; sleep 1000")
    c = rt.run_detached(bundle)
    c.wait_output("ready")
    sub = os.path.join(hostdir, "sub")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    open(os.path.join(sub, "flag"), "w").close()
    c.wait_output("saw-it")


def test_container_mounts_do_not_propagate_to_the_host(rt, bundle, work):
    hostdir = work.join("shared2")
    os.makedirs(os.path.join(hostdir, "sub"))
    subprocess.run(["mount", "--bind", hostdir, hostdir], check=True)
    subprocess.run(["mount", "--make-shared", hostdir], check=True)
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": hostdir, "options": ["rbind", "rw"]})
    bundle.config["mounts"].append({"destination": "/data/sub", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["size=1m"]})
    run_ok(rt, bundle, "sh", "-c", "echo x > /data/sub/inside")
    assert helpers.mounts_under(os.path.join(hostdir, "sub")) == []
    assert os.listdir(os.path.join(hostdir, "sub")) == []
