#!/usr/bin/env bash
# The server engine end to end: llama-server from the cached build on
# loopback under closed-loop levels (a sweep of 1, 2 and 4 clients) and an
# open-loop rate sweep, goodput against objectives, the levels stored,
# analysed (capacity) and listed; the server's generation t/s at one client
# beside the in-process engine's (printed); and a fake server on loopback
# (tests/support/fake_openai_server.py) that fails in every way a server
# can: each failure counted with its reason, no crash, no hang past the
# limits, the key and the URL's password never shown or stored.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
here="$(cd "$(dirname "$0")/.." && pwd)"
fakes=()
trap 'for p in "${fakes[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
tiny=(--preset tiny-llama --type Q4_0 -n 24 -t 2 --pause 0)

# start_fake NAME ARGS...: a fake server; its port in $port
start_fake() {
  local name=$1
  shift
  rm -f "$work/$name.port"
  python3 "$here/support/fake_openai_server.py" --port-file "$work/$name.port" \
    --log "$work/$name.log" "$@" &
  fakes+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  port=$(cat "$work/$name.port")
}

# 1. Every way a server fails, one request each, with a key and a password
start_fake bad --modes ok,malformed,stall,drop,http500,error,noheader
t0=$(date +%s)
EDGEBENCH_SERVER_KEY=s3cret-key "$eb" run --engine server --server-url "http://user:pa55word@127.0.0.1:$port" \
  --server-model fake --concurrency 2 --requests 7 -n 6 --warmup 0 --request-timeout 8 --format json \
  -o "$work/bad.json" -q 2>"$work/bad.err"
rc=$?
t1=$(date +%s)
python3 - "$work/bad.json" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && [ $((t1 - t0)) -lt 30 ] &&
import json, sys
r = json.load(open(sys.argv[1]))
s = r["serving"]
by = s["by_status"]
want = {"ok": 1, "malformed": 1, "stalled": 1, "dropped": 2, "http_error": 1, "server_error": 1}
for k, v in want.items():
    assert by[k] == v, (k, by)
assert s["requests"] == 7 and s["failed"] == 6, s
reasons = " | ".join(x["error"] for x in r["requests_failed"])
for frag in ["not JSON", "no byte for 2 s", "HTTP 500", "error event", "without finishing"]:
    assert frag in reasons, (frag, reasons)
print("7 requests: 1 ok, each failure counted with its reason:", reasons[:160])
PY
  ok "fake server's failures ($(($t1 - $t0)) s): $(cat "$work/msg")" || bad "fake server's failures (exit $rc, $((t1 - t0)) s): $(cat "$work/msg" "$work/bad.err")"
if grep -q 'Bearer s3cret-key' "$work/bad.log" && ! grep -rq 's3cret-key\|pa55word' "$work/bad.json" "$work/bad.err" &&
  ! sqlite3 "$work/store.db" "SELECT * FROM trials; SELECT * FROM trial_records; SELECT * FROM trial_serving; SELECT * FROM builds" | grep -q 's3cret-key\|pa55word'; then
  ok "the API key was sent, and neither it nor the URL's password is in the output, the log or the store"
else
  bad "a credential leaked (or the key was not sent)"
fi
# a server that is not there: every request refused, a failed trial kept
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$eb" run --engine server --server-url "http://127.0.0.1:$closed" --requests 3 -n 4 -q >"$work/gone.out" 2>"$work/gone.err"
rc=$?
n=$(sqlite3 "$work/store.db" "SELECT refused FROM trial_serving ORDER BY trial_id DESC LIMIT 1")
[ $rc -eq 1 ] && [ "$n" = 3 ] && grep -q 'refused 3' "$work/gone.out" &&
  ok "no server: 3 requests refused, exit 1, the failed trial stored" || bad "no server (exit $rc, refused '$n'): $(cat "$work/gone.out" "$work/gone.err")"
expect_error "--request-rate with --concurrency refused" 2 'not both' -- run --engine server \
  --server-url http://127.0.0.1:1 --concurrency 2 --request-rate 3
expect_error "server options without --engine server refused" 2 'engine server only' -- run \
  --preset tiny-llama --concurrency 2

# a server that cannot start, one that never gets ready, one that dies
# mid-load (a stand-in for llama-server: tests/support/fake_llama_server.sh)
export EDGEBENCH_LLAMA_SERVER="$here/support/fake_llama_server.sh" EDGEBENCH_STORE="sqlite:$work/standin.db"
FAKE_LLAMA_MODE=exit "$eb" run --engine server --preset tiny-llama -n 8 -q >"$work/x.out" 2>"$work/x.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'not ready: it exited with status 1; its log ends: .*the stand-in is told to fail' "$work/x.err" &&
  ok "a server that fails to start: exit 1 with its own error" || bad "server start failure (exit $rc): $(cat "$work/x.err")"
t0=$(date +%s)
FAKE_LLAMA_MODE=loading "$eb" run --engine server --preset tiny-llama -n 8 --request-timeout 3 -q >"$work/x.out" 2>"$work/x.err"
rc=$?
t1=$(date +%s)
[ $rc -eq 1 ] && [ $((t1 - t0)) -lt 20 ] && grep -q 'not ready within 3 s' "$work/x.err" &&
  ok "a server never ready: given up after 3 s ($((t1 - t0)) s in all)" || bad "server never ready (exit $rc): $(cat "$work/x.err")"
FAKE_LLAMA_MODE=die:1.5 "$eb" run --engine server --preset tiny-llama -n 50 --concurrency 2 --requests 6 \
  --warmup 0 --request-timeout 10 -q >"$work/x.out" 2>"$work/x.err"
rc=$?
died=$(sqlite3 "$work/standin.db" "SELECT dropped || ',' || refused || ',' || server_died FROM trial_serving ORDER BY trial_id DESC LIMIT 1")
IFS=, read -r dropped refused _ <<<"$died"
[ $rc -eq 1 ] && grep -q 'the server died during the load: exited with status 3' "$work/x.out" &&
  [ "$dropped" -ge 2 ] && [ $((dropped + refused)) -eq 6 ] &&
  ok "a server that dies mid-load: $dropped streams dropped, $refused refused, its death stored ($died)" ||
  bad "server dying mid-load (exit $rc, '$died'): $(cat "$work/x.out" "$work/x.err")"
unset EDGEBENCH_LLAMA_SERVER
export EDGEBENCH_STORE="sqlite:$work/store.db"

# 2. llama-server of the cached build, closed loop: 1, 2 and 4 clients
"$eb" run --engine server "${tiny[@]}" --concurrency 1,2,4 --slo-ttft 2000 --slo-itl 1000 \
  --results "$work/sweep.jsonl" -q >"$work/sweep.out" 2>"$work/sweep.err"
rc=$?
levels=$(sqlite3 "$work/store.db" "SELECT group_concat(v.concurrency || ':' || v.ok || '/' || v.requests || ':' || v.good, ' ') FROM trial_serving v JOIN trials t ON t.id = v.trial_id JOIN models m ON m.id = t.model_id WHERE m.name LIKE 'tiny%' AND v.loop = 'closed'")
[ $rc -eq 0 ] && [ "$levels" = "1:8/8:8 2:8/8:8 4:16/16:16" ] &&
  ok "llama-server at 1, 2 and 4 clients, every request ok and within the objectives (clients:ok/requests:good $levels)" ||
  bad "llama-server levels (exit $rc, '$levels'): $(tail -5 "$work/sweep.err")"
rss=$(sqlite3 "$work/store.db" "SELECT min(server_rss_peak_mib) FROM trial_serving WHERE loop = 'closed'")
ttft=$(sqlite3 "$work/store.db" "SELECT min(ttft_p50_s) > 0 AND min(itl_p50_s) > 0 FROM trial_serving WHERE loop = 'closed'")
runs=$(sqlite3 "$work/store.db" "SELECT count(*) FROM runs r JOIN trials t ON t.id = r.trial_id WHERE t.run_engine = 'server' AND r.ttft_s > 0 AND r.n_gen = 24")
python3 -c "import sys; assert float('$rss') > 5" 2>/dev/null && [ "$ttft" = 1 ] && [ "$runs" -ge 32 ] &&
  ok "levels stored: server tree RSS $rss MiB at least, TTFT and inter-token percentiles, $runs requests as runs of 24 tokens (the server's count)" ||
  bad "stored levels (rss '$rss', ttft '$ttft', runs '$runs')"

# 3. open loop: Poisson arrivals at two rates
"$eb" run --engine server "${tiny[@]}" --request-rate 2,20 --requests 6 --results "$work/rate.jsonl" -q \
  >"$work/rate.out" 2>"$work/rate.err"
rc=$?
rates=$(sqlite3 "$work/store.db" "SELECT group_concat(CAST(v.request_rate AS INTEGER) || ':' || v.ok, ' ') FROM trial_serving v WHERE v.loop = 'open'")
[ $rc -eq 0 ] && [ "$rates" = "2:6 20:6" ] && ok "open loop at 2 and 20 requests/s: $rates (rate:ok)" ||
  bad "open loop (exit $rc, '$rates'): $(tail -3 "$work/rate.err")"

# 4. a goodput objective no request can meet: counted, not hidden
"$eb" run --engine server "${tiny[@]}" --concurrency 2 --slo-ttft 0.001 --format json -o "$work/slo.json" -q 2>"$work/slo.err"
python3 - "$work/slo.json" <<'PY' >"$work/msg" 2>&1 && ok "goodput: $(cat "$work/msg")" || bad "goodput: $(cat "$work/msg")"
import json, sys
s = json.load(open(sys.argv[1]))["serving"]
assert s["ok"] == 8 and s["good"] == 0 and s["goodput_rps"] == 0, s
print("a 0.001 ms TTFT objective: 8 requests ok, 0 good")
PY

# 5. energy from a meter across a level: per request, per token, a user-hour
rm -f "$work/meter.port"
python3 "$here/support/fake_meter.py" --port-file "$work/meter.port" --watts 7.25 &
fakes+=($!)
for _ in $(seq 100); do [ -s "$work/meter.port" ] && break; sleep 0.05; done
"$eb" run --engine server "${tiny[@]}" --concurrency 2 --requests 16 -n 64 --meter "shelly:127.0.0.1:$(cat "$work/meter.port")" \
  --meter-accuracy 1 --store "sqlite:$work/energy.db" --format json -o "$work/e.json" -q 2>"$work/e.err"
rc=$?
python3 - "$work/e.json" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "energy: $(cat "$work/msg")" || bad "serving energy (exit $rc): $(cat "$work/msg" "$work/e.err")"
import json, sys
s = json.load(open(sys.argv[1]))["serving"]
assert s["energy_j"] > 0 and s["energy_u95_j"] > 0, s
assert abs(s["mean_power_w"] - 7.25) < 0.2, s["mean_power_w"]
assert abs(s["j_per_request"] * s["ok"] - s["energy_j"]) < 1e-9
assert abs(s["j_per_token"] * s["gen_tokens"] - s["energy_j"]) < 1e-9
assert "accuracy" in s["energy_u95_covers"], s["energy_u95_covers"]
print("a 7.25 W plug read %.3f W over the level: %.3f +- %.3f J, %.4f J a request, %.5f J a token"
      % (s["mean_power_w"], s["energy_j"], s["energy_u95_j"], s["j_per_request"], s["j_per_token"]))
PY
"$eb" analyze capacity --store "sqlite:$work/energy.db" --format csv >"$work/ecap.csv" 2>&1
python3 - "$work/ecap.csv" <<'PY' >"$work/msg" 2>&1 && ok "capacity with energy: $(cat "$work/msg")" || bad "capacity with energy: $(cat "$work/msg")"
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[0]
wh = float(r["wh_per_user_hour"])
assert abs(wh - 7.25 / 2) < 0.2, wh   # the plug's power shared by 2 users
assert float(r["wh_per_user_hour_u95"]) > 0
print("%s Wh a user-hour +- %s at %s users" % (r["wh_per_user_hour"], r["wh_per_user_hour_u95"], r["capacity_users"]))
PY
"$eb" report --store "sqlite:$work/energy.db" --output "$work/report" >/dev/null 2>"$work/rep.err"
for f in fig22_serve_stream fig22_serve_ttft fig22_serve_energy; do
  [ -s "$work/report/$f.svg" ] || { bad "report: $f missing: $(cat "$work/rep.err")"; continue; }
done
grep -q 'How many people one device serves' "$work/report/index.html" &&
  ok "report: the serving figures (stream, first token, energy a user-hour) and the capacity table" ||
  bad "report: no capacity table"

# 6. the in-process engine beside it, and the capacity analysis
"$eb" run "${tiny[@]}" --reps 3 -q >/dev/null 2>"$work/inproc.err"
"$eb" analyze capacity --format csv >"$work/cap.csv" 2>"$work/cap.err"
rc=$?
python3 - "$work/cap.csv" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "capacity: $(cat "$work/msg")" || bad "capacity (exit $rc): $(cat "$work/msg" "$work/cap.err")"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["model"].startswith("tiny")]
assert len(rows) == 1, rows
r = rows[0]
assert r["levels"] == "1,2,4 clients", r["levels"]
cap = int(r["capacity_users"])
assert cap in (0, 1, 2, 4), cap
if cap < 4:
    assert r["why_not_more"], r
ratio = float(r["server_over_in_process"])
assert 0 < ratio < 2, ratio
print("%d users at reading speed (levels %s; %s); at one client the server's stream is %.3f x "
      "the in-process engine's t/s (%s vs %s)" % (cap, r["levels"], r["why_not_more"] or "-",
      ratio, r["server_tps_at_1"], r["in_process_tps"]))
PY
"$eb" results --view serving --format csv >"$work/view.csv" && [ "$(wc -l <"$work/view.csv")" -ge 7 ] &&
  ok "results --view serving lists the levels" || bad "results --view serving"

# 7. a real model's shape: qwen2-0.5b, one client, beside the in-process engine
q=(--preset qwen2-0.5b --type Q4_0 -n 32 -t 2 --pause 0 -q)
"$eb" run --engine server "${q[@]}" --concurrency 1 --requests 3 --format json -o "$work/q.json" 2>"$work/q.err" &&
  "$eb" run "${q[@]}" --reps 3 --format json -o "$work/qi.json" 2>>"$work/q.err"
rc=$?
python3 - "$work/q.json" "$work/qi.json" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "qwen2-0.5b: $(cat "$work/msg")" || bad "qwen2-0.5b (exit $rc): $(cat "$work/msg" "$work/q.err")"
import json, sys
s = json.load(open(sys.argv[1]))["serving"]
i = json.load(open(sys.argv[2]))
assert s["ok"] == 3, s
gen = i["summary"]["gen_tps"]["mean"]
srv = s["server_gen_tps_mean"]
ratio = srv / gen
# the same build, model and threads: the server's own generation t/s within a
# factor of two of the in-process engine's (the test runs alone; bench/serving
# measures it with its interval)
assert 0.5 < ratio < 2, ratio
print("server's own generation %.2f t/s, the client's stream %.2f t/s, in process %.2f t/s: "
      "ratio %.3f" % (srv, s["client_gen_tps_mean"], gen, ratio))
PY
finish
