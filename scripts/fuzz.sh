#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD (made by `make fuzz`) for SECONDS,
# starting from the seed corpus in tests/fuzz/corpus/TARGET, copied into
# BUILD/fuzz-corpus so that what the fuzzer adds stays out of the checkout.
# A crash, a leak, a sanitizer report, a timeout (10 s an input) or an input
# that takes more than 2 GiB fails it; the input is kept in BUILD/fuzz-crashes.
set -euo pipefail
build=$1 seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-crashes"
status=0
for t in fuzz_import_line fuzz_plan fuzz_node_request fuzz_meter_reply fuzz_sse_stream; do
  corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus"
  cp -n "$src/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  log="$build/fuzz-$t.log"
  if "$build/tests/fuzz/$t" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$build/fuzz-crashes/$t-" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t: $runs inputs in $seconds s, no failure ($(ls "$corpus" | wc -l) in its corpus)"
  else
    echo "fuzz: $t FAILED (input kept in $build/fuzz-crashes/):"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5
    status=1
  fi
done
exit $status
