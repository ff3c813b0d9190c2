#!/usr/bin/env bash
# The engine runs in a child process: a crash of it is a failed result that
# keeps every repetition finished before it. A single run whose measuring
# process is killed with SIGSEGV, then SIGILL, in the middle of generation
# keeps its repetitions in the JSON and the store, exits non-zero and names
# the signal and what to do; a run that dies before any repetition leaves
# an existing output file as it was; a sweep trial killed mid-trial keeps
# its finished repetitions in the store.
set -u
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
# Under AddressSanitizer a SIGSEGV or SIGILL is the sanitizer's to report
# (it exits 1): let the signals end the process, as they do in a plain build.
[ -n "${EB_SANITIZED:-}" ] && export ASAN_OPTIONS="handle_segv=0:handle_sigill=0:handle_sigbus=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# the measuring process of run PID (its only child)
measuring_child() { pgrep -P "$1" | head -1; }

# a cache of its own: the live status file (run-status.json, the
# measuring process's pid, repetition and phase) is this test's alone
mkdir -p "$work/cache"
export EDGEBENCH_CACHE=$work/cache
status=$work/cache/run-status.json

# the measuring process of PID, once the live status shows it generating
# in repetition REP or later (empty if PID ended first)
generating_child() { # PID REP
  local i c
  for i in $(seq 1 1200); do
    kill -0 "$1" 2>/dev/null || return 1
    c=$(pgrep -P "$1" | head -1)
    # a sweep's trial is a run process: its measuring process is one down
    [ -n "$c" ] && [ -n "${3:-}" ] && c=$(pgrep -P "$c" | head -1)
    if [ -n "$c" ] && python3 - "$status" "$c" "$2" <<'PY' 2>/dev/null; then
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["pid"] == int(sys.argv[2]) and s["rep"] >= int(sys.argv[3]) and s["phase"] == "generation" else 1)
PY
      echo "$c"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

for sig in SEGV ILL; do
  out=$work/run-$sig.json
  db=$work/run-$sig.db
  "$eb" run --preset tiny-llama --type Q4_0 --idle-s 0 -n 300 --reps 10 --warmup 1 --format json \
    -o "$out" --store "sqlite:$db" 2>"$work/run-$sig.err" &
  pid=$!
  c=$(generating_child $pid 4) && kill -$sig "$c"
  wait $pid
  rc=$?
  "$eb" results --store "sqlite:$db" --format json >"$work/rows-$sig.json" 2>>"$work/run-$sig.err"
  python3 - "$out" "$work/rows-$sig.json" "$rc" "$sig" <<'PY' && ok "SIG$sig mid-generation: $(cat "$work/said")" || bad "SIG$sig (exit $rc): $(tail -5 "$work/run-$sig.err")"
import json, os, sys
r = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
rows = rows if isinstance(rows, list) else rows.get("rows", rows.get("trials", []))
rc, sig = int(sys.argv[3]), sys.argv[4]
assert rc == 1, "exit %d" % rc
assert r["status"] == "failed" and r["reps_planned"] == 11, (r["status"], r.get("reps_planned"))
assert ("SIG" + sig) in r["failure"] and "generation" in r["failure"], r["failure"]
hint = "instruction this CPU" if sig == "ILL" else "crash in the engine"
assert hint in r["failure"], r["failure"]
n = len(r["reps"])
assert 3 <= n < 11 and all(x["gen_tps"] > 0 for x in r["reps"]), n
measured = [x for x in r["reps"] if not x["warmup"]]
assert r["summary"]["gen_tps"]["n"] == len(measured), r["summary"]["gen_tps"]
assert len(rows) == 1 and rows[0]["status"] == "failed" and int(rows[0]["runs"]) == len(measured), rows
assert not [f for f in os.listdir(os.path.dirname(sys.argv[1])) if ".partial-" in f]
# the build's record travels with a partial result too
e = r["engine"]
assert e["variant"] and e["cpu_features"] and e["selftest"].startswith(("passed", "not run")), e
assert e["features_off"] == "none" or e["features_off_reason"], e
open(os.path.join(os.path.dirname(sys.argv[1]), "said"), "w").write(
    "exit 1, %d of 11 repetitions in the JSON and the store, '%s...'" % (n, r["failure"][:60]))
PY
done

# dies before any repetition: the existing output is not touched
echo "an earlier result" >"$work/keep.json"
"$eb" run --preset tiny-llama --type Q4_0 --idle-s 0 --reps 2 --format json -o "$work/keep.json" \
  --no-store 2>"$work/keep.err" &
pid=$!
for i in $(seq 1 300); do
  c=$(measuring_child $pid)
  [ -n "$c" ] && break
  sleep 0.05
done
kill -SEGV "$c" 2>/dev/null
wait $pid
rc=$?
[ "$rc" -eq 1 ] && [ "$(cat "$work/keep.json")" = "an earlier result" ] &&
  grep -q "no repetition had finished" "$work/keep.err" && grep -q "SIGSEGV" "$work/keep.err" &&
  ! ls "$work" | grep -q partial &&
  ok "killed before any repetition: exit 1, the existing output kept, the signal named" ||
  bad "early kill (exit $rc): $(cat "$work/keep.json") $(tail -3 "$work/keep.err")"

# a sweep trial killed mid-trial keeps its finished repetitions
cat >"$work/sweep.ini" <<INI
[global]
preset = tiny-llama
type = Q4_0
n_gen = 300
reps = 12
warmup = 0
idle_s = 0
pause = 0
drop_caches = off
[one]
threads = 1
INI
"$eb" sweep "$work/sweep.ini" --results "$work/sweep.jsonl" --store "sqlite:$work/sweep.db" -q \
  2>"$work/sweep.err" &
spid=$!
killed=$(generating_child $spid 4 trial) && kill -SEGV "$killed"
wait $spid
rc=$?
"$eb" results --store "sqlite:$work/sweep.db" --format json >"$work/sweep-rows.json" 2>>"$work/sweep.err"
python3 - "$work/sweep.jsonl" "$work/sweep-rows.json" "$rc" "$killed" <<'PY' && ok "sweep trial killed mid-trial: $(cat "$work/said")" || bad "sweep kill (exit $rc): $(tail -5 "$work/sweep.err")"
import json, os, sys
rc, killed = int(sys.argv[3]), sys.argv[4]
assert killed, "the measuring process was never seen at repetition 4"
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1 and recs[0]["status"] == "failed", [r["status"] for r in recs]
assert "SIGSEGV" in recs[0]["reason"], recs[0]["reason"]
n = len(recs[0]["result"]["reps"])
assert 3 <= n < 12, n
rows = json.load(open(sys.argv[2]))
rows = rows if isinstance(rows, list) else rows.get("rows", rows.get("trials", []))
assert len(rows) == 1 and rows[0]["status"] == "failed" and int(rows[0]["runs"]) == n, rows
assert rc == 1, rc
open(os.path.join(os.path.dirname(sys.argv[1]), "said"), "w").write(
    "stored failed with %d of 12 repetitions, '%s...'" % (n, recs[0]["reason"][:60]))
PY

# Ctrl-C during a single run: the finished repetitions are written and
# stored, marked interrupted, said in one line; the exit is 130 (a background
# job's SIGINT is ignored by the shell: the run must still stop)
db="$work/int.db"
"$eb" run --preset tiny-llama --idle-s 0 --reps 400 -n 256 --store "sqlite:$db" >"$work/int.out" 2>"$work/int.err" &
pid=$!
for _ in $(seq 300); do grep -q "run 4/" "$work/int.err" && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
rc=$?
line=$(grep -v '^edgebench: \(warm-up\|run\) ' "$work/int.err")
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM runs r JOIN trials t ON t.id = r.trial_id WHERE t.reason LIKE '"'interrupted (SIGINT)%'"'").fetchone()[0])' "$db" 2>/dev/null)
[ "$rc" -eq 130 ] && [ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] && printf '%s' "$line" | grep -q "interrupted (SIGINT) after [0-9]* of 400 measured repetitions: written above, stored as a trial marked interrupted" &&
  [ "${n:-0}" -ge 3 ] && grep -q "FAILED after\|interrupted" "$work/int.out" &&
  ok "Ctrl-C: exit 130, one line ('${line#edgebench run: }'), $n repetitions stored" || bad "Ctrl-C (exit $rc, $n runs stored): $line"

finish
