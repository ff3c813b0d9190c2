#!/usr/bin/env bash
# The analyses on a store filled by real runs of a tiny preset on two copies
# of the Jetson fixture ("orin-a" at 13.1 W, "orin-b" at a tenth of the current),
# so energy is known; every figure is checked against the stored runs.
set -u
eb=$1
fx="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
. "$(dirname "$0")/../support/e2e_common.sh"
export EDGEBENCH_STORE="sqlite:$work/a.db"
. "$(dirname "$0")/../support/two_orins.sh"
"$eb" results --view runs --format json >"$work/runs.json"

"$eb" analyze optimal --format json >"$work/opt.json" 2>"$work/err" && python3 - "$work/runs.json" "$work/opt.json" <<'PY' && ok "optimal: best per objective from the stored means, with p-values" || bad "optimal: $(cat "$work/err")"
import json, sys
runs = [r for r in json.load(open(sys.argv[1])) if not r["warmup"]]
opt = json.load(open(sys.argv[2]))
assert len(opt) == 12, len(opt)
for dev in ("orin-a", "orin-b"):
    means = {}
    for t in (1, 2):
        rs = [r for r in runs if r["device"] == dev and r["threads_gen"] == t]
        means[t] = {k: sum(r[k] for r in rs) / len(rs) for k in ("gen_tps", "gen_j_per_token")}
    row = [o for o in opt if o["device"] == dev and o["objective"] == "generation throughput"][0]
    best = max(means, key=lambda t: means[t]["gen_tps"])
    assert row["best"].startswith(f"generation {best} thread"), row
    assert abs(row["value"] - means[best]["gen_tps"]) < 1e-9 * means[best]["gen_tps"] + 1e-3
    assert 0 <= row["p_value"] <= 1 and (row["significant"].startswith("yes (Holm") or row["significant"].startswith("not distinguishable")), row
    # bootstrap interval of best minus runner-up holds the difference of the means
    other = [t for t in means if t != best][0]
    diff = means[best]["gen_tps"] - means[other]["gen_tps"]
    assert row["diff_ci95_lo"] <= diff + 1e-9 and diff - 1e-9 <= row["diff_ci95_hi"], (row, diff)
    assert (row["within_noise_of_best"] == "none") == row["significant"].startswith("yes"), row
    row = [o for o in opt if o["device"] == dev and o["objective"] == "generation energy per token"][0]
    best = min(means, key=lambda t: means[t]["gen_j_per_token"])
    assert row["best"].startswith(f"generation {best} thread") and row["unit"] == "J/token", row
PY
"$eb" analyze battery --format json >"$work/bat.json" 2>/dev/null && python3 - "$work/runs.json" "$work/bat.json" <<'PY' && ok "battery: 67824 J over the least energy per run" || bad "battery"
import json, sys
runs = [r for r in json.load(open(sys.argv[1])) if not r["warmup"]]
for b in json.load(open(sys.argv[2])):
    e = {}
    for t in (1, 2):
        rs = [r for r in runs if r["device"] == b["device"] and r["threads_gen"] == t]
        e[t] = (sum(r["run_energy_j"] for r in rs) / len(rs), sum(r["e2e_s"] for r in rs) / len(rs))
    t = min(e, key=lambda k: e[k][0])
    assert abs(b["energy_per_run_j"] - e[t][0]) < 1e-6 * e[t][0]
    assert abs(b["runs"] - 67824 / e[t][0]) < 1e-5 * b["runs"]
    assert abs(b["hours"] - b["runs"] * e[t][1] / 3600) < 1e-5 * b["hours"]
PY
"$eb" analyze cost --cents-per-kwh 30 --format json >"$work/cost.json" 2>/dev/null && python3 - "$work/runs.json" "$work/cost.json" <<'PY' && ok "cost per million tokens and the cloud ratio" || bad "cost"
import json, sys
runs = [r for r in json.load(open(sys.argv[1])) if not r["warmup"]]
for c in json.load(open(sys.argv[2])):
    best = min(sum(r["gen_j_per_token"] for r in rs) / len(rs) for rs in
               ([r for r in runs if r["device"] == c["device"] and r["threads_gen"] == t] for t in (1, 2)))
    assert abs(c["cents_per_m_output"] - best * 1e6 / 3.6e6 * 30) < 1e-6 * c["cents_per_m_output"]
    assert abs(c["cloud_over_edge_output"] - 60 / c["cents_per_m_output"]) < 1e-6 * c["cloud_over_edge_output"]
PY
"$eb" analyze usability --words-per-s 4 --words-per-token 0.75 >"$work/u.txt" 2>&1 && grep -q "5.333 tokens/s needed" "$work/u.txt" &&
  grep -q "yes" "$work/u.txt" && ok "usability against 5.33 tokens/s" || bad "usability: $(cat "$work/u.txt")"
"$eb" analyze pareto --format csv >"$work/p.csv" 2>/dev/null && [ "$(grep -c ',yes$' "$work/p.csv")" -ge 2 ] && ok "pareto front per device" || bad "pareto: $(cat "$work/p.csv")"
"$eb" analyze breakeven --device-a orin-b --price-a 500 --device-b orin-a --price-b 100 --cents-per-kwh 20 --format json >"$work/be.json" 2>"$work/err" &&
  python3 - "$work/runs.json" "$work/be.json" <<'PY' && ok "break-even: 12 scenarios from the stored throughput and energy" || bad "breakeven: $(cat "$work/err")"
import json, sys
runs = [r for r in json.load(open(sys.argv[1])) if not r["warmup"]]
def fastest(dev):
    best = None
    for t in (1, 2):
        rs = [r for r in runs if r["device"] == dev and r["threads_gen"] == t]
        m = {k: sum(r[k] for r in rs) / len(rs) for k in ("prefill_tps", "gen_tps", "prefill_j_per_token", "gen_j_per_token")}
        if best is None or m["gen_tps"] > best["gen_tps"]: best = m
    return best
a, b = fastest("orin-b"), fastest("orin-a")
rows = json.load(open(sys.argv[2]))
assert len(rows) == 12
for r in rows:
    i, o, mu = r["input_tokens"], r["output_tokens"], r["utilisation"]
    t = i / a["prefill_tps"] + o / a["gen_tps"]
    save = (i * b["prefill_j_per_token"] + o * b["gen_j_per_token"]) - (i * a["prefill_j_per_token"] + o * a["gen_j_per_token"])
    # Timing noise (sanitizers, a busy machine) can make the cheaper device the
    # thriftier one too; then the dearer one never pays back.
    if save <= 0:
        assert r["years"] == "never", (r, save)
        continue
    years = 400 / (mu * 365.25 * 86400 / t * save / 3.6e6 * 0.2)
    assert abs(r["years"] - years) < 1e-4 * years, (r, years)
PY
"$eb" analyze battery --model nothing-like-this >/dev/null 2>"$work/err"
[ $? -eq 1 ] && grep -q "not available: no measured runs" "$work/err" && ok "no matching runs: said, not zeros" || bad "empty: $(cat "$work/err")"
EDGEBENCH_STORE="sqlite:$work/noenergy.db" "$eb" run -m "$model" -n 4 --reps 2 --idle-s 0 -q >/dev/null 2>&1
EDGEBENCH_STORE="sqlite:$work/noenergy.db" "$eb" analyze cost --format csv >"$work/c.csv" 2>/dev/null &&
  grep -q "not available: no energy sensor" "$work/c.csv" && ! grep -q ",0," "$work/c.csv" && ok "no energy sensor: not available, never 0" || bad "no energy: $(cat "$work/c.csv")"
"$eb" analyze sideways >/dev/null 2>&1; [ $? -eq 2 ] && "$eb" analyze breakeven --device-a x >/dev/null 2>&1; [ $? -eq 2 ] && ok "bad analysis arguments: exit 2" || bad "bad arguments"

# Estimated energy (--tdp on a machine without power sensors) beside
# measured energy: every table says which is which and ranks them apart.
est="sqlite:$work/est.db"
cp "$work/a.db" "$work/est.db"
EDGEBENCH_STORE=$est "$eb" run -m "$model" -n 4 --reps 2 --warmup 0 --idle-s 0 --tdp 15 \
  --sysfs-root "$fx/vm" -q >/dev/null 2>"$work/err" || bad "estimate run: $(cat "$work/err")"
EDGEBENCH_STORE=$est "$eb" analyze optimal >"$work/opt.txt" 2>&1
grep -q "energy: 1 of 5 configuration(s) had no power sensor and carry the CPU-load x TDP ESTIMATE" "$work/opt.txt" &&
  ok "optimal: the inputs line says which energy is estimated" || bad "optimal inputs: $(head -5 "$work/opt.txt")"
EDGEBENCH_STORE=$est "$eb" analyze optimal --format json >"$work/opt.json" 2>/dev/null
python3 - "$work/opt.json" <<'PY' && ok "optimal: estimated rows marked, measured rows not" || bad "optimal labels: $(head -c 600 "$work/opt.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
est = [r for r in rows if r["device"] == "fixture-vm"]
meas = [r for r in rows if r["device"] != "fixture-vm"]
assert est and meas
assert all("energy ESTIMATE" in r["best"] for r in est), est
assert not any("ESTIMATE" in (r["best"] or "") for r in meas)
PY
for kind in cost battery pareto; do
  EDGEBENCH_STORE=$est "$eb" analyze $kind --format csv >"$work/k.csv" 2>/dev/null
  grep "fixture-vm" "$work/k.csv" | grep -q "energy ESTIMATE" && ! grep "orin-a" "$work/k.csv" | grep -q ESTIMATE &&
    ok "$kind: estimated energy marked" || bad "$kind: $(cat "$work/k.csv")"
done


# README's walk-through on a store of its own: a run (100 generated tokens),
# then `run -t 1,2 -n 32`; no configuration of optimal pools 100- and
# 32-token runs, and the prefill comparison is between prefill
# configurations (here there is one: every run prefilled on 2 threads)
export EDGEBENCH_STORE="sqlite:$work/walk.db"
walk=(--preset tiny-llama --idle-s 0 -q)
"$eb" run "${walk[@]}" --reps 4 -t 2 >/dev/null 2>&1 &&
  "$eb" run "${walk[@]}" -t 1,2 -n 32 --reps 3 >/dev/null 2>&1 &&
  "$eb" analyze optimal --format json >"$work/walk.json" 2>"$work/err" &&
  python3 - "$work/walk.json" <<'PY' >"$work/msg" 2>&1 && ok "walk-through: $(cat "$work/msg")" || bad "walk-through: $(cat "$work/msg" "$work/err")"
import json, sys
rows = json.load(open(sys.argv[1]))
gen = [r for r in rows if r["objective"].startswith("generation throughput")]
# one row per workload: 100 and 32 generated tokens never in one row
assert len(gen) == 2 and sorted(r["objective"].split(", ")[-1] for r in gen) == ["100 generated", "32 generated"], [r["objective"] for r in gen]
for r in gen:
    n32 = r["objective"].endswith("32 generated")
    # each configuration is one trial's runs: 4 (100 tokens) or 3 (32)
    assert r["runs"] == (3 if n32 else 4), r
    for label in (r["best"], r["runner_up"] or "", r["within_noise_of_best"]):
        assert n32 == ("32 generated tokens" in label) or label in ("", "none"), (r["objective"], label)
pre = [r for r in rows if r["objective"].startswith("prefill throughput")]
# one prefill configuration (2 threads), its 10 runs pooled and said so
assert len(pre) == 1, pre
pre = pre[0]
assert pre["best"].startswith("prefill 2 threads") and "pooled" in pre["best"], pre
assert pre["runs"] == 10 and pre["significant"] == "only one prefill configuration", pre
g32 = [r for r in gen if r["objective"].endswith("32 generated")][0]
print("generation at 32 tokens: best %r vs %r (%s); prefill: %r, %d runs" % (g32["best"], g32["runner_up"], g32["significant"], pre["best"], pre["runs"]))
PY

finish
