#!/usr/bin/env bash
# End-to-end runs of the real binary: output formats on a tiny synthetic
# preset, and a one-line error with a non-zero exit for each bad input.
set -u
eb=$1
# a store of its own: results of earlier test runs must not count
. "$(dirname "$0")/../support/e2e_common.sh"

model="$work/tiny.gguf"
"$eb" model synth --preset tiny-llama --type Q4_0 -o "$model" 2>/dev/null || bad "synth tiny-llama"
[ -s "$model" ] && ok "synth writes a model" || bad "synth writes no model"

# -o to a pipe (or /dev/null) writes into it; it stays a pipe, not a file
mkfifo "$work/pipe"
timeout 120 cat "$work/pipe" >"$work/pipe.out" &
"$eb" run -m "$model" -n 4 --reps 1 --warmup 0 --idle-s 0 -q --no-store --format json -o "$work/pipe" 2>"$work/err"
rc=$?
wait
[ "$rc" -eq 0 ] && [ -p "$work/pipe" ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/pipe.out" &&
  ok "-o a FIFO: the result goes through it and it stays a FIFO" || bad "-o FIFO (exit $rc): $(cat "$work/err")"

# Formats
common=(-m "$model" -n 8 --reps 2 --warmup 1 -q)
if "$eb" run "${common[@]}" >"$work/text" 2>"$work/err"; then
  grep -q "SYNTHETIC" "$work/text" && grep -q "generation  throughput" "$work/text" &&
    grep -q "TTFT" "$work/text" && grep -q "peak RSS" "$work/text" && ok "text table" || bad "text table"
else bad "run text: $(cat "$work/err")"; fi
"$eb" run "${common[@]}" --format json -o "$work/r.json" 2>/dev/null
python3 - "$work/r.json" <<'PY' && ok "json parses, 3 reps, 8 tokens each" || bad "json"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["reps"]) == 3 and d["reps"][0]["warmup"] and not d["reps"][1]["warmup"]
assert all(r["n_gen"] == 8 and len(r["itl_s"]) == 8 for r in d["reps"])
assert d["summary"]["gen_tps"]["n"] == 2 and d["model"]["synthetic"] is True
assert d["config"]["threads_prefill"] >= 1 and d["device"]["n_cpus_online"] >= 1
PY
"$eb" run "${common[@]}" --format jsonl >"$work/r.jsonl" 2>/dev/null
[ "$(wc -l <"$work/r.jsonl")" -eq 3 ] && python3 -c "import json,sys;[json.loads(l) for l in open(sys.argv[1])]" "$work/r.jsonl" && ok "jsonl: one line per run" || bad "jsonl"
"$eb" run "${common[@]}" --format csv >"$work/r.csv" 2>/dev/null
[ "$(wc -l <"$work/r.csv")" -eq 4 ] && head -1 "$work/r.csv" | grep -q "gen_tps" && ok "csv: header + one row per run" || bad "csv"
"$eb" run "${common[@]}" -t 1 -T 2 --n-prompt 40 --format json -o "$work/t.json" 2>/dev/null
python3 -c "import json,sys;d=json.load(open(sys.argv[1]));c=d['config'];assert (c['threads_gen'],c['threads_prefill'],c['n_prompt'])==(1,2,40)" "$work/t.json" && ok "separate thread counts, random prompt" || bad "threads"
printf 'Tell me a story about a cat.' >"$work/prompt.txt"
"$eb" run "${common[@]}" -f "$work/prompt.txt" --format json -o "$work/f.json" 2>/dev/null &&
  python3 -c "import json,sys;d=json.load(open(sys.argv[1]));assert d['config']['prompt_source']=='file' and d['config']['n_prompt']<20" "$work/f.json" && ok "prompt from file" || bad "prompt file"
"$eb" --help >/dev/null && "$eb" run --help | grep -q -- "--threads-prefill" && ok "--help" || bad "--help"

# A model larger than the memory available: a warning before loading, and the run goes on.
"$eb" run -m "$model" -n 4 --reps 1 --warmup 0 -q --root "$(dirname "$0")/../fixtures/lowmem" >/dev/null 2>"$work/err" &&
  grep -q "larger than the memory available" "$work/err" && ok "low-memory warning" || bad "low-memory warning"

# Energy, per-phase memory and the timeline, on a fixture Jetson whose power is known
fx="$(dirname "$0")/../fixtures"
"$eb" run "${common[@]}" --sysfs-root "$fx/jetson-orin-nano" --idle-s 0.2 --timeline "$work/tl.csv" \
  --format json -o "$work/e.json" 2>/dev/null
python3 - "$work/e.json" "$work/tl.csv" <<'PY' && ok "energy per phase, action per token, timeline" || bad "energy json/timeline"
import csv, json, sys
d = json.load(open(sys.argv[1]))
m = d["measurement"]
assert m["energy_source"] == "ina3221:VDD_IN" and abs(m["idle_power_w"] - 4.968 * 2.632) < 1e-6
g = d["reps"][1]["spans"]["generation"]
assert g["energy_per_token_j"] > 0 and g["action_per_token_js"] > 0
assert abs(g["mean_power_w"] - 4.968 * 2.632) < 1e-6
assert g["rss_anon_mib"] is None  # no /proc/self in the fixture: null, not 0
assert d["span_summary"]["generation"]["rss_anon_mib"]["not_available"]
rows = list(csv.DictReader(open(sys.argv[2])))
assert "ina3221:VDD_IN [W]" in rows[0] and {"idle", "load", "prefill", "generation"} <= {r["phase"] for r in rows}
PY
"$eb" run "${common[@]}" --sysfs-root "$fx/vm" >"$work/vm.txt" 2>/dev/null
"$eb" run "${common[@]}" --sysfs-root "$fx/vm" --verbose >"$work/vmv.txt" 2>/dev/null
grep -q "^  energy, power  *no power sensor found; --tdp W estimates it" "$work/vm.txt" &&
  ! grep -q "energy \[J\] *0.000" "$work/vm.txt" && ! grep -q "energy/token" "$work/vm.txt" &&
  grep -q "energy .*n/a (no power sensor found (rapl:" "$work/vmv.txt" &&
  ok "no sensor: not measured, with the reason in a few words (--verbose: each source's), never zeros" || bad "vm n/a: $(cat "$work/vm.txt")"
# the compact table: short lines, one section for what is missing
python3 - "$work/vm.txt" <<'PY' && ok "text output: lines fit 120 columns, one 'not measured' section" || bad "text layout: $(cat "$work/vm.txt")"
import sys
text = open(sys.argv[1]).read()
assert max(len(l) for l in text.splitlines()) <= 120, [l for l in text.splitlines() if len(l) > 120]
assert text.count("not measured here") == 1 and "n/a (" not in text, text
assert "prefill 2 threads" in text or "prefill 1 thread" in text, text
PY
"$eb" run "${common[@]}" --sysfs-root "$fx/vm" --tdp 15 --idle-s 0 >"$work/est.txt" 2>/dev/null
grep -q "ESTIMATE" "$work/est.txt" && ok "TDP estimate is labelled" || bad "estimate label"
"$eb" sensors --sysfs-root "$fx/pi5" --window-ms 50 >"$work/s.txt" 2>&1 &&
  grep -q "cpufreq .*found" "$work/s.txt" && grep -q "pi5-pmic .*found" "$work/s.txt" && grep -q "pmic:board-rails .*2.828 W mean" "$work/s.txt" &&
  grep -q "throttling 0x50005: under-voltage now" "$work/s.txt" && grep -q "thermal:cpu-thermal" "$work/s.txt" &&
  ok "sensors on a Pi 5 tree" || bad "sensors pi5: $(cat "$work/s.txt")"
"$eb" sensors --window-ms 50 >"$work/s.txt" 2>&1 && grep -q "process:rss" "$work/s.txt" &&
  grep -q "context_switches" "$work/s.txt" && ok "sensors on this machine" || bad "sensors here"
# A meter log that turns out bad: the measured runs are still written, then the error.
printf 'timestamp,watts\n1,5\nnot-a-time,5\n' >"$work/meter.csv"
"$eb" run "${common[@]}" --meter-csv "$work/meter.csv" --idle-s 0 --format csv >"$work/m.csv" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/m.csv")" -eq 4 ] && grep -q "meter.csv:3: bad timestamp" "$work/err" &&
  ok "bad meter log: results kept, error named" || bad "bad meter log (exit $rc)"

# Bad input
printf 'not a model at all\n' >"$work/text.gguf"
head -c 100000 "$model" >"$work/trunc.gguf"
: >"$work/empty.txt"
expect_error "missing model" 2 "No such file" -- run -m "$work/none.gguf"
expect_error "unreadable model" 2 "not a regular file" -- run -m "$work"
expect_error "not GGUF" 2 "not a GGUF file" -- run -m "$work/text.gguf"
expect_error "truncated GGUF" 2 "truncated" -- run -m "$work/trunc.gguf"
expect_error "context too small" 2 "context of 64 tokens" -- run -m "$model" -c 64 -q
expect_error "zero threads" 2 "generation threads" -- run -m "$model" -t 0
expect_error "negative threads" 2 "prefill threads" -- run -m "$model" -T -4
expect_error "absurd threads" 2 "generation threads" -- run -m "$model" -t 5000
expect_error "zero tokens" 2 "generation tokens" -- run -m "$model" -n 0
expect_error "absurd tokens" 2 "generation tokens" -- run -m "$model" -n 99999999
expect_error "not a number" 2 "expects an integer" -- run -m "$model" -n ten
expect_error "unknown option" 2 "unknown option" -- run --frobnicate
expect_error "missing value" 2 "needs a value" -- run -m
expect_error "unknown format" 2 "--format expects one of text|json|jsonl|csv" -- run -m "$model" --format xml
expect_error "unknown preset" 2 "unknown preset" -- run --preset no-such-model
expect_error "empty prompt file" 2 "is empty" -- run -m "$model" -f "$work/empty.txt"
expect_error "sample interval" 2 "sample interval must be 1..1000 ms" -- run -m "$model" --sample-ms 0
expect_error "negative idle" 2 "idle time" -- run -m "$model" --idle-s -1
expect_error "TDP not a number" 2 "expects a number" -- run -m "$model" --tdp lots
expect_error "missing meter log" 2 "meter log .*No such file" -- run -m "$model" --meter-csv "$work/none.csv"
expect_error "timeline unwritable" 2 "timeline" -- run -m "$model" -n 4 --reps 1 --warmup 0 -q --timeline "$work/no/dir/t.csv"
expect_error "sensors bad option" 2 "unknown option" -- sensors --frobnicate
expect_error "unknown command" 2 "unknown command" -- frobnicate
expect_error "synth without output" 2 "required" -- model synth --preset tiny-llama

finish
