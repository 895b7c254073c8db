#!/bin/sh
# `make check`: unit tests (cmocka, run through pytest so that one summary line
# counts everything) and system tests, ending with pytest's summary.
set -u
build=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/.."
VESSEL_BUILD="$build" exec /usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE tests/system
