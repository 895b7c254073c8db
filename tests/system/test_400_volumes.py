"""Volumes: named and anonymous volumes, their data across containers, copy-up
of the image's content, read-only mounts, driver options (a tmpfs with a size),
--volumes-from, in-use protection, prune, rm -v, and `system df`. The image is
made here (images.py + skopeo), with content owned by a user at a volume path
and a VOLUME entry of its own."""

import json
import os
import signal
import subprocess
import time

import pytest

from helpers import mounts_under
from images import Entry, build_image, busybox_layer, file
from vessel import vessel  # noqa: F401

IMAGE = "voltest:latest"


@pytest.fixture(scope="session")
def volume_image(tmp_path_factory):
    d = tmp_path_factory.mktemp("volimage")
    content = [
        Entry("srv", "dir", mode=0o750, uid=1000, gid=1001),
        file("srv/hello.txt", "from the image\n", mode=0o640, uid=1000, gid=1001),
        Entry("srv/sub", "dir", mode=0o700, uid=1002, gid=1002),
        file("srv/sub/deep.txt", "deep\n", mode=0o600, uid=1002, gid=1002),
        Entry("srv/link", "symlink", target="hello.txt", mode=0o777),
        Entry("anon", "dir", mode=0o755),
        file("anon/seed", "seeded\n"),
    ]
    img = build_image(str(d / "layout"), [busybox_layer(), content],
                      config={"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"],
                              "Volumes": {"/anon": {}}})
    archive = str(d / "voltest.tar")
    subprocess.run(["skopeo", "copy", "--quiet", "oci:%s:latest" % img.layout,
                    "docker-archive:%s:%s" % (archive, IMAGE)], check=True, timeout=120)
    return archive


@pytest.fixture
def v(vessel, volume_image):  # noqa: F811
    vessel.ok("load", "-i", volume_image)
    yield vessel
    ids = vessel("ps", "-aq").stdout.split()
    if ids:
        vessel("rm", "-f", *ids)
    names = vessel("volume", "ls", "-q").stdout.split()
    if names:
        vessel("volume", "rm", "-f", *names)
    assert vessel.ok("volume", "ls", "-q").stdout == ""
    assert mounts_under(vessel.base) == []


def volume_names(v):
    return set(v.ok("volume", "ls", "-q").stdout.split())


def data_dir(v, name):
    return os.path.join(v.root, "volumes", name, "_data")


def test_create_inspect_ls_rm(v):
    assert v.ok("volume", "create", "--label", "team=db", "data").stdout == "data\n"
    info = json.loads(v.ok("volume", "inspect", "data").stdout)
    assert len(info) == 1
    i = info[0]
    assert i["Name"] == "data"
    assert i["Driver"] == "local"
    assert i["Scope"] == "local"
    assert i["Labels"] == {"team": "db"}
    assert i["Mountpoint"] == data_dir(v, "data")
    assert os.path.isdir(i["Mountpoint"])
    assert "T" in i["CreatedAt"]
    out = v.ok("volume", "ls").stdout.splitlines()
    assert out[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert out[1].split() == ["local", "data"]
    assert v.ok("volume", "ls", "-q", "--filter", "label=team=db").stdout == "data\n"
    assert v.ok("volume", "ls", "-q", "--filter", "label=team=web").stdout == ""
    assert v.ok("volume", "ls", "--format", "{{.Name}}:{{.Driver}}").stdout == "data:local\n"
    # No name: a generated 64-hex one.
    gen = v.ok("volume", "create").stdout.strip()
    assert len(gen) == 64 and all(c in "0123456789abcdef" for c in gen)
    assert v.ok("volume", "rm", "data", gen).stdout == "data\n%s\n" % gen
    assert not os.path.exists(os.path.join(v.root, "volumes", "data"))
    r = v.fails("volume", "inspect", "data", code=1)
    assert "no such volume" in r.stderr
    assert v("volume", "rm", "data").returncode != 0
    v.ok("volume", "rm", "-f", "data")
    r = v("volume", "create", "-bad")
    assert r.returncode != 0
    r = v("volume", "create", "a/b")
    assert r.returncode != 0 and "includes invalid characters" in r.stderr


def test_written_in_one_read_in_the_next(v):
    v.ok("run", "--rm", "-v", "store:/data", IMAGE, "sh", "-c", "echo kept > /data/f")
    assert "store" in volume_names(v)
    assert v.ok("run", "--rm", "-v", "store:/data", IMAGE, "cat", "/data/f").stdout == "kept\n"
    # --mount spelling, a second container, the same data.
    assert v.ok("run", "--rm", "--mount", "type=volume,source=store,target=/m", IMAGE,
                "cat", "/m/f").stdout == "kept\n"
    with open(os.path.join(data_dir(v, "store"), "f")) as f:
        assert f.read() == "kept\n"


def test_read_only_is_enforced(v):
    v.ok("volume", "create", "ro")
    r = v("run", "--rm", "-v", "ro:/data:ro", IMAGE, "sh", "-c", "echo x > /data/f")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr
    r = v("run", "--rm", "--mount", "type=volume,src=ro,dst=/data,readonly", IMAGE, "touch", "/data/g")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr
    assert os.listdir(data_dir(v, "ro")) == []


def test_copy_up_keeps_owners_and_modes(v):
    out = v.ok("run", "--rm", "-v", "web:/srv", IMAGE, "sh", "-c",
               "stat -c '%n %u %g %a' /srv /srv/hello.txt /srv/sub /srv/sub/deep.txt;"
               " readlink /srv/link; cat /srv/hello.txt").stdout.splitlines()
    assert out == ["/srv 1000 1001 750", "/srv/hello.txt 1000 1001 640", "/srv/sub 1002 1002 700",
                   "/srv/sub/deep.txt 1002 1002 600", "hello.txt", "from the image"]
    # On the host, in the volume itself.
    d = data_dir(v, "web")
    st = os.stat(os.path.join(d, "hello.txt"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1001, 0o640)
    assert os.readlink(os.path.join(d, "link")) == "hello.txt"
    st = os.stat(d)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1001, 0o750)
    # A volume that holds data is not overwritten by the next container.
    v.ok("run", "--rm", "-v", "web:/srv", IMAGE, "sh", "-c", "echo mine > /srv/hello.txt")
    assert v.ok("run", "--rm", "-v", "web:/srv", IMAGE, "cat", "/srv/hello.txt").stdout == "mine\n"


def test_nocopy(v):
    assert v.ok("run", "--rm", "-v", "empty:/srv:nocopy", IMAGE, "ls", "-A", "/srv").stdout == ""
    assert v.ok("run", "--rm", "--mount", "type=volume,src=empty2,dst=/srv,volume-nocopy", IMAGE,
                "ls", "-A", "/srv").stdout == ""
    assert os.listdir(data_dir(v, "empty")) == []


def test_in_use_cannot_be_removed(v):
    v.ok("create", "--name", "user", "-v", "busy:/data", IMAGE, "true")
    r = v("volume", "rm", "busy")
    assert r.returncode != 0
    assert "volume is in use - [" in r.stderr
    full = [c for c in v.ok("ps", "-aq", "--no-trunc").stdout.split()]
    assert full and full[0] in r.stderr
    # -f does not remove a used volume either, as Docker.
    assert v("volume", "rm", "-f", "busy").returncode != 0
    assert "busy" in volume_names(v)
    v.ok("rm", "user")
    v.ok("volume", "rm", "busy")


def test_prune_removes_only_what_nothing_uses(v):
    v.ok("volume", "create", "named-free")
    v.ok("create", "--name", "holder", "-v", "named-used:/data", "-v", "/anon2", IMAGE, "true")
    v.ok("create", "--name", "gone", "-v", "/anon3", IMAGE, "true")
    before = volume_names(v)
    # holder: named-used, /anon2, the image's /anon; gone: /anon3, /anon.
    assert len(before) == 6
    v.ok("rm", "gone")
    out = v.ok("volume", "prune", "-f").stdout
    assert "Total reclaimed space:" in out
    after = volume_names(v)
    # Only gone's two anonymous volumes went; named ones stay without -a.
    assert len(before - after) == 2
    assert {"named-free", "named-used"} <= after
    v.ok("volume", "prune", "-f", "-a")
    after_all = volume_names(v)
    assert "named-free" not in after_all
    assert "named-used" in after_all and len(after_all) == 3
    v.ok("rm", "holder")


def test_rm_v_removes_anonymous_volumes_only(v):
    v.ok("create", "--name", "c1", "-v", "keepme:/named", "-v", "/scratch", IMAGE, "true")
    vols = volume_names(v)
    assert len(vols) == 3  # keepme, /scratch, the image's /anon
    v.ok("rm", "-v", "c1")
    assert volume_names(v) == {"keepme"}
    # Without -v, anonymous volumes stay.
    v.ok("create", "--name", "c2", "-v", "/scratch", IMAGE, "true")
    v.ok("rm", "c2")
    assert len(volume_names(v)) == 3
    # --rm takes them with it.
    v.ok("run", "--rm", "-v", "/other", IMAGE, "true")
    assert len(volume_names(v)) == 3


def test_image_volume_is_copied_up(v):
    cid = v.ok("create", "--name", "seedy", IMAGE, "cat", "/anon/seed").stdout.strip()
    assert v.ok("start", "-a", "seedy").stdout == "seeded\n"
    assert len(volume_names(v)) == 1
    v.ok("rm", "-v", cid)


def test_tmpfs_volume_with_a_size_limit(v):
    v.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", "small")
    info = json.loads(v.ok("volume", "inspect", "small").stdout)[0]
    assert info["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    r = v("run", "--rm", "-v", "small:/t", IMAGE, "sh", "-c",
          "dd if=/dev/zero of=/t/big bs=1k count=2048 && echo wrote-it")
    assert r.returncode != 0
    assert "No space left on device" in r.stderr
    out = v.ok("run", "--rm", "-v", "small:/t", IMAGE, "sh", "-c",
               "grep ' /t ' /proc/mounts | cut -d' ' -f3").stdout
    assert out == "tmpfs\n"
    # Mounted only while a container uses it.
    assert mounts_under(os.path.join(v.root, "volumes")) == []
    v.fails("volume", "create", "--opt", "foo=bar", "bad")
    assert "invalid option" in v("volume", "create", "--opt", "foo=bar", "bad").stderr


def test_bind_volume_via_opts(v, tmp_path):
    host = tmp_path / "hostdir"
    host.mkdir()
    (host / "x").write_text("on the host\n")
    v.ok("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=%s" % host, "hb")
    assert v.ok("run", "--rm", "-v", "hb:/h", IMAGE, "cat", "/h/x").stdout == "on the host\n"
    v.ok("volume", "rm", "hb")
    # Removing the volume never touches the host directory it bound.
    assert (host / "x").read_text() == "on the host\n"


def test_volumes_from_shares(v):
    v.ok("run", "-d", "--name", "src", "-v", "shared:/data", "-v", "/anon4", IMAGE, "sleep", "60")
    v.ok("run", "--rm", "--volumes-from", "src", IMAGE, "sh", "-c", "echo hi > /data/f; echo a > /anon4/f")
    r = v("run", "--rm", "--volumes-from", "src:ro", IMAGE, "sh", "-c",
          "cat /data/f /anon4/f; touch /data/g")
    assert r.stdout == "hi\na\n"
    assert r.returncode != 0 and "Read-only file system" in r.stderr
    with open(os.path.join(data_dir(v, "shared"), "f")) as f:
        assert f.read() == "hi\n"
    v.ok("rm", "-f", "src")


def test_inspect_lists_mounts(v, tmp_path):
    # A tmpfs of --mount is listed, as Docker does; one of --tmpfs is not.
    v.ok("create", "--name", "mounter", "-v", "named:/data:ro", "-v", "%s:/host" % tmp_path,
         "--mount", "type=tmpfs,dst=/scratch", "--tmpfs", "/other", IMAGE, "true")
    got = json.loads(v.ok("inspect", "mounter").stdout)[0]["Mounts"]
    anon = [n for n in volume_names(v) if n != "named"]
    assert len(anon) == 1  # the image's VOLUME /anon
    assert got == [
        {"Type": "volume", "Name": anon[0], "Source": data_dir(v, anon[0]), "Destination": "/anon",
         "Driver": "local", "Mode": "", "RW": True, "Propagation": ""},
        {"Type": "volume", "Name": "named", "Source": data_dir(v, "named"), "Destination": "/data",
         "Driver": "local", "Mode": "", "RW": False, "Propagation": ""},
        {"Type": "bind", "Source": str(tmp_path), "Destination": "/host", "Mode": "", "RW": True,
         "Propagation": "rprivate"},
        {"Type": "tmpfs", "Source": "", "Destination": "/scratch", "Mode": "", "RW": True,
         "Propagation": ""},
    ]
    v.ok("create", "--name", "sharer", "--volumes-from", "mounter", IMAGE, "true")
    got = json.loads(v.ok("inspect", "sharer").stdout)[0]["Mounts"]
    assert [(m["Type"], m["Destination"], m["RW"]) for m in got] == [
        ("volume", "/anon", True), ("volume", "/data", False), ("bind", "/host", True)]
    v.ok("rm", "-v", "mounter", "sharer")


def test_data_survives_rm_f_and_monitor_kill(v):
    v.ok("run", "-d", "--name", "worker", "-v", "durable:/d", IMAGE, "sh", "-c", "echo 1 > /d/a; sleep 60")
    for _ in range(100):
        if os.path.exists(os.path.join(data_dir(v, "durable"), "a")):
            break
        time.sleep(0.05)
    pid = None
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"vessel-monitor") and v.root.encode() in b" ".join(argv):
            pid = int(p)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    v.ok("rm", "-f", "worker")
    assert "durable" in volume_names(v)
    assert v.ok("run", "--rm", "-v", "durable:/d", IMAGE, "cat", "/d/a").stdout == "1\n"


def test_system_df(v):
    v.ok("run", "--name", "sized", "-v", "dfvol:/d", IMAGE, "sh", "-c",
         "dd if=/dev/zero of=/d/blob bs=1k count=300 2>/dev/null; "
         "dd if=/dev/zero of=/rw bs=1k count=200 2>/dev/null")
    out = v.ok("system", "df").stdout.splitlines()
    assert out[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {line[:16].strip(): line[16:].split() for line in out[1:]}
    assert rows["Images"][0:2] == ["1", "1"]
    assert rows["Containers"][0:2] == ["1", "0"]
    assert rows["Containers"][2] == "204.8kB"
    assert rows["Local Volumes"][0:2] == ["2", "1"] or rows["Local Volumes"][0] == "2"
    assert rows["Build Cache"][0] == "0"
    verbose = v.ok("system", "df", "-v").stdout
    assert "Local Volumes space usage:" in verbose
    line = [x for x in verbose.splitlines() if x.startswith("dfvol")][0]
    assert line.split() == ["dfvol", "1", "307.2kB"]
    v.ok("rm", "-v", "sized")
