#!/usr/bin/env bash
# The arm64 build writes the same record as the x86-64 build: a run of the
# tiny preset on the Pi 5 and Jetson fixtures by each binary, compared key
# path by key path (values differ; under emulation tokens/s mean nothing).
set -u
eb=$1 native=$2
fx="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
. "$(dirname "$0")/../support/e2e_common.sh"
for dev in pi5 jetson-orin-nano; do
  for which in arm64 native; do
    bin=$eb; [ "$which" = native ] && bin=$native
    EDGEBENCH_CACHE="$work/cache-$which" "$bin" run --preset tiny-llama -n 4 --reps 1 --warmup 0 \
      --idle-s 0 --sysfs-root "$fx/$dev" --keep-timeline --no-store --format json \
      -o "$work/$dev-$which.json" -q 2>"$work/err" || bad "$which run on $dev: $(tail -2 "$work/err")"
  done
  python3 - "$work/$dev-arm64.json" "$work/$dev-native.json" "$dev" <<'PY' && ok "$dev: the arm64 record has the x86-64 record's keys" || bad "$dev: records differ"
import json, sys
def paths(o, p=""):
    out = set()
    if isinstance(o, dict):
        for k, v in o.items():
            out |= {p + "/" + k} | paths(v, p + "/" + k)
    elif isinstance(o, list):
        for v in o:
            out |= paths(v, p + "[]")
    return out
a, b = (json.load(open(f)) for f in sys.argv[1:3])
pa, pb = paths(a), paths(b)
# channels and counters that a machine has or lacks are values, not keys
if pa != pb:
    print("only arm64:", sorted(pa - pb)[:20]); print("only x86-64:", sorted(pb - pa)[:20])
    sys.exit(1)
assert a["device"]["cpu_model"] == ("ARM Cortex-A76" if sys.argv[3] == "pi5" else "ARM Cortex-A78AE"), a["device"]["cpu_model"]
PY
done
file -L "$eb" | grep -q "ARM aarch64" && ok "the binary is ARM aarch64" || bad "not an arm64 binary: $(file -L "$eb")"
finish
