# Sourced by end-to-end tests: a scratch directory removed on exit, a
# results store of its own in it (results of earlier test runs must not
# count), and the ok/bad tally that `finish` turns into the exit status.
set -u
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT # KEEP=1 keeps it to look at
export EDGEBENCH_STORE="sqlite:$work/store.db"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
