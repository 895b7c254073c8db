"""vessel against real registry set-ups, end to end.

- Debian's docker-registry with htpasswd basic auth (bcrypt, the only scheme it
  takes), the htpasswd file written here with python3-bcrypt: `vessel login`,
  then pull and push with the stored credentials; skopeo, with the same
  credentials, checks what vessel pushed.
- The seed's scene: `vessel run ubuntu echo Hello World` on a machine that
  never installed ubuntu, with a registry mirror on loopback serving
  library/ubuntu (an image made offline from busybox): given with
  --registry-mirror and through the config file's "registry-mirrors". Any
  attempt to reach docker.io itself would go to a dead proxy (https_proxy on a
  closed loopback port), and the mirror's recording proxy must have seen the
  manifest and blob requests.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile

import bcrypt
import pytest

from helpers import unmount_all_under
from images import build_image, busybox_layer, file, skopeo_push
from registry import Registry, auth_proxy, free_port, registry  # noqa: F401
from vessel import Vessel, reset_roots_under

USER, PASSWORD = "alice", "s3cret-pw"


class HtpasswdRegistry(Registry):
    """docker-registry with `auth: htpasswd:`, users from a bcrypt htpasswd file."""

    def __init__(self, users):
        super().__init__()
        self.htpasswd = os.path.join(self.dir, "htpasswd")
        with open(self.htpasswd, "w") as f:
            for user, password in users.items():
                f.write("%s:%s\n" % (user, bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()))

    READY_STATUS = 401  # with auth, an anonymous GET /v2/ is refused once it serves

    def extra_config(self):
        return "auth:\n  htpasswd:\n    realm: vessel-test\n    path: %s\n" % self.htpasswd


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="vessel-test-160-")
    yield d
    reset_roots_under(d)
    # Overlay mounts of a failed run would keep the directory busy.
    unmount_all_under(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def htpasswd_registry():
    reg = HtpasswdRegistry({USER: PASSWORD})
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()


def vessel_in(tmp, name, extra=(), env=None):
    base = os.path.join(tmp, name)
    os.makedirs(base, exist_ok=True)
    e = {"VESSEL_AUTH_FILE": os.path.join(tmp, "auth.json")}
    e.update(env or {})
    return Vessel(base, env=e, extra=extra)


def skopeo(*args):
    r = subprocess.run(["skopeo"] + list(args), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "skopeo %s: %s" % (" ".join(args), r.stderr)
    return r.stdout


def test_htpasswd_registry_login_pull_push(htpasswd_registry, tmp):
    reg = htpasswd_registry
    img = build_image(os.path.join(tmp, "layout"), [busybox_layer(), [file("etc/motd", "from htpasswd\n")]])
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    "--dest-creds", "%s:%s" % (USER, PASSWORD),
                    "oci:%s:latest" % img.layout, "docker://%s/team/app:latest" % reg.domain],
                   check=True, capture_output=True, timeout=120)
    v = vessel_in(tmp, "a")
    name = reg.domain + "/team/app"

    # Without credentials the registry refuses, and nothing is stored.
    r = v("pull", name)
    assert r.returncode != 0
    assert "team/app" in r.stderr
    assert v.ok("images", "-q").stdout == ""

    # A wrong password is refused by the registry itself.
    r = v("login", "-u", USER, "-p", "wrong", reg.domain)
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(tmp, "auth.json"))

    r = v.ok("login", "-u", USER, "--password-stdin", reg.domain, input=PASSWORD + "\n")
    assert r.stdout.splitlines() == ["Login Succeeded"]
    with open(os.path.join(tmp, "auth.json")) as f:
        stored = json.load(f)["auths"][reg.domain]["auth"]
    assert base64.b64decode(stored).decode() == "%s:%s" % (USER, PASSWORD)

    r = v.ok("pull", name)
    assert r.stdout.splitlines()[-1] == name + ":latest"
    info = v.inspect_image(name)
    assert info["Id"] == img.config_digest
    assert info["RepoDigests"] == ["%s@%s" % (name, img.manifest_digest)]

    # Push under another name with the stored credentials; skopeo reads it back.
    v.ok("tag", name, reg.domain + "/team/copy:v2")
    v.ok("push", reg.domain + "/team/copy:v2")
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", "--creds", "%s:%s" % (USER, PASSWORD),
                            "docker://%s/team/copy:v2" % reg.domain))
    assert raw["config"]["digest"] == img.config_digest
    assert len(raw["layers"]) == 2

    # A second root with the same auth file pulls what was pushed.
    w = vessel_in(tmp, "b")
    w.ok("pull", reg.domain + "/team/copy:v2")
    assert w.inspect_image(reg.domain + "/team/copy:v2")["Id"] == img.config_digest

    # After logout the registry refuses again.
    v.ok("logout", reg.domain)
    r = w("pull", reg.domain + "/team/copy:v2")
    assert r.returncode != 0


@pytest.fixture
def ubuntu_mirror(registry, auth_proxy, tmp):  # noqa: F811
    """A loopback registry serving library/ubuntu:latest (busybox inside, and an
    /etc/os-release of its own), behind a proxy that records every request."""
    img = build_image(os.path.join(tmp, "ubuntu-layout"),
                      [busybox_layer(), [file("etc/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\n")]],
                      config={"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]})
    skopeo_push(img.layout, "latest", registry.domain + "/library/ubuntu:latest")
    proxy = auth_proxy()
    proxy.image = img
    return proxy


# Any connection to a host that is not loopback goes through this proxy, which
# no one listens on: reaching docker.io would fail rather than go out.
def offline_env():
    dead = "http://127.0.0.1:%d" % free_port()
    return {"https_proxy": dead, "http_proxy": dead, "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
            "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}


def assert_served_by(mirror):
    manifests = mirror.registry_requests("GET", "/v2/library/ubuntu/manifests/")
    blobs = mirror.registry_requests("GET", "/v2/library/ubuntu/blobs/")
    assert manifests, "the mirror saw no manifest request"
    # The config and both layers came from the mirror.
    fetched = {path.rsplit("/", 1)[1] for _, path, _ in blobs}
    assert {mirror.image.config_digest, *mirror.image.layer_digests} <= fetched


def test_hello_world_through_a_mirror_flag(ubuntu_mirror, tmp):
    v = vessel_in(tmp, "flag", extra=["--registry-mirror", ubuntu_mirror.url], env=offline_env())
    r = v("run", "--rm", "ubuntu", "echo", "Hello", "World")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello World\n"
    assert "Unable to find image 'ubuntu:latest' locally" in r.stderr
    assert_served_by(ubuntu_mirror)
    info = v.inspect_image("ubuntu")
    assert info["RepoTags"] == ["ubuntu:latest"]
    assert info["Id"] == ubuntu_mirror.image.config_digest
    # The image is ubuntu's name for what the mirror served: its own files.
    r = v.ok("run", "--rm", "ubuntu", "cat", "/etc/os-release")
    assert "ID=ubuntu" in r.stdout
    assert v.ok("ps", "-aq").stdout == ""


def test_hello_world_through_the_config_file(ubuntu_mirror, tmp):
    config = os.path.join(tmp, "config.json")
    with open(config, "w") as f:
        json.dump({"registry-mirrors": [ubuntu_mirror.url]}, f)
    v = vessel_in(tmp, "config", extra=["--config", config], env=offline_env())
    r = v("run", "--rm", "ubuntu", "echo", "Hello", "World")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello World\n"
    assert_served_by(ubuntu_mirror)


def test_without_a_mirror_docker_io_is_not_reached(tmp):
    # The control for the tests above: with no mirror the same command must go
    # to docker.io, which the dead proxy refuses, so it fails.
    v = vessel_in(tmp, "none", env=offline_env())
    r = v("run", "--rm", "ubuntu", "echo", "Hello", "World")
    assert r.returncode == 125
    assert "Hello World" not in r.stdout
    assert v.ok("images", "-q").stdout == ""
