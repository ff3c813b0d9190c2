# Sourced by end-to-end tests: a scratch directory removed on exit, a
# results store of its own in it (results of earlier test runs must not
# count), the ok/bad/skip tally that `finish` turns into the exit status
# (0 all passed, 1 a check failed, 77 none failed but one could not run:
# ctest's SKIP_RETURN_CODE, so it shows the test skipped, never passed),
# and the one check of a refusal.
set -u
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT # KEEP=1 keeps it to look at
export EDGEBENCH_STORE="sqlite:$work/store.db"
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
finish() {
  echo "$pass passed, $fail failed, $skipped skipped"
  [ "$fail" -eq 0 ] || return 1
  [ "$skipped" -eq 0 ] || return 77
  return 0
}

# expect_error NAME CODE PATTERN -- ARGS...: `edgebench ARGS` is refused
# with exit CODE (any: any non-zero) and one line on stderr (progress lines
# aside) that holds PATTERN (grep's basic syntax).
expect_error() {
  local name=$1 code=$2 pattern=$3
  shift 4
  "$eb" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  local line
  line=$(grep -v '^edgebench: \(warm-up\|run\) ' "$work/err" | head -n 5)
  if { [ "$code" = any ] && [ "$rc" -ne 0 ] || [ "$rc" = "$code" ]; } &&
    [ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] && printf '%s' "$line" | grep -q -- "$pattern"; then
    ok "$name"
  else
    bad "$name (exit $rc, stderr: $line)"
  fi
}
