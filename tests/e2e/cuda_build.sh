#!/usr/bin/env bash
# Checks an edgebench built against llama.cpp with its CUDA backend (`make
# cuda-check`; not part of CI). On a machine with an NVIDIA GPU, a tiny model
# with --ngl 99 must put every layer on the GPU, and NVML must give the GPU's
# memory, load and clock per phase. Without a GPU, the build must still run,
# with the toolkit's stub in place of the driver: the CUDA backend finds no
# device, every layer stays on the CPU, and the output says so.
eb=${1:?usage: tests/cuda_build.sh BUILD_DIR/edgebench}
. "$(dirname "$0")/../support/e2e_common.sh"

prefix=$(cat "$(dirname "$eb")/llama-prefix")
grep -q "GGML_CUDA=ON" "$prefix/build-info.txt" && [ -f "$prefix/lib/libggml-cuda.so" ] &&
  ok "llama.cpp built with the CUDA backend ($(sed -n 's/.*CMAKE_CUDA_ARCHITECTURES=\([^ ]*\).*/sm_\1/p' "$prefix/build-info.txt"))" ||
  bad "not a CUDA build: $prefix"
readelf -d "$prefix/lib/libggml.so" | grep -q "libggml-cuda.so" &&
  ok "libggml loads libggml-cuda" || bad "libggml does not need libggml-cuda"

. "$(dirname "$0")/../support/cuda_env.sh"
gpu=$cuda_gpu

"$eb" run --preset tiny-llama --type Q4_0 -n 16 --reps 2 --warmup 1 --ngl 99 --idle-s 0 \
  --keep-timeline --format json -o "$work/r.json" -q 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] && ok "run with --ngl 99 (exit 0)" || bad "run (exit $rc): $(cat "$work/err")"
python3 - "$work/r.json" "$gpu" <<'PY' && ok "offload recorded as done (GPU present: $gpu)" || bad "offload: $(head -c 2000 "$work/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))
gpu = sys.argv[2] == "1"
off, be = r["config"]["offload"], r["engine"]["backend"]
print("   backend:", be, "| offload:", off)
if gpu:
    assert "CUDA" in be and off["devices"].startswith("CUDA0"), (be, off)
    assert off["layers_offloaded"] == off["layers_total"] > 0, off
    rep = [x for x in r["reps"] if not x["warmup"]][0]
    g = rep["spans"]["generation"]
    print("   generation:", g.get("gpu_memory_mib"), "MiB,", g.get("gpu_load_pct"), "%,",
          g.get("gpu_freq_mhz"), "MHz; tokens/s", rep["gen_tps"])
    assert g["gpu_memory_mib"] > 0, g
else:
    assert be == "CPU" and off["layers_offloaded"] == 0 and off["devices"] == "", (be, off)
PY
finish
