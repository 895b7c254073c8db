#!/bin/sh
# Installs the Debian 12 packages that building, testing and the demo need.
# Idempotent: packages already present are skipped by apt-get.
set -eu

BUILD="meson ninja-build pkg-config gcc clang-format libmnl-dev libnftables-dev \
	libseccomp-dev libcap-dev libjansson-dev \
	libcurl4-openssl-dev libssl-dev libarchive-dev zlib1g-dev libzstd-dev libsqlite3-dev"
TEST="libcmocka-dev python3-pytest busybox-static iproute2 nftables procps \
	runc containerd docker.io docker-registry skopeo debootstrap clang libclang-rt-14-dev python3-bcrypt"
BENCH="crun hyperfine podman umoci debootstrap curl"

want="$BUILD"
case "${1:-build}" in
build) ;;
check) want="$BUILD $TEST" ;;
bench) want="$BUILD $TEST $BENCH" ;;
*) echo "usage: $0 build|check|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
apt-get update -qq
# docker.io and containerd must not start services on install: tests start their own.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends $missing
