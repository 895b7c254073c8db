"""`vessel push`, `vessel import`, `vessel login` / `logout` (src/image/push.c,
src/image/import.c, src/cli/transfer-cli.c).

What vessel pushes to the loopback registry (Debian's docker-registry) is read
back by skopeo and by Python, and compared with digests computed here; tarballs
to import are written by Python. Credentials go to an auth file under the test's
temporary directory (VESSEL_AUTH_FILE), never to ~/.docker.
"""

import base64
import gzip
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

from images import build_image, busybox_layer, file, skopeo_push, tar_bytes
from registry import auth_proxy, registry  # noqa: F401
from test_130_save_load import TIMEOUT, Vessel, legacy_archive, sha256, short

USERS = {"alice": "s3cret"}


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="vessel-test-140-")
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


def root(tmp, name):
    return Vessel(os.path.join(tmp, name), env={"VESSEL_AUTH_FILE": os.path.join(tmp, "auth.json")})


def skopeo(*args, check=True):
    r = subprocess.run(["skopeo"] + list(args), capture_output=True, timeout=TIMEOUT)
    if check:
        assert r.returncode == 0, "skopeo %s: %s" % (" ".join(args), r.stderr.decode(errors="replace"))
    return r


def remote_manifest(name):
    return json.loads(skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + name).stdout)


def remote_layers(name, dest):
    """skopeo copies the image into an OCI layout (checking every digest on the
    way); returns the layer blobs' bytes."""
    skopeo("copy", "--quiet", "--src-tls-verify=false", "docker://" + name, "oci:" + dest + ":x")
    blobs = os.path.join(dest, "blobs", "sha256")
    with open(os.path.join(dest, "index.json")) as f:
        index = json.load(f)
    with open(os.path.join(blobs, index["manifests"][0]["digest"].split(":")[1]), "rb") as f:
        manifest = json.load(f)
    out = []
    for layer in manifest["layers"]:
        with open(os.path.join(blobs, layer["digest"].split(":")[1]), "rb") as f:
            out.append(f.read())
    return out


def lines(r):
    return r.stdout.decode().splitlines()


def test_push_a_pulled_image(registry, auth_proxy, tmp):
    img = build_image(os.path.join(tmp, "layout"), [busybox_layer(), [file("etc/motd", "pushed\n")]], tag="v1")
    src = registry.domain + "/demo/app:v1"
    skopeo_push(img.layout, "v1", src)
    v = root(tmp, "a")
    v.ok("pull", src)
    # Pushed through a plain proxy, which records the requests.
    p = auth_proxy()
    dst = p.domain + "/other/app:v2"
    v.ok("tag", src, dst)
    r = v.ok("push", "--tls-verify=false", dst)
    out = lines(r)
    assert out[0] == "The push refers to repository [%s/other/app]" % p.domain
    for d in img.layer_digests:
        assert "%s: Preparing" % short(d) in out
        assert "%s: Pushed" % short(d) in out
    # The exact manifest that was pulled: same digest, same layers.
    with open(os.path.join(img.layout, "blobs", "sha256", img.manifest_digest.split(":")[1]), "rb") as f:
        manifest_size = len(f.read())
    assert out[-1] == "v2: digest: %s size: %d" % (img.manifest_digest, manifest_size)
    # skopeo reads it from the registry itself (the proxy keeps one Accept header only).
    direct = registry.domain + "/other/app:v2"
    info = json.loads(skopeo("inspect", "--tls-verify=false", "docker://" + direct).stdout)
    assert info["Digest"] == img.manifest_digest
    assert info["Layers"] == img.layer_digests
    assert v.inspect(dst)["RepoDigests"] == sorted(
        [registry.domain + "/demo/app@" + img.manifest_digest, p.domain + "/other/app@" + img.manifest_digest])

    # Pulled into a fresh root: the same image.
    w = root(tmp, "b")
    w.ok("pull", direct)
    assert w.inspect(direct)["Id"] == img.config_digest

    # Pushed again: nothing is uploaded.
    p.requests.clear()
    out = lines(v.ok("push", dst))
    for d in img.layer_digests:
        assert "%s: Layer already exists" % short(d) in out
        assert "%s: Pushed" % short(d) not in out
    assert [r for r in p.registry_requests() if r[0] in ("POST", "PATCH") or
            (r[0] == "PUT" and "/blobs/" in r[1])] == []
    assert [r[0] for r in p.registry_requests() if "/manifests/" in r[1]] == ["PUT"]


def test_push_missing_image_fails(registry, tmp):
    v = root(tmp, "a")
    r = v("push", registry.domain + "/nothing/here:1")
    assert r.returncode != 0
    assert b"does not exist locally" in r.stderr
    assert skopeo("inspect", "--tls-verify=false", "docker://%s/nothing/here:1" % registry.domain,
                  check=False).returncode != 0


def loaded_legacy(tmp, v, name):
    """An image loaded from a legacy docker-archive: its layers are stored uncompressed."""
    path = os.path.join(tmp, "legacy.tar")
    layers = [[file("bin/tool", "#!/bin/sh\necho tool\n", mode=0o755)], [file("etc/conf", "x=1\n")]]
    config_digest, diff_ids = legacy_archive(path, layers, [name])
    v.ok("load", "-i", path)
    return config_digest, diff_ids


def test_push_compresses_uncompressed_layers_with_gzip(registry, tmp):
    v = root(tmp, "a")
    name = registry.domain + "/legacy/app:1"
    config_digest, diff_ids = loaded_legacy(tmp, v, name)
    v.ok("push", name)
    manifest = remote_manifest(name)
    assert [l["mediaType"] for l in manifest["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    assert manifest["config"]["digest"] == config_digest
    blobs = remote_layers(name, os.path.join(tmp, "copy"))
    assert [sha256(gzip.decompress(b)) for b in blobs] == diff_ids
    # The compressed blobs were kept: a second push sends the same manifest, uploads nothing.
    out = lines(v.ok("push", name))
    assert sum("Layer already exists" in l for l in out) == 2
    assert remote_manifest(name) == manifest
    # And a fresh root pulls the same image.
    w = root(tmp, "b")
    w.ok("pull", name)
    assert w.inspect(name)["Id"] == config_digest


def test_push_with_zstd(registry, tmp):
    v = root(tmp, "a")
    name = registry.domain + "/legacy/zstd:1"
    config_digest, diff_ids = loaded_legacy(tmp, v, name)
    v.ok("push", "--compression-format", "zstd", name)
    manifest = remote_manifest(name)
    assert [l["mediaType"] for l in manifest["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+zstd"] * 2
    blobs = remote_layers(name, os.path.join(tmp, "copy"))
    for blob, diff_id in zip(blobs, diff_ids):
        assert blob[:4] == b"\x28\xb5\x2f\xfd"
        raw = subprocess.run(["zstd", "-d", "-c"], input=blob, capture_output=True, check=True).stdout
        assert sha256(raw) == diff_id
    w = root(tmp, "b")
    w.ok("pull", name)
    assert w.inspect(name)["Id"] == config_digest


def test_push_bad_flags(registry, tmp):
    v = root(tmp, "a")
    name = registry.domain + "/legacy/app:1"
    loaded_legacy(tmp, v, name)
    r = v("push", "--compression-format", "lz4", name)
    assert r.returncode != 0 and b"lz4" in r.stderr
    r = v("push", "--tls-verify=maybe", name)
    assert r.returncode != 0 and b"maybe" in r.stderr
    assert skopeo("inspect", "--tls-verify=false", "docker://" + name, check=False).returncode != 0


def rootfs_tar():
    return tar_bytes([file("etc/os-release", "ID=imported\n"), file("bin/hello", "hi\n", mode=0o755)])


def test_import_with_changes(tmp):
    raw = rootfs_tar()
    path = os.path.join(tmp, "rootfs.tar")
    with open(path, "wb") as f:
        f.write(raw)
    v = root(tmp, "a")
    r = v.ok("import", "-c", 'CMD ["sh"]', "-c", "ENV FOO=bar", "-c", "ENV LEGACY some value",
             "-c", "EXPOSE 8080", "-c", "LABEL team=core", "-c", "WORKDIR /srv",
             "-c", "ENTRYPOINT echo hi", "-c", "USER 1000", "-m", "my import", path, "imported/app:1")
    image_id = r.stdout.decode().strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    info = v.inspect("imported/app:1")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["imported/app:1"]
    assert info["RootFS"]["Layers"] == [sha256(raw)]
    cfg = info["Config"]
    assert cfg["Cmd"] == ["sh"]
    assert "FOO=bar" in cfg["Env"] and "LEGACY=some value" in cfg["Env"]
    assert cfg["ExposedPorts"] == {"8080/tcp": {}}
    assert cfg["Labels"] == {"team": "core"}
    assert cfg["WorkingDir"] == "/srv"
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "echo hi"]
    assert cfg["User"] == "1000"
    assert info["Comment"] == "my import"
    assert info["Os"] == "linux"
    hist = v.ok("history", "imported/app:1").stdout.decode()
    assert "my import" in hist


def test_import_from_stdin_gzip_same_layer(tmp):
    raw = rootfs_tar()
    v = root(tmp, "a")
    r = v.ok("import", "-", input=gzip.compress(raw))
    image_id = r.stdout.decode().strip()
    info = v.inspect(image_id)
    assert info["RootFS"]["Layers"] == [sha256(raw)]
    assert info["RepoTags"] == []
    assert info["Comment"] == "Imported from -"
    # The image is saved with a gzip layer blob that unpacks to the same tar.
    out = os.path.join(tmp, "imp.tar")
    v.ok("save", "-o", out, image_id)
    w = root(tmp, "b")
    w.ok("load", "-i", out)
    assert w.inspect(image_id)["RootFS"]["Layers"] == [sha256(raw)]


def test_import_unknown_change_is_refused(tmp):
    path = os.path.join(tmp, "rootfs.tar")
    with open(path, "wb") as f:
        f.write(rootfs_tar())
    v = root(tmp, "a")
    r = v("import", "-c", "RUN rm -rf /", path, "bad/app:1")
    assert r.returncode != 0
    assert b"RUN" in r.stderr
    assert v.image_ids() == set()
    r = v("import", "-c", "CMD [\"sh\"]", os.path.join(tmp, "missing.tar"))
    assert r.returncode != 0
    assert v.image_ids() == set()


def test_imported_image_pushes(registry, tmp):
    raw = rootfs_tar()
    v = root(tmp, "a")
    name = registry.domain + "/imported/app:1"
    image_id = v.ok("import", "-", name, input=raw).stdout.decode().strip()
    v.ok("push", name)
    manifest = remote_manifest(name)
    assert manifest["config"]["digest"] == image_id
    blobs = remote_layers(name, os.path.join(tmp, "copy"))
    assert [sha256(gzip.decompress(b)) for b in blobs] == [sha256(raw)]


def read_auth(tmp):
    with open(os.path.join(tmp, "auth.json")) as f:
        return json.load(f)


def test_login_logout(registry, auth_proxy, tmp):
    p = auth_proxy(auth="basic", users=USERS)
    v = root(tmp, "a")
    # Wrong password: refused, nothing stored.
    r = v("login", "-u", "alice", "-p", "wrong", p.domain)
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(tmp, "auth.json"))

    r = v.ok("login", "-u", "alice", "--password-stdin", p.domain, input=b"s3cret\n")
    assert lines(r) == ["Login Succeeded"]
    auth = read_auth(tmp)
    assert base64.b64decode(auth["auths"][p.domain]["auth"]) == b"alice:s3cret"
    st = os.stat(os.path.join(tmp, "auth.json"))
    assert st.st_mode & 0o777 == 0o600

    # The stored credentials are used by a push through the proxy.
    name = p.domain + "/legacy/app:1"
    loaded_legacy(tmp, v, name)
    v.ok("push", name)
    assert remote_manifest(registry.domain + "/legacy/app:1")["schemaVersion"] == 2

    r = v.ok("logout", p.domain)
    assert lines(r) == ["Removing login credentials for %s" % p.domain]
    assert p.domain not in read_auth(tmp).get("auths", {})
    r = v("logout", p.domain)
    assert r.returncode != 0
    assert ("not logged in to %s" % p.domain).encode() in r.stderr


def test_push_with_creds(registry, auth_proxy, tmp):
    p = auth_proxy(auth="basic", users=USERS)
    v = root(tmp, "a")
    name = p.domain + "/creds/app:1"
    loaded_legacy(tmp, v, name)
    # Without credentials the registry refuses the push.
    r = v("push", name)
    assert r.returncode != 0
    r = v.ok("push", "--creds", "alice:s3cret", name)
    assert remote_manifest(registry.domain + "/creds/app:1")["schemaVersion"] == 2
    assert not os.path.exists(os.path.join(tmp, "auth.json"))
