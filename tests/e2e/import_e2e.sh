#!/usr/bin/env bash
# Imports under hostile input and beside other writers, on SQLite and on
# PostgreSQL (the tests' server): a file of valid records among cut, mistyped,
# colliding, huge and NUL-bearing lines stores every valid record, names
# every bad line, and leaves both stores with the same trials; two imports
# adding the same 60 new devices in opposite orders store 120 of 120; an
# import beside a sweep (and, on PostgreSQL, a fleet agent) loses nothing.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
here=$(dirname "$0")
pg=${EB_TEST_PG_IMPORT:-}
stores=("sqlite:$work/import.db")
if [ -n "$pg" ]; then
  psql -q "$pg" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null 2>&1
  stores+=("$pg")
else
  skip "PostgreSQL: no server for the tests (EB_TEST_PG_IMPORT)"
fi
# q STORE SQL: the rows, one a line, fields joined by |
q() {
  case $1 in
  sqlite:*) python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "${1#sqlite:}" "$2" ;;
  *) psql -qtA "$1" -c "$2" ;;
  esac
}
count() { q "$1" "SELECT count(*) FROM trials WHERE trial_key LIKE '$2%'"; }

python3 "$here/import_records.py" hostile "$work/hostile.jsonl" >"$work/expect.json"
for st in "${stores[@]}"; do
  kind=${st%%:*}
  "$eb" import --store "$st" --max-line-mib 1 "$work/hostile.jsonl" >"$work/out" 2>"$work/err-$kind"
  rc=$?
  q "$st" "SELECT t.trial_key, r.rep, r.gen_s, r.n_gen FROM trials t JOIN runs r ON r.trial_id = t.id ORDER BY 1, 2" >"$work/results-$kind.txt"
  python3 - "$work/expect.json" "$work/err-$kind" "$work/results-$kind.txt" "$rc" <<'PY' >"$work/msg" 2>&1 &&
import json, re, sys
want = json.load(open(sys.argv[1]))
err = open(sys.argv[2]).read()
named = sorted(int(n) for n in re.findall(r"hostile\.jsonl:(\d+): .* \(left out\)", err))
got = sorted(set(l.split("|")[0] for l in open(sys.argv[3]) if l.strip()))
assert int(sys.argv[4]) != 0, "exit 0 with lines left out"
assert named == want["bad"], "bad lines named %s, expected %s" % (named, want["bad"])
assert got == sorted(want["stored"]), "stored %s" % got
assert "(1 already there, %d left out)" % len(want["bad"]) in err, err
print("stored %s; lines %s named" % (got, named))
PY
    ok "$kind: hostile file: $(cat "$work/msg")" || bad "$kind: hostile file (exit $rc): $(cat "$work/msg") $(tail -3 "$work/err-$kind")"
done
if [ -n "$pg" ]; then
  # the same trials, figures and all, in both stores
  cmp -s "$work/results-sqlite.txt" "$work/results-postgresql.txt" &&
    ok "SQLite and PostgreSQL hold the same trials and figures ($(wc -l <"$work/results-sqlite.txt") runs)" ||
    bad "the stores disagree: $(diff "$work/results-sqlite.txt" "$work/results-postgresql.txt" | head -5)"
fi

# two imports adding the same 60 new devices in opposite orders, 3 rounds
for st in "${stores[@]}"; do
  kind=${st%%:*}
  lost=""
  for round in 1 2 3; do
    python3 "$here/import_records.py" devices "$work/fwd.jsonl" "$kind-f$round" 0
    python3 "$here/import_records.py" devices "$work/rev.jsonl" "$kind-r$round" 1
    "$eb" import --store "$st" -q "$work/fwd.jsonl" 2>"$work/fwd.err" &
    a=$!
    "$eb" import --store "$st" -q "$work/rev.jsonl" 2>"$work/rev.err" &
    b=$!
    wait $a
    ra=$?
    wait $b
    rb=$?
    n=$(($(count "$st" "$kind-f$round-") + $(count "$st" "$kind-r$round-")))
    [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && [ "$n" -eq 120 ] || lost="$lost round $round: $n of 120 (exit $ra, $rb: $(cat "$work/fwd.err" "$work/rev.err" | head -2))"
  done
  [ -z "$lost" ] && ok "$kind: two imports adding the same 60 devices in opposite orders: 120 of 120, three times" || bad "$kind: concurrent imports:$lost"
done

# an import beside a sweep (and an agent on PostgreSQL)
printf '[global]\npreset = tiny-llama\nn_gen = 4\nreps = 2\nwarmup = 0\nidle_s = 0\npause = 0\ndrop_caches = off\nthreads = 1\nn_prompt = 8, 16\n' >"$work/p.ini"
for st in "${stores[@]}"; do
  kind=${st%%:*}
  agent_pid=""
  if [ "$kind" = postgresql ]; then
    "$eb" fleet submit "$work/p.ini" --store "$st" --split --name beside >/dev/null 2>&1
    mkdir -p "$work/agent"
    (cd "$work/agent" && exec timeout 300 "$eb" agent --store "$st" --once --lease 30 --name beside-agent \
      --sysfs-root "$here/../fixtures/pi5" -q >"$work/agent.out" 2>&1) &
    agent_pid=$!
  fi
  (cd "$work" && exec timeout 300 "$eb" sweep "$work/p.ini" --store "$st" --results "$work/sweep-$kind.jsonl" -q >"$work/sweep.out" 2>&1) &
  sweep_pid=$!
  for round in 1 2; do
    python3 "$here/import_records.py" devices "$work/b$round.jsonl" "$kind-beside$round" $((round - 1))
    "$eb" import --store "$st" -q "$work/b$round.jsonl" 2>>"$work/beside.err" || echo "import $round failed" >>"$work/beside.err"
  done
  wait $sweep_pid
  rs=$?
  ra=0
  [ -n "$agent_pid" ] && { wait "$agent_pid"; ra=$?; }
  ni=$(($(count "$st" "$kind-beside1-") + $(count "$st" "$kind-beside2-")))
  nt=$(q "$st" "SELECT count(*) FROM trials WHERE source <> 'import-test' AND status = 'ok'")
  want=$([ -n "$agent_pid" ] && echo 4 || echo 2)
  [ "$rs" -eq 0 ] && [ "$ra" -eq 0 ] && [ "$ni" -eq 120 ] && [ "$nt" -eq "$want" ] &&
    ok "$kind: imports beside a sweep${agent_pid:+ and an agent}: 120 of 120 imported, $nt of $want trials run" ||
    bad "$kind: beside (sweep exit $rs, agent exit $ra): $ni of 120 imported, $nt of $want trials: $(cat "$work/beside.err" "$work/sweep.out" "$work/agent.out" 2>/dev/null | tail -4)"
done
finish
