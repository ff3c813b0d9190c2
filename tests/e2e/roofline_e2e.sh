#!/usr/bin/env bash
# Physical limits end to end with the real binary: the probe on this machine
# (figures positive, bandwidth plausible, two probes agreeing), a run
# reporting its efficiency against the stored probe, --ceilings and
# --no-store, a sweep's trials getting the ceilings, `analyze roofline`,
# `model plan` before and after a run, the report's Fig. 19, bad input.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"

probe() { "$eb" device probe -t 1,2 --types Q4_0,F16 --shape 512x64x512 --disk-mib 16 \
  --disk-dir "$work" --format json -o "$1" -q 2>"$work/err"; }

# 1. two probes: positive, plausible, repeatable. One thread's bandwidth
# must agree within 10%. With every core busy, a VM's figure also depends on
# where the hypervisor puts its virtual CPUs (on the 2-core VM this was
# written on, 2 threads read 33-45 GB/s from one probe to the next, each
# probe steady in itself), so all threads are held to 35%. Two more pairs
# are allowed before either check fails (one thread's best of a probe moved
# over 12.5-14.2 GB/s in 14 probes there, so one pair in several is 10% apart).
repeatable=no
for attempt in 1 2 3; do
  probe "$work/p1.json" && probe "$work/p2.json" || { bad "probe failed: $(cat "$work/err")"; break; }
  if python3 - "$work/p1.json" "$work/p2.json" <<'PY'; then repeatable=yes; break; fi
import json, sys
a, b = (json.load(open(p))["probe"] for p in sys.argv[1:])
for x, y in zip(a["memory"], b["memory"]):
    assert x["threads"] == y["threads"]
    a_, b_ = x["best_gbs"], y["best_gbs"]
    tol = 0.10 if x["threads"] == 1 else 0.35
    print(f"  memory {x['threads']} thread(s): {a_:.2f} vs {b_:.2f} GB/s (within {tol:.0%}?)", file=sys.stderr)
    assert abs(a_ - b_) <= tol * max(a_, b_), (a_, b_)
PY
done
python3 - "$work/p1.json" <<'PY' && ok "probe: bandwidth 0.5-2000 GB/s per thread count, kernels and disk positive" || bad "probe figures: $(cat "$work/p1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["probe"]
assert r["kind"] == "probe" and r["device"]["hostname"]
assert [m["threads"] for m in p["memory"]] == [1, 2]
for m in p["memory"]:
    assert 0.5 <= m["best_gbs"] <= 2000 and 0 < m["median_gbs"] <= m["best_gbs"], m
assert sorted((k["type"], k["threads"]) for k in p["kernels"]) == [("F16", 1), ("F16", 2), ("Q4_0", 1), ("Q4_0", 2)]
for k in p["kernels"]:
    assert k["best_gflops"] > 0 and k["m"] == 512 and k["n"] == 64 and k["k"] == 512 and k["weights_buffer"], k
d = p["disk"]
assert d["measured"] and d["cached_gbs"] > 0 and d["bytes"] == 16 << 20, d
assert d["cold_gbs"] is None or d["cold_gbs"] > 0
PY
[ "$repeatable" = yes ] && ok "two probes agree: 1 thread within 10%, 2 threads within 35%" || bad "probes not repeatable (three pairs)"

# 2. stored, and a run reports its efficiency against it
"$eb" device probe -t 1,2 --types Q4_0 --shape 512x64x512 --no-disk -q >/dev/null 2>"$work/err" &&
  "$eb" results --view probes --format json >"$work/probes.json" &&
  python3 -c "
import json,sys
rows=json.load(open('$work/probes.json'))
new=[r for r in rows if r['probe_id'] == rows[0]['probe_id']]
assert {r['measure'] for r in new} == {'mem_read','matmul'}, new
assert all(r['value'] > 0 for r in rows)
" && ok "probe stored: results --view probes" || bad "stored probe: $(cat "$work/err")"
"$eb" run --preset tiny-llama --type Q4_0 -t 2 -n 8 --reps 2 --warmup 0 --format json -o "$work/run.json" -q 2>"$work/err"
python3 - "$work/run.json" <<'PY' && ok "run: generation and prefill efficiency against the stored probe" || bad "run roofline: $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
g, p = r["roofline"]["generation"], r["roofline"]["prefill"]
m = r["model"]
assert m["streamed_bytes"] > 0 and m["matmul_params"] > 0 and m["main_type"] == "Q4_0"
assert g["bandwidth_threads"] == 2 and g["bandwidth_gbs"] > 0
# bytes per token: weights streamed + KV cache at the mean depth
depth = r["reps"][0]["n_prompt"] + (8 - 1) / 2
assert abs(g["bytes_per_token"] - (m["streamed_bytes"] + m["kv_bytes_per_pos"] * depth)) < 1
assert abs(g["max_tps"] - g["bandwidth_gbs"] * 1e9 / g["bytes_per_token"]) < 1e-6 * g["max_tps"]
assert abs(g["efficiency"] - g["measured_tps"] / g["max_tps"]) < 1e-9
assert abs(g["measured_tps"] - r["summary"]["gen_tps"]["mean"]) < 1e-9
assert p["kernel_type"] == "Q4_0" and p["kernel_threads"] == 2 and p["efficiency"] > 0
PY
"$eb" run --preset tiny-llama --type Q4_0 -n 4 --reps 1 --warmup 0 --no-store -q 2>"$work/err" >"$work/run.txt"
grep -q "^  physical limits *--no-store" "$work/run.txt" && ok "--no-store: the limits say why they are missing" || bad "no-store: $(cat "$work/run.txt")"
"$eb" run --preset tiny-llama --type Q4_0 -t 1 -n 4 --reps 1 --warmup 0 --no-store --ceilings "$work/p1.json" -q --verbose 2>"$work/err" >"$work/run.txt"
grep -q "generation limit: .* GB/s (probed, 1 threads)" "$work/run.txt" && ok "--ceilings FILE: limits from a probe file" || bad "ceilings file: $(cat "$work/run.txt" "$work/err")"
echo '{"kind":"run"}' >"$work/notprobe.json"
"$eb" run --preset tiny-llama --type Q4_0 -n 4 --reps 1 --warmup 0 --no-store --ceilings "$work/notprobe.json" -q >"$work/run.txt" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] && grep -q "notprobe.json" "$work/err" && ok "a bad ceilings file: a warning naming it, the run kept" || bad "bad ceilings (exit $rc): $(cat "$work/err")"

# 3. a sweep's trials get the ceilings too (they run without the store)
cat >"$work/plan.ini" <<INI
[global]
preset = tiny-llama
type = Q4_0
n_gen = 4
reps = 1
warmup = 0
idle_s = 0
pause = 0
drop_caches = off
threads = 1
INI
"$eb" sweep "$work/plan.ini" --results "$work/sweep.jsonl" -q 2>"$work/err"
python3 -c "
import json
r=[json.loads(l) for l in open('$work/sweep.jsonl')][0]
g=r['result']['roofline']['generation']
assert g['efficiency'] > 0 and g['bandwidth_threads'] == 1, g
" && ok "sweep: each trial's record has its efficiency" || bad "sweep roofline: $(cat "$work/err")"

# 4. analyze roofline and the report's figure
"$eb" analyze roofline --format json >"$work/a.json" 2>"$work/err"
python3 - "$work/a.json" <<'PY' && ok "analyze roofline: every trial with its efficiencies" || bad "analyze roofline: $(cat "$work/err")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 2, rows  # the stored run and the sweep's trial
for r in rows:
    assert 0 < r["gen_efficiency"] and abs(r["gen_efficiency"] - r["gen_tps"] / r["gen_max_tps"]) < 1e-9
    assert r["prefill_efficiency"] > 0 and r["kernel"].startswith("Q4_0")
PY
"$eb" report -o "$work/rep" >/dev/null 2>"$work/err"
[ -s "$work/rep/fig19_roofline_0.svg" ] && [ -s "$work/rep/fig19_roofline_0.png" ] && grep -q "roofline (analyze roofline)" "$work/rep/index.html" &&
  ok "report: Fig. 19 roofline and its table" || bad "report roofline: $(cat "$work/err")"

# 5. model plan: before a run of it, and after
"$eb" model plan --preset llama-3.2-1b --type Q4_0 -t 2 >"$work/plan.txt" 2>"$work/err"
grep -q "^generation at most" "$work/plan.txt" && grep -q "^prefill at most" "$work/plan.txt" &&
  grep -q "no stored trials of this model" "$work/plan.txt" && [ ! -e "$EDGEBENCH_CACHE/models/llama-3.2-1b-Q4_0-s42-v1.gguf.part" ] &&
  ok "model plan before a run: memory, load, maxima from the probe" || bad "model plan: $(cat "$work/plan.txt" "$work/err")"
"$eb" model plan --preset tiny-llama --type Q4_0 -t 2 --format json >"$work/plan.json" 2>"$work/err"
python3 - "$work/plan.json" <<'PY' && ok "model plan after runs: each stored trial against the prediction" || bad "model plan after: $(cat "$work/plan.json" "$work/err")"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["memory_bytes"]["total"] > p["memory_bytes"]["weights"] > 0
assert p["gen_max_tps"] > 0 and p["prefill_max_tps"] > 0
t = p["stored_trials"]
assert len(t) == 2, t
assert all(x["gen_tps_measured"] > 0 and x["gen_tps_predicted"] > 0 and x["peak_rss_bytes_measured"] > 0 for x in t)
PY

# 6. bad input: exit 2 and a message naming what is wrong
"$eb" device probe --shape 10x10 --no-store -q 2>"$work/err" >/dev/null
[ $? -eq 2 ] && grep -q -- "--shape" "$work/err" && ok "bad --shape refused" || bad "shape: $(cat "$work/err")"
"$eb" device probe -t 1 --types BOGUS --no-disk --no-store -q 2>"$work/err" >/dev/null
[ $? -eq 2 ] && grep -q "BOGUS" "$work/err" && ok "unknown kernel type refused" || bad "type: $(cat "$work/err")"
"$eb" device probe -t 1 --types Q4_0 --shape 64x8x100 --no-disk --no-store -q 2>"$work/err" >/dev/null
[ $? -eq 2 ] && grep -q "not a multiple" "$work/err" && ok "inner size off the block refused" || bad "block: $(cat "$work/err")"
"$eb" model plan --preset nope 2>"$work/err" >/dev/null
[ $? -eq 2 ] && grep -q "nope" "$work/err" && ok "model plan: unknown preset refused" || bad "plan preset: $(cat "$work/err")"
"$eb" model plan -m "$work/missing.gguf" 2>"$work/err" >/dev/null
[ $? -ne 0 ] && grep -q "missing.gguf" "$work/err" && ok "model plan: a missing file named" || bad "plan file: $(cat "$work/err")"

finish
