#!/bin/sh
# `make bench` (BENCH=all by default; BENCH=runtime|run|pull, or a comma list, to pick):
#   runtime  `RUNTIME run` of /bin/true on a prepared busybox bundle: vessel-runtime,
#            crun and runc (bench.py), and which runs a container under 512 KiB
#   run      `run --rm --network none` of busybox: vessel, docker, podman, crun;
#            first runs after a pull; memory per idle detached container; MANY (200)
#            detached containers started, listed, removed (containers.py)
#   pull     a Debian minbase image from a local registry into an empty store: vessel,
#            podman, docker, skopeo (+umoci), and curl | gzip -d | tar -x, on disk
#            and on tmpfs (pull.py; the image is made once and kept in bench/.cache)
# Every peer is measured in the same run; figures are medians, compared as ratios.
# Everything started is stopped and removed at the end, even on failure.
#   bench/run.sh BUILD_DIR [BENCH]      (N, MANY, PULL_N, PEERS, PULL_MODES: see the .py)
set -eu

build=$(cd "${1:-build}" && pwd)
which=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$build/vessel" ] && [ -x "$build/vessel-runtime" ] ||
	{ echo "bench: no vessel in $build (run make first)" >&2; exit 1; }
case ",$which," in
*,all,*) which=runtime,run,pull ;;
esac
for b in $(echo "$which" | tr , ' '); do
	case $b in
	runtime | run | pull | net) ;;
	*) echo "bench: unknown bench '$b' (runtime, run, pull or all)" >&2; exit 2 ;;
	esac
done

buildtype=$(/usr/bin/python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "buildtype": print(o["value"])' "$build/meson-info/intro-buildoptions.json" 2>/dev/null || true)
[ "$buildtype" = release ] ||
	echo "bench: note: $build is a '$buildtype' build, not release: vessel's figures are pessimistic"

tmp=$(mktemp -d /tmp/vessel-bench.XXXXXX)
hugetlb=/sys/fs/cgroup/hugetlb
mounted_hugetlb=
made_hugetlb_dir=
cleanup() {
	status=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$mounted_hugetlb" ]; then
		# Containers of anyone on the host may have made cgroups in it meanwhile:
		# then it stays (harmless) until they are gone.
		tries=0
		until umount "$hugetlb" 2>/dev/null; do
			tries=$((tries + 1))
			if [ $tries -ge 20 ]; then
				echo "bench: $hugetlb is in use by other cgroups ($(ls "$hugetlb" | grep -c -v '^[a-z]*\.')), left mounted"
				made_hugetlb_dir=
				break
			fi
			sleep 0.5
		done
		[ $tries -ge 20 ] || echo "bench: unmounted the hugetlb v1 hierarchy again"
		[ -z "$made_hugetlb_dir" ] || rmdir "$hugetlb"
	fi
	# The python benches clean up after themselves; this catches a kill -9 of them.
	grep -F " $tmp" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r mp; do umount -l "$mp" 2>/dev/null || true; done
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# crun 1.8 refuses a hybrid host whose hugetlb controller is not on a v1
# hierarchy: give it one for the benches that run crun (podman runs it too).
need_hugetlb() {
	if [ -z "$mounted_hugetlb" ] && [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q "$hugetlb"; then
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
}

for b in $(echo "$which" | tr , ' '); do
	echo
	echo "=== bench: $b"
	mkdir -p "$tmp/$b"
	[ "$b" != net ] || { /usr/bin/python3 "$here/net.py" --build "$build" --work "$tmp/net"; continue; } # bridge run + TCP vs bare veth
	case $b in
	runtime)
		need_hugetlb
		# One bundle for all three, from runc's default spec (ociVersion 1.0.2-dev,
		# which crun 1.8 also accepts): the namespaces, mounts and masked paths of a
		# default run.
		RUNTIME=/usr/bin/runc "$here/../scripts/make-bundle.sh" "$tmp/runtime/bundle" /bin/true
		/usr/bin/python3 "$here/bench.py" --bundle "$tmp/runtime/bundle" --work "$tmp/runtime" \
			--n "${N:-50}" vessel="$build/vessel-runtime" crun=/usr/bin/crun runc=/usr/bin/runc
		;;
	run)
		need_hugetlb
		/usr/bin/python3 "$here/containers.py" --build "$build" --work "$tmp/run"
		;;
	pull)
		/usr/bin/python3 "$here/pull.py" --build "$build" --work "$tmp/pull" \
			--cache "${BENCH_CACHE:-$here/.cache}"
		;;
	esac
done
