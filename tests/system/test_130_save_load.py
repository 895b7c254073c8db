"""`vessel save` and `vessel load` (src/image/archive.c).

Images are made by Python (images.py) and put into a real registry by skopeo,
pulled by vessel, saved, and the archives read back by Python's tarfile and by
skopeo: digests are always computed here, never taken from vessel. Archives in
Docker's legacy layout are written by Python. Each test has its own --root
under a temporary directory that is removed afterwards.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from images import build_image, busybox_layer, file, skopeo_push, tar_bytes
from registry import registry  # noqa: F401

TIMEOUT = 180


def vessel_path():
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.abspath(os.path.join(build, "vessel"))


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def short(digest):
    return digest.split(":")[1][:12]


class Vessel:
    """`v(*args)` runs `vessel --root ROOT --runroot ROOT-run *args`; `v.ok(...)` also
    checks the exit."""

    def __init__(self, root, env=None):
        self.root = root
        self.runroot = root + "-run"
        self.env = dict(os.environ, **(env or {}))

    def __call__(self, *args, input=None, stdout=None):
        kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        if stdout is not None:
            kw["stdout"] = stdout
            kw["stderr"] = subprocess.PIPE
        else:
            kw["capture_output"] = True
        return subprocess.run([vessel_path(), "--root", self.root, "--runroot", self.runroot] +
                              [str(a) for a in args],
                              timeout=TIMEOUT, env=self.env, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, "vessel %s: exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), r.returncode, r.stdout, r.stderr.decode(errors="replace"))
        return r

    def inspect(self, name):
        return json.loads(self.ok("image", "inspect", name).stdout)[0]

    def image_ids(self):
        """Short ids (12 hex digits), as `images -q` prints them."""
        return set(self.ok("images", "-q").stdout.decode().split())


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="vessel-test-130-")
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


def root(tmp, name):
    # Credentials never come from the host's ~/.docker.
    return Vessel(os.path.join(tmp, name), env={"VESSEL_AUTH_FILE": os.path.join(tmp, "auth.json")})


def two_layer_image(tmp):
    layout = os.path.join(tmp, "layout")
    return build_image(layout, [busybox_layer(), [file("etc/hello.txt", "hello from layer 2\n")]],
                       tag="v1", config={"Cmd": ["sh"], "Env": ["A=1"]})


@pytest.fixture
def pulled(registry, tmp):
    """An image of two layers pushed by skopeo and pulled by vessel into root 'a'."""
    img = two_layer_image(tmp)
    name = registry.domain + "/demo/app:v1"
    skopeo_push(img.layout, "v1", name)
    v = root(tmp, "a")
    v.ok("pull", name)
    return v, img, name


def read_tar(path):
    with open(path, "rb") as f:
        data = f.read()
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                members[m.name] = t.extractfile(m).read()
    return members


def write_tar(path, members):
    with tarfile.open(path, "w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def layer_dir_file(v, name, path):
    """A file of the image's top layer, read from the layer store directly."""
    lower = v.inspect(name)["GraphDriver"]["Data"]["LowerDir"].split(":")[0]
    with open(os.path.join(lower, path), "rb") as f:
        return f.read()


def test_save_writes_docker_and_oci_layout(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    m = read_tar(out)
    # Every blob is named by the digest of its content.
    for path, data in m.items():
        if path.startswith("blobs/sha256/"):
            assert sha256(data) == "sha256:" + path.rsplit("/", 1)[1], path
    # The exact blobs that were pushed: layers, config, manifest.
    for d in img.layer_digests + [img.config_digest, img.manifest_digest]:
        assert "blobs/sha256/" + d.split(":")[1] in m
    manifest = json.loads(m["manifest.json"])
    assert manifest == [{
        "Config": "blobs/sha256/" + img.config_digest.split(":")[1],
        "RepoTags": [name],
        "Layers": ["blobs/sha256/" + d.split(":")[1] for d in img.layer_digests],
    }]
    index = json.loads(m["index.json"])
    assert [e["digest"] for e in index["manifests"]] == [img.manifest_digest]
    ann = index["manifests"][0]["annotations"]
    assert ann["org.opencontainers.image.ref.name"] == "v1"
    assert ann["io.containerd.image.name"] == name
    assert json.loads(m["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    repos = json.loads(m["repositories"])
    assert repos == {registry_repo(name): {"v1": img.layer_digests[-1].split(":")[1]}}


def registry_repo(name):
    return name.rsplit(":", 1)[0]


def test_save_then_load_into_a_fresh_root(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    w = root(tmp, "b")
    r = w.ok("load", "-i", out)
    assert r.stdout.decode() == "Loaded image: %s\n" % name
    info = w.inspect(name)
    assert info["Id"] == img.config_digest
    assert info["RepoTags"] == [name]
    assert info["RootFS"]["Layers"] == img.diff_ids
    assert info["Config"]["Cmd"] == ["sh"]
    assert layer_dir_file(w, name, "etc/hello.txt") == b"hello from layer 2\n"
    # Loading the same archive again changes nothing and still succeeds.
    assert w.ok("load", "-i", out).stdout.decode() == "Loaded image: %s\n" % name
    assert w.image_ids() == {short(img.config_digest)}
    # No staging directory is left behind.
    assert os.listdir(os.path.join(w.root, "tmp")) == []


def test_save_to_stdout_and_load_from_stdin(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    with open(out, "wb") as f:
        r = v("save", name, stdout=f)
    assert r.returncode == 0, r.stderr
    w = root(tmp, "b")
    with open(out, "rb") as f:
        r = w.ok("load", input=f.read())
    assert r.stdout.decode() == "Loaded image: %s\n" % name
    assert w.inspect(name)["Id"] == img.config_digest


def test_save_by_id_has_no_name(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, img.config_digest.split(":")[1][:12])
    assert json.loads(read_tar(out)["manifest.json"])[0]["RepoTags"] == []
    w = root(tmp, "b")
    assert w.ok("load", "-i", out).stdout.decode() == "Loaded image ID: %s\n" % img.config_digest
    assert w.image_ids() == {short(img.config_digest)}


def test_save_unknown_image_fails_and_leaves_no_file(tmp):
    v = root(tmp, "a")
    out = os.path.join(tmp, "none.tar")
    r = v("save", "-o", out, "no/such:image")
    assert r.returncode != 0
    assert b"no such image" in r.stderr
    assert not os.path.exists(out)


def test_skopeo_reads_our_docker_archive(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    dest = os.path.join(tmp, "copy")
    subprocess.run(["skopeo", "copy", "--quiet", "docker-archive:" + out, "oci:" + dest + ":x"],
                   check=True, capture_output=True, timeout=TIMEOUT)
    # skopeo rewrites the config of a docker-archive as it converts it to OCI:
    # the content must be ours, the bytes need not be.
    check_oci_copy(dest, img, exact_config=False)


def test_skopeo_reads_our_oci_archive(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app-oci.tar")
    v.ok("save", "--format", "oci-archive", "-o", out, name)
    m = read_tar(out)
    assert "manifest.json" not in m
    dest = os.path.join(tmp, "copy")
    subprocess.run(["skopeo", "copy", "--quiet", "oci-archive:" + out + ":v1", "oci:" + dest + ":x"],
                   check=True, capture_output=True, timeout=TIMEOUT)
    check_oci_copy(dest, img)
    # And our own loader reads it back, with the name from the annotations.
    w = root(tmp, "b")
    assert w.ok("load", "-i", out).stdout.decode() == "Loaded image: %s\n" % name
    assert w.inspect(name)["Id"] == img.config_digest


def check_oci_copy(dest, img, exact_config=True):
    """What skopeo wrote holds our image: same config, layers that unpack to the diff ids."""
    blobs = os.path.join(dest, "blobs", "sha256")
    with open(os.path.join(dest, "index.json")) as f:
        index = json.load(f)
    with open(os.path.join(blobs, index["manifests"][0]["digest"].split(":")[1]), "rb") as f:
        manifest = json.load(f)
    if exact_config:
        assert manifest["config"]["digest"] == img.config_digest
    with open(os.path.join(blobs, manifest["config"]["digest"].split(":")[1]), "rb") as f:
        config = json.load(f)
    assert config["rootfs"]["diff_ids"] == img.diff_ids
    assert config["config"]["Cmd"] == ["sh"]
    diff_ids = []
    for layer in manifest["layers"]:
        with open(os.path.join(blobs, layer["digest"].split(":")[1]), "rb") as f:
            data = f.read()
        assert sha256(data) == layer["digest"]
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        diff_ids.append(sha256(data))
    assert diff_ids == img.diff_ids


def legacy_archive(path, layers, tags, compress=None):
    """Docker's pre-25 `docker save` layout: <id>/layer.tar, <hex>.json, manifest.json,
    repositories. Returns (config digest, diff ids)."""
    raws = [tar_bytes(entries) for entries in layers]
    diff_ids = [sha256(r) for r in raws]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2023-05-06T07:08:09Z",
        "config": {"Cmd": ["sh"], "Env": ["LEGACY=1"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "layer %d" % i} for i in range(len(raws))],
    }).encode()
    members = {}
    layer_paths = []
    parent = ""
    for i, raw in enumerate(raws):
        v1 = hashlib.sha256((parent + diff_ids[i]).encode()).hexdigest()
        members["%s/VERSION" % v1] = b"1.0"
        members["%s/json" % v1] = json.dumps({"id": v1, "parent": parent}).encode()
        members["%s/layer.tar" % v1] = raw
        layer_paths.append("%s/layer.tar" % v1)
        parent = v1
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    members[config_name] = config
    members["manifest.json"] = json.dumps(
        [{"Config": config_name, "RepoTags": tags, "Layers": layer_paths}]).encode()
    members["repositories"] = json.dumps({t.split(":")[0]: {t.split(":")[1]: parent} for t in tags}).encode()
    write_tar(path, members)
    if compress == "gzip":
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(gzip.compress(data))
    return sha256(config), diff_ids


def test_load_legacy_docker_archive(tmp):
    path = os.path.join(tmp, "legacy.tar")
    layers = [busybox_layer(), [file("srv/data.txt", "legacy data\n")]]
    config_digest, diff_ids = legacy_archive(path, layers, ["legacy/app:1"])
    v = root(tmp, "a")
    assert v.ok("load", "-i", path).stdout.decode() == "Loaded image: legacy/app:1\n"
    info = v.inspect("legacy/app:1")
    assert info["Id"] == config_digest
    assert info["RootFS"]["Layers"] == diff_ids
    assert info["Config"]["Env"] == ["LEGACY=1"]
    assert layer_dir_file(v, "legacy/app:1", "srv/data.txt") == b"legacy data\n"
    # Saved again, it is a valid Docker 25 archive that loads elsewhere with the same id.
    out = os.path.join(tmp, "again.tar")
    v.ok("save", "-o", out, "legacy/app:1")
    w = root(tmp, "b")
    w.ok("load", "-i", out)
    assert w.inspect("legacy/app:1")["Id"] == config_digest


def test_load_gzip_compressed_archive(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    with open(out, "rb") as f:
        data = f.read()
    gz = os.path.join(tmp, "app.tar.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(data))
    w = root(tmp, "b")
    assert w.ok("load", "-i", gz).stdout.decode() == "Loaded image: %s\n" % name
    assert w.inspect(name)["Id"] == img.config_digest
    # A gzip'd legacy archive too.
    path = os.path.join(tmp, "legacy.tar.gz")
    config_digest, _ = legacy_archive(path, [[file("a.txt", "a\n")]], ["legacy/gz:1"], compress="gzip")
    assert w.ok("load", "-i", path).stdout.decode() == "Loaded image: legacy/gz:1\n"
    assert w.inspect("legacy/gz:1")["Id"] == config_digest


def test_load_zstd_compressed_archive(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    subprocess.run(["zstd", "-q", out, "-o", out + ".zst"], check=True, timeout=TIMEOUT)
    w = root(tmp, "b")
    w.ok("load", "-i", out + ".zst")
    assert w.inspect(name)["Id"] == img.config_digest


def store_is_empty(v):
    """No image, no unpacked layer, no blob."""
    assert v.image_ids() == set()
    layers = os.path.join(v.root, "layers")
    assert not os.path.isdir(layers) or [d for d in os.listdir(layers) if not d.startswith(".")] == []
    blobs = os.path.join(v.root, "blobs", "sha256")
    assert not os.path.isdir(blobs) or os.listdir(blobs) == []
    tmpdir = os.path.join(v.root, "tmp")
    assert not os.path.isdir(tmpdir) or os.listdir(tmpdir) == []


def test_tampered_blob_is_refused(pulled, tmp):
    v, img, name = pulled
    out = os.path.join(tmp, "app.tar")
    v.ok("save", "-o", out, name)
    m = read_tar(out)
    # One byte changed in the second (small) layer: its blob no longer matches its name.
    victim = "blobs/sha256/" + img.layer_digests[1].split(":")[1]
    data = bytearray(m[victim])
    data[-1] ^= 0xFF
    m[victim] = bytes(data)
    bad = os.path.join(tmp, "bad.tar")
    write_tar(bad, m)
    w = root(tmp, "b")
    r = w("load", "-i", bad)
    assert r.returncode != 0
    assert img.layer_digests[1].encode() in r.stderr and b"does not match" in r.stderr
    store_is_empty(w)
    # Control: the untouched archive loads in the same root.
    w.ok("load", "-i", out)
    assert w.inspect(name)["Id"] == img.config_digest


def test_tampered_legacy_layer_is_refused(tmp):
    path = os.path.join(tmp, "legacy.tar")
    _, diff_ids = legacy_archive(path, [[file("one.txt", "1\n")], [file("two.txt", "2\n")]], ["legacy/bad:1"])
    m = read_tar(path)
    # The second layer differs from what the config's diff ids say; the first is fine
    # and gets unpacked before the second fails: it must be gone afterwards too.
    second = json.loads(m["manifest.json"])[0]["Layers"][1]
    m[second] = tar_bytes([file("two.txt", "changed\n")])
    write_tar(path, m)
    v = root(tmp, "a")
    r = v("load", "-i", path)
    assert r.returncode != 0
    assert diff_ids[1].encode() in r.stderr
    store_is_empty(v)


def test_not_an_archive_is_refused(tmp):
    path = os.path.join(tmp, "junk.tar")
    write_tar(path, {"hello.txt": b"not an image\n"})
    v = root(tmp, "a")
    r = v("load", "-i", path)
    assert r.returncode != 0
    assert b"manifest.json" in r.stderr
    store_is_empty(v)


def test_entry_escaping_the_archive_is_refused(tmp):
    path = os.path.join(tmp, "evil.tar")
    outside = os.path.join(tmp, "escaped")
    write_tar(path, {"../../../escaped": b"x", "manifest.json": b"[]"})
    v = root(tmp, "a")
    r = v("load", "-i", path)
    assert r.returncode != 0
    assert not os.path.exists(outside)
    store_is_empty(v)


def test_save_repository_saves_every_tag(tmp):
    v = root(tmp, "a")
    ids = {}
    for tag, content in (("1", "one\n"), ("2", "two\n")):
        path = os.path.join(tmp, "rootfs-%s.tar" % tag)
        with open(path, "wb") as f:
            f.write(tar_bytes([file("etc/version", content)]))
        ids[tag] = v.ok("import", path, "repo/app:" + tag).stdout.decode().strip()
    v.ok("import", os.path.join(tmp, "rootfs-1.tar"), "unrelated/app:1")
    out = os.path.join(tmp, "repo.tar")
    v.ok("save", "-o", out, "repo/app")
    manifest = json.loads(read_tar(out)["manifest.json"])
    assert sorted((e["RepoTags"], e["Config"]) for e in manifest) == [
        (["repo/app:1"], "blobs/sha256/" + ids["1"].split(":")[1]),
        (["repo/app:2"], "blobs/sha256/" + ids["2"].split(":")[1]),
    ]
    w = root(tmp, "b")
    assert sorted(w.ok("load", "-i", out).stdout.decode().splitlines()) == [
        "Loaded image: repo/app:1", "Loaded image: repo/app:2"]
    assert w.inspect("repo/app:2")["Id"] == ids["2"]
