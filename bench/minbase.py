"""The Debian minbase image of the pull bench, as an OCI layout with one gzip
layer: `debootstrap --variant=minbase bookworm` from the Debian mirror apt uses
(read from /etc/apt/sources.list*), made once and kept in CACHE between runs
(a debootstrap takes minutes; the image's digests stay the same from run to run).

    python3 bench/minbase.py CACHE_DIR      # prints the layout's path
"""

import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SUITE = "bookworm"
TAG = "bookworm-minbase"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED = "2025-05-20T00:00:00Z"


def apt_mirror():
    """The first Debian archive URI apt uses for SUITE main (deb822 .sources first,
    then one-line .list files)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = {}
                for line in stanza.splitlines():
                    m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                    if m:
                        fields[m.group(1).lower()] = m.group(2).split()
                if "deb" in fields.get("types", []) and SUITE in fields.get("suites", []) \
                        and "main" in fields.get("components", []) and fields.get("uris"):
                    return fields["uris"][0]
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 4 and words[0] == "deb" and words[2] == SUITE and "main" in words[3:]:
                return words[1]
    raise SystemExit("minbase: no 'deb ... %s main' source in /etc/apt/sources.list*" % SUITE)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def put_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


def build(cache):
    layout = os.path.join(cache, "debian-minbase")
    if os.path.exists(os.path.join(layout, "index.json")):
        return layout
    os.makedirs(cache, exist_ok=True)
    mirror = apt_mirror()
    work = tempfile.mkdtemp(prefix="minbase.", dir=cache)
    try:
        rootfs = os.path.join(work, "rootfs")
        print("minbase: debootstrap --variant=minbase %s from %s (once; cached in %s)" %
              (SUITE, mirror, cache), file=sys.stderr, flush=True)
        with open(os.path.join(work, "debootstrap.log"), "w") as log:
            r = subprocess.run(["debootstrap", "--variant=minbase", SUITE, rootfs, mirror],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if r.returncode != 0:
            with open(os.path.join(work, "debootstrap.log")) as f:
                tail = f.read()[-3000:]
            raise SystemExit("minbase: debootstrap failed (exit %d):\n%s" % (r.returncode, tail))
        # What Debian's own docker images leave out: device nodes, apt's lists and
        # downloaded packages.
        for pattern in ("dev/*", "proc/*", "sys/*", "var/lib/apt/lists/*",
                        "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
                        "var/log/*.log", "var/log/apt/*"):
            for p in glob.glob(os.path.join(rootfs, pattern)):
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                elif os.path.lexists(p):
                    os.unlink(p)
        staging = os.path.join(work, "layout")
        blobs = os.path.join(staging, "blobs", "sha256")
        os.makedirs(blobs)
        tar_path = os.path.join(work, "layer.tar")
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
                        "--sort=name", "-C", rootfs, "-cf", tar_path, "."], check=True)
        diff_id = "sha256:" + sha256_file(tar_path)
        gz_path = os.path.join(work, "layer.tar.gz")
        with open(tar_path, "rb") as src, gzip.GzipFile(gz_path, "wb", compresslevel=6,
                                                        mtime=0) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        layer_digest = "sha256:" + sha256_file(gz_path)
        layer_size = os.path.getsize(gz_path)
        os.rename(gz_path, os.path.join(blobs, layer_digest.split(":")[1]))
        config = json.dumps({
            "created": CREATED, "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                       "Cmd": ["bash"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": CREATED,
                         "created_by": "debootstrap --variant=minbase %s" % SUITE}],
        }).encode()
        config_digest = put_blob(blobs, config)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer_digest,
                        "size": layer_size}],
        }).encode()
        manifest_digest = put_blob(blobs, manifest)
        with open(os.path.join(staging, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": TAG}}]}, f)
        with open(os.path.join(staging, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        os.rename(staging, layout)
        return layout
    finally:
        shutil.rmtree(work, ignore_errors=True)


def layer_of(layout):
    """(digest, compressed size) of the layout's single layer."""
    with open(os.path.join(layout, "index.json")) as f:
        m = json.load(f)["manifests"][0]
    with open(os.path.join(layout, "blobs", "sha256", m["digest"].split(":")[1])) as f:
        layer = json.load(f)["layers"][0]
    return layer["digest"], layer["size"]


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else
                os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")))
