#!/usr/bin/env bash
# A fleet against a real PostgreSQL server on a Unix socket (the store
# tests' server): a plan split across three agents acting as different
# devices (fixture roots and tags); one SIGKILLed mid-trial, its trial
# finished by another after the lease; one frozen past its lease and coming
# back late (its result refused, kept in its journal); the server restarted
# mid-plan; afterwards every trial complete exactly once. Then --per-device
# with two device classes, a selector, and cancel.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
fixtures="$(cd "$(dirname "$0")/../fixtures" && pwd)"
pg=${EB_TEST_PG_FLEET:-}
pgdir=${EB_TEST_PG_DIR:-}
if [ -z "$pg" ] || [ -z "$pgdir" ]; then
  skip "fleet: no PostgreSQL server for the tests (EB_TEST_PG_FLEET)"
  finish
  exit $?
fi
psql -q "${pg#postgresql:}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null 2>&1 ||
  psql -q "$pg" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null 2>&1
sql() { psql -qtA "$pg" -c "$1" 2>/dev/null; }
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# 10 trials of a second or two each (20 repetitions of tiny-llama)
printf '[global]\npreset = tiny-llama\nn_gen = 8\nreps = 20\nwarmup = 0\nidle_s = 0\npause = 0\ndrop_caches = off\nthreads = 1\nn_prompt = 8, 16, 24, 32, 40, 48, 56, 64, 72, 80\n' >"$work/p.ini"
"$eb" fleet submit "$work/p.ini" --store "$pg" --split --name split10 >"$work/submit.txt" 2>&1 &&
  grep -q "10 trials" "$work/submit.txt" && ok "submit: 10 trials queued (split)" || bad "submit: $(cat "$work/submit.txt")"

agent() { # NAME ROOT TAG -> runs in its own process group, in its own directory
  mkdir -p "$work/$1"
  (cd "$work/$1" && exec setsid "$eb" agent --store "$pg" --once --lease 4 --name "$1" --tag "$3" \
    --sysfs-root "$2" >"$work/$1/out" 2>&1) &
}
agent a1 "$fixtures/pi5" lab
agent a2 "$fixtures/jetson-orin-nano" lab
for _ in $(seq 100); do
  [ "$(sql "SELECT count(*) FROM fleet_items WHERE state = 'leased'")" = 2 ] && break
  sleep 0.1
done
a1=$(pgrep -f -- "--name a1" | head -1)
a2=$(pgrep -f -- "--name a2" | head -1)
# a1 killed mid-trial (with its trial process), a2 frozen past its lease
kill -9 -- "-$a1" 2>/dev/null
kill -STOP -- "-$a2" 2>/dev/null
frozen=$(sql "SELECT i.id FROM fleet_items i JOIN fleet_devices d ON d.id = i.lease_owner WHERE d.name = 'a2' AND i.state = 'leased'")
agent a3 "$fixtures/vm" lab
# a2 comes back once a3 has its trial (its lease ran out unheartbeated)
for _ in $(seq 300); do
  [ "$(sql "SELECT count(*) FROM fleet_items i JOIN fleet_devices d ON d.id = i.lease_owner WHERE i.id = ${frozen:-0} AND (d.name = 'a3' OR i.state = 'done')")" = 1 ] && break
  sleep 0.1
done
kill -CONT -- "-$a2" 2>/dev/null
# the server restarted mid-plan
sleep 1
left=$(sql "SELECT count(*) FROM fleet_items WHERE state = 'queued'")
as_pg "$bin/pg_ctl" -D "$pgdir/data" -m fast -w restart >/dev/null 2>&1 && ok "server restarted mid-plan ($left trials still queued)" || bad "server restart"
for _ in $(seq 240); do
  pgrep -f -- "--name a[23]" >/dev/null || break
  sleep 0.5
done
pkill -9 -f -- "--name a[23]" 2>/dev/null
done_items=$(sql "SELECT count(*) FROM fleet_items WHERE state = 'done'")
stored=$(sql "SELECT count(*) FROM trials WHERE source = 'fleet'")
distinct=$(sql "SELECT count(DISTINCT trial_id) FROM fleet_items WHERE state = 'done'")
taken=$(sql "SELECT count(*) FROM fleet_items WHERE attempts > 1")
[ "$done_items" = 10 ] && [ "$stored" = 10 ] && [ "$distinct" = 10 ] &&
  ok "every trial complete exactly once: 10 done, 10 stored; $taken taken over after a lease ran out" ||
  bad "exactly once: done $done_items, stored $stored, distinct $distinct; a2: $(tail -3 "$work/a2/out"); a3: $(tail -3 "$work/a3/out")"
[ "$taken" -ge 2 ] && ok "the killed and the frozen agents' trials finished by another after their leases" || bad "no trial taken over: $(sql "SELECT idx, state, attempts FROM fleet_items")"
grep -q "lease went to another agent\|another agent has the trial since" "$work/a2/out" &&
  [ -n "$frozen" ] && grep -q '"fleet"' "$work/a2/edgebench-agent.jsonl" &&
  ok "the late agent's result refused (trial item $frozen), kept in its journal" ||
  bad "late agent: frozen '$frozen'; $(cat "$work/a2/out")"
grep -q "store away\|connection lost" "$work/a3/out" "$work/a2/out" && ok "agents rode out the restart: records waited, then went in once" ||
  echo "note - no agent saw the server away (it came back between their calls)"

# the killed agent comes back: nothing left for it, nothing stored twice
(cd "$work/a1" && timeout 60 "$eb" agent --store "$pg" --once --lease 4 --name a1 --sysfs-root "$fixtures/pi5" -q)
rc=$?
[ "$rc" -eq 0 ] && [ "$(sql "SELECT count(*) FROM trials WHERE source = 'fleet'")" = 10 ] &&
  ok "the killed agent back: --once exits, nothing stored twice" || bad "agent back (exit $rc)"

# status: devices, what each ran, the plan's queue
"$eb" fleet status --store "$pg" --format csv >"$work/status.csv" 2>&1
grep -q "^a3," "$work/status.csv" && grep -q "split10,split" "$work/status.csv" &&
  ok "fleet status: devices and the plan (done 10)" || bad "status: $(cat "$work/status.csv")"
"$eb" fleet status --store "$pg" --format json >"$work/status.json" 2>&1
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
p = [x for x in s['plans'] if x['plan'] == 'split10'][0]
assert p['done'] == 10 and p['queued'] == 0 and p['failed'] == 0, p
assert any(d['device'] == 'a3' for d in s['devices']), s['devices']
" "$work/status.json" && ok "fleet status --format json: one object, devices and plans" || bad "status json: $(cat "$work/status.json")"

# --per-device with two device classes, and a selector
printf '[global]\npreset = tiny-llama\nn_gen = 4\nreps = 1\nwarmup = 0\nidle_s = 0\npause = 0\ndrop_caches = off\nthreads = 1\nn_prompt = 8, 16\n' >"$work/q.ini"
"$eb" fleet submit "$work/q.ini" --store "$pg" --per-device --name every >/dev/null 2>&1
"$eb" fleet submit "$work/q.ini" --store "$pg" --split --devices "board=Raspberry Pi 5" --name pionly >/dev/null 2>&1
for n in b1 b2; do mkdir -p "$work/$n"; done
(cd "$work/b1" && timeout 120 "$eb" agent --store "$pg" --once --name b1 --sysfs-root "$fixtures/pi5" -q)
(cd "$work/b2" && timeout 120 "$eb" agent --store "$pg" --once --name b2 --sysfs-root "$fixtures/vm" -q)
per=$(sql "SELECT d.name || ':' || count(*) FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id JOIN fleet_devices d ON d.id = i.device_id WHERE p.name = 'every' AND i.state = 'done' GROUP BY d.name ORDER BY d.name" | tr '\n' ' ')
pi=$(sql "SELECT d.name FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id JOIN fleet_devices d ON d.id = i.lease_owner WHERE p.name = 'pionly' GROUP BY d.name" | tr '\n' ' ')
# a1 (pi5 fixture) came back earlier and may have run its share of 'every' too
echo "$per" | grep -q "b1:2" && echo "$per" | grep -q "b2:2" &&
  ok "per-device: each device ran each trial once ($per)" || bad "per-device: $per"
[ "$pi" = "b1 " ] && ok "selector board=Raspberry Pi 5: only the Pi 5 ran it" || bad "selector: '$pi'"

# two units of one board (the Pi 5 tree under two hostnames): analyze fleet
# puts them side by side with their unit-to-unit spread
for u in x y; do
  cp -r "$fixtures/pi5" "$work/pi5-$u"
  mkdir -p "$work/pi5-$u/proc/sys/kernel"
  echo "pi5-$u" >"$work/pi5-$u/proc/sys/kernel/hostname"
done
printf '[global]\npreset = tiny-llama\nn_gen = 8\nreps = 3\nwarmup = 0\nidle_s = 0\npause = 0\ndrop_caches = off\nthreads = 1\nn_prompt = 8\n' >"$work/u.ini"
"$eb" fleet submit "$work/u.ini" --store "$pg" --per-device --devices "hostname=pi5-x" --name unitx >/dev/null 2>&1
"$eb" fleet submit "$work/u.ini" --store "$pg" --per-device --devices "hostname=pi5-y" --name unity >/dev/null 2>&1
for u in x y; do
  mkdir -p "$work/u$u"
  (cd "$work/u$u" && timeout 120 "$eb" agent --store "$pg" --once --name "u$u" --sysfs-root "$work/pi5-$u" -q)
done
"$eb" analyze fleet --store "$pg" --format json >"$work/fleet.json" 2>"$work/err"
python3 - "$work/fleet.json" <<'PY' && ok "analyze fleet: pi5-x and pi5-y side by side, CV of t/s $(cat "$work/cv.txt")" || bad "analyze fleet: $(cat "$work/err") $(cat "$work/fleet.json")"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if "pi5-x" in r["device_names"]]
assert rows, "no row with both units"
r = rows[0]
assert r["devices"] >= 2 and "pi5-y" in r["device_names"], r
assert r["board"].startswith("Raspberry Pi 5"), r
assert r["gen_tps_cv"] is not None and r["gen_tps_cv"] >= 0, r
assert r["gen_tps_min"] <= r["gen_tps_mean"] <= r["gen_tps_max"], r
open(sys.argv[1].rsplit("/", 1)[0] + "/cv.txt", "w").write("%.4f" % r["gen_tps_cv"])
PY

# a device's own role (scripts/fleet-roles.sql): it claims and stores, it
# cannot drop or alter; a password in the spec is never printed or stored
psql -q "$pg" -v ON_ERROR_STOP=1 -v device=dev1 -f "$(dirname "$0")/../../scripts/fleet-roles.sql" >"$work/roles.txt" 2>&1 ||
  bad "fleet-roles.sql: $(cat "$work/roles.txt")"
dev_pg=$(printf '%s' "$pg" | sed 's/user=[^&]*/user=dev1/')"&password=hunter2"
"$eb" fleet submit "$work/q.ini" --store "$pg" --split --name byrole >/dev/null 2>&1
mkdir -p "$work/r1"
(cd "$work/r1" && timeout 120 "$eb" agent --store "$dev_pg" --once --name r1 >"$work/r1/out" 2>&1)
rc=$?
"$eb" fleet status --store "$dev_pg" >>"$work/r1/out" 2>&1
drop=$(psql -qtA "$(printf '%s' "$pg" | sed 's/user=[^&]*/user=dev1/')" -c 'DROP TABLE trials' 2>&1)
alter=$(psql -qtA "$(printf '%s' "$pg" | sed 's/user=[^&]*/user=dev1/')" -c 'ALTER TABLE fleet_items ADD COLUMN x INTEGER' 2>&1)
[ "$rc" -eq 0 ] && [ "$(sql "SELECT count(*) FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id WHERE p.name = 'byrole' AND i.state = 'done'")" = 2 ] &&
  echo "$drop" | grep -q "must be owner\|permission denied" && echo "$alter" | grep -q "must be owner\|permission denied" &&
  ok "a device's role: ran and stored 2 trials; DROP and ALTER refused" || bad "role (exit $rc): $(tail -3 "$work/r1/out"); drop: $drop; alter: $alter"
! grep -rq hunter2 "$work/r1" && [ "$(sql "SELECT count(*) FROM trial_records WHERE record_json LIKE '%hunter2%'")" = 0 ] &&
  ok "the password is in no output, journal or stored record" || bad "password leaked: $(grep -rl hunter2 "$work/r1")"

# a trial that fails everywhere: tried --retries times, then recorded failed
# once, with its reason (memory_limit fails it: qemu-user ignores
# setrlimit(RLIMIT_AS), so under emulation it is not asserted)
printf '[global]\npreset = tiny-llama\nn_gen = 4\nreps = 1\nwarmup = 0\nidle_s = 0\npause = 0\ndrop_caches = off\nthreads = 1\nmemory_limit = 16\n' >"$work/f.ini"
"$eb" fleet submit "$work/f.ini" --store "$pg" --split --retries 2 --name failing >/dev/null 2>&1
mkdir -p "$work/f1"
(cd "$work/f1" && timeout 120 "$eb" agent --store "$pg" --once --name f1 -q >"$work/f1/out" 2>&1)
row=$(sql "SELECT i.state || ':' || i.attempts || ':' || (SELECT count(*) FROM trials t WHERE t.id = i.trial_id AND t.status = 'failed') FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id WHERE p.name = 'failing'")
reason=$(sql "SELECT t.reason FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id JOIN trials t ON t.id = i.trial_id WHERE p.name = 'failing'")
if [ -n "${EB_EMULATED:-}" ]; then
  skip "a failing trial: memory_limit cannot fail it under qemu-user, which ignores setrlimit(RLIMIT_AS) ($EB_EMULATED); got '$row'"
else
  [ "$row" = "failed:2:1" ] && [ -n "$reason" ] && ok "a failing trial: 2 attempts, then recorded failed once ($(echo "$reason" | cut -c1-60))" ||
    bad "failing trial: '$row' '$reason' $(cat "$work/f1/out")"
fi

# cancel
"$eb" fleet submit "$work/q.ini" --store "$pg" --split --name later >/dev/null 2>&1
"$eb" fleet cancel later --store "$pg" >"$work/cancel.txt" 2>&1
[ "$(sql "SELECT count(*) FROM fleet_items i JOIN fleet_plans p ON p.id = i.plan_id WHERE p.name = 'later' AND i.state = 'cancelled'")" = 2 ] &&
  ok "cancel: its 2 queued trials will not run" || bad "cancel: $(cat "$work/cancel.txt")"
# refusals
"$eb" fleet submit "$work/q.ini" --store "sqlite:$work/x.db" >"$work/out" 2>&1
[ $? -ne 0 ] && grep -q "a sqlite store cannot" "$work/out" && ok "refused: a fleet on SQLite" || bad "sqlite fleet: $(cat "$work/out")"
"$eb" fleet submit "$work/q.ini" --store "$pg" --devices "colour=red" >"$work/out" 2>&1
[ $? -ne 0 ] && grep -q "selector key 'colour'" "$work/out" && ok "refused: an unknown selector key" || bad "selector: $(cat "$work/out")"
finish
