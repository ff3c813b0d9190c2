#!/usr/bin/env bash
# The Vulkan path on Mesa's software Vulkan (lavapipe): the cached Vulkan
# variant of the pinned llama.cpp (EDGEBENCH_VULKAN=ON scripts/llama-setup.sh;
# built once, with its recorded shader-guard patch), edgebench built against
# it, its devices listed, a greedy run of the tiny preset giving the same
# tokens on the CPU and on Vulkan, a sweep over backend = cpu, vulkan stored
# and analysed, and a device it lacks failing as a stored trial.
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/../support/e2e_common.sh"
if ! command -v glslc >/dev/null || ! [ -e /usr/include/vulkan/vulkan.h ]; then
  skip "no glslc or Vulkan headers (scripts/deps.sh installs them)"
  finish
  exit $?
fi
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  skip "no lavapipe (mesa-vulkan-drivers)"
  finish
  exit $?
fi
# the variant: cached outside the checkout, so built once on a machine
prefix=$(EDGEBENCH_CACHE="${EDGEBENCH_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgebench}" \
  EDGEBENCH_VULKAN=ON "$src/scripts/llama-setup.sh" 2>"$work/setup.err" | tail -n 1)
if [ -z "$prefix" ] || ! [ -f "$prefix/lib/libggml-vulkan.so" ]; then
  bad "the Vulkan variant did not build: $(tail -3 "$work/setup.err")"
  finish
  exit $?
fi
grep -q '^patches=vulkan-coopmat-guard.patch' "$prefix/build-info.txt" &&
  ok "Vulkan variant $prefix, its build record names its patch" || bad "build record: $(cat "$prefix/build-info.txt")"
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_PREFIX="$prefix" \
  >"$work/cmake.log" 2>&1 && cmake --build "$work/build" --target edgebench >>"$work/cmake.log" 2>&1 ||
  { bad "edgebench against the Vulkan variant: $(tail -5 "$work/cmake.log")"; finish; exit $?; }
eb="$work/build/edgebench"

"$eb" run --list-devices >"$work/dev.txt" 2>&1
grep -q '^Vulkan0 .*llvmpipe' "$work/dev.txt" && ok "--list-devices: $(grep '^Vulkan0' "$work/dev.txt" | tr -s ' ')" ||
  bad "--list-devices: $(cat "$work/dev.txt")"

# greedy tokens: the CPU against Vulkan
tiny=(--preset tiny-llama --type Q4_0 -n 16 --n-prompt 32 --reps 2 --warmup 1 -t 2 --pause 0 -q)
"$eb" run "${tiny[@]}" --backend cpu --format json -o "$work/cpu.json" 2>"$work/cpu.err" &&
  "$eb" run "${tiny[@]}" --backend vulkan --format json -o "$work/vk.json" 2>"$work/vk.err"
rc=$?
python3 - "$work/cpu.json" "$work/vk.json" <<'PY' >"$work/msg" 2>&1 && [ $rc -eq 0 ] && ok "greedy tokens equal: $(cat "$work/msg")" || bad "CPU vs Vulkan (exit $rc): $(cat "$work/msg" "$work/vk.err")"
import json, sys
c, v = (json.load(open(f)) for f in sys.argv[1:3])
tc = [r["gen_tokens"] for r in c["reps"]]
tv = [r["gen_tokens"] for r in v["reps"]]
assert tc == tv, (tc, tv)
off = v["config"]["offload"]
assert off["layers_offloaded"] == off["layers_total"] > 0, off
assert "Vulkan" in v["engine"]["backend"], v["engine"]["backend"]
print("%d tokens a run, every layer on %s; generation %.1f t/s on the CPU, %.1f on lavapipe"
      % (len(tc[0]), off["devices"], c["summary"]["gen_tps"]["mean"], v["summary"]["gen_tps"]["mean"]))
PY

# a sweep over the backend, and a device the machine lacks
"$eb" run "${tiny[@]}" --backend cpu,vulkan,cuda --results "$work/sweep.jsonl" >"$work/sw.out" 2>"$work/sw.err"
rows=$(sqlite3 "$work/store.db" "SELECT group_concat(backend || ':' || status, ' ') FROM trials WHERE backend IS NOT NULL AND backend <> 'auto' AND id > 2")
reason=$(sqlite3 "$work/store.db" "SELECT reason FROM trials WHERE backend = 'cuda'")
[ "$rows" = "cpu:ok vulkan:ok cuda:failed" ] && printf '%s' "$reason" | grep -q 'no cuda device' &&
  ok "sweep backend = cpu, vulkan, cuda: $rows; cuda's reason kept ($reason)" || bad "backend sweep: '$rows' '$reason' $(tail -3 "$work/sw.err")"
"$eb" analyze optimal --format csv >"$work/opt.csv" 2>"$work/opt.err"
grep -q 'backend vulkan' "$work/opt.csv" && ok "analyze optimal tells the backends apart" ||
  bad "analyze optimal: $(head -5 "$work/opt.csv") $(cat "$work/opt.err")"
finish
