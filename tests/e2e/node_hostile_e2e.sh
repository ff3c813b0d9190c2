#!/usr/bin/env bash
# A real `edgebench node`'s control port against hostile clients
# (node_hostile.py): pipelining without reading, a 100 MB line, a flood of
# empty lines, another client's begin/end/window, a window in the future,
# many connections, and (a node started with few descriptors) EMFILE.
# Another client's `time` must be answered within 100 ms throughout.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
here=$(dirname "$0")
base=$((26000 + ($$ % 300) * 4))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

. "$here/../support/node_common.sh"

if start_node "$base" --threads 1; then
  python3 "$here/node_hostile.py" $((base + 1000)) "$node_pid" >"$work/hostile.out" 2>&1
  rc=$?
  cat "$work/hostile.out"
  pass=$((pass + $(grep -c '^ok ' "$work/hostile.out")))
  fail=$((fail + $(grep -c '^FAIL ' "$work/hostile.out")))
  [ "$rc" -eq 0 ] || grep -q '^FAIL ' "$work/hostile.out" || bad "node_hostile.py exited $rc"
  kill -0 "$node_pid" 2>/dev/null && ok "the node is still running" || bad "the node died: $(tail -3 "$work/node-$base.log")"
else
  bad "node did not start"
fi

if NODE_NOFILE=24 start_node $((base + 1)) --threads 1; then
  python3 "$here/node_hostile.py" --emfile $((base + 1001)) "$node_pid" >"$work/emfile.out" 2>&1
  rc=$?
  cat "$work/emfile.out"
  pass=$((pass + $(grep -c '^ok ' "$work/emfile.out")))
  fail=$((fail + $(grep -c '^FAIL ' "$work/emfile.out")))
  [ "$rc" -eq 0 ] || grep -q '^FAIL ' "$work/emfile.out" || bad "node_hostile.py --emfile exited $rc"
  grep -q "accept: Too many open files" "$work/node-$((base + 1)).log" && ok "the node said it ran out of descriptors" || bad "no EMFILE line in the node's log: $(tail -3 "$work/node-$((base + 1)).log")"
else
  bad "node with 24 descriptors did not start"
fi

# a node with a shared secret: nothing without it, a wrong one closes the
# connection, a coordinator given it ($EDGEBENCH_NODE_SECRET_FILE) runs
printf 'correct horse battery staple\n' >"$work/secret"
chmod 600 "$work/secret"
if start_node $((base + 2)) --threads 1 --secret-file "$work/secret"; then
  python3 - $((base + 1002)) <<'PY' >"$work/msg" 2>&1 && ok "secret: $(cat "$work/msg")" || bad "secret: $(cat "$work/msg")"
import json, socket, sys
port = int(sys.argv[1])
def session(lines):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    out = []
    for l in lines:
        try:
            s.sendall((json.dumps(l) + "\n").encode())
            r = f.readline()
        except (ConnectionResetError, BrokenPipeError):
            r = b""  # closed by the node: a reset when our next line reached it first
        out.append(json.loads(r) if r else None)
    s.close()
    return out
a = session([{"cmd": "time"}, {"cmd": "begin"}])
assert all("needs its secret" in (x or {}).get("error", "") for x in a), a
b = session([{"cmd": "hello", "secret": "wrong"}, {"cmd": "time"}])
assert "wrong secret" in b[0].get("error", "") and b[1] is None, b
c = session([{"cmd": "hello", "secret": "correct horse battery staple"}, {"cmd": "time"}])
assert "error" not in c[0] and "t" in c[1], c
print("refused without it, closed on a wrong one, answered with it")
PY
  EDGEBENCH_NODE_SECRET_FILE="$work/secret" "$eb" run --preset tiny-llama --type Q4_0 --idle-s 0 -q -n 4 --reps 1 \
    --rpc "127.0.0.1:$((base + 2))" --no-store >"$work/sec-run.txt" 2>&1 && ok "a coordinator with the secret file runs on it" || bad "run with the secret: $(tail -3 "$work/sec-run.txt")"
  "$eb" run --preset tiny-llama --type Q4_0 --idle-s 0 -q -n 4 --reps 1 --rpc "127.0.0.1:$((base + 2))" --no-store >"$work/nosec.txt" 2>&1
  [ $? -ne 0 ] && grep -q "needs its secret" "$work/nosec.txt" && ok "a coordinator without it is refused, told why" || bad "run without the secret: $(tail -3 "$work/nosec.txt")"
else
  bad "node with a secret did not start"
fi

finish
