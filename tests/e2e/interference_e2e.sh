#!/usr/bin/env bash
# Interference: runs beside two CPU hogs are marked disturbed (text, JSON,
# store) and left out of the analyses by default; --wait-idle waits, bounded,
# for a quiet machine. The suite's own threshold (EDGEBENCH_DISTURBED_ABOVE,
# off in the tests) is overridden here on the command line.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
export EDGEBENCH_STORE="sqlite:$work/i.db"
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
tiny=(--preset tiny-llama --idle-s 0 -n 200)
ncpu=$(nproc)
for _ in $(seq "$ncpu"); do
  python3 -c 'while True: pass' &
  hogs+=($!)
done
sleep 0.5
"$eb" run "${tiny[@]}" -t 1 --reps 3 --disturbed-above 10 --format json -o "$work/hog.json" 2>"$work/hog.err" >/dev/null
"$eb" run "${tiny[@]}" -t 1 --reps 1 --disturbed-above 10 --wait-idle 1.5 --no-store --format json -o "$work/wait-hog.json" >/dev/null 2>&1
"$eb" run "${tiny[@]}" -t 1 --reps 1 --disturbed-above 10 --no-store >"$work/hog.txt" 2>/dev/null
for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
hogs=()
python3 - "$work/hog.json" <<'PY' >"$work/msg" 2>&1 && ok "beside $ncpu CPU hogs: $(cat "$work/msg")" || bad "hog run: $(cat "$work/msg" "$work/hog.err")"
import json, sys
d = json.load(open(sys.argv[1]))
measured = [r for r in d["reps"] if not r["warmup"]]
assert all(r["disturbed"] for r in measured), [(r.get("disturbed"), r["spans"]["run"].get("other_cpu_pct")) for r in measured]
other = [r["spans"]["run"]["other_cpu_pct"] for r in measured]
print("%d of %d runs marked disturbed, other processes %s%% of the CPUs; %s" % (len(measured), len(measured), [round(o) for o in other], measured[0]["disturbed_reason"]))
PY
grep -q "DISTURBED: 1 of 1 measured runs" "$work/hog.txt" && ok "text: $(grep -A1 '^machine' "$work/hog.txt" | tr -s ' ' | tr '\n' ' ')" || bad "text: $(cat "$work/hog.txt")"
python3 - "$work/wait-hog.json" <<'PY' >"$work/msg" 2>&1 && ok "--wait-idle 1.5 beside the hogs: $(cat "$work/msg")" || bad "wait-idle: $(cat "$work/msg")"
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["reps"] if not r["warmup"]][0]
assert 1.4 <= r["idle_wait_s"] <= 3.0, r.get("idle_wait_s")
print("waited %.2f s (bounded), then ran (disturbed: %s)" % (r["idle_wait_s"], r["disturbed"]))
PY
# the store keeps the mark; a quiet configuration beside it (threshold off,
# as other tests may run beside this one)
"$eb" run "${tiny[@]}" -t 2 --reps 3 --disturbed-above 100 >/dev/null 2>&1
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM run_measures WHERE span = '"'run'"' AND measure = '"'disturbed'"' AND value = 1").fetchone()[0])' "$work/i.db")
[ "$n" -ge 3 ] && ok "store: $n runs with the disturbed mark" || bad "store: $n disturbed runs"
"$eb" analyze optimal --format json >"$work/opt.json" 2>/dev/null
"$eb" analyze optimal 2>/dev/null | grep "interference:" >"$work/note"
"$eb" analyze optimal --with-disturbed --format json >"$work/opt-all.json" 2>/dev/null
python3 - "$work/opt.json" "$work/opt-all.json" <<'PY' >"$work/msg" 2>&1 && ok "optimal leaves the disturbed runs out ($(cat "$work/note")); --with-disturbed keeps them" || bad "analyses: $(cat "$work/msg" "$work/note")"
import json, sys
opt, every = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
gen = [r for r in opt if r["objective"].startswith("generation throughput")][0]
assert gen["best"].startswith("generation 2 threads") and gen["significant"] == "only one generation configuration", gen
gen = [r for r in every if r["objective"].startswith("generation throughput")][0]
assert gen["runner_up"], gen
PY
grep -q "are left out (--with-disturbed" "$work/note" || bad "no interference note in optimal's header"
finish
