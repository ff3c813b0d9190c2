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
finish
