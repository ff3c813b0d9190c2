#!/usr/bin/env bash
# The results store end to end with the real binary: run and sweep write
# through it (SQLite and PostgreSQL), results come out in every format and
# filter, the pinned llama-bench's real output is imported field for field,
# and a store that cannot be reached costs no result (fallback, then import).
set -u
eb=$1 llama_bench=$2 pg=${EB_TEST_PG_E2E:-}
orig_store=${EDGEBENCH_STORE-}
. "$(dirname "$0")/../support/e2e_common.sh"
export EDGEBENCH_STORE="$orig_store"
model="$work/tiny.gguf"
"$eb" model synth --preset tiny-llama --type Q4_0 -o "$model" 2>/dev/null || bad "synth tiny-llama"
db="sqlite:$work/e2e.db"
quick=(-m "$model" -n 4 --reps 2 --warmup 0 --idle-s 0 -q)

# 1. run writes one trial; results in every format
"$eb" run "${quick[@]}" -t 1 --store "$db" --keep-timeline >/dev/null 2>"$work/err" &&
  "$eb" run "${quick[@]}" -t 2 --store "$db" >/dev/null 2>>"$work/err" && ok "two runs stored" || bad "run --store: $(cat "$work/err")"
"$eb" results --store "$db" --format csv >"$work/r.csv" && [ "$(wc -l <"$work/r.csv")" -eq 3 ] &&
  head -1 "$work/r.csv" | grep -q "^trial_id,started_at,device,model,quant" && ok "results as CSV" || bad "csv: $(cat "$work/r.csv")"
"$eb" results --store "$db" --format json >"$work/r.json" && python3 - "$work/r.json" <<'PY' && ok "results as JSON: numbers, and null where not measured" || bad "json: $(cat "$work/r.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 2 and rows[0]["status"] == "ok" and rows[0]["runs"] == 2
assert isinstance(rows[0]["gen_tps"], float) and rows[0]["gen_tps"] > 0
assert rows[0]["gen_j_per_token"] is None  # no power sensor here: missing, not 0
assert rows[0]["threads_gen"] == 1 and rows[1]["threads_gen"] == 2
PY
"$eb" results --store "$db" --format jsonl | python3 -c "import sys,json; [json.loads(l) for l in sys.stdin]" &&
  "$eb" results --store "$db" --format md | grep -q "^| trial_id" &&
  "$eb" results --store "$db" --format sql | grep -c "^INSERT INTO results" | grep -q "^2$" &&
  "$eb" results --store "$db" --view runs --format csv | [ "$(wc -l)" -eq 5 ] && ok "results as JSONL, Markdown, SQL; runs view" || bad "formats"
[ "$("$eb" results --store "$db" --threads 2 --format csv | wc -l)" -eq 2 ] &&
  [ "$("$eb" results --store "$db" --since 2999-01-01 --format csv | wc -l)" -eq 1 ] &&
  [ "$("$eb" results --store "$db" --model tiny --quant q4_0 --status ok --format csv | wc -l)" -eq 3 ] &&
  [ "$("$eb" results --store "$db" --status failed --format csv | wc -l)" -eq 1 ] && ok "filters: threads, date, model, quant, status" || bad "filters"
"$eb" results --store "$db" --timeline 1 --format csv >"$work/tl.csv" && [ "$(wc -l <"$work/tl.csv")" -gt 2 ] &&
  grep -q "process:rss" "$work/tl.csv" && ok "the kept timeline comes back" || bad "timeline: $(head -3 "$work/tl.csv")"

# 2. the pinned llama-bench's own output, imported field for field
"$llama_bench" -m "$model" -p 16 -n 8 -r 2 -t 1 -o json >"$work/lb.json" 2>"$work/lb.err" || bad "llama-bench: $(tail -3 "$work/lb.err")"
"$llama_bench" -m "$model" -p 8 -n 4 -r 2 -t 2 -o jsonl >"$work/lb.jsonl" 2>>"$work/lb.err"
"$eb" import --store "$db" "$work/lb.json" "$work/lb.jsonl" 2>"$work/err" && grep -q "2 trials stored" "$work/err" &&
  "$eb" import --store "$db" "$work/lb.json" 2>"$work/err" && grep -q "0 trials stored" "$work/err" &&
  ok "llama-bench JSON and JSONL imported, and not twice" || bad "import: $(cat "$work/err")"
"$eb" results --store "$db" --view llama-bench --format json >"$work/lbv.json"
python3 - "$work/lb.json" "$work/lb.jsonl" "$work/lbv.json" <<'PY' && ok "llama-bench view gives back every imported field" || bad "llama-bench view"
import json, sys
orig = json.load(open(sys.argv[1])) + [json.loads(l) for l in open(sys.argv[2])]
view = [r for r in json.load(open(sys.argv[3])) if r["source"] == "llama-bench"]
assert len(view) == len(orig) == 4, (len(view), len(orig))
keys = ["build_commit", "cpu_info", "backends", "model_filename", "model_type", "model_size",
        "model_n_params", "n_batch", "n_ubatch", "n_threads", "n_gpu_layers", "n_prompt", "n_gen",
        "n_depth", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts"]
for o in orig:
    m = [v for v in view if all(v[k] == o[k] for k in keys)]
    assert len(m) == 1, (o, view)
# our own runs appear in the same terms beside them
ours = [r for r in json.load(open(sys.argv[3])) if r["source"] == "run"]
assert len(ours) == 4 and {r["test"] for r in ours} == {"pp", "tg"}
tg = [r for r in ours if r["test"] == "tg"][0]
assert tg["n_gen"] == 4 and tg["n_depth"] > 0 and len(tg["samples_ns"]) == 2
PY

# 3. an unreachable store: the result is kept in the fallback file, the password never shown
"$eb" run "${quick[@]}" --store "postgresql://eb:hunter2@/none?host=$work/nosock&port=1&connect_timeout=2" \
  --fallback "$work/fallback.jsonl" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$work/fallback.jsonl")" -eq 1 ] && ! grep -q hunter2 "$work/err" &&
  grep -q "cannot connect" "$work/err" && grep -q "edgebench import" "$work/err" &&
  ok "unreachable store: exit 1, record kept in the fallback, password hidden" || bad "fallback (exit $rc): $(cat "$work/err")"
"$eb" import --store "$db" "$work/fallback.jsonl" 2>"$work/err" &&
  [ "$("$eb" results --store "$db" --format csv | wc -l)" -eq 8 ] && ok "fallback imported later" || bad "import fallback: $(cat "$work/err")"
printf 'this is not a database at all, not even close, no header here......................................................' >"$work/junk.db"
"$eb" results --store "sqlite:$work/junk.db" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "not an SQLite database" "$work/err" && ok "a file that is not a database: clear error" || bad "junk store (exit $rc): $(cat "$work/err")"

# 4. a sweep into PostgreSQL, resumed from the store alone
if [ -n "$pg" ]; then
  cat >"$work/plan.ini" <<INI
[global]
model = $model
n_gen = 4
reps = 1
warmup = 0
idle_s = 0
pause = 0
drop_caches = off
[threads]
threads = 1,2
INI
  "$eb" sweep "$work/plan.ini" --store "$pg" --results "$work/j.jsonl" -q 2>"$work/err" &&
    [ "$("$eb" results --store "$pg" --format csv | wc -l)" -eq 3 ] && ok "sweep stored in PostgreSQL" || bad "sweep to pg: $(cat "$work/err")"
  rm -f "$work/j.jsonl"
  "$eb" sweep "$work/plan.ini" --store "$pg" --results "$work/j.jsonl" --resume -q 2>"$work/err" &&
    grep -q "0 ok, 0 failed, 2 already done" "$work/err" && ok "--resume finds finished trials in the store" || bad "resume from store: $(cat "$work/err")"
  "$eb" run "${quick[@]}" --store "$pg" >/dev/null 2>&1 && [ "$("$eb" results --store "$pg" --view runs --format csv | wc -l)" -eq 5 ] &&
    ok "run stored in PostgreSQL" || bad "run to pg"
  # a store that turned read-only: still readable, and a new result goes to the fallback
  ro=${pg/\/\/\/e2e/\/\/\/ro}
  psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | tail -n 1)
  "$eb" run "${quick[@]}" --store "$ro" >/dev/null 2>&1 &&
    "$psql" -q "$ro" -c "ALTER DATABASE ro SET default_transaction_read_only = on" &&
    "$eb" run "${quick[@]}" --store "$ro" --fallback "$work/ro.jsonl" >/dev/null 2>"$work/err"
  rc=$?
  [ "$rc" -eq 1 ] && grep -q "(read-only)" "$work/err" && [ "$(wc -l <"$work/ro.jsonl")" -eq 1 ] &&
    [ "$("$eb" results --store "$ro" --format csv | wc -l)" -eq 2 ] &&
    ok "read-only store: clear error, record in the fallback, earlier results intact" || bad "read-only (exit $rc): $(cat "$work/err")"
else
  bad "EB_TEST_PG_E2E not set: PostgreSQL not tested"
fi

finish
