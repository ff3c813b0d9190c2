#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: `start DIR` makes a cluster
# in DIR (trust authentication, a Unix socket in DIR, no TCP) and creates the
# databases the tests use; `stop DIR` stops it and removes DIR. The server
# comes from Debian's postgresql package (scripts/deps.sh installs it).
set -euo pipefail
cmd=$1 dir=$2
port=54329
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "pg_server: no PostgreSQL server installed (scripts/deps.sh installs postgresql)" >&2; exit 1; }
# The server refuses to run as root: it runs as the package's postgres user.
as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  if [ -f "$dir/data/postmaster.pid" ]; then as "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  as "$bin/initdb" -D "$dir/data" -U edgebench --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses='' -p $port -c fsync=off -c max_connections=50" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  for db in unit e2e ro plans fleet writers; do "$bin/createdb" -h "$dir" -p $port -U edgebench "$db"; done
  echo "pg_server: up on $dir port $port"
  ;;
stop)
  [ -d "$dir/data" ] && as "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: pg_server.sh start|stop DIR" >&2; exit 2 ;;
esac
