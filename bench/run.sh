#!/bin/sh
# `make bench`: times `RUNTIME run` of /bin/true on a prepared busybox bundle for
# vessel-runtime, crun and runc in the same run (medians and ratios), then checks
# which of them still runs a container under a 512 KiB memory limit.
#   bench/run.sh BUILD_DIR        (N=50 by default; N=... to change)
set -eu

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
vessel=$build/vessel-runtime
[ -x "$vessel" ] || { echo "bench: no runtime at $vessel (run make first)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vessel-bench.XXXXXX)
hugetlb=/sys/fs/cgroup/hugetlb
mounted_hugetlb=
made_hugetlb_dir=
cleanup() {
	if [ -n "$mounted_hugetlb" ]; then
		umount "$hugetlb" && echo "bench: unmounted the hugetlb v1 hierarchy again"
		[ -z "$made_hugetlb_dir" ] || rmdir "$hugetlb"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# crun 1.8 refuses a hybrid host whose hugetlb controller is not on a v1
# hierarchy: give it one for the length of the bench.
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q "$hugetlb"; then
	if [ ! -d "$hugetlb" ]; then
		mkdir "$hugetlb"
		made_hugetlb_dir=1
	fi
	if mount -t cgroup -o hugetlb cgroup "$hugetlb" 2>/dev/null; then
		mounted_hugetlb=1
		echo "bench: mounted the hugetlb controller as v1 at $hugetlb for crun's sake (undone at the end)"
	else
		[ -z "$made_hugetlb_dir" ] || rmdir "$hugetlb"
		made_hugetlb_dir=
		echo "bench: could not mount hugetlb v1 at $hugetlb; crun may refuse this host"
	fi
fi

# One bundle for all three, from runc's default spec (ociVersion 1.0.2-dev, which
# crun 1.8 also accepts): the namespaces, mounts and masked paths of a default run.
RUNTIME=/usr/bin/runc "$here/../scripts/make-bundle.sh" "$tmp/bundle" /bin/true
/usr/bin/python3 "$here/bench.py" --bundle "$tmp/bundle" --work "$tmp" --n "${N:-50}" \
	vessel="$vessel" crun=/usr/bin/crun runc=/usr/bin/runc
