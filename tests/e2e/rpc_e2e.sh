#!/usr/bin/env bash
# Models split over RPC nodes: `edgebench node`s on loopback (and, as root,
# in network namespaces joined by shaped veth pairs) with the real binary.
# Tokens equal to one process's (greedy; --repack=off, as a node computes),
# every node's entry filled, a model too big for one node's --mem run
# across two, a node killed mid-trial failing that trial while the sweep
# goes on, and the network wait growing as the bytes moved predict (tc
# shaping as root) and as the round trips predict (a user-space delay).
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
# ports of this run: base .. base+19 and their controls +1000, below the
# ephemeral range (a connection's own port must never take a node's)
base=$((20000 + ($$ % 300) * 20))
pids=()
netns=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null
  [ -n "$netns" ] && ip link del "eb${netns#eb}a" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../support/node_common.sh"
ep() { echo "127.0.0.1:$1"; }

tiny=(--preset tiny-llama --type Q4_0 --idle-s 0 -q)
p1=$base p2=$((base + 1)) p3=$((base + 2))
start_node "$p1" --threads 1 && start_node "$p2" --threads 1 && start_node "$p3" --threads 1 || {
  bad "nodes did not start"
  finish
  exit 1
}

# 1. tiny-llama over two nodes: tokens as in one process, every node filled
"$eb" run "${tiny[@]}" --repack=off -n 24 --reps 1 --warmup 0 --no-store --format json -o "$work/one.json" 2>"$work/err" &&
  "$eb" run "${tiny[@]}" --rpc "$(ep $p1),$(ep $p2)" --link loopback -n 24 --reps 2 --warmup 1 \
    --format json -o "$work/two.json" 2>>"$work/err"
rc=$?
python3 - "$work/one.json" "$work/two.json" <<'PY' && [ "$rc" -eq 0 ] && ok "tiny-llama on 2 nodes: $(cat "$work/two.txt")" || bad "tiny on 2 nodes (exit $rc): $(cat "$work/err")"
import json, sys
one, two = (json.load(open(p)) for p in sys.argv[1:3])
ref = one["reps"][0]["gen_tokens"]
for rep in two["reps"]:
    assert rep["gen_tokens"] == ref, (rep["gen_tokens"], ref)
nodes = two["nodes"]
assert len(nodes) == 2, nodes
off = two["config"]["offload"]
assert off["layers_offloaded"] == off["layers_total"] == sum(n["layers"] for n in nodes), (off, nodes)
for n in nodes:
    assert n["layers"] >= 1 and n["model_mib"] > 0 and n["compute_buffer_mib"] > 0, n
    assert n["device"]["hostname"] and n["device"]["iface"] == "lo", n
    assert 0 <= n["clock_uncertainty_ms"] < 50 and n["rtt_ms"] > 0, n
    assert "energy_source" in n or n["energy_not_available"], n
    g = n["phases"]["generation"]
    assert g["compute_s"] > 0 and g["sent_bytes"] > 0 and g["received_bytes"] > 0, g
    assert g["peak_rss_mib"] > 0 and g["iface_tx_bytes"] > 0, g
d = two["distributed"]["generation"]
assert d["wall_s_per_token"] > 0 and d["network_wait_s_per_token_estimate"] is not None, d
assert d["bytes_per_token"] > 0, d
open(sys.argv[2].rsplit("/", 1)[0] + "/two.txt", "w").write(
    "tokens equal to one process's; layers %s; wait %.3f of %.3f ms a token (estimate), %.0f bytes a token; clock offsets %s ms" % (
        [n["layers"] for n in nodes], d["network_wait_s_per_token_estimate"] * 1e3,
        d["wall_s_per_token"] * 1e3, d["bytes_per_token"],
        ["%.3f+-%.3f" % (n["clock_offset_ms"], n["clock_uncertainty_ms"]) for n in nodes]))
PY

# 2. qwen2-0.5b with every layer on three nodes
q=(--preset qwen2-0.5b --type Q4_0 --idle-s 0 -q -n 12 --reps 1 --warmup 0 --no-store --format json)
"$eb" run "${q[@]}" --repack=off -o "$work/q1.json" 2>"$work/err" &&
  "$eb" run "${q[@]}" --rpc "$(ep $p1),$(ep $p2),$(ep $p3)" -o "$work/q3.json" 2>>"$work/err"
rc=$?
python3 - "$work/q1.json" "$work/q3.json" <<'PY' && [ "$rc" -eq 0 ] && ok "qwen2-0.5b on 3 nodes: $(cat "$work/q3.txt")" || bad "qwen2-0.5b on 3 nodes (exit $rc): $(cat "$work/err")"
import json, sys
one, three = (json.load(open(p)) for p in sys.argv[1:3])
assert three["reps"][0]["gen_tokens"] == one["reps"][0]["gen_tokens"], (three["reps"][0]["gen_tokens"], one["reps"][0]["gen_tokens"])
nodes = three["nodes"]
off = three["config"]["offload"]
assert len(nodes) == 3 and all(n["layers"] >= 1 for n in nodes), nodes
assert sum(n["layers"] for n in nodes) == off["layers_total"] == off["layers_offloaded"] == 25, (off, nodes)
open(sys.argv[2].rsplit("/", 1)[0] + "/q3.txt", "w").write(
    "all %d layers on the nodes %s, 12 tokens equal to one process's" % (off["layers_total"], [n["layers"] for n in nodes]))
PY

# 3. a model that does not fit one node's --mem runs across two
m1=$((base + 3)) m2=$((base + 4))
start_node "$m1" --threads 1 --mem 400 && start_node "$m2" --threads 1 --mem 400
qm=("${q[@]}" -b 64 --ubatch 64)
"$eb" run "${qm[@]}" --rpc "$(ep $m1)" -o "$work/m1.json" >"$work/m1.out" 2>&1
rc1=$?
"$eb" run "${qm[@]}" --rpc "$(ep $m1),$(ep $m2)" -o "$work/m2.json" 2>"$work/err"
rc2=$?
python3 - "$work/m2.json" <<'PY' && [ "$rc1" -ne 0 ] && grep -q "does not fit" "$work/m1.out" && [ "$rc2" -eq 0 ] && ok "qwen2-0.5b refused on one 400 MiB node, ran on two: $(cat "$work/m2.txt")" || bad "memory split (exit $rc1, $rc2): $(cat "$work/m1.out" "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
nodes = r["nodes"]
peaks = [max(p["peak_rss_mib"] or 0 for p in n["phases"].values()) for n in nodes]
assert all(n["device"]["mem_limit_mib"] == 400 and n["device"]["mem_limit_by"] for n in nodes), nodes
assert all(0 < p < 400 for p in peaks), peaks
open(sys.argv[1].rsplit("/", 1)[0] + "/m2.txt", "w").write(
    "layers %s, peak RSS %s MiB under %s" % ([n["layers"] for n in nodes], ["%.0f" % p for p in peaks], nodes[0]["device"]["mem_limit_by"]))
PY

# 4. refusals: no node there, more nodes asked than listed
"$eb" run "${tiny[@]}" --rpc 127.0.0.1:$((base + 19)) -n 4 --reps 1 --no-store >"$work/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "edgebench node --port $((base + 19))" "$work/out" && ok "refused: no node at the address (says to start one)" || bad "no node (exit $rc): $(cat "$work/out")"
"$eb" run "${tiny[@]}" --rpc "$(ep $p1)" --rpc-nodes 2 -n 4 --reps 1 --no-store >"$work/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "rpc_nodes=2" "$work/out" && ok "refused: rpc_nodes beyond the list" || bad "rpc_nodes (exit $rc): $(cat "$work/out")"

# 5. a sweep over the number of nodes; analyze distributed and Fig. 21
cat >"$work/nodes.ini" <<EOF
[global]
preset = tiny-llama
n_gen = 16
reps = 2
warmup = 1
pause = 0
idle_s = 0
rpc = $(ep $p1),$(ep $p2),$(ep $p3)
rpc_nodes = 0, 1, 2, 3
link = loopback
EOF
"$eb" sweep "$work/nodes.ini" --results "$work/nodes.jsonl" >"$work/out" 2>&1 &&
  "$eb" analyze distributed --format json >"$work/dist.json" 2>>"$work/out" &&
  "$eb" report -o "$work/report" >>"$work/out" 2>&1
rc=$?
python3 - "$work/dist.json" <<'PY' && [ "$rc" -eq 0 ] && [ -f "$work/report/fig21_rpc_tps.svg" -o -f "$work/report/fig21_rpc_tps.png" ] && ok "sweep over 0-3 nodes: $(cat "$work/dist.txt")" || bad "nodes sweep (exit $rc): $(cat "$work/out")"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["model"].startswith("tiny")]
by = {(int(r["nodes"]), r["link"]): r for r in rows}
assert set(by) >= {(0, "one process"), (1, "loopback"), (2, "loopback"), (3, "loopback")}, by.keys()
assert abs(float(by[(0, "one process")]["vs_one_process"]) - 1) < 1e-9, by
for k in (1, 2, 3):
    r = by[(k, "loopback")]
    assert float(r["gen_tps"]) > 0 and float(r["net_wait_ms_tok_estimate"]) >= 0 and float(r["bytes_tok"]) > 0, r
open(sys.argv[1].rsplit("/", 1)[0] + "/dist.txt", "w").write(
    "t/s vs one process %s" % ", ".join("%d nodes %.3f" % (k, float(by[(k, "loopback")]["vs_one_process"])) for k in (1, 2, 3)))
PY

# kill_when FILE PATTERN TENTHS SETTLE VICTIM JOB: once FILE has PATTERN
# (or TENTHS x 0.1 s passed) and SETTLE s more, SIGKILL VICTIM; JOB's status
kill_when() {
  for _ in $(seq 1 "$3"); do grep -q "$2" "$1" && break; sleep 0.1; done
  sleep "$4"
  kill -9 "$5"
  wait "$6"
}

# 6. a node killed mid-trial: that trial fails with the reason, the next runs
k1=$((base + 5)) k2=$((base + 6))
start_node "$k1" --threads 1 && start_node "$k2" --threads 1 || bad "kill test: nodes did not start"
victim=$node_pid
cat >"$work/kill.ini" <<EOF
[global]
preset = tiny-llama
n_gen = 6000
ctx = 6400
reps = 1
warmup = 0
pause = 0
idle_s = 0
rpc = $(ep $k1),$(ep $k2)
rpc_nodes = 2, 0
EOF
"$eb" sweep "$work/kill.ini" --results "$work/kill.jsonl" >"$work/kill.out" 2>&1 &
kill_when "$work/node-$k2.log" "Accepted client" 100 2 "$victim" $!
rc=$?
python3 - "$work/kill.jsonl" <<'PY' && ok "node killed mid-trial: $(cat "$work/kill.txt")" || bad "node killed (sweep exit $rc): $(cat "$work/kill.out")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
recs = [r for r in recs if r.get("status") in ("ok", "failed")]
status = [r["status"] for r in recs]
assert status == ["failed", "ok"], status
reason = recs[0].get("reason", "")
assert "RPC node" in reason, reason
open(sys.argv[1].rsplit("/", 1)[0] + "/kill.txt", "w").write(
    "trial 1 failed (%s), trial 2 ok" % reason[:120])
PY

# 6b. a node killed in a single run after its first repetition: the run
# fails with the reason instead of aborting, and the repetitions finished
# before are written and stored with the failure
kr=$((base + 8))
start_node "$kr" --threads 1 || bad "single-run kill: node did not start"
victim=$node_pid
"$eb" run --preset tiny-llama --type Q4_0 --idle-s 0 --rpc "$(ep $kr)" -n 400 --reps 8 --warmup 0 --format json -o "$work/killed.json" \
  --store "$work/killed.db" 2>"$work/killed.err" &
kill_when "$work/killed.err" "run 2/8" 300 0.5 "$victim" $!
rc=$?
"$eb" results --store "$work/killed.db" --format json >"$work/killed-results.json" 2>>"$work/killed.err"
# the run's own JSON, imported elsewhere, keeps the failure too
"$eb" import --store "$work/killed-import.db" "$work/killed.json" 2>>"$work/killed.err" &&
  "$eb" results --store "$work/killed-import.db" --format json >"$work/killed-imported.json" 2>>"$work/killed.err"
python3 - "$work/killed.json" "$work/killed-results.json" "$rc" "$work/killed-imported.json" <<'PY' && ok "node killed in a single run: $(cat "$work/killed.txt")" || bad "single-run kill (exit $rc): $(tail -5 "$work/killed.err")"
import json, sys
r = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
rows = rows if isinstance(rows, list) else rows.get("rows", rows.get("trials", []))
assert sys.argv[3] == "1", "exit status %s (134: the process aborted)" % sys.argv[3]
err = open(sys.argv[1].rsplit("/", 1)[0] + "/killed.err").read()
assert "Sanitizer" not in err and "runtime error" not in err, err[-2000:]
assert r["status"] == "failed" and "RPC node" in r["failure"] and r["reps_planned"] == 8, r.get("failure")
assert 1 <= len(r["reps"]) < 8 and all(x["gen_tps"] > 0 for x in r["reps"]), len(r["reps"])
assert len(rows) == 1 and rows[0]["status"] == "failed" and int(rows[0]["runs"]) == len(r["reps"]), rows
imp = json.load(open(sys.argv[4]))
assert len(imp) == 1 and imp[0]["status"] == "failed" and "RPC node" in imp[0]["reason"], imp
open(sys.argv[1].rsplit("/", 1)[0] + "/killed.txt", "w").write(
    "exit 1, %d of 8 repetitions written and stored with \"%s\"" % (len(r["reps"]), r["failure"][:90]))
PY

# 7. shaped links between network namespaces (root only)
ns_reason=""
if [ "$(id -u)" -ne 0 ]; then
  ns_reason="not root"
elif ! ip netns add "eb$$" 2>/dev/null; then
  ns_reason="ip netns add failed (no network namespaces here)"
else
  netns="eb$$"
  a="eb$$a" b="eb$$b"
  if ! { ip link add "$a" type veth peer name "$b" && ip link set "$b" netns "$netns" &&
    ip addr add 10.213.7.1/24 dev "$a" && ip link set "$a" up &&
    ip netns exec "$netns" ip addr add 10.213.7.2/24 dev "$b" &&
    ip netns exec "$netns" ip link set "$b" up && ip netns exec "$netns" ip link set lo up; } 2>"$work/ns.err"; then
    ns_reason="veth pair: $(head -c 200 "$work/ns.err")"
  fi
fi
if [ -n "$ns_reason" ]; then
  skip "shaped links: $ns_reason"
else
  np=$((base + 7))
  ip netns exec "$netns" "$eb" node --host 10.213.7.2 --port "$np" --threads 1 >"$work/node-ns.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "control on" "$work/node-ns.log" && break; sleep 0.1; done
  shaped_run() { # NAME MBIT(0: none) -> a JSON file
    "$eb" run "${tiny[@]}" --rpc "10.213.7.2:$np" --link "$1" --link-mbit "$2" -n 32 --reps 3 \
      --warmup 1 --no-store --format json -o "$work/link-$1.json" 2>>"$work/ns.err"
  }
  shape() { # QDISC ARGS... on both ends
    tc qdisc replace dev "$a" root "$@" && ip netns exec "$netns" tc qdisc replace dev "$b" root "$@"
  }
  shaped_run veth 0 && shape tbf rate 100mbit burst 64kb latency 200ms && shaped_run 100mbit 100
  rc=$?
  python3 - "$work/link-veth.json" "$work/link-100mbit.json" <<'PY' && [ "$rc" -eq 0 ] && ok "namespace link shaped to 100 Mbit/s (tbf): $(cat "$work/link.txt")" || bad "shaped link (exit $rc): $(cat "$work/ns.err" "$work/node-ns.log" | tail -20)"
import json, sys
fast, slow = (json.load(open(p)) for p in sys.argv[1:3])
f, s = fast["distributed"]["generation"], slow["distributed"]["generation"]
assert fast["nodes"][0]["device"]["iface"].startswith("eb"), fast["nodes"][0]["device"]
grow = s["network_wait_s_per_token_estimate"] - f["network_wait_s_per_token_estimate"]
pred = s["predicted_transfer_s_per_token"]
ratio = grow / pred
assert 0.4 < ratio < 1.6, (grow, pred, f, s)
open(sys.argv[1].rsplit("/", 1)[0] + "/link.txt", "w").write(
    "network wait %.2f -> %.2f ms a token, growth %.2f ms against %.2f ms predicted by %.0f bytes a token at 100 Mbit/s (ratio %.2f)" % (
        f["network_wait_s_per_token_estimate"] * 1e3, s["network_wait_s_per_token_estimate"] * 1e3,
        grow * 1e3, pred * 1e3, s["bytes_per_token"], ratio))
PY
  if shape netem delay 5ms 2>/dev/null; then
    shaped_run delay5ms 0 && shape netem delay 1ms && shaped_run delay1ms 0
    rc=$?
    python3 - "$work/link-delay1ms.json" "$work/link-delay5ms.json" <<'PY' && [ "$rc" -eq 0 ] && ok "namespace link with netem delay: $(cat "$work/delay.txt")" || bad "netem delay (exit $rc)"
import json, sys
a, b = (json.load(open(p))["distributed"]["generation"] for p in sys.argv[1:3])
grow = b["network_wait_s_per_token_estimate"] - a["network_wait_s_per_token_estimate"]
# each exchange crosses the link twice: at least one round trip a token, 8 ms more
assert grow > 0.006, (a, b)
open(sys.argv[1].rsplit("/", 1)[0] + "/delay.txt", "w").write(
    "delay 1 -> 5 ms each way: network wait grew %.1f ms a token (%.1f round trips)" % (grow * 1e3, grow / 0.008))
PY
  else
    skip "netem delay: the kernel has no netem qdisc (tc: $(tc qdisc add dev "$a" root netem delay 1ms 2>&1 | head -c 120)); the relay below delays instead"
  fi
fi

# 8. a link delay in user space (no root, loopback only): a relay holds each
# chunk D ms each way and counts the round trips the coordinator waited on.
# The wait a token must grow by (round trips a token) x 2 x (11 - 1) ms, the
# round trips a token counted by the relay over two runs that differ only in
# the number of tokens generated.
relay_run() { # DELAY_MS N_GEN NAME: a run through a fresh relay -> NAME.json, NAME.turns
  local rp=$((base + 10)) pid
  python3 "$(dirname "$0")/../support/delay_relay.py" "$1" "$work/$3.stats" \
    "$rp:127.0.0.1:$p1" "$((rp + 1000)):127.0.0.1:$((p1 + 1000))" 2>"$work/relay.err" &
  pid=$!
  for _ in $(seq 1 50); do [ -s "$work/$3.stats" ] && break; sleep 0.1; done
  "$eb" run "${tiny[@]}" --rpc "127.0.0.1:$rp" --link "relay-$1ms" --link-delay-ms "$1" -n "$2" --reps 2 \
    --warmup 1 --no-store --format json -o "$work/$3.json" 2>>"$work/relay.err"
  local rc=$?
  sleep 0.3
  kill "$pid"
  wait "$pid" 2>/dev/null
  return $rc
}
relay_run 1 8 d1n8 && relay_run 1 24 d1n24 && relay_run 11 24 d11n24
rc=$?
python3 - "$work" <<'PY' && [ "$rc" -eq 0 ] && ok "link delay by a user-space relay: $(cat "$work/relay.txt")" || bad "relay delay (exit $rc): $(tail -5 "$work/relay.err")"
import json, sys
w = sys.argv[1]
turns = {k: json.load(open(f"{w}/{k}.stats"))["turns"] for k in ("d1n8", "d1n24", "d11n24")}
runs = {k: json.load(open(f"{w}/{k}.json")) for k in turns}
gen = lambda k: runs[k]["distributed"]["generation"]
# 3 passes (warmup + 2 reps) of 16 more tokens each
per_token = (turns["d1n24"] - turns["d1n8"]) / (3 * 16)
assert per_token >= 1, turns
grow = gen("d11n24")["network_wait_s_per_token_estimate"] - gen("d1n24")["network_wait_s_per_token_estimate"]
pred = per_token * 2 * 0.010
assert 0.5 < grow / pred < 1.6, (grow, pred, turns)
assert runs["d11n24"]["distributed"]["link_delay_ms"] == 11, runs["d11n24"]["distributed"]
open(f"{w}/relay.txt", "w").write(
    "1 -> 11 ms each way: network wait %.1f -> %.1f ms a token, growth %.1f ms against %.1f predicted by "
    "%.2f round trips a token (ratio %.2f)" % (gen("d1n24")["network_wait_s_per_token_estimate"] * 1e3,
    gen("d11n24")["network_wait_s_per_token_estimate"] * 1e3, grow * 1e3, pred * 1e3, per_token, grow / pred))
PY

finish
