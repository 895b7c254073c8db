"""`image prune` (and the content store's garbage collection it ends with),
`images --filter`, `inspect --format` templates and `pull --all-tags`.

Images are made by images.py and pushed by skopeo into Debian's docker-registry
on 127.0.0.1; what each test expects is computed here from the images it made.
"""

import hashlib
import json
import os

import pytest

from images import build_image, busybox_layer, file, skopeo_push
from registry import registry  # noqa: F401
from vessel import vessel  # noqa: F401


def layer_dirs(v):
    d = os.path.join(v.root, "layers")
    return {x for x in os.listdir(d) if not x.startswith(("tmp-", "del-"))} if os.path.isdir(d) else set()


def blobs(v):
    d = os.path.join(v.root, "blobs", "sha256")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def hexof(digest):
    return digest.split(":")[1]


@pytest.fixture
def repo(registry, tmp_path):  # noqa: F811
    """push(tag, motd, created=..., labels=...) -> the Image pushed as
    <registry>/library/app:<tag>; all share the busybox base layer."""
    made = {"n": 0}

    def push(tag, motd, created="2024-01-02T03:04:05Z", labels=None):
        made["n"] += 1
        config = {"Env": ["PATH=/usr/bin:/bin", "MOTD=" + motd], "Cmd": ["sh"]}
        if labels:
            config["Labels"] = labels
        img = build_image(str(tmp_path / ("layout%d" % made["n"])),
                          [busybox_layer(), [file("etc/motd", motd + "\n")]], tag=tag,
                          config=config, created=created)
        skopeo_push(img.layout, tag, "%s/library/app:%s" % (registry.domain, tag))
        img.name = "%s/library/app:%s" % (registry.domain, tag)
        return img

    push.repo = registry.domain + "/library/app"
    return push


def prune_output(r):
    """(deleted lines, reclaimed) of `image prune` output."""
    out = r.stdout
    prompt = "Are you sure you want to continue? [y/N] "
    if prompt in out:
        out = out.split(prompt, 1)[1]
    lines = out.splitlines()
    assert lines[-1].startswith("Total reclaimed space: "), r.stdout
    body = lines[:-1]
    if body:
        assert body[0] == "Deleted Images:" and body[-1] == "", r.stdout
        body = body[1:-1]
    return body, lines[-1][len("Total reclaimed space: "):]


def test_prune_dangling_asks_then_removes_only_them(vessel, repo):  # noqa: F811
    old = repo("v1", "old")
    vessel.ok("pull", old.name)
    new = repo("v1", "new")  # the tag moves: the old image is left dangling
    vessel.ok("pull", old.name)
    assert vessel.image_ids() == {hexof(old.config_digest)[:12], hexof(new.config_digest)[:12]}

    # The prompt, and anything but yes keeps everything.
    r = vessel.ok("image", "prune", input="n\n")
    assert r.stdout.startswith("WARNING! This will remove all dangling images.\n"
                               "Are you sure you want to continue? [y/N] ")
    assert len(vessel.image_ids()) == 2

    r = vessel.ok("image", "prune", input="y\n")
    deleted, reclaimed = prune_output(r)
    assert "deleted: " + old.config_digest in deleted
    # Dangling: no tag left, only its repo digest, which goes with it.
    assert [line for line in deleted if line.startswith("untagged: ")] == [
        "untagged: %s@%s" % (old.name.rsplit(":", 1)[0], old.manifest_digest)]
    assert reclaimed != "0B"
    assert vessel.image_ids() == {hexof(new.config_digest)[:12]}
    # The old image's own layer and blobs are gone; the shared base and the new image's stay.
    assert hexof(old.layer_digests[1]) not in blobs(vessel)
    assert hexof(old.config_digest) not in blobs(vessel)
    assert hexof(old.manifest_digest) not in blobs(vessel)
    assert {hexof(d) for d in new.layer_digests} | {hexof(new.config_digest)} <= blobs(vessel)
    assert len(layer_dirs(vessel)) == 2
    assert vessel.ok("run", "--rm", repo.repo + ":v1", "cat", "/etc/motd").stdout == "new\n"

    # Nothing left to prune.
    r = vessel.ok("image", "prune", "-f")
    assert r.stdout == "Total reclaimed space: 0B\n"


def test_prune_all_keeps_what_containers_use(vessel, repo):  # noqa: F811
    used, unused = repo("used", "u"), repo("unused", "x")
    vessel.ok("pull", used.name)
    vessel.ok("pull", unused.name)
    cid = vessel.ok("create", used.name, "true").stdout.strip()
    try:
        r = vessel.ok("image", "prune", "-a", input="no\n")
        assert "WARNING! This will remove all images without at least one container associated to them." \
            in r.stdout
        assert len(vessel.image_ids()) == 2
        r = vessel.ok("image", "prune", "-a", "-f")
        deleted, _ = prune_output(r)
        familiar = unused.name  # a registry on 127.0.0.1 keeps its domain in familiar names
        assert deleted[0] == "untagged: " + familiar
        assert "untagged: %s@%s" % (repo.repo, unused.manifest_digest) in deleted
        assert "deleted: " + unused.config_digest in deleted
        assert vessel.image_ids() == {hexof(used.config_digest)[:12]}
    finally:
        vessel.ok("rm", cid)
    # With the container gone, -a removes the last one and every layer.
    vessel.ok("image", "prune", "-a", "-f")
    assert vessel.image_ids() == set()
    assert layer_dirs(vessel) == set() and blobs(vessel) == set()


def test_prune_filters(vessel, repo):  # noqa: F811
    a = repo("a", "a", created="2020-01-01T00:00:00Z", labels={"team": "red"})
    b = repo("b", "b", created="2020-01-01T00:00:00Z", labels={"team": "blue"})
    c = repo("c", "c", created="2099-01-01T00:00:00Z", labels={"team": "red"})
    for img in (a, b, c):
        vessel.ok("pull", img.name)
    # label=: only red; until=: only those created before 2030.
    r = vessel.ok("image", "prune", "-a", "-f", "--filter", "label=team=red", "--filter", "until=2030-01-01")
    deleted, _ = prune_output(r)
    assert "deleted: " + a.config_digest in deleted
    assert vessel.image_ids() == {hexof(b.config_digest)[:12], hexof(c.config_digest)[:12]}
    r = vessel.ok("image", "prune", "-a", "-f", "--filter", "label!=team=blue")
    assert vessel.image_ids() == {hexof(b.config_digest)[:12]}
    r = vessel("image", "prune", "-f", "--filter", "color=red")
    assert r.returncode == 125 and "invalid filter 'color'" in r.stderr


def test_gc_removes_what_no_record_references(vessel, repo):  # noqa: F811
    img = repo("v1", "kept")
    vessel.ok("pull", img.name)
    kept_blobs, kept_layers = blobs(vessel), layer_dirs(vessel)
    # What a crash between storing and recording leaves: a blob, an unpacked
    # layer, a named temporary blob and a load's staging directory.
    data = b"orphan blob content\n"
    orphan_blob = hashlib.sha256(data).hexdigest()
    with open(os.path.join(vessel.root, "blobs", "sha256", orphan_blob), "wb") as f:
        f.write(data * 1000)
    orphan_layer = hashlib.sha256(b"orphan layer").hexdigest()
    os.makedirs(os.path.join(vessel.root, "layers", orphan_layer, "diff", "etc"))
    with open(os.path.join(vessel.root, "layers", orphan_layer, "diff", "etc", "x"), "w") as f:
        f.write("x" * 100000)
    os.makedirs(os.path.join(vessel.root, "tmp", "load-0123456789abcdef", "blobs"))
    with open(os.path.join(vessel.root, "tmp", "blob-0123456789abcdef"), "w") as f:
        f.write("partial")

    r = vessel.ok("image", "prune", "-f")
    deleted, reclaimed = prune_output(r)
    assert deleted == []  # no image went
    assert reclaimed != "0B"
    assert blobs(vessel) == kept_blobs and layer_dirs(vessel) == kept_layers
    assert os.listdir(os.path.join(vessel.root, "tmp")) == []
    # The image still runs from what was kept.
    assert vessel.ok("run", "--rm", img.name, "cat", "/etc/motd").stdout == "kept\n"


def test_images_filters(vessel, repo):  # noqa: F811
    a = repo("a", "a", created="2021-01-01T00:00:00Z", labels={"tier": "db", "x": "1"})
    b = repo("b", "b", created="2022-01-01T00:00:00Z", labels={"tier": "web"})
    c = repo("c", "c", created="2023-01-01T00:00:00Z")
    for img in (a, b, c):
        vessel.ok("pull", img.name)

    def ids(*args):
        return vessel.ok("images", "-q", *args).stdout.split()

    short = {k: hexof(i.config_digest)[:12] for k, i in (("a", a), ("b", b), ("c", c))}
    assert ids("--filter", "before=" + b.name) == [short["a"]]
    assert ids("--filter", "since=" + a.name) == [short["c"], short["b"]]
    assert ids("--filter", "since=" + a.name, "--filter", "before=" + c.name) == [short["b"]]
    assert ids("--filter", "label=tier") == [short["b"], short["a"]]
    assert ids("--filter", "label=tier=db") == [short["a"]]
    assert ids("--filter", "label=tier", "--filter", "label=x=1") == [short["a"]]
    assert ids("--filter", "reference=*/library/app:c") == [short["c"]]
    assert ids("-a") == [short["c"], short["b"], short["a"]]
    r = vessel("images", "--filter", "before=nosuch")
    assert r.returncode == 125 and "nosuch" in r.stderr


def test_inspect_format(vessel, repo):  # noqa: F811
    img = repo("v1", "fmt", labels={"org.example.k": "v a l", "b": "2"})
    vessel.ok("pull", img.name)
    vessel.ok("tag", img.name, "other:1")

    def fmt(template, *names):
        return vessel.ok("image", "inspect", "--format", template, *(names or (img.name,))).stdout

    assert fmt("{{.Id}}") == img.config_digest + "\n"
    assert fmt("{{.Config.Env}}") == "[PATH=/usr/bin:/bin MOTD=fmt]\n"
    assert fmt('{{index .Config.Labels "org.example.k"}}') == "v a l\n"
    assert fmt("{{.Config.Labels}}") == "map[b:2 org.example.k:v a l]\n"
    assert fmt("{{len .RepoTags}}") == "2\n"
    assert fmt("{{range .RepoTags}}{{.}} {{end}}") == "%s other:1 \n" % img.name
    assert json.loads(fmt("{{json .Config}}"))["Labels"] == {"org.example.k": "v a l", "b": "2"}
    assert json.loads(fmt("{{json .RepoDigests}}")) == ["%s@%s" % (repo.repo, img.manifest_digest)]
    # One line per image; the top-level inspect takes --format too.
    assert fmt("{{.Id}}", img.name, "other:1") == (img.config_digest + "\n") * 2
    assert vessel.ok("inspect", "-f", "{{.Os}}/{{.Architecture}}", "other:1").stdout == "linux/amd64\n"
    cid = vessel.ok("create", "--name", "fmt-c", "other:1", "true").stdout.strip()
    try:
        r = vessel.ok("inspect", "--format", "{{.State.Status}} {{.Name}} {{.Id}}", "fmt-c")
        assert r.stdout == "created /fmt-c %s\n" % cid
        r = vessel.ok("container", "inspect", "-f", "{{if .State.Running}}up{{else}}down{{end}}", cid)
        assert r.stdout == "down\n"
    finally:
        vessel.ok("rm", cid)
    r = vessel("image", "inspect", "--format", "{{.Id", img.name)
    assert r.returncode == 125 and "unclosed action" in r.stderr
    r = vessel("image", "inspect", "--format", "{{.Id.Deeper}}", img.name)
    assert r.returncode == 125 and "can't evaluate field Deeper" in r.stderr


def test_pull_all_tags(vessel, repo):  # noqa: F811
    imgs = {t: repo(t, t) for t in ("1.0", "2.0", "latest")}
    r = vessel.ok("pull", "--all-tags", repo.repo)
    out = r.stdout
    prompt = "Are you sure you want to continue? [y/N] "
    if prompt in out:
        out = out.split(prompt, 1)[1]
    lines = out.splitlines()
    assert lines[-1] == repo.repo
    for t in imgs:
        assert "%s: Pulling from library/app" % t in lines
    got = vessel.ok("images", "--format", "{{.Tag}} {{.ID}}").stdout.splitlines()
    assert sorted(got) == sorted("%s %s" % (t, hexof(i.config_digest)[:12]) for t, i in imgs.items())
    r = vessel("pull", "-a", repo.repo + ":1.0")
    assert r.returncode == 125 and "tag can't be used with --all-tags/-a" in r.stderr
