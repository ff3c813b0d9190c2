#!/usr/bin/env bash
# An encoder-decoder model end to end with the real binary: the tiny T5
# preset (llama.cpp's t5 architecture, a SentencePiece unigram vocabulary)
# runs with the prompt as the encoder pass and generation from the decoder
# start token, phases and token counts as for decoder-only models.
eb=$1
. "$(dirname "$0")/../support/e2e_common.sh"

"$eb" model list >"$work/list.txt"
grep -q "^flan-t5-large .*FT5-L .*t5" "$work/list.txt" &&
  [ "$(awk 'NR > 1 && $5 ~ /^[0-9.]+B$/ && !/\(test\)/' "$work/list.txt" | wc -l)" -eq 11 ] &&
  ok "model list: the study's eleven models, Flan-T5 Large as FT5-L" || bad "model list: $(cat "$work/list.txt")"

# 1. random prompt ids: exactly 24 encoder tokens, 8 generated
"$eb" run --preset tiny-t5 --type F16 --n-prompt 24 -n 8 --reps 2 --warmup 1 -t 2 --format json \
  -o "$work/r.json" -q 2>"$work/err"
rc=$?
python3 - "$work/r.json" <<'PY' && [ "$rc" -eq 0 ] && ok "run: encoder prefill of 24 tokens, 8 generated tokens, both phases measured" || bad "t5 run (exit $rc): $(cat "$work/err")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["model"]["arch"] == "t5" and r["model"]["synthetic"]
reps = [x for x in r["reps"] if not x["warmup"]]
assert len(reps) == 2 and len(r["reps"]) == 3
for x in r["reps"]:
    assert x["n_prompt"] == 24 and x["n_gen"] == 8, x
    assert x["prefill_s"] > 0 and x["gen_s"] > 0 and x["prefill_tps"] > 0 and x["gen_tps"] > 0
    assert len(x["itl_s"]) == 8, x
assert r["summary"]["gen_tps"]["n"] == 2
# the roofline's shape: the encoder for the prompt, the decoder for a token
m = r["model"]
assert 0 < m["streamed_bytes"] < m["weights_size_bytes"] and m["matmul_params"] > 0
PY

# 2. the study's prompt (text through the unigram tokenizer, </s> added)
"$eb" run --preset tiny-t5 --type Q8_0 -n 4 --reps 1 --warmup 0 -q >"$work/t.txt" 2>"$work/err"
rc=$?
grep -q "^prefill  *throughput .* [1-9][0-9]* tokens in" "$work/t.txt" && grep -q "^generation  *throughput .* 4 tokens in" "$work/t.txt" && [ "$rc" -eq 0 ] &&
  ok "run: the default text prompt tokenized and encoded" || bad "t5 text prompt (exit $rc): $(cat "$work/t.txt" "$work/err")"

# 3. stored, and the analyses see it as any other model
"$eb" results --format json >"$work/res.json" && python3 -c "
import json
rows=json.load(open('$work/res.json'))
assert len(rows) == 2 and all(r['status'] == 'ok' for r in rows), rows
" && ok "both runs stored" || bad "stored: $(cat "$work/res.json")"

# 4. perplexity of an encoder-decoder model is refused with the reason
printf 'Some text for the corpus.\n%.0s' $(seq 1 200) >"$work/corpus.txt"
"$eb" ppl --preset tiny-t5 --corpus "$work/corpus.txt" -c 64 --no-store >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "encoder-decoder" "$work/err" && ok "ppl refuses an encoder-decoder model" || bad "ppl t5 (exit $rc): $(cat "$work/err")"

finish
