"""Images for the tests, made offline and independently of vessel.

`build_image()` writes an OCI image layout (the format skopeo reads as `oci:DIR:TAG`)
from a list of layers, each a list of tar entries, with Python's own tarfile,
gzip and hashlib: what vessel pulls is checked against digests computed here, never
by vessel itself.  `busybox_layer()` is a root filesystem of Debian's busybox-static.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

from helpers import BUSYBOX, busybox_applets

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Entry:
    """One tar entry: kind is 'file', 'dir', 'symlink', 'link', 'fifo', 'char'."""

    def __init__(self, name, kind="file", data=b"", mode=None, uid=0, gid=0, target="",
                 mtime=1700000000, major=0, minor=0):
        self.name, self.kind, self.data, self.uid, self.gid = name, kind, data, uid, gid
        self.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
        self.target, self.mtime, self.major, self.minor = target, mtime, major, minor


def file(name, data, mode=0o644, **kw):
    return Entry(name, "file", data if isinstance(data, bytes) else data.encode(), mode, **kw)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, e.mtime
            data = None
            if e.kind == "file":
                info.type, info.size, data = tarfile.REGTYPE, len(e.data), io.BytesIO(e.data)
            elif e.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
            elif e.kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, e.target
            elif e.kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif e.kind == "char":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, e.major, e.minor
            tar.addfile(info, data)
    return buf.getvalue()


def busybox_layer():
    """A busybox root filesystem as tar entries: /bin/busybox, its applets as
    symlinks, and the few files a container expects."""
    with open(BUSYBOX, "rb") as f:
        data = f.read()
    entries = [Entry(d, "dir") for d in ("bin", "etc", "tmp", "root", "proc", "sys", "dev", "var")]
    entries.append(Entry("bin/busybox", "file", data, 0o755))
    for applet in busybox_applets():
        if applet != "busybox":
            entries.append(Entry("bin/" + applet, "symlink", target="busybox", mode=0o777))
    entries.append(file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"))
    entries.append(file("etc/group", "root:x:0:\nnogroup:x:65534:\n"))
    return entries


class Image:
    """An image written as an OCI layout: .layout (the directory), .manifest_digest,
    .config_digest (vessel's image id), .diff_ids, .layer_digests."""


def build_image(layout, layers, tag="latest", config=None, created="2024-01-02T03:04:05Z",
                architecture="amd64", os_name="linux"):
    """Writes (or adds `tag` to) the OCI layout at `layout`. layers: lists of Entry."""
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = sha256(data)
        with open(os.path.join(blobs, d.split(":")[1]), "wb") as f:
            f.write(data)
        return d

    img = Image()
    img.layout, img.diff_ids, img.layer_digests = layout, [], []
    layer_descs = []
    for entries in layers:
        raw = tar_bytes(entries)
        gz = gzip.compress(raw, mtime=0)
        img.diff_ids.append(sha256(raw))
        digest = put(gz)
        img.layer_digests.append(digest)
        layer_descs.append({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": len(gz)})
    cfg = {
        "created": created,
        "architecture": architecture,
        "os": os_name,
        "config": config if config is not None else {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": img.diff_ids},
        "history": [{"created": created, "created_by": "layer %d" % i} for i in range(len(layers))],
    }
    cfg_bytes = json.dumps(cfg).encode()
    img.config_digest = put(cfg_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": img.config_digest, "size": len(cfg_bytes)},
        "layers": layer_descs,
    }
    man_bytes = json.dumps(manifest).encode()
    img.manifest_digest = put(man_bytes)
    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({
        "mediaType": OCI_MANIFEST, "digest": img.manifest_digest, "size": len(man_bytes),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    })
    with open(index_path, "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return img


def skopeo_push(layout, tag, dest):
    """Copies oci:LAYOUT:TAG to docker://DEST (a registry on loopback, plain HTTP)."""
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    "oci:%s:%s" % (layout, tag), "docker://" + dest],
                   check=True, capture_output=True, timeout=120)
