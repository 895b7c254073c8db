#!/bin/sh
# `make check`: unit tests (cmocka, also built with ASan+UBSan; run through
# pytest so that one summary line counts everything) and system tests, ending
# with pytest's summary.
set -u
build=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/.."
asan=$build-asan
if [ ! -f "$asan/build.ninja" ]; then
	meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$asan" >/dev/null || { ninja -C "$asan"; exit 1; }
VESSEL_BUILD="$build" VESSEL_ASAN_BUILD="$asan" \
	exec /usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE tests/system
