"""The registry client (src/image/registry.c) against a real registry.

Content is put into Debian's docker-registry by plain HTTP from Python or by skopeo,
and read back by skopeo or by Python, so that the client under test (driven through
tests/tools/registry-tool) is never its own judge. The auth proxy (registry.py) adds
token and basic authentication, failures, redirects and pagination in front of it.
Everything listens on 127.0.0.1 only.
"""

import base64
import hashlib
import json
import os
import subprocess
import tempfile
import time

import pytest

from registry import (OCI_MANIFEST, Registry, auth_proxy, free_port,  # noqa: F401
                      registry, sha256)

USERS = {"alice": "s3cret"}


def tool_path():
    build = os.environ.get("VESSEL_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.abspath(os.path.join(build, "tests", "tools", "registry-tool"))


def tool(*args, check=True, timeout=60):
    r = subprocess.run([tool_path()] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    if check:
        assert r.returncode == 0, "registry-tool %s: exit %d\n%s" % (
            " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace"))
    return r


def err(r):
    return r.stderr.decode(errors="replace")


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="vessel-test-110-")
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture
def image(registry):
    """An OCI image "demo/app:v1" of two layers, put by plain HTTP."""
    layers = [os.urandom(200 * 1024), b"second layer\n" * 100]
    manifest, digest, config, layer_digests = registry.put_image("demo/app", "v1", layers)
    return {"manifest": manifest, "digest": digest, "config": config,
            "layers": list(zip(layer_digests, layers))}


def test_ping(registry, auth_proxy):
    assert tool("ping", registry.domain).stdout == b"ok\n"
    # Nothing listens there: the error names the registry, the exit is not 0.
    port = free_port()
    r = tool("ping", "127.0.0.1:%d" % port, check=False)
    assert r.returncode != 0
    assert "registry '127.0.0.1:%d'" % port in err(r)
    # An HTTP server that is not a registry is told apart from one.
    p = auth_proxy()
    other = "127.0.0.1:%d" % p.blob_server.server_address[1]
    r = tool("ping", other, check=False)
    assert r.returncode != 0
    assert "registry '%s'" % other in err(r) and "does not answer as a registry" in err(r)


def test_manifest_by_tag_and_by_digest(registry, image):
    r = tool("get-manifest", registry.domain, "demo/app", "v1")
    assert r.stdout == image["manifest"]
    assert "digest: %s\n" % sha256(image["manifest"]) in err(r)
    assert "media-type: %s\n" % OCI_MANIFEST in err(r)

    r = tool("get-manifest", registry.domain, "demo/app", image["digest"])
    assert r.stdout == image["manifest"]


def test_manifest_digest_is_verified(registry, auth_proxy, image):
    p = auth_proxy()
    assert tool("get-manifest", p.domain, "demo/app", image["digest"]).stdout == image["manifest"]
    p.tamper_manifests = True
    r = tool("get-manifest", p.domain, "demo/app", image["digest"], check=False)
    assert r.returncode == 4, err(r)
    assert "does not match its digest" in err(r)
    # By tag there is nothing to compare with: the digest is that of what came.
    r = tool("get-manifest", p.domain, "demo/app", "v1")
    assert r.stdout != image["manifest"]
    assert "digest: %s\n" % sha256(r.stdout) in err(r)


def test_manifest_unknown(registry, image):
    r = tool("get-manifest", registry.domain, "demo/app", "nope", check=False)
    assert r.returncode == 2
    assert "registry '%s': manifest unknown: tag 'nope'" % registry.domain in err(r)


def test_blob_fetch_verified(registry, auth_proxy, image, tmp):
    digest, data = image["layers"][0]
    r = tool("fetch-blob", "--size", len(data), registry.domain, "demo/app", digest)
    assert r.stdout == data

    r = tool("fetch-blob", "--size", len(data) + 1, registry.domain, "demo/app", digest, check=False)
    assert r.returncode == 4 and "expected" in err(r)
    r = tool("fetch-blob", "--size", len(data) - 1, registry.domain, "demo/app", digest, check=False)
    assert r.returncode == 4 and "larger than the expected" in err(r)

    p = auth_proxy()
    p.tamper_blobs = True
    r = tool("fetch-blob", p.domain, "demo/app", digest, check=False)
    assert r.returncode == 4
    assert "'%s' does not match its digest" % digest in err(r)

    missing = sha256(b"not there")
    r = tool("fetch-blob", registry.domain, "demo/app", missing, check=False)
    assert r.returncode == 2 and "blob unknown" in err(r)


def test_blob_exists(registry, image):
    digest, _ = image["layers"][1]
    assert tool("blob-exists", registry.domain, "demo/app", digest).stdout == b"true\n"
    assert tool("blob-exists", registry.domain, "demo/app",
                sha256(b"absent")).stdout == b"false\n"


def test_blob_exists_for_a_push(registry, auth_proxy, image):
    p = auth_proxy(auth="bearer", users=USERS)
    digest, _ = image["layers"][0]
    r = tool("--creds", "alice:s3cret", "--prepare-push", "blob-exists", p.domain, "new/repo", digest)
    assert r.stdout == b"false\n"
    assert [t["scope"] for t in p.token_requests if t["scope"]] == [
        ["repository:new/repo:pull,push"]]


def test_bearer_anonymous(registry, auth_proxy, image):
    p = auth_proxy(auth="bearer")
    digest, data = image["layers"][0]
    assert tool("get-manifest", p.domain, "demo/app", "v1").stdout == image["manifest"]
    assert tool("fetch-blob", p.domain, "demo/app", digest).stdout == data

    scoped = [t for t in p.token_requests if t["scope"]]
    assert scoped, p.token_requests
    for t in scoped:
        assert t["user"] is None
        assert t["service"] == p.SERVICE
        assert t["scope"] == ["repository:demo/app:pull"]
    # The token is asked for up front: every request for the repository carries it.
    repo_requests = [x for x in p.registry_requests() if x[1].startswith("/v2/demo/app/")]
    assert len(repo_requests) >= 2
    for method, path, headers in repo_requests:
        assert headers.get("Authorization", "").startswith("Bearer "), (method, path)


def test_bearer_with_credentials(registry, auth_proxy, tmp):
    p = auth_proxy(auth="bearer", users=USERS)
    blob = os.path.join(tmp, "blob")
    data = os.urandom(50000)
    with open(blob, "wb") as f:
        f.write(data)

    # Anonymous tokens only pull: the push is refused, clearly.
    r = tool("push-blob", p.domain, "team/app", blob, check=False)
    assert r.returncode == 3, err(r)
    assert "push access denied for 'team/app'" in err(r)

    r = tool("--creds", "alice:wrong", "push-blob", p.domain, "team/app", blob, check=False)
    assert r.returncode == 3
    assert "login as 'alice' failed: incorrect username or password" in err(r)

    r = tool("--creds", "alice:s3cret", "push-blob", p.domain, "team/app", blob)
    assert r.stdout.decode().strip() == sha256(data)
    assert registry.get_blob("team/app", sha256(data)) == data
    assert any(t["user"] == "alice" and "repository:team/app:pull,push" in t["scope"]
               for t in p.token_requests)


def test_login_check_and_auth_file(registry, auth_proxy, tmp):
    p = auth_proxy(auth="bearer", users=USERS)
    auth_file = os.path.join(tmp, "auth.json")
    r = tool("--auth-file", auth_file, "--creds", "alice:nope", "--store", "login-check", p.domain,
             check=False)
    assert r.returncode == 3 and "incorrect username or password" in err(r)
    assert not os.path.exists(auth_file)

    r = tool("--auth-file", auth_file, "--creds", "alice:s3cret", "--store", "login-check", p.domain)
    assert r.stdout == b"Login Succeeded\n"
    with open(auth_file) as f:
        stored = json.load(f)
    assert base64.b64decode(stored["auths"][p.domain]["auth"]) == b"alice:s3cret"
    assert os.stat(auth_file).st_mode & 0o777 == 0o600

    # The credentials now come from the file.
    blob = os.path.join(tmp, "blob")
    with open(blob, "wb") as f:
        f.write(b"from the auth file")
    tool("--auth-file", auth_file, "push-blob", p.domain, "team/app", blob)
    assert registry.get_blob("team/app", sha256(b"from the auth file")) == b"from the auth file"


def test_token_fetched_again_after_401(registry, auth_proxy, image):
    p = auth_proxy(auth="bearer")
    digests = [d for d, _ in image["layers"]] + [image["config"]]
    # One thread, one cached token: good for two requests, then revoked.
    p.revoke_tokens_after = 2
    r = tool("--threads", 1, "fetch-blobs", p.domain, "demo/app", *digests)
    assert r.stdout.decode().split("\n")[:-1] == [
        "%s %d ok" % (d, len(registry.get_blob("demo/app", d))) for d in digests]
    scoped = [t for t in p.token_requests if t["scope"]]
    assert len(scoped) == 2, p.token_requests


def test_basic_auth(registry, auth_proxy, image):
    p = auth_proxy(auth="basic", users=USERS)
    r = tool("--creds", "alice:s3cret", "get-manifest", p.domain, "demo/app", "v1")
    assert r.stdout == image["manifest"]
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert any(h.get("Authorization") == expected for _, path, h in p.registry_requests()
               if "/manifests/" in path)

    r = tool("get-manifest", p.domain, "demo/app", "v1", check=False)
    assert r.returncode == 3
    assert "pull access denied for 'demo/app', repository does not exist or may require " \
           "'vessel login'" in err(r)

    r = tool("--creds", "alice:wrong", "ping", p.domain, check=False)
    assert r.returncode == 3 and "login as 'alice' failed" in err(r)
    assert tool("--creds", "alice:s3cret", "ping", p.domain).stdout == b"ok\n"


def test_retries(registry, auth_proxy, image):
    p = auth_proxy()
    digest, data = image["layers"][0]

    p.inject(2, 429, retry_after=1)
    start = time.monotonic()
    assert tool("get-manifest", p.domain, "demo/app", "v1").stdout == image["manifest"]
    assert time.monotonic() - start >= 2.0, "Retry-After: 1 was not honoured"
    assert p.injected == 2

    p.inject(2, 503)
    p.inject(1, 500)
    assert tool("fetch-blob", p.domain, "demo/app", digest).stdout == data
    assert p.injected == 5

    # A registry that keeps failing is given up on after a few attempts.
    p.inject(50, 503)
    r = tool("get-manifest", p.domain, "demo/app", "v1", check=False)
    assert r.returncode != 0 and "503" in err(r)
    assert 5 + 2 <= p.injected <= 5 + 6


def test_broken_download_resumes(registry, auth_proxy, image):
    p = auth_proxy()
    digest, data = image["layers"][0]
    p.cut_blob_after = 70000
    assert tool("fetch-blob", "--size", len(data), p.domain, "demo/app", digest).stdout == data
    assert any(h.get("Range") == "bytes=70000-" for _, path, h in p.registry_requests("GET")
               if path.endswith(digest))


def test_redirect_without_authorization(registry, auth_proxy, image):
    p = auth_proxy(auth="bearer", users=USERS)
    p.redirect_blobs = True
    digest, data = image["layers"][0]
    r = tool("--creds", "alice:s3cret", "fetch-blob", p.domain, "demo/app", digest)
    assert r.stdout == data
    assert len(p.blob_requests) == 1
    assert "Authorization" not in p.blob_requests[0]["headers"]
    assert "signature=" in p.blob_requests[0]["path"]
    # ... while the registry itself was sent the token.
    assert any(h.get("Authorization", "").startswith("Bearer ")
               for _, path, h in p.registry_requests("GET") if path.endswith(digest))


def skopeo_copy_to_dir(domain, ref, dest):
    subprocess.run(["skopeo", "copy", "--src-tls-verify=false",
                    "docker://%s/%s" % (domain, ref), "dir:" + dest],
                   check=True, capture_output=True, timeout=120)


def test_push_monolithic_and_chunked(registry, auth_proxy, tmp):
    p = auth_proxy(auth="bearer", users=USERS)
    creds = ("--creds", "alice:s3cret")
    layer1 = os.urandom(300 * 1024)
    layer2 = os.urandom(150 * 1024 + 7)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    paths = {}
    for name, data in (("layer1", layer1), ("layer2", layer2), ("config", config)):
        paths[name] = os.path.join(tmp, name)
        with open(paths[name], "wb") as f:
            f.write(data)

    tool(*creds, "push-blob", p.domain, "pushed/app", paths["layer1"])
    tool(*creds, "--chunk-size", 64 * 1024, "push-blob", p.domain, "pushed/app", paths["layer2"])
    tool(*creds, "push-blob", p.domain, "pushed/app", paths["config"])
    patches = [r for r in p.registry_requests("PATCH")]
    assert len(patches) == 3  # 150 KiB + 7 bytes in 64 KiB chunks
    assert patches[0][2]["Content-Range"] == "0-65535"
    assert len([r for r in p.registry_requests("PUT") if "/blobs/uploads/" in r[1]]) == 3

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha256(x), "size": len(x)} for x in (layer1, layer2)],
    }).encode()
    paths["manifest"] = os.path.join(tmp, "manifest.json")
    with open(paths["manifest"], "wb") as f:
        f.write(manifest)
    r = tool(*creds, "put-manifest", p.domain, "pushed/app", "v2", OCI_MANIFEST, paths["manifest"])
    assert r.stdout.decode().strip() == sha256(manifest)

    # skopeo reads it all back from the registry itself, checking every digest.
    out = os.path.join(tmp, "out")
    skopeo_copy_to_dir(registry.domain, "pushed/app:v2", out)
    with open(os.path.join(out, "manifest.json"), "rb") as f:
        assert f.read() == manifest
    for data in (layer1, layer2, config):
        with open(os.path.join(out, hashlib.sha256(data).hexdigest()), "rb") as f:
            assert f.read() == data


def test_push_wrong_digest_is_refused(registry, tmp):
    path = os.path.join(tmp, "manifest.json")
    with open(path, "wb") as f:
        f.write(b"{}")
    r = tool("put-manifest", registry.domain, "x/y", sha256(b"something else"), OCI_MANIFEST, path,
             check=False)
    assert r.returncode == 4


def test_cross_repository_mount(registry, auth_proxy, image, tmp):
    p = auth_proxy(auth="bearer", users=USERS)
    digest, data = image["layers"][0]
    path = os.path.join(tmp, "layer")
    with open(path, "wb") as f:
        f.write(data)
    tool("--creds", "alice:s3cret", "--from", "demo/app", "push-blob", p.domain, "other/app", path)
    assert registry.get_blob("other/app", digest) == data
    posts = p.registry_requests("POST")
    assert any("mount=%s" % digest in path and "from=demo/app" in path for _, path, _ in posts)
    # Mounted: no upload of the data.
    assert not p.registry_requests("PATCH")
    assert not [r for r in p.registry_requests("PUT") if "/blobs/" in r[1]]


def test_tags_pagination(registry, auth_proxy, image):
    names = ["v1", "v2", "v3", "latest", "alpha"]
    for t in names[1:]:
        registry.put_manifest("demo/app", t, image["manifest"])
    assert sorted(tool("tags", registry.domain, "demo/app").stdout.decode().split()) == \
        sorted(names)

    p = auth_proxy(auth="bearer")
    p.paginate_tags = True
    r = tool("--page-size", 1, "tags", p.domain, "demo/app")
    assert r.stdout.decode().split() == sorted(names)
    pages = [x for x in p.registry_requests("GET") if "/tags/list" in x[1] and
             x[2].get("Authorization")]
    assert len(pages) == len(names)

    r = tool("--page-size", 2, "tags", p.domain, "demo/app")
    assert r.stdout.decode().split() == sorted(names)


def test_mirror_fallback(registry, auth_proxy, image):
    digest, data = image["layers"][0]
    with Registry() as empty:
        missing_mirror = auth_proxy(upstream=empty)
        real = auth_proxy()
        down = "http://127.0.0.1:%d" % free_port()
        mirrors = ("--mirror", down, "--mirror", missing_mirror.url,
                   "--mirror-registry", real.domain)

        r = tool(*mirrors, "get-manifest", real.domain, "demo/app", "v1")
        assert r.stdout == image["manifest"]
        r = tool(*mirrors, "fetch-blob", real.domain, "demo/app", digest)
        assert r.stdout == data
        # The mirror was asked first, said 404, and the registry answered.
        assert any("/manifests/v1" in x[1] for x in missing_mirror.registry_requests("GET"))
        assert any(x[1].endswith(digest) for x in missing_mirror.registry_requests("GET"))
        assert any("/manifests/v1" in x[1] for x in real.registry_requests("GET"))

        # Mirrors are for the registries they are configured for only.
        before = len(missing_mirror.requests)
        tool("--mirror", missing_mirror.url, "get-manifest", real.domain, "demo/app", "v1")
        assert len(missing_mirror.requests) == before

        # A mirror that has the content serves it: the registry is not asked.
        full_mirror = auth_proxy()
        real.requests.clear()
        r = tool("--mirror", full_mirror.url, "--mirror-registry", real.domain,
                 "fetch-blob", real.domain, "demo/app", digest)
        assert r.stdout == data
        assert not real.requests
        assert full_mirror.registry_requests("GET")

        # Nobody has it: the registry's own answer is the error.
        r = tool(*mirrors, "get-manifest", real.domain, "demo/app", "nope", check=False)
        assert r.returncode == 2
        assert "registry '%s': manifest unknown: tag 'nope'" % real.domain in err(r)


def test_parallel_fetches_share_one_registry(registry, auth_proxy):
    blobs = [os.urandom(30000 + i * 1000) for i in range(9)]
    digests = [registry.put_blob("many/blobs", b) for b in blobs]
    p = auth_proxy(auth="bearer")
    r = tool("fetch-blobs", p.domain, "many/blobs", *digests)
    lines = sorted(r.stdout.decode().split("\n")[:-1])
    assert lines == sorted("%s %d ok" % (sha256(b), len(b)) for b in blobs)


def make_oci_layout(path, layers, tag):
    """An OCI image layout of the given layer blobs, for skopeo to push."""
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        with open(os.path.join(blobs, hashlib.sha256(data).hexdigest()), "wb") as f:
            f.write(data)
        return sha256(data)

    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in layers]}
                         }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(x),
                    "size": len(x)} for x in layers],
    }).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": put(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def test_reads_what_skopeo_pushed(registry, tmp):
    layers = [os.urandom(100 * 1024), os.urandom(10)]
    layout = os.path.join(tmp, "layout")
    make_oci_layout(layout, layers, "v1")
    subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", "oci:%s:v1" % layout,
                    "docker://%s/skopeo/img:v1" % registry.domain],
                   check=True, capture_output=True, timeout=120)
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          "docker://%s/skopeo/img:v1" % registry.domain],
                         check=True, capture_output=True, timeout=60).stdout
    r = tool("get-manifest", registry.domain, "skopeo/img", "v1")
    assert r.stdout == raw
    m = json.loads(raw)
    for desc in m["layers"]:
        data = tool("fetch-blob", "--size", desc["size"], registry.domain, "skopeo/img",
                    desc["digest"]).stdout
        assert sha256(data) == desc["digest"]
