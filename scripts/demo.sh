#!/bin/sh
# `make demo`: `vessel run` on a busybox image made offline from Debian's
# busybox-static and imported, in a throw-away --root.
#   scripts/demo.sh BUILD_DIR
set -eu

build=$(cd "${1:-build}" && pwd)
vessel=$build/vessel
[ -x "$vessel" ] || { echo "demo: no vessel at $vessel (run make first)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vessel-demo.XXXXXX)
v() { "$vessel" --root "$tmp/root" --runroot "$tmp/run" "$@"; }
cleanup() {
	# Everything of the throw-away root, its default bridge and rules too.
	[ ! -d "$tmp/root" ] || v system reset -f >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> making a busybox image (from /bin/busybox, offline)"
rootfs=$tmp/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | v import -c 'CMD ["sh"]' - busybox:latest

echo "==> vessel run --rm busybox echo Hello World"
v run --rm busybox echo Hello World

echo "==> vessel run --rm busybox ps -ef    (its own PID namespace: ps is PID 1)"
v run --rm busybox ps -ef

echo "==> vessel run -d, ps, logs, stop, rm"
v run -d --name demo busybox sh -c 'echo hello from a detached container; sleep 60' >/dev/null
v ps
sleep 0.3
v logs demo
v stop -t 1 demo >/dev/null
v rm demo >/dev/null
echo "==> done; removing $tmp"
