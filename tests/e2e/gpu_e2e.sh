#!/usr/bin/env bash
# The GPU paths with the real binary, on stand-ins since CI has no GPU: the
# Jetson Orin Nano fixture tree (devfreq clock, load, NvMapMemUsed) and the
# NVML stub library. --ngl on a build without a GPU is recorded as what
# happened (no layer offloaded), and the analyses keep GPU and CPU runs of
# one model apart.
eb=$1
nvml_stub=$2
. "$(dirname "$0")/../support/e2e_common.sh"
fixtures="$(dirname "$0")/../fixtures"
tiny=(--preset tiny-llama --type Q4_0 -n 8 --reps 2 --warmup 0 -t 2 -q)

# 1. Jetson: the GPU's clock, load and unified memory per phase and in the timeline
"$eb" run "${tiny[@]}" --sysfs-root "$fixtures/jetson-orin-nano" --idle-s 0 --keep-timeline \
  --format json -o "$work/jetson.json" 2>"$work/err"
rc=$?
python3 - "$work/jetson.json" <<'PY' && [ "$rc" -eq 0 ] && ok "Jetson fixture: GPU 306 MHz, 12.5% load, 120.6 MiB unified memory per phase; CPU clock from cpufreq only" || bad "jetson run (exit $rc): $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
rep = [x for x in r["reps"] if not x["warmup"]][0]
for span in ("prefill", "generation"):
    m = rep["spans"][span]
    assert abs(m["gpu_freq_mhz"] - 306.0) < 1e-6, m
    assert abs(m["gpu_load_pct"] - 12.5) < 1e-6, m
    assert abs(m["gpu_memory_mib"] - 123456 / 1024) < 1e-6, m
    assert abs(m["cpu_freq_mhz"] - 1510.4) < 1e-6, m  # not averaged with the GPU's clock
cols = r["timeline"]["columns"]
for c in ("gpufreq:17000000.gpu [MHz]", "gpuload:gpu [%]", "nvmap:NvMapMemUsed [MiB]"):
    assert c in cols, cols
PY

"$eb" run "${tiny[@]}" --sysfs-root "$fixtures/jetson-orin-nano" --idle-s 0 --no-store >"$work/jt.txt" 2>&1
grep -q "^ *GPU load \[%\] *12.5" "$work/jt.txt" && grep -q "^ *GPU, generation \[MHz\] *306" "$work/jt.txt" &&
  ok "text output: GPU load and clock rows" || bad "GPU rows: $(cat "$work/jt.txt")"

# 1b. an N100-class Intel iGPU: i915's clock from sysfs, and the run's own GPU
# memory and engine time from its DRM fd's client stats (fdinfo)
n100="$work/n100"
cp -r "$fixtures/intel-laptop" "$n100"
mkdir -p "$n100/sys/class/drm/card0/device" "$n100/sys/class/drm/renderD128" "$n100/proc/self/fd" "$n100/proc/self/fdinfo"
printf 'DRIVER=i915\n' >"$n100/sys/class/drm/card0/device/uevent"
echo 750 >"$n100/sys/class/drm/card0/gt_act_freq_mhz"
ln -s /dev/dri/renderD128 "$n100/proc/self/fd/5"
printf 'pos:\t0\ndrm-driver:\ti915\ndrm-client-id:\t7\ndrm-pdev:\t0000:00:02.0\ndrm-total-system0:\t96 MiB\ndrm-resident-system0:\t72 MiB\ndrm-engine-render:\t5000000 ns\n' \
  >"$n100/proc/self/fdinfo/5"
"$eb" run "${tiny[@]}" --sysfs-root "$n100" --idle-s 0 --keep-timeline --no-store --format json -o "$work/n100.json" 2>"$work/err"
rc=$?
python3 - "$work/n100.json" <<'PY' && [ "$rc" -eq 0 ] && ok "N100-like tree: i915 750 MHz; the process's 72 MiB of GPU memory and 0% engine time from fdinfo, per phase" || bad "n100 run (exit $rc): $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
rep = [x for x in r["reps"] if not x["warmup"]][0]
for span in ("prefill", "generation"):
    m = rep["spans"][span]
    assert abs(m["gpu_freq_mhz"] - 750.0) < 1e-6, m
    assert abs(m["gpu_memory_mib"] - 72.0) < 1e-6, m
    assert m["gpu_load_pct"] == 0, m  # its engine time does not move in a fixture
cols = r["timeline"]["columns"]
assert "gpumem:process [MiB]" in cols and "gpuload:process [%]" in cols, cols
PY

# 2. NVML (the stub): load, SM clock and memory of a discrete GPU
EDGEBENCH_NVML_LIB="$nvml_stub" "$eb" run "${tiny[@]}" --keep-timeline --idle-s 0 --ngl 99 \
  --format json -o "$work/nvml.json" 2>"$work/err"
rc=$?
python3 - "$work/nvml.json" <<'PY' && [ "$rc" -eq 0 ] && ok "NVML stub: 87% load, 1755 MHz, 1024 MiB per phase; --ngl 99 recorded with no layer offloaded on a CPU build" || bad "nvml run (exit $rc): $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
rep = [x for x in r["reps"] if not x["warmup"]][0]
for span in ("prefill", "generation"):
    m = rep["spans"][span]
    assert abs(m["gpu_load_pct"] - 87) < 1e-6 and abs(m["gpu_freq_mhz"] - 1755) < 1e-6, m
    assert abs(m["gpu_memory_mib"] - 1024) < 1e-6, m
assert any(c.startswith("nvml:0:memory-used") for c in r["timeline"]["columns"])
off = r["config"]["offload"]
assert off["requested"] == 99 and off["layers_offloaded"] == 0 and off["layers_total"] == 3, off
if "CUDA" not in r["engine"]["backend"]:
    assert off["devices"] == "", off
PY

"$eb" run "${tiny[@]}" --ngl 99 --no-store >"$work/t.txt" 2>&1
grep -q "^offload *none: this build found no GPU" "$work/t.txt" && ok "text output says no layer was offloaded, and why" || bad "offload line: $(cat "$work/t.txt")"

# 3. stored: asked and offloaded layers per trial
"$eb" results --view trials --format json >"$work/trials.json" && python3 - "$work/trials.json" <<'PY' && ok "trials view: n_gpu_layers 99, gpu_layers_offloaded 0" || bad "trials view: $(cat "$work/trials.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
ngl = sorted((r["n_gpu_layers"], r["gpu_layers_offloaded"]) for r in rows)
assert ngl == [(0, 0), (99, 0)], ngl
PY

# 4. Fig. 4 draws the GPU's memory beside the process's
"$eb" report -o "$work/report" >/dev/null 2>"$work/err"
dat=$(ls "$work"/report/fig4_memory_timeline*.dat 2>/dev/null | head -1)
gp=$(ls "$work"/report/fig4_memory_timeline*.gp 2>/dev/null | head -1)
[ -n "$gp" ] && grep -q "GPU 0 memory in use (NVML)" "$gp" && grep -q "process RSS" "$gp" &&
  ok "report: Fig. 4 has the process RSS and the GPU's memory" || bad "fig4: $(ls "$work/report") $(cat "$work/err")"

# 5. a run that offloaded layers (a record from a GPU machine, imported) is
#    its own configuration beside the CPU run of the same model
python3 - "$work/nvml.json" "$work/gpu.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["config"]["offload"] = {"requested": 99, "layers_offloaded": 3, "layers_total": 3,
                          "devices": "CUDA0 (stand-in GPU, 81079 MiB)"}
r["config"]["n_gpu_layers"] = 99
r["started_at"] = "2026-01-01T00:00:00Z"
for x in r["reps"]:
    x["gen_tps"] *= 4
json.dump(r, open(sys.argv[2], "w"))
PY
"$eb" import -q "$work/gpu.json" 2>"$work/err" &&
  "$eb" analyze optimal --format json >"$work/opt.json" 2>"$work/err" && python3 - "$work/opt.json" <<'PY' && ok "analyze: the GPU configuration is apart from the CPU ones and labelled" || bad "analyze optimal: $(cat "$work/opt.json" "$work/err")"
import json, sys
rows = json.load(open(sys.argv[1]))
text = json.dumps(rows)
assert "3 layers on the GPU" in text, text
PY

"$eb" analyze roofline >"$work/roof.txt" 2>"$work/err"
[ "$(grep -c "tiny Llama" "$work/roof.txt")" -eq 2 ] && ! grep -q "3 layers on the GPU" "$work/roof.txt" &&
  ok "analyze roofline leaves out the run with layers on a GPU (the probe measures the CPU)" || bad "roofline: $(cat "$work/roof.txt" "$work/err")"

finish
