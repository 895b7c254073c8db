#!/bin/sh
# Makes a busybox OCI bundle offline from Debian's busybox-static:
#   scripts/make-bundle.sh BUNDLE_DIR [ARG...]
# BUNDLE_DIR/rootfs gets /bin/busybox, one symlink per applet, /etc/passwd and
# /etc/group (root and a uid 1000 user); BUNDLE_DIR/config.json comes from
# `$RUNTIME spec` (falling back to `runc spec`), set to run ARG... (default: sh)
# with terminal false. RUNTIME defaults to build/vessel-runtime.
set -eu

usage() { echo "usage: $0 BUNDLE_DIR [ARG...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
bundle=$1
shift
busybox=${BUSYBOX:-/bin/busybox}
runtime=${RUNTIME:-$(dirname "$0")/../build/vessel-runtime}

if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
	echo "make-bundle: '$busybox' is not a working busybox (install busybox-static)" >&2
	exit 1
fi

mkdir -p "$bundle"
bundle=$(cd "$bundle" && pwd)
rootfs=$bundle/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" \
	"$rootfs/tmp" "$rootfs/root" "$rootfs/home/user" "$rootfs/mnt"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
cat >"$rootfs/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$rootfs/etc/group" <<'GR'
root:x:0:
wheel:x:10:user
audio:x:29:user
user:x:1000:
nogroup:x:65534:
GR
chown 1000:1000 "$rootfs/home/user" 2>/dev/null || true

# config.json: the runtime's own default spec, else runc's.
rm -f "$bundle/config.json"
if ! (cd "$bundle" && "$runtime" spec) >/dev/null 2>&1 || [ ! -s "$bundle/config.json" ]; then
	rm -f "$bundle/config.json"
	if ! (cd "$bundle" && runc spec) || [ ! -s "$bundle/config.json" ]; then
		echo "make-bundle: neither '$runtime spec' nor 'runc spec' wrote a config.json" >&2
		exit 1
	fi
fi

/usr/bin/python3 - "$bundle/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:] or ["sh"]
with open(path) as f:
    config = json.load(f)
config.setdefault("process", {})
config["process"]["terminal"] = False
config["process"]["args"] = args
config.setdefault("root", {})["path"] = "rootfs"
with open(path, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
PY
