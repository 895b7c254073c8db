#!/bin/sh
# `make demo`: runs vessel-runtime on a busybox bundle made offline.
#   scripts/demo.sh BUILD_DIR
set -eu

build=$(cd "${1:-build}" && pwd)
runtime=$build/vessel-runtime
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$runtime" ] || { echo "demo: no runtime at $runtime (run make first)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vessel-demo.XXXXXX)
id=demo-$$
cleanup() {
	"$runtime" --root "$tmp/state" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> making a busybox bundle in $tmp/bundle (from /bin/busybox, offline)"
RUNTIME=$runtime "$here/make-bundle.sh" "$tmp/bundle" echo Hello World

echo "==> vessel-runtime run $id: echo Hello World"
"$runtime" --root "$tmp/state" run --bundle "$tmp/bundle" "$id"

echo "==> the same bundle, looking around from inside (hostname, processes: sh is PID 1)"
/usr/bin/python3 - "$tmp/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["process"]["args"] = ["sh", "-c",
    "echo \"hostname: $(hostname)\"; echo 'ps:'; ps -o pid,user,args; true"]
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY
"$runtime" --root "$tmp/state" run --bundle "$tmp/bundle" "$id"

echo "==> done; removing $tmp"
