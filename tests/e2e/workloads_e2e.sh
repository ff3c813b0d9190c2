#!/usr/bin/env bash
# The workloads llama-bench cannot run, with the real binary on tiny-llama:
# --parallel (N sequences in one batch per step), --duration (a sustained
# run told per window), and `model fit` (the largest context that runs under
# a memory limit, found with real allocations, failed probes stored with
# their reason).
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"
fixtures="$(dirname "$0")/../fixtures"
tiny=(--preset tiny-llama --type Q4_0 --warmup 0 -t 2 --idle-s 0 -q)

# 1. --parallel 4: aggregate t/s (llama-batched-bench's S_TG), in the record
#    and the store's llama-bench view
"$eb" run "${tiny[@]}" --parallel 4 --n-prompt 16 -n 8 --reps 2 --format json -o "$work/p.json" 2>"$work/err"
rc=$?
"$eb" import -q "$work/p.json" 2>>"$work/err"
"$eb" results --view llama-bench --format json >"$work/plb.json" 2>>"$work/err"
python3 - "$work/p.json" "$work/plb.json" <<'PY' && [ "$rc" -eq 0 ] && ok "parallel 4: every sequence's tokens counted (aggregate t/s), the cache holds 4 sequences; n_parallel 4 in the llama-bench view" || bad "parallel (exit $rc): $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["config"]["n_parallel"] == 4, r["config"]
rep = r["reps"][0]
# aggregate: 4 streams x 8 tokens over the generation time
assert abs(rep["gen_tps"] - 4 * 8 / rep["gen_s"]) < 1e-6 * rep["gen_tps"], rep
assert abs(rep["prefill_tps"] - 4 * 16 / rep["prefill_s"]) < 1e-6 * rep["prefill_tps"], rep
ps = rep["per_stream"]
assert ps["streams"] == 4 and abs(ps["gen_tps"] * 4 - rep["gen_tps"]) < 1e-6 * rep["gen_tps"], ps
assert ps["ttft_s"] == rep["ttft_s"] and ps["itl_p50_s"] > 0, ps
rows = json.load(open(sys.argv[2]))
tg = [x for x in rows if x["test"] == "tg"][0]
assert int(tg["n_parallel"]) == 4, tg
PY
expect_error "refused: parallel beyond the context's sequences" any "n_parallel=8 sequences of" -- run "${tiny[@]}" --parallel 8 --n-prompt 64 -n 8 -c 512

# 2. --duration 30 --window 10: per-window rows, the last/first ratio
"$eb" run "${tiny[@]}" --n-prompt 16 -n 16 --duration 30 --window 10 --format json -o "$work/s.json" 2>"$work/err"
rc=$?
"$eb" import -q "$work/s.json" 2>>"$work/err"
"$eb" report -o "$work/report" >/dev/null 2>>"$work/err"
python3 - "$work/s.json" <<'PY' && [ "$rc" -eq 0 ] && [ -f "$work/report/fig20_sustained_tps.svg" -o -f "$work/report/fig20_sustained_tps.png" ] && ok "sustained 30 s: $(cat "$work/s.txt")" || bad "sustained (exit $rc): $(cat "$work/err") $(ls "$work/report" 2>/dev/null | head -50 | tr '\n' ' ')"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["sustained"]
w = s["windows"]
assert s["duration_s"] == 30 and s["window_s"] == 10, s
assert len(w) >= 3 and all(x["runs"] >= 1 for x in w[:3]), w
assert all(x["gen_tps"] > 0 for x in w[:3]), w
assert s["last_to_first_gen_tps"] > 0, s
measured = [x for x in r["reps"] if not x["warmup"]]
assert sum(x["runs"] for x in w) == len(measured), (w, len(measured))
open(sys.argv[1].rsplit("/", 1)[0] + "/s.txt", "w").write(
    "%d windows of 10 s, %d runs, last/first %.3f" % (len(w), len(measured), s["last_to_first_gen_tps"]))
PY

# 3. model fit under a memory limit: a cgroup where one can be made (else an
#    address-space limit, said); the failed probes stored with their reason
if [ -n "${EB_EMULATED:-}" ]; then
  skip "model fit: qemu-user ignores setrlimit(RLIMIT_AS) and a cgroup may not be made ($EB_EMULATED)"
else
  "$eb" model fit --preset tiny-llama -t 1 --memory-limit 150 --max-ctx 1048576 --format json \
    --store "sqlite:$work/fit.db" -q >"$work/fit.json" 2>"$work/err"
  rc=$?
  "$eb" analyze fit --store "sqlite:$work/fit.db" --format json >"$work/afit.json" 2>>"$work/err"
  python3 - "$work/fit.json" "$work/afit.json" <<'PY' && [ "$rc" -eq 0 ] && ok "model fit, 150 MiB: $(cat "$work/fit.txt")" || bad "model fit (exit $rc): $(cat "$work/err") $(cat "$work/fit.json")"
import json, sys
f = json.load(open(sys.argv[1]))
assert f["largest_ctx_ran"] >= 256 and f["smallest_ctx_failed"] > f["largest_ctx_ran"], f
assert f["smallest_ctx_failed"] - f["largest_ctx_ran"] <= max(256, f["largest_ctx_ran"] // 32), f
assert "out of memory" in f["why"], f
assert f["predicted_largest_ctx"] > 0, f
ran = [p for p in f["probes"] if p["ran"]]
# the KV cache grows with the context as llama.cpp allocates it
assert all(b["kv_mib"] > a["kv_mib"] for a, b in zip(ran, ran[1:])), ran
a = json.load(open(sys.argv[2]))[0]
assert a["largest_ctx_ran"] == f["largest_ctx_ran"] and a["smallest_ctx_failed"] == f["smallest_ctx_failed"], a
assert int(a["trials_failed"]) >= 1 and "out of memory" in a["why"], a
open(sys.argv[1].rsplit("/", 1)[0] + "/fit.txt", "w").write(
    "ran at %d, failed at %d (%s); model plan predicted %d; limit: %s" % (
        f["largest_ctx_ran"], f["smallest_ctx_failed"], f["why"][:60], f["predicted_largest_ctx"],
        f["memory_limit"][:40]))
PY
  # a tree with no cgroup: the address-space limit, and said so (under
  # AddressSanitizer that limit fails the sanitizer's own mapping first)
  if [ -n "${EB_SANITIZED:-}" ]; then
    skip "model fit under an address-space limit: AddressSanitizer's shadow memory does not fit it"
  else
    "$eb" model fit --preset tiny-llama -t 1 --memory-limit 200 --sysfs-root "$fixtures/vm" --no-store \
      --format json -q >"$work/fit2.json" 2>"$work/err"
    python3 - "$work/fit2.json" <<'PY' && ok "model fit without a cgroup: address-space limit, said" || bad "model fit fallback: $(cat "$work/err") $(cat "$work/fit2.json")"
import json, sys
f = json.load(open(sys.argv[1]))
assert f["memory_limit"].startswith("address-space limit 200 MiB"), f["memory_limit"]
assert "no cgroup" in f["memory_limit"], f["memory_limit"]
assert f["smallest_ctx_failed"] is not None and "address-space limit of 200 MiB" in f["why"], f
PY
  fi
fi
expect_error "refused: model fit: unknown cache type" any "type_k must be one of\|cache-type-k\|type_k" -- model fit --preset tiny-llama -ctk q3_k
finish
