# Sourced by the end-to-end tests that start `edgebench node`s (after
# e2e_common.sh): start_node PORT [node options...] starts one, its log in
# $work/node-PORT.log, its pid in node_pid and appended to pids, and
# returns once its control port answers. NODE_NOFILE, when set, is the
# node's descriptor limit.
start_node() {
  local port=$1
  shift
  (
    [ -z "${NODE_NOFILE:-}" ] || ulimit -n "$NODE_NOFILE"
    exec "$eb" node --port "$port" "$@"
  ) >"$work/node-$port.log" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
  for _ in $(seq 1 100); do
    grep -q "control on" "$work/node-$port.log" && return 0
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "node on $port did not start: $(cat "$work/node-$port.log")"
  return 1
}
