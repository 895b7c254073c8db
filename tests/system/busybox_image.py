"""The busybox image of the container tests: made by images.py and loaded
from a docker-archive that skopeo wrote, so no registry is needed.

    from busybox_image import IMAGE, busybox_archive, v  # noqa: F401

`v` is a Vessel (vessel.py) with the image loaded; whatever a test leaves
running is removed before its roots go."""

import subprocess

import pytest

from images import build_image, busybox_layer, file
from vessel import vessel  # noqa: F401

IMAGE = "busybox:latest"


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("busybox")
    img = build_image(str(d / "layout"), [busybox_layer(), [file("etc/motd", "welcome\n")]],
                      config={"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=yes"],
                              "Cmd": ["sh"], "WorkingDir": "/"})
    archive = str(d / "busybox.tar")
    subprocess.run(["skopeo", "copy", "--quiet", "oci:%s:latest" % img.layout,
                    "docker-archive:%s:%s" % (archive, IMAGE)], check=True, timeout=120)
    img.archive = archive
    return img


@pytest.fixture
def v(vessel, busybox_archive):  # noqa: F811
    vessel.ok("load", "-i", busybox_archive.archive)
    yield vessel
    ids = vessel("ps", "-aq").stdout.split()
    if ids:
        vessel("rm", "-f", *ids)
