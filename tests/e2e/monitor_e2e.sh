#!/usr/bin/env bash
# edgebench monitor under tmux (a real terminal, ncurses): on the Jetson
# Orin Nano fixture the INA3221 rails and the total shown are the fixture's
# (mV x mA computed here from its files); on the Pi 5 fixture (vcgencmd
# standing in, printing the fixture's pmic_read_adc) the PMIC rails and the
# throttling flags; q quits. Then --once plain text and --once --format json,
# and a running `edgebench run` seen with its phase.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
fix=$(cd "$(dirname "$0")/../fixtures" && pwd)
export EDGEBENCH_CACHE="$work/cache"
mkdir -p "$EDGEBENCH_CACHE"
if ! command -v tmux >/dev/null; then
  skip "no tmux (Debian's tmux): the terminal checks"
  finish
  exit $?
fi
sess=ebmon$$
trap 'tmux kill-session -t "$sess" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# screen ROOT [ENV=...]: the monitor in a 120x40 tmux pane; the pane's text
screen() {
  local root=$1
  shift
  tmux new-session -d -s "$sess" -x "${COLS:-120}" -y "${ROWS:-40}" \
    "env TERM=xterm EDGEBENCH_CACHE='$EDGEBENCH_CACHE' $* '$eb' monitor --sysfs-root '$root' --interval 200"
  for _ in $(seq 1 50); do
    sleep 0.2
    tmux capture-pane -p -t "$sess" >"$work/pane" 2>/dev/null
    grep -q "^power" "$work/pane" && grep -q "^memory" "$work/pane" && break
  done
  sleep 0.5 # a refresh after the first
  tmux capture-pane -p -t "$sess" >"$work/pane"
}
quits() {
  tmux send-keys -t "$sess" q
  for _ in $(seq 1 25); do
    tmux has-session -t "$sess" 2>/dev/null || return 0
    sleep 0.2
  done
  return 1
}

# 1. Jetson: every INA3221 rail and the total, as the fixture's files give them
jet=$fix/jetson-orin-nano
screen "$jet"
python3 - "$jet" "$work/pane" <<'PY' && ok "Jetson fixture under tmux: $(cat "$work/jet.txt")" || bad "Jetson screen: $(cat "$work/pane")"
import glob, os, re, sys
root, pane = sys.argv[1], open(sys.argv[2]).read()
rails = {}
for d in glob.glob(root + "/sys/class/hwmon/hwmon*"):
    if open(d + "/name").read().strip() != "ina3221":
        continue
    for lab in glob.glob(d + "/in*_label"):
        k = re.search(r"in(\d+)_label", lab).group(1)
        mv = int(open(f"{d}/in{k}_input").read())
        ma = int(open(f"{d}/curr{k}_input").read())
        rails[open(lab).read().strip()] = mv * ma / 1e6
assert rails, "no INA3221 rails in the fixture"
for name, w in rails.items():
    m = re.search(r"ina3221:%s\s+([0-9.]+) W" % re.escape(name), pane)
    assert m and abs(float(m.group(1)) - w) < 0.0005, (name, w, m and m.group(1))
t = re.search(r"power\s+total ([0-9.]+) W \(ina3221:VDD_IN\)", pane)
assert t and abs(float(t.group(1)) - rails["VDD_IN"]) < 0.0005, pane
assert re.search(r"VDD_IN\s+[0-9.]+ W\s+device total", pane), pane
assert "GPU" in pane and "NvMap" in pane and "MHz" in pane and " C " in pane, pane
assert max(len(l) for l in pane.splitlines()) <= 120
open(os.path.dirname(sys.argv[2]) + "/jet.txt", "w").write(
    ", ".join("%s %.3f W" % kv for kv in sorted(rails.items())) + ", total %.3f W" % rails["VDD_IN"])
PY
quits && ok "q quits the monitor" || bad "q did not quit: $(tmux capture-pane -p -t "$sess")"
tmux kill-session -t "$sess" 2>/dev/null

# 2. Pi 5: the PMIC rails through vcgencmd, and the throttling flags
# (the fixture tree carries its own vcgencmd: no variable to set)
screen "$fix/pi5"
python3 - "$fix/pi5/pmic_read_adc.txt" "$work/pane" <<'PY' && ok "Pi 5 fixture under tmux: $(cat "$work/pi5.txt")" || bad "Pi 5 screen: $(cat "$work/pane")"
import os, re, sys
text, pane = open(sys.argv[1]).read(), open(sys.argv[2]).read()
amps = dict(re.findall(r"(\S+)_A current\(\d+\)=([0-9.]+)A", text))
volts = dict(re.findall(r"(\S+)_V volt\(\d+\)=([0-9.]+)V", text))
board = sum(float(a) * float(volts[k]) for k, a in amps.items() if k in volts)
core = float(amps["VDD_CORE"]) * float(volts["VDD_CORE"])
m = re.search(r"power\s+total ([0-9.]+) W \(pmic:board-rails\)", pane)
assert m and abs(float(m.group(1)) - board) < 0.0005, (board, pane)
m = re.search(r"pmic:VDD_CORE\s+([0-9.]+) W", pane)
assert m and abs(float(m.group(1)) - core) < 0.0005, (core, pane)
assert re.search(r"pmic:wall-estimate\s+[0-9.]+ W\s+ESTIMATE", pane), pane
assert "throttle 0x50005: under-voltage now" in pane, pane
open(os.path.dirname(sys.argv[2]) + "/pi5.txt", "w").write(
    "board rails %.3f W, VDD_CORE %.3f W, throttling 0x50005 named" % (board, core))
PY
quits || bad "q did not quit on the Pi 5 screen"
tmux kill-session -t "$sess" 2>/dev/null

# 3. not a terminal: plain text once; --once --format json for scripts
"$eb" monitor --once --sysfs-root "$jet" >"$work/plain" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] && grep -q "ina3221:VDD_IN" "$work/plain" && ! grep -q $'\e' "$work/plain" &&
  ok "--once: plain text, no terminal codes" || bad "--once (exit $rc): $(cat "$work/plain" "$work/err")"
"$eb" monitor --once --format json --sysfs-root "$jet" >"$work/m.json" 2>"$work/err"
rc=$?
python3 - "$work/m.json" <<'PY' && [ "$rc" -eq 0 ] && ok "--once --format json: rails, total, clocks, temperatures, memory" || bad "json (exit $rc): $(cat "$work/m.json" "$work/err")"
import json, sys
m = json.load(open(sys.argv[1]))
names = {r["name"] for r in m["power"]["rails"]}
assert {"ina3221:VDD_IN", "ina3221:VDD_SOC"} <= names, names
assert abs(m["power"]["total_w"] - 4.968 * 2.632) < 1e-6, m["power"]
assert m["clocks"] and m["temperatures"] and m["memory"]["nvmap_mib"] > 0, m
assert m["throttled"] is None and isinstance(m["not_available"], list), m
PY
"$eb" monitor --format json >"$work/out" 2>&1
[ $? -eq 2 ] && grep -q "give --once" "$work/out" && ok "refused: json without --once" || bad "json without --once: $(cat "$work/out")"

# 4. a running edgebench run: its phase and repetition, then its last t/s
"$eb" run --preset qwen2-0.5b --type Q4_0 -n 48 --reps 2 --idle-s 0 --no-store -q >/dev/null 2>"$work/run.err" &
run=$!
for _ in $(seq 1 100); do
  "$eb" monitor --once --format json >"$work/live.json" 2>/dev/null
  grep -q '"running":[[:space:]]*true' "$work/live.json" && grep -q '"phase":[[:space:]]*"generation"' "$work/live.json" && break
  sleep 0.1
done
wait "$run"
"$eb" monitor --once >"$work/after" 2>&1
python3 - "$work/live.json" "$work/after" <<'PY' && ok "a running run seen: $(cat "$work/live.txt")" || bad "run status: $(cat "$work/live.json" "$work/after" "$work/run.err")"
import json, os, sys
live = json.load(open(sys.argv[1]))["run"]
after = open(sys.argv[2]).read()
assert live["running"] and live["phase"] == "generation" and live["total"] == 3, live
assert "last (ended)" in after and "generation" in after and "t/s" in after, after
open(os.path.dirname(sys.argv[1]) + "/live.txt", "w").write(
    "pid %d in generation of repetition %d of %d; afterwards the last t/s" % (live["pid"], live["rep"], live["total"]))
PY


# 80x24: this machine's CPUs, per core, nothing cut, the history of the
# power (none here: a VM) and q still quits
COLS=80 ROWS=24 screen /
python3 - "$work/pane" <<'PY' >"$work/msg" 2>&1 && ok "80x24: $(cat "$work/msg")" || bad "80x24: $(cat "$work/msg") $(cat "$work/pane")"
import re, sys
pane = open(sys.argv[1]).read()
assert "q quits" in pane.splitlines()[0], pane.splitlines()[0]
assert re.search(r"^cpu\s+busy \d+% +other processes \d+%", pane, re.M), "no CPU line"
cores = re.findall(r"cpu(\d+) +\d+%", pane)
assert cores, "no per-core load"
print("CPU line and %d cores' load, 'q quits' on the first line" % len(cores))
PY
quits && ok "q quits at 80x24" || bad "q did not quit at 80x24"
tmux kill-session -t "$sess" 2>/dev/null

finish
