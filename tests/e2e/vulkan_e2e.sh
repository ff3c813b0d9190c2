#!/usr/bin/env bash
# The Vulkan path on Mesa's software Vulkan (lavapipe): the Vulkan variant of
# the pinned llama.cpp (EDGEBENCH_VULKAN=ON scripts/llama-setup.sh; built
# once into the same cache as edgebench's own build, with its recorded
# patch), reached with --build vulkan; its devices listed; a greedy run of
# the tiny preset giving the same tokens on the CPU and on Vulkan; a sweep
# over backend = cpu, vulkan, cuda stored and analysed, the backend the
# machine lacks a failed trial with its reason.
eb=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/../support/e2e_common.sh"
if [ -n "${EB_SANITIZED:-}" ]; then
  skip "the Vulkan path under $EB_SANITIZED: Mesa's lavapipe is not ours to sanitize (make check runs it)"
  finish
  exit $?
fi
if ! command -v glslc >/dev/null || ! [ -e /usr/include/vulkan/vulkan.h ]; then
  skip "no glslc or Vulkan headers (scripts/deps.sh installs them)"
  finish
  exit $?
fi
# the arm64 build under qemu-user takes the arm64 variant and arm64 lavapipe
target=() icd=lvp_icd.x86_64.json
if [ -n "${EB_EMULATED:-}" ]; then
  target=(EDGEBENCH_TARGET=arm64) icd=lvp_icd.aarch64.json
fi
if ! [ -e "/usr/share/vulkan/icd.d/$icd" ]; then
  skip "no lavapipe ($icd: mesa-vulkan-drivers${EB_EMULATED:+:arm64})"
  finish
  exit $?
fi
# the cache edgebench's own build lives in
own=$("$eb" run --list-devices | sed -n 's/^(build: .* in \([^,]*\), patches.*/\1/p')
cache=$(dirname "$(dirname "$own")")
prefix=$(env "${target[@]}" EDGEBENCH_CACHE="$cache" EDGEBENCH_VULKAN=ON "$src/scripts/llama-setup.sh" 2>"$work/setup.err" | tail -n 1)
if [ -z "$prefix" ] || ! [ -f "$prefix/lib/libggml-vulkan.so" ]; then
  bad "the Vulkan variant did not build: $(tail -3 "$work/setup.err")"
  finish
  exit $?
fi
grep -q '^patches=vulkan-debian12.patch' "$prefix/build-info.txt" &&
  ok "Vulkan variant in $prefix; its record names its patch" || bad "build record: $(cat "$prefix/build-info.txt")"

# lavapipe is a CPU-type Vulkan device: llama.cpp lists it only when asked
"$eb" run --build vulkan --list-devices >"$work/hidden.txt" 2>&1
grep -q 'GGML_VK_VISIBLE_DEVICES' "$work/hidden.txt" && ok "--list-devices says why lavapipe is not listed" ||
  bad "hidden lavapipe not explained: $(cat "$work/hidden.txt")"
export GGML_VK_VISIBLE_DEVICES=0
"$eb" run --build vulkan --list-devices >"$work/dev.txt" 2>&1
grep -q "^Vulkan0 .*llvmpipe" "$work/dev.txt" && grep -q "in $prefix" "$work/dev.txt" &&
  ok "--build vulkan --list-devices: $(grep '^Vulkan0' "$work/dev.txt" | tr -s ' ')" ||
  bad "--list-devices: $(cat "$work/dev.txt")"

grep -Eq "^ +driver: Vulkan 1\.[0-9]+\.[0-9]+, llvmpipe Mesa " "$work/dev.txt" &&
  ok "the Vulkan loader's API and driver versions: $(grep 'driver:' "$work/dev.txt" | tr -s ' ')" ||
  bad "no driver line: $(cat "$work/dev.txt")"

EDGEBENCH_VULKAN_LIB=/nonexistent/libvulkan.so.1 "$eb" run --build vulkan --list-devices >"$work/nodrv.txt" 2>&1
grep -q "^ *driver: driver not available: no Vulkan loader: /nonexistent/libvulkan.so.1" "$work/nodrv.txt" &&
  ok "a loader that cannot be opened: the driver line says so" || bad "no loader: $(cat "$work/nodrv.txt")"

if [ -n "${EB_EMULATED:-}" ]; then
  # arm64 under qemu-user: a sweep over the backend, stored; on Vulkan the
  # tokens equal the CPU's, or the trial failed with the driver's own
  # reason (Debian 12's arm64 lavapipe, LLVM 15, stops on ggml's shaders
  # here: "LLVM ERROR: Cannot select ... fp_extend")
  sw=(--build vulkan --preset tiny-llama --type F16 -n 8 --n-prompt 16 --reps 1 --warmup 0 -t 2 --pause 0 -q)
  "$eb" run "${sw[@]}" --backend cpu,vulkan --results "$work/sweep.jsonl" >"$work/sw.out" 2>"$work/sw.err"
  python3 - "$work/store.db" <<'PY' >"$work/msg" 2>&1 && ok "arm64 sweep backend = cpu, vulkan: $(cat "$work/msg")" || bad "arm64 backend sweep: $(cat "$work/msg") $(tail -3 "$work/sw.err")"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT t.backend, t.status, t.reason, r.record_json FROM trials t"
                  " LEFT JOIN trial_records r ON r.trial_id = t.id ORDER BY t.id").fetchall()
assert [(b, s) for b, s, _, _ in rows][:1] == [("cpu", "ok")] and len(rows) == 2, rows
b, s, why, rec = rows[1]
assert b == "vulkan", rows
if s == "ok":
    toks = [[x["gen_tokens"] for x in json.loads(r)["result"]["reps"]] for _, _, _, r in rows]
    assert toks[0] == toks[1], toks
    print("cpu ok, vulkan ok with the same tokens")
else:
    assert s == "failed" and why and "no message" not in why and "qemu:" not in why, why
    print("cpu ok, vulkan failed with the driver's reason: " + why[-110:])
PY
  finish
  exit $?
fi

# greedy tokens: the CPU against Vulkan (F16 weights; see README for Q4_0)
f16=(--build vulkan --preset tiny-llama --type F16 -n 16 --n-prompt 32 --reps 1 --warmup 0 -t 2 --pause 0 -q)
"$eb" run "${f16[@]}" --backend cpu --format json -o "$work/cpu.json" 2>"$work/cpu.err" &&
  "$eb" run "${f16[@]}" --backend vulkan --format json -o "$work/vk.json" 2>"$work/vk.err"
rc=$?
python3 - "$work/cpu.json" "$work/vk.json" "$prefix" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "greedy tokens equal: $(cat "$work/msg")" || bad "CPU vs Vulkan (exit $rc): $(cat "$work/msg" "$work/vk.err")"
import json, re, sys
c, v = (json.load(open(f)) for f in sys.argv[1:3])
tc = [r["gen_tokens"] for r in c["reps"]]
tv = [r["gen_tokens"] for r in v["reps"]]
assert tc == tv, (tc, tv)
off = v["config"]["offload"]
assert off["layers_offloaded"] == off["layers_total"] > 0, off
assert "Vulkan" in v["engine"]["backend"], v["engine"]["backend"]
assert "GGML_VULKAN=ON" in v["engine"]["build_options"], "the record names another build"
assert c["config"]["offload"]["layers_offloaded"] == 0
# the driver and API version the Vulkan loader gives, beside the device
assert re.fullmatch(r"Vulkan0: Vulkan 1\.\d+\.\d+, llvmpipe Mesa \d+\.\d+.*", off["drivers"]), off["drivers"]
assert c["config"]["offload"]["drivers"] == ""
print("%d tokens, every layer on %s (%s); generation %.1f t/s on the CPU, %.1f on lavapipe"
      % (len(tc[0]), off["devices"], off["drivers"], c["summary"]["gen_tps"]["mean"], v["summary"]["gen_tps"]["mean"]))
PY

# the server engine on the Vulkan build: its own llama-server, given the device
"$eb" run --build vulkan --engine server --backend vulkan --preset tiny-llama --type F16 -n 8 --requests 2 -t 2 \
  --pause 0 -q --no-store --format json -o "$work/srv.json" 2>"$work/srv.err"
rc=$?
python3 - "$work/srv.json" "$prefix" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "--engine server --build vulkan: $(cat "$work/msg")" || bad "server on the Vulkan build (exit $rc): $(cat "$work/msg") $(tail -3 "$work/srv.err")"
import json, sys
r = json.load(open(sys.argv[1]))
cmd = r["server"]["command"]
assert r["status"] == "ok", r["status"]
assert cmd.startswith(sys.argv[2] + "/bin/llama-server "), cmd
assert " -dev Vulkan0 " in cmd, cmd
print("%s/bin/llama-server -dev Vulkan0, %d requests ok" % (sys.argv[2], r["serving"]["ok"]))
PY

# a sweep over the backend, one the machine lacks among them: stored, the
# two that ran with the same tokens
sw=(--build vulkan --preset tiny-llama --type F16 -n 16 --n-prompt 32 --reps 2 --warmup 1 -t 2 --pause 0 -q)
"$eb" run "${sw[@]}" --backend cpu,vulkan,cuda --results "$work/sweep.jsonl" >"$work/sw.out" 2>"$work/sw.err"
python3 - "$work/store.db" <<'PY' >"$work/msg" 2>&1 && ok "sweep backend = cpu, vulkan, cuda: $(cat "$work/msg")" || bad "backend sweep: $(cat "$work/msg") $(tail -3 "$work/sw.err")"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT t.id, t.backend, t.status, t.reason, r.record_json FROM trials t"
                  " LEFT JOIN trial_records r ON r.trial_id = t.id WHERE t.id > 2 ORDER BY t.id").fetchall()
drivers = [d for (d,) in db.execute("SELECT device_drivers FROM trials WHERE id > 2 ORDER BY id")]
assert drivers[0] is None and "llvmpipe Mesa" in drivers[1], drivers
assert [(b, s) for _, b, s, _, _ in rows] == [("cpu", "ok"), ("vulkan", "ok"), ("cuda", "failed")], rows
assert "no cuda device" in rows[2][3], rows[2][3]
toks = [[x["gen_tokens"] for x in json.loads(rec)["result"]["reps"]] for _, _, _, _, rec in rows[:2]]
assert toks[0] == toks[1], toks
print("cpu ok, vulkan ok with the same %d tokens in each of %d runs, cuda failed: %s"
      % (len(toks[0][0]), len(toks[0]), rows[2][3][-60:]))
PY
# the device out of memory (a context larger than lavapipe's heap): llama.cpp
# aborts, and in a sweep that is a failed trial with its reason, the sweep
# going on
"$eb" run --build vulkan --backend vulkan --preset tiny-llama --type F16 -n 4 --reps 1 --warmup 0 \
  -c 4000000,512 --pause 0 --store "sqlite:$work/oom.db" --results "$work/oom.jsonl" -q >/dev/null 2>"$work/oom.err"
rc=$?
why=$(sqlite3 "$work/oom.db" "SELECT group_concat(status || ': ' || COALESCE(reason, ''), ' | ') FROM (SELECT * FROM trials ORDER BY id)" 2>/dev/null)
printf '%s' "$why" | grep -q '^failed: .*Vulkan0.* | ok: $' &&
  ok "the Vulkan device out of memory: a failed trial with llama.cpp's reason (${why:0:140})" ||
  bad "device OOM (exit $rc): '$why' $(tail -2 "$work/oom.err")"

# a sweep over builds: edgebench's own and the Vulkan one, in one plan
"$eb" run --build default,vulkan --preset tiny-llama --type F16 -n 8 --reps 1 --warmup 0 -t 2 --pause 0 \
  --store "sqlite:$work/builds.db" --results "$work/builds.jsonl" -q >/dev/null 2>"$work/b.err"
builds=$(sqlite3 "$work/builds.db" "SELECT group_concat(t.status || ':' || b.backend || ':' || (instr(b.build_options, 'GGML_VULKAN=ON') > 0), ' ') FROM (SELECT * FROM trials ORDER BY id) t JOIN builds b ON b.id = t.build_id")
[ "$builds" = "ok:CPU:0 ok:Vulkan,CPU:1" ] && ok "sweep build = default, vulkan: each trial ran on its build and names it ($builds)" ||
  bad "build sweep: '$builds' $(tail -3 "$work/b.err")"
"$eb" analyze optimal --format csv >"$work/opt.csv" 2>"$work/opt.err"
grep -q 'backend vulkan' "$work/opt.csv" && grep -q 'backend cpu' "$work/opt.csv" &&
  ok "analyze optimal keeps the backends apart" || bad "analyze optimal: $(head -5 "$work/opt.csv") $(cat "$work/opt.err")"
"$eb" report --output "$work/report" >/dev/null 2>"$work/rep.err"
grep -q 'What ran where' "$work/report/summary.md" && grep -A12 'What ran where' "$work/report/summary.md" | grep -q 'cuda .*failed' &&
  grep -A12 'What ran where' "$work/report/summary.md" | grep -q 'vulkan .*llvmpipe Mesa' &&
  ok "report: what ran where, the Vulkan driver, the failed backend with its reason" || bad "report: $(cat "$work/rep.err")"
finish
