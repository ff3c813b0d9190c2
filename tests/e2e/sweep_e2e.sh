#!/usr/bin/env bash
# Sweeps end to end with the real binary on a tiny preset: a plan's product,
# governors set and given back on a fixture cpufreq tree, failed trials
# recorded while the sweep goes on, SIGINT then --resume completing exactly
# the missing trials, a stale state file restored, and plan errors.
set -u
eb=$1
fx="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
# a store of its own: results of earlier test runs must not count
. "$(dirname "$0")/../support/e2e_common.sh"
cp -r "$fx/pi5" "$work/dev"
gov=$work/dev/sys/devices/system/cpu/cpufreq/policy0/scaling_governor
common="preset = tiny-llama
n_gen = 4
reps = 1
warmup = 0
idle_s = 0
pause = 0
drop_caches = off"

# 1. governors x threads, given back at the end
cat >"$work/gov.ini" <<INI
[global]
$common
[governors]
governor = performance, powersave
threads = 1-2
INI
"$eb" sweep "$work/gov.ini" --sysfs-root "$work/dev" --state "$work/state" --results "$work/gov.jsonl" -q 2>"$work/err"
rc=$?
python3 - "$work/gov.jsonl" <<'PY' && [ "$rc" -eq 0 ] && ok "4 trials, each recorded with its governor" || bad "governor sweep (exit $rc): $(cat "$work/err")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 4 and all(r["status"] == "ok" for r in recs)
assert [r["config"]["governor"] for r in recs] == ["performance", "performance", "powersave", "powersave"]
assert [r["config"]["threads"] for r in recs] == ["1", "2", "1", "2"]
assert "policy0=performance" in recs[0]["system"]["governors"]
assert recs[1]["result"]["config"]["threads_gen"] == 2 and recs[0]["result"]["summary"]["gen_tps"]["n"] == 1
assert len({r["trial_key"] for r in recs}) == 4
PY
[ "$(cat "$gov")" = ondemand ] && [ ! -e "$work/state" ] && ok "governor restored, state file removed" || bad "governor now $(cat "$gov")"

# 2. failing trials are recorded and the sweep goes on
cat >"$work/fail.ini" <<INI
[global]
$common
[timeout]
reps = 2
pause = 5
timeout = 1
[no-memory]
memory_limit = 16
[fine]
threads = 1
INI
"$eb" sweep "$work/fail.ini" --results "$work/fail.jsonl" -q 2>"$work/err"
rc=$?
python3 - "$work/fail.jsonl" <<'PY' && [ "$rc" -eq 1 ] && ok "timeout and out-of-memory trials recorded as failed; the next one runs" || bad "failures (exit $rc): $(cat "$work/fail.jsonl" "$work/err")"
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
# qemu-user ignores setrlimit(RLIMIT_AS): the memory limit is not enforced there
want = ["failed", "ok", "ok"] if os.environ.get("EB_EMULATED") else ["failed", "failed", "ok"]
assert [r["status"] for r in recs] == want, [r.get("reason") for r in recs]
assert recs[0]["reason"].startswith("timeout: killed after 1 s")
assert os.environ.get("EB_EMULATED") or recs[1]["reason"], recs[1]
PY
[ -n "${EB_EMULATED:-}" ] && skip "memory_limit failing a trial: qemu-user ignores setrlimit(RLIMIT_AS) ($EB_EMULATED)"

# 3. SIGINT part-way, then --resume runs exactly the rest
cat >"$work/long.ini" <<INI
[global]
$common
[long]
reps = 3
pause = 0.3
threads = 1,2
n_gen = 4,5,6
INI
"$eb" sweep "$work/long.ini" --results "$work/long.jsonl" -q 2>"$work/err" &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/long.jsonl" ] && [ "$(wc -l <"$work/long.jsonl")" -ge 2 ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
n1=$(wc -l <"$work/long.jsonl")
[ "$rc" -eq 130 ] && [ "$n1" -ge 2 ] && [ "$n1" -lt 6 ] && ok "SIGINT: exit 130 after $n1 of 6 trials" || bad "SIGINT (exit $rc, $n1 lines)"
"$eb" sweep "$work/long.ini" --results "$work/long.jsonl" --resume -q 2>"$work/err"
python3 - "$work/long.jsonl" "$n1" <<'PY' && ok "--resume completes exactly the missing trials" || bad "resume: $(cat "$work/err")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 6, len(recs)
assert len({r["trial_key"] for r in recs}) == 6 and all(r["status"] == "ok" for r in recs)
PY
"$eb" sweep "$work/long.ini" --results "$work/long.jsonl" --resume --dry-run >"$work/dry" 2>&1 &&
  grep -q "6 trials, 0 to run" "$work/dry" && ok "--dry-run after completion: nothing to run" || bad "dry run: $(cat "$work/dry")"
"$eb" sweep "$work/gov.ini" --sysfs-root "$work/dev" --dry-run >"$work/dry" 2>&1 &&
  grep -q "governor=powersave .*threads=2" "$work/dry" && grep -q "4 trials, 4 to run; estimated" "$work/dry" &&
  ok "--dry-run lists trials with an estimate" || bad "dry run: $(cat "$work/dry")"

# 4. a sweep that died left its state file: the next start gives the settings back
echo performance >"$gov"
printf '# edgebench sweep: device settings to restore\npolicy0=ondemand\n' >"$work/state"
"$eb" sweep "$work/gov.ini" --sysfs-root "$work/dev" --state "$work/state" --results "$work/g2.jsonl" --dry-run >/dev/null 2>&1
cat >"$work/one.ini" <<INI
[global]
$common
INI
"$eb" sweep "$work/one.ini" --sysfs-root "$work/dev" --state "$work/state" --results "$work/one.jsonl" -q 2>"$work/err"
grep -q "restored device settings left by an earlier sweep" "$work/err" && [ "$(cat "$gov")" = ondemand ] &&
  ok "stale state file restored at the next start" || bad "stale state: $(cat "$work/err") gov=$(cat "$gov")"

# 4b. isolation=model: one process and one model load per group differing only in threads
cat >"$work/iso.ini" <<INI
[global]
$common
isolation = model
[grouped]
n_gen = 4,5
threads = 1,2
INI
"$eb" sweep "$work/iso.ini" --results "$work/iso.jsonl" -q 2>"$work/err"
rc=$?
python3 - "$work/iso.jsonl" <<'PY' && [ "$rc" -eq 0 ] && ok "isolation=model: 4 trials in 2 processes, the model loaded once per group" || bad "isolation=model (exit $rc): $(cat "$work/err")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 4 and all(r["status"] == "ok" for r in recs), [r.get("reason") for r in recs]
assert [r["result"]["config"]["threads_gen"] for r in recs] == [1, 2, 1, 2]
assert [r["result"]["config"]["n_gen"] for r in recs] == [4, 4, 5, 5]
assert all(r["system"]["model_loaded_once_for"] == 2 for r in recs)
# the first trial of a group loads the model; the second only creates a context
assert not recs[0]["result"]["reps"][0].get("model_reused") and recs[1]["result"]["reps"][0]["model_reused"]
assert not recs[2]["result"]["reps"][0].get("model_reused") and recs[3]["result"]["reps"][0]["model_reused"]
assert len({r["trial_key"] for r in recs}) == 4
PY

# 5. plan errors, before anything runs
printf '[global]\npreset = tiny-llama\nthreds = 2\n' >"$work/typo.ini"
"$eb" sweep "$work/typo.ini" --results "$work/typo.jsonl" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "typo.ini:3: unknown key 'threds' (did you mean 'threads'?)" "$work/err" && [ ! -e "$work/typo.jsonl" ] &&
  ok "unknown key: file:line and the closest key" || bad "typo (exit $rc): $(cat "$work/err")"
printf '[global]\npreset = tiny-llama\ngovernor = performance\n' >"$work/vmgov.ini"
"$eb" sweep "$work/vmgov.ini" --sysfs-root "$fx/vm" 2>"$work/err"
[ $? -eq 2 ] && grep -q "vmgov.ini:3: governor=performance is not offered here" "$work/err" &&
  ok "governor not offered by the device" || bad "vm governor: $(cat "$work/err")"
"$eb" run --preset tiny-llama -t 1,2 --format json 2>"$work/err"
[ $? -eq 2 ] && grep -q "'--format' cannot be used in a sweep" "$work/err" && ok "run sweep: --format refused" || bad "run sweep format: $(cat "$work/err")"

# 6. the example plans that reproduce the study's matrices expand and check
ex="$(dirname "$0")/../../examples"
"$eb" sweep "$ex/study-rpi5.ini" --sysfs-root "$fx/pi5" --dry-run >"$work/dry" 2>&1 &&
  grep -q "240 trials, 240 to run" "$work/dry" && ok "examples/study-rpi5.ini: 240 trials" || bad "study-rpi5: $(tail -2 "$work/dry")"
EDGEBENCH_JETSON_CLOCKS=/bin/true "$eb" sweep "$ex/study-orin-gpu.ini" --sysfs-root "$fx/jetson-orin-nano" --dry-run >"$work/dry" 2>&1 &&
  grep -q "60 trials, 60 to run" "$work/dry" && ok "examples/study-orin-gpu.ini: 60 trials" || bad "study-orin: $(tail -2 "$work/dry")"

# A 128-CPU server: the governor goes to every one of its 128 policies, the
# record names them all, and every policy is given back.
bash "$(dirname "$0")/../support/make_server_fixture.sh" "$work/server" 128
cat >"$work/server.ini" <<INI
[global]
$common
governor = powersave
INI
"$eb" sweep "$work/server.ini" --sysfs-root "$work/server" --state "$work/sstate" --results "$work/server.jsonl" -q 2>"$work/err"
rc=$?
python3 - "$work/server.jsonl" <<'PY' && [ "$rc" -eq 0 ] && ok "128 policies: the governor on all, the record names all 128" || bad "server sweep (exit $rc): $(cat "$work/err")"
import json, sys
rec = json.loads(open(sys.argv[1]).readline())
assert rec["status"] == "ok", rec
govs = rec["system"]["governors"].split()
assert len(govs) == 128 and all(g.endswith("=powersave") for g in govs), govs[-3:]
assert govs[-1] == "policy127=powersave"
PY
left=$(for f in "$work"/server/sys/devices/system/cpu/cpufreq/policy*/scaling_governor; do echo "$(cat "$f")"; done | sort -u)
[ "$left" = ondemand ] && ok "every policy given back" || bad "governors after the sweep: $left"
"$eb" sensors --sysfs-root "$work/server" >"$work/sensors.txt" 2>&1
grep -q "cpufreq .*128 channels" "$work/sensors.txt" && grep -q "thermal .*64 channels" "$work/sensors.txt" &&
  grep -q "hwmon .*64 channels" "$work/sensors.txt" && ! grep -q "left out" "$work/sensors.txt" &&
  ok "sensors: 128 clocks, 64 zones, 64 rails, nothing left out" || bad "sensors on the server: $(head -12 "$work/sensors.txt")"
bash "$(dirname "$0")/../support/make_server_fixture.sh" "$work/big" 300
"$eb" sensors --sysfs-root "$work/big" >"$work/sensors.txt" 2>&1
grep -q "left out: 44 channels past the 256 a source keeps: cpufreq:policy256" "$work/sensors.txt" &&
  ok "300 policies: the 44 past the cap are named" || bad "sensors past the cap: $(grep -A1 cpufreq "$work/sensors.txt" | head -3)"

# one trial key: a run and a sweep's trial of the same configuration share
# it, and a model fit probe, an import are keyed the same way
"$eb" run --preset tiny-llama -n 4 --reps 1 --warmup 0 --idle-s 0 -t 1 --pause 0 -q --store "sqlite:$work/key.db" >/dev/null 2>"$work/err"
printf '[global]\npreset = tiny-llama\nn_gen = 4\nreps = 1\nwarmup = 0\nidle_s = 0\nthreads = 1\npause = 0\n' >"$work/key.ini"
"$eb" sweep "$work/key.ini" --results "$work/key.jsonl" --store "sqlite:$work/key.db" -q 2>>"$work/err"
python3 - "$work/key.db" <<'PY' && ok "a run and a sweep trial of one configuration: one trial key" || bad "trial keys: $(cat "$work/err")"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT source, trial_key FROM trials ORDER BY id").fetchall()
assert [r[0] for r in rows] == ["run", "sweep"], rows
assert rows[0][1] == rows[1][1], rows
PY

# a store that cannot be written: the record is in the journal, and the exit
# says the sweep did not store it
"$eb" sweep "$work/key.ini" --results "$work/down.jsonl" -q \
  --store "postgresql://eb@/none?host=$work/nosock&port=1&connect_timeout=2" 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$work/down.jsonl")" -eq 1 ] && grep -q "1 of 1 record(s) are only in the journal" "$work/err" &&
  ok "store down: the record in the journal, exit 1 and how to import it" || bad "store down (exit $rc): $(cat "$work/err")"

finish
