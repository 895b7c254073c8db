"""`vessel pull`, `images`, `rmi`, `tag`, `image inspect`, `history`.

Images are built by Python (images.py) and pushed by skopeo into Debian's
docker-registry on 127.0.0.1 (registry.py); every digest the tests expect is
computed here. Each test has its own --root.
"""

import http.server
import json
import os
import subprocess
import threading

import pytest

from images import Entry, build_image, busybox_layer, file, skopeo_push, tar_bytes
from registry import auth_proxy, registry  # noqa: F401
from vessel import vessel  # noqa: F401


def short(digest):
    return digest.split(":")[1][:12]


@pytest.fixture
def busybox(registry, tmp_path):  # noqa: F811
    """busybox (2 layers) pushed as <registry>/library/busybox:latest."""
    img = build_image(str(tmp_path / "layout"),
                      [busybox_layer(), [file("etc/motd", "hello from layer 2\n")]])
    skopeo_push(img.layout, "latest", registry.domain + "/library/busybox:latest")
    img.name = registry.domain + "/library/busybox"
    return img


def layer_dirs(v):
    d = os.path.join(v.root, "layers")
    return sorted(x for x in os.listdir(d) if not x.startswith(("tmp-", "del-"))) if os.path.isdir(d) else []


def blobs(v):
    d = os.path.join(v.root, "blobs", "sha256")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_pull_by_tag_records_the_image(vessel, busybox):  # noqa: F811
    r = vessel.ok("pull", busybox.name)
    lines = r.stdout.splitlines()
    assert lines[0] == "Using default tag: latest"
    assert lines[1] == "latest: Pulling from library/busybox"
    for d in busybox.layer_digests:
        assert "%s: Pull complete" % short(d) in lines
    assert "Digest: %s" % busybox.manifest_digest in lines
    assert lines[-2] == "Status: Downloaded newer image for %s:latest" % busybox.name
    assert lines[-1] == busybox.name + ":latest"

    info = vessel.inspect_image(busybox.name)
    assert info["Id"] == busybox.config_digest
    assert info["RepoTags"] == [busybox.name + ":latest"]
    assert info["RepoDigests"] == ["%s@%s" % (busybox.name, busybox.manifest_digest)]
    assert info["RootFS"] == {"Type": "layers", "Layers": busybox.diff_ids}
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert info["Created"] == "2024-01-02T03:04:05Z"
    assert info["Config"]["Cmd"] == ["sh"]
    # Both layers unpacked, each once: busybox in the first, the motd in the second.
    assert len(layer_dirs(vessel)) == 2
    lower = info["GraphDriver"]["Data"]["LowerDir"].split(":")
    assert os.path.isfile(os.path.join(lower[0], "etc", "motd"))
    assert os.path.islink(os.path.join(lower[1], "bin", "sh"))
    with open(os.path.join(lower[1], "bin", "busybox"), "rb") as a, open("/bin/busybox", "rb") as b:
        assert a.read() == b.read()


def test_second_pull_is_up_to_date_and_fetches_nothing(vessel, busybox, auth_proxy):  # noqa: F811
    proxy = auth_proxy()
    name = proxy.domain + "/library/busybox"
    vessel.ok("pull", name)
    blob_gets = len(proxy.registry_requests("GET", "/v2/library/busybox/blobs/"))
    r = vessel.ok("pull", name)
    assert "Status: Image is up to date for %s:latest" % name in r.stdout
    for d in busybox.layer_digests:
        assert "%s: Already exists" % short(d) in r.stdout
    assert len(proxy.registry_requests("GET", "/v2/library/busybox/blobs/")) == blob_gets


def test_pull_by_digest_and_quiet(vessel, busybox):  # noqa: F811
    ref = "%s@%s" % (busybox.name, busybox.manifest_digest)
    r = vessel.ok("pull", "-q", ref)
    assert r.stdout == ref + "\n"
    info = vessel.inspect_image(ref)
    assert info["Id"] == busybox.config_digest
    assert info["RepoTags"] == []  # a digest pull names no tag


def test_images_lists_names_and_ids(vessel, busybox):  # noqa: F811
    vessel.ok("pull", "-q", busybox.name)
    vessel.ok("tag", busybox.name, "mybox:1.0")
    out = vessel.ok("images").stdout.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = sorted(line.split()[:3] for line in out[1:])
    assert rows == sorted([[busybox.name, "latest", short(busybox.config_digest)],
                           ["mybox", "1.0", short(busybox.config_digest)]])
    assert vessel.ok("images", "-q").stdout.split() == [short(busybox.config_digest)]
    fmt = vessel.ok("images", "--format", "{{.Repository}}:{{.Tag}}", "mybox").stdout
    assert fmt == "mybox:1.0\n"
    assert busybox.manifest_digest in vessel.ok("images", "--digests").stdout
    assert vessel.ok("images", "--filter", "dangling=true").stdout.splitlines()[1:] == []


def test_rmi_untags_then_deletes_layers_and_blobs(vessel, busybox):  # noqa: F811
    vessel.ok("pull", "-q", busybox.name)
    vessel.ok("tag", busybox.name, "mybox")
    r = vessel.ok("rmi", "mybox")
    assert r.stdout == "Untagged: mybox:latest\n"
    assert len(layer_dirs(vessel)) == 2
    r = vessel.ok("rmi", busybox.name)
    assert "Deleted: %s" % busybox.config_digest in r.stdout.splitlines()
    assert layer_dirs(vessel) == [] and blobs(vessel) == []
    assert vessel.ok("images", "-q").stdout == ""
    r = vessel.fails("rmi", busybox.name, code=1)
    assert "no such image" in r.stderr


def test_rmi_by_id_in_two_repositories_needs_force(vessel, busybox):  # noqa: F811
    vessel.ok("pull", "-q", busybox.name)
    vessel.ok("tag", busybox.name, "other/name")
    r = vessel.fails("rmi", short(busybox.config_digest), code=1)
    assert "referenced in multiple repositories" in r.stderr
    vessel.ok("rmi", "-f", short(busybox.config_digest))
    assert layer_dirs(vessel) == []


def test_history_lists_layers_newest_first(vessel, busybox):  # noqa: F811
    vessel.ok("pull", "-q", busybox.name)
    lines = vessel.ok("history", busybox.name).stdout.splitlines()
    assert lines[0].split()[:2] == ["IMAGE", "CREATED"]
    assert lines[1].startswith(short(busybox.config_digest)) and "layer 1" in lines[1]
    assert lines[2].startswith("<missing>") and "layer 0" in lines[2]
    assert "19B" in lines[1]  # "hello from layer 2\n"


def test_mirror_serves_docker_hub_names(vessel, registry, tmp_path):  # noqa: F811
    # The mirror has library/ubuntu; docker.io itself is never asked (no network here).
    img = build_image(str(tmp_path / "u"), [busybox_layer()])
    skopeo_push(img.layout, "latest", registry.domain + "/library/ubuntu:latest")
    r = vessel.ok("--registry-mirror", registry.url, "pull", "ubuntu")
    assert r.stdout.splitlines()[-1] == "docker.io/library/ubuntu:latest"
    assert vessel.inspect_image("ubuntu")["Id"] == img.config_digest
    # The same from the config file.
    conf = tmp_path / "config.json"
    conf.write_text(json.dumps({"registry-mirrors": [registry.url]}))
    vessel.ok("rmi", "ubuntu")
    vessel.ok("--config", str(conf), "pull", "-q", "ubuntu:latest")
    assert vessel.inspect_image("ubuntu:latest")["Id"] == img.config_digest


def test_pull_through_bearer_token_auth(vessel, busybox, auth_proxy):  # noqa: F811
    proxy = auth_proxy(auth="bearer")
    vessel.ok("pull", "-q", proxy.domain + "/library/busybox")
    assert vessel.inspect_image(proxy.domain + "/library/busybox")["Id"] == busybox.config_digest


def test_bad_references_are_refused(vessel):  # noqa: F811
    r = vessel.fails("pull", "Ubuntu")
    assert "must be lowercase" in r.stderr
    r = vessel.fails("pull", "ubuntu:bad:tag")
    assert "invalid reference format" in r.stderr


def assert_store_empty(v):
    assert v.ok("images", "-q").stdout == ""
    assert layer_dirs(v) == []
    tmp = os.path.join(v.root, "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []
    layers = os.path.join(v.root, "layers")
    assert not os.path.isdir(layers) or [x for x in os.listdir(layers) if x.startswith("tmp-")] == []


def test_missing_tag_and_registry_errors(vessel, busybox, auth_proxy):  # noqa: F811
    r = vessel.fails("pull", busybox.name + ":nope")
    assert "manifest unknown" in r.stderr
    proxy = auth_proxy()
    proxy.inject(50, 500)
    r = vessel.fails("pull", proxy.domain + "/library/busybox")
    assert "500" in r.stderr or "Internal" in r.stderr
    proxy.inject(0, 500)
    assert_store_empty(vessel)


def test_retries_after_429(vessel, busybox, auth_proxy):  # noqa: F811
    proxy = auth_proxy()
    proxy.inject(2, 429, retry_after=1)
    vessel.ok("pull", "-q", proxy.domain + "/library/busybox")


def test_tampered_layer_leaves_nothing(vessel, busybox, auth_proxy):  # noqa: F811
    proxy = auth_proxy()
    proxy.tamper_blobs = True
    r = vessel.fails("pull", proxy.domain + "/library/busybox")
    assert "digest" in r.stderr
    assert_store_empty(vessel)


def test_layer_escaping_its_directory_is_refused(vessel, registry, tmp_path):  # noqa: F811
    outside = tmp_path / "outside"
    img = build_image(str(tmp_path / "evil"), [[
        Entry("x", "symlink", target=str(tmp_path)),
        file("x/outside", "escaped"),
    ]])
    skopeo_push(img.layout, "latest", registry.domain + "/evil:latest")
    r = vessel.fails("pull", registry.domain + "/evil")
    assert "layer entry" in r.stderr
    assert not outside.exists()
    assert_store_empty(vessel)


class FixedRegistry(http.server.ThreadingHTTPServer):
    """A registry on 127.0.0.1 that answers one manifest, whatever is asked:
    for what Debian's registry refuses to store (schema 1, oversized)."""

    def __init__(self, body, media_type):
        self.body, self.media_type = body, media_type
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/v2/":
                    data, ctype = b"{}", "application/json"
                else:
                    data, ctype = outer.body, outer.media_type
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_HEAD = do_GET

        super().__init__(("127.0.0.1", 0), Handler)
        self.domain = "127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def fixed_registry():
    made = []

    def make(body, media_type):
        made.append(FixedRegistry(body, media_type))
        return made[-1]
    yield make
    for s in made:
        s.stop()


def test_schema1_manifest_refused(vessel, fixed_registry):  # noqa: F811
    body = json.dumps({"schemaVersion": 1, "name": "old", "tag": "latest", "fsLayers": [],
                       "history": []}).encode()
    reg = fixed_registry(body, "application/vnd.docker.distribution.manifest.v1+prettyjws")
    r = vessel.fails("pull", reg.domain + "/old")
    assert "schema 1 manifests are no longer supported" in r.stderr
    assert_store_empty(vessel)


def test_oversized_manifest_refused(vessel, fixed_registry):  # noqa: F811
    body = b'{"schemaVersion": 2, "layers": [], "x": "' + b"a" * (5 << 20) + b'"}'
    reg = fixed_registry(body, "application/vnd.oci.image.manifest.v1+json")
    r = vessel.fails("pull", reg.domain + "/big")
    assert "larger than 4194304 bytes" in r.stderr
    assert_store_empty(vessel)


def test_two_pulls_at_once_store_one_copy(vessel, busybox):  # noqa: F811
    procs = [subprocess.Popen(vessel.cmd("pull", "-q", busybox.name), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, errs = p.communicate(timeout=120)
        assert p.returncode == 0, errs
    assert len(layer_dirs(vessel)) == 2
    assert vessel.image_ids() == {short(busybox.config_digest)}


def test_rmi_during_a_pull_of_another_image(vessel, busybox, registry, tmp_path):  # noqa: F811
    other = build_image(str(tmp_path / "o"), [busybox_layer(), [file("o", "other\n")]])
    skopeo_push(other.layout, "latest", registry.domain + "/other:latest")
    vessel.ok("pull", "-q", busybox.name)
    pull = subprocess.Popen(vessel.cmd("pull", "-q", registry.domain + "/other"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rmi = vessel("rmi", busybox.name)
    out, errs = pull.communicate(timeout=120)
    assert pull.returncode == 0, errs
    assert rmi.returncode == 0, rmi.stderr
    # The shared busybox layer stays for the other image, whole.
    info = vessel.inspect_image(registry.domain + "/other")
    lower = info["GraphDriver"]["Data"]["LowerDir"].split(":")
    assert all(os.path.isdir(d) for d in lower)
    assert os.path.isfile(os.path.join(lower[-1], "bin", "busybox"))
