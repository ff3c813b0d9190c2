#!/usr/bin/env bash
# Makes tests/fixtures/reference/records.jsonl.gz (JSON lines, gzip'd): the checked-in store the
# reference report is regenerated from (tests/e2e/reference_report_e2e.sh),
# so a change in its figures comes from the code, not from new measurements.
# Three devices from fixture trees (two Jetson Orin Nanos at different
# currents, a Raspberry Pi 5 whose tree carries its vcgencmd), the tiny
# synthetic preset (random weights: speed, memory and energy are real, its
# text means nothing) at 1 and 2 threads and two generation lengths.
# Usage: scripts/make-reference-store.sh BUILD/edgebench
set -euo pipefail
eb=$(realpath "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
fx=$src/tests/fixtures
out=$fx/reference/records.jsonl.gz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export EDGEBENCH_DISTURBED_ABOVE=100 # the figures, not this machine's neighbours
model=$work/tiny.gguf
"$eb" model synth --preset tiny-llama --type Q4_0 -o "$model" 2>/dev/null
for dev in orin-a orin-b pi5-a; do
  base=$fx/jetson-orin-nano
  [ "$dev" = pi5-a ] && base=$fx/pi5
  cp -r "$base" "$work/$dev"
  mkdir -p "$work/$dev/proc/sys/kernel"
  echo "$dev" >"$work/$dev/proc/sys/kernel/hostname"
done
echo 263 >"$work/orin-b/sys/class/hwmon/hwmon1/curr1_input"
: >"$out.tmp"
for dev in orin-a orin-b pi5-a; do
  for t in 1 2; do
    for n in 16 32; do
      "$eb" run -m "$model" -n "$n" --reps 3 --warmup 1 --idle-s 0 -t "$t" -T "$t" \
        --sysfs-root "$work/$dev" --no-store --format json -o "$work/r.json" -q
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [r.pop("itl_s", None) for r in d["reps"]]; print(json.dumps(d, separators=(",", ":")))' "$work/r.json" >>"$out.tmp"
    done
  done
done
gzip -9n <"$out.tmp" >"$out"
rm -f "$out.tmp"
echo "$out: $(zcat "$out" | wc -l) runs, $(du -h "$out" | cut -f1)"
