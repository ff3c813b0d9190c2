#!/usr/bin/env bash
# The reference report: the checked-in store of three devices
# (tests/fixtures/reference/records.jsonl.gz, made by
# scripts/make-reference-store.sh) imported and reported afresh. Its figures
# draw error bars and run counts, the methods section names the build
# commit, Fig. 5 keeps configurations apart, and four of its PNGs are kept
# in OUT_DIR (the build's test-output/reference-report) to be looked at: a
# change in them comes from the code, the measurements being fixed.
eb=$1
out_dir=$2
. "$(dirname "$0")/../support/e2e_common.sh"
ref="$(cd "$(dirname "$0")/../fixtures/reference" && pwd)/records.jsonl.gz"
export EDGEBENCH_STORE="sqlite:$work/ref.db"
zcat "$ref" >"$work/records.jsonl"
"$eb" import -q "$work/records.jsonl" 2>"$work/err" && ok "imported $(wc -l <"$work/records.jsonl") runs of three devices" || bad "import: $(cat "$work/err")"
"$eb" report -o "$work/rep" 2>"$work/err"
rc=$?
html="$work/rep/index.html"
[ "$rc" -eq 0 ] && ok "report: $(tail -1 "$work/err" | sed 's/.*index.html: //')" || bad "report (exit $rc): $(cat "$work/err")"
python3 - "$work/rep" <<'PY' >"$work/msg" 2>&1 && ok "$(cat "$work/msg")" || bad "reference figures: $(cat "$work/msg")"
import glob, os, re, sys
d = sys.argv[1]
h = open(os.path.join(d, "index.html")).read()
m = h.index(">Methods<", h.index("</nav>"))
seg = h[m:h.index("</table>", m)]
devices = sorted(set(re.findall(r"<tr><td>(orin-a|orin-b|pi5-a)</td>", seg)))
assert devices == ["orin-a", "orin-b", "pi5-a"], devices
assert re.search(r"<td>[0-9a-f]{8,}</td>", seg), "no build commit"
means = [g for g in glob.glob(os.path.join(d, "fig*.gp")) if re.search(r"fig(3|5|7|8|9|9a|9b|10|13|14|15)_", g)]
lacking = [os.path.basename(g) for g in means if "errorbars" not in open(g).read() and "yerror" not in open(g).read()]
assert means and not lacking, lacking
# Fig. 5a: a line per configuration but for the generation threads, named in words
gp = open(os.path.join(d, "fig5_gen_vs_threads.gp")).read()
titles = re.findall(r"title '([^']*)'", gp)
assert any("16 generated tokens" in t for t in titles) and any("32" in t or "16" not in t for t in titles), titles
assert "set yrange [0:*]" in gp
print("methods name %s and the build commit; %d figures of means, each with 95 %% error bars; Fig. 5a has %d lines" % (", ".join(devices), len(means), len(titles) // 2))
PY
# at 1280 px in headless Chromium: every figure loads, nothing overflows
. "$(dirname "$0")/../support/chromium.sh"
if [ -z "$browser" ]; then
  skip "no chromium to open the reference report"
else
  n_img=$(grep -o 'class="fig"' "$html" | wc -l)
  body=$(page_body "$html" "$work/chromium")
  width=$(echo "$body" | sed -n 's/.*data-doc-width="\([0-9]*\)".*/\1/p')
  echo "$body" | grep -q "data-figures-loaded=\"$n_img\" data-figures-broken=\"0\"" &&
    [ -n "$width" ] && [ "$width" -le 1280 ] &&
    ok "Chromium at 1280 px: all $n_img figures load, document $width px wide" || bad "Chromium: $body"
fi
mkdir -p "$out_dir"
kept=""
for f in fig5_gen_vs_threads fig9b_gen_energy_by_threads fig9_energy_per_token fig13_prefill_action; do
  if [ -f "$work/rep/$f.png" ]; then
    cp "$work/rep/$f.png" "$out_dir/" && kept="$kept $f.png"
  fi
done
[ -n "$kept" ] && ok "kept to look at in $out_dir:$kept" || bad "no PNG kept"
finish
