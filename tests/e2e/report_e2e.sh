#!/usr/bin/env bash
# The report on a store filled by real runs of a tiny preset (two copies of
# the Jetson fixture, so energy is known, and one run on this machine with
# its timeline kept): every figure is written as SVG and PNG, figures without
# data are left out with the reason, and headless Chromium loads the page
# at 1280 px, finds every figure (and notices one that is missing), the page
# no wider than the window; contents, captions and axes a person can read.
set -u
eb=$1
fx="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
. "$(dirname "$0")/../support/e2e_common.sh"
export EDGEBENCH_STORE="sqlite:$work/r.db"
ORIN_REPS=2 . "$(dirname "$0")/../support/two_orins.sh"
"$eb" run -m "$model" -n 32 --reps 2 --idle-s 0 --keep-timeline -q >/dev/null 2>>"$work/err"

"$eb" report -o "$work/rep" --device-a orin-b --price-a 500 --device-b orin-a --price-b 100 2>"$work/err"
rc=$?
html="$work/rep/index.html"
n_img=$(grep -o 'class="fig"' "$html" 2>/dev/null | wc -l)
[ "$rc" -eq 0 ] && [ "$n_img" -ge 12 ] && ok "report written with $n_img figures" || bad "report (exit $rc, $n_img figures): $(cat "$work/err")"
missing=0
for id in $(grep -o '<figure id="[a-z0-9_]*"' "$html" | sed 's/.*id="//; s/"//'); do
  [ -s "$work/rep/$id.svg" ] && [ -s "$work/rep/$id.png" ] && head -c 8 "$work/rep/$id.png" | grep -q PNG || missing=$((missing + 1))
done
[ "$missing" -eq 0 ] && ok "every figure has its SVG and PNG" || bad "$missing figure files missing"
for id in fig3_peak_memory fig4_memory_timeline fig5_gen_vs_threads fig8_load_time fig9_energy_per_token fig13_prefill_action fig14_gen_action_a fig16_battery_runs fig17_cost fig18_breakeven; do
  grep -q "<figure id=\"$id\"" "$html" || bad "figure $id absent"
done
grep -q '<div class="missing" id="fig11_perplexity">' "$html" && grep -q '<div class="missing" id="fig15_action_power_modes">' "$html" && grep -q 'Left out: ' "$html" &&
  ok "figures without data are left out with the reason" || bad "missing notes"
grep -q "^# edgebench report" "$work/rep/summary.md" && grep -q "| device" "$work/rep/summary.md" &&
  grep -q "(fig9_energy_per_token.png)" "$work/rep/summary.md" && ok "Markdown summary with tables and figures" || bad "summary.md"
grep -q "title 'Fig. 9: energy per token per configuration'" "$work/rep/fig9_energy_per_token.gp" &&
  grep -q "set ylabel 'J/token'" "$work/rep/fig9_energy_per_token.gp" && ok "figures have titles and units" || bad "titles"

. "$(dirname "$0")/../support/chromium.sh"
if [ -z "$browser" ]; then
  bad "no chromium to open the report (scripts/deps.sh installs it)"
else
  body=$(page_body "$html" "$work/chromium-1")
  echo "$body" | grep -q "data-figures-loaded=\"$n_img\" data-figures-broken=\"0\"" &&
    ok "Chromium loads all $n_img figures" || bad "Chromium: $body"
  # at 1280 px the page is no wider than the window (wide tables scroll in their box)
  width=$(echo "$body" | sed -n 's/.*data-doc-width="\([0-9]*\)".*/\1/p')
  [ -n "$width" ] && [ "$width" -le 1280 ] && ok "no horizontal overflow at 1280 px (document $width px wide)" ||
    bad "document width at 1280 px: '${width}': $body"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/chromium-shot" --window-size=1280,4000 --virtual-time-budget=10000 \
    --screenshot="$work/shot.png" "file://$html" >/dev/null 2>&1
  python3 - "$work/shot.png" <<'PY' && ok "a 1280 px screenshot of the page" || bad "screenshot"
import struct, sys
b = open(sys.argv[1], "rb").read(24)
assert b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", b[16:20])[0] == 1280, b
PY
  rm "$work/rep/fig3_peak_memory.svg"
  body=$(page_body "$html" "$work/chromium-2")
  echo "$body" | grep -q 'data-figures-broken="1"' && ok "a missing figure is noticed" || bad "broken figure not noticed: $body"
fi

# Fig. 15 needs runs under Jetson power modes: a measured run on the Jetson
# fixture stored twice as a sweep's records under two modes.
"$eb" run -m "$model" -n 8 --reps 2 --idle-s 0 --sysfs-root "$fx/jetson-orin-nano" --no-store -q \
  --format json -o "$work/pm.json" 2>>"$work/err"
python3 - "$work/pm.json" "$work/pm.jsonl" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for mode in ("15W", "MAXN"):
        f.write(json.dumps({"source": "sweep", "status": "ok", "trial_key": mode,
                            "config": {"power_mode": mode}, "result": res}) + "\n")
PY
EDGEBENCH_STORE="sqlite:$work/pm.db" "$eb" import "$work/pm.jsonl" 2>>"$work/err" &&
  EDGEBENCH_STORE="sqlite:$work/pm.db" "$eb" report -o "$work/pm" 2>>"$work/err" &&
  grep -q '<figure id="fig15_action_power_modes"' "$work/pm/index.html" &&
  grep -q "15W" "$work/pm/fig15_action_power_modes.dat" && grep -q "MAXN" "$work/pm/fig15_action_power_modes.dat" &&
  ok "Fig. 15: action per token under each power mode" || bad "Fig. 15: $(tail -3 "$work/err")"

# what a person sees: contents, captions naming their runs, integer axes,
# no gnuplot message on the terminal (they go to the folder's log)
grep -q '<nav class="toc">' "$html" && grep -q '<a href="#s1">' "$html" && ok "a table of contents" || bad "no contents"
grep -q "<figcaption>[^<]*From the measured runs (warm-ups left out) of sqlite:" "$html" &&
  ok "captions say which runs they show" || bad "captions: $(grep -o '<figcaption>[^<]*' "$html" | head -2)"
! grep -qi "warning" "$work/err" && [ -f "$work/rep/gnuplot.log" ] && ok "no gnuplot message on the terminal (gnuplot.log)" || bad "terminal: $(cat "$work/err")"
python3 - "$work/rep" <<'PY' && ok "thread axes: integer tics, a single value drawn as points" || bad "axes: $(grep -l threads "$work"/rep/*.gp)"
import glob, re, sys
n = 0
for gp in glob.glob(sys.argv[1] + "/*.gp"):
    t = open(gp).read()
    if not re.search(r"set xlabel '[^']*threads", t):
        continue
    n += 1
    assert "set format x '%.0f'" in t or "set xtics (" in t, gp
    if "set xtics (" in t:
        assert "with points" in t and "1.98" not in t, gp
assert n >= 1, "no figure against threads"
PY
# a store that is not there (a mistyped --store): refused, named, nothing made
EDGEBENCH_STORE="sqlite:$work/typo.db" "$eb" report -o "$work/typo" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "typo.db does not exist" "$work/err" && [ ! -e "$work/typo.db" ] && [ ! -e "$work/typo" ] &&
  ok "a store that is not there: refused (exit 2), named, no store or directory made" || bad "missing store (exit $rc): $(cat "$work/err")"
: >"$work/empty.db"
EDGEBENCH_STORE="sqlite:$work/empty.db" "$eb" report -o "$work/empty" 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'no trials yet in .*: run `edgebench run`' "$work/err" && [ ! -e "$work/empty" ] &&
  ok "an empty store: 'no trials yet: run edgebench run', exit 1, nothing made" || bad "empty report (exit $rc): $(cat "$work/err")"
# the methods section: first, with the build's commit and the model's hash
python3 - "$html" <<'PY' && ok "a methods section before the figures, with the build commit and model hashes" || bad "methods section"
import re, sys
h = open(sys.argv[1]).read()
m = h.index(">Methods<", h.index("</nav>"))
assert m < h.index("<figure"), "methods after the figures"
seg = h[m:h.index("</table>", m)]
for col in ("build commit", "model SHA-256", "measured runs", "warm-ups", "disturbed runs", "energy source"):
    assert col in seg, col
assert re.search(r"<td>[0-9a-f]{8,}</td>", seg), "no commit"
PY
# every figure of means has error bars and says its run count
python3 - "$work/rep" <<'PY' >"$work/msg" && ok "error bars: $(cat "$work/msg")" || bad "error bars: $(cat "$work/msg")"
import glob, os, sys
means = ("fig3_", "fig5_", "fig7_", "fig8_", "fig9_", "fig10_", "fig13_", "fig14_", "fig15_")
gps = [g for g in glob.glob(os.path.join(sys.argv[1], "*.gp")) if os.path.basename(g).startswith(means)]
lacking = [os.path.basename(g) for g in gps if "errorbars" not in open(g).read() and "yerror" not in open(g).read()]
assert gps and not lacking, lacking
h = open(os.path.join(sys.argv[1], "index.html")).read()
assert "Error bars: the 95 % interval of the mean" in h and "measured run" in h
print("%d figures of means, every one with 95 %% intervals and its run count" % len(gps))
PY
# every table's note sits under its heading; headers in words
python3 - "$html" <<'PY' && ok "tables: notes under their headings, headers in words (no cents_per_m_input)" || bad "table headings"
import sys
h = open(sys.argv[1]).read()
assert "cents_per_m_input" not in h and "diff_ci95_lo" not in h
i = h.index('<p class="inputs">')
assert h.rfind("<h3>", 0, i) > h.rfind("</table>", 0, i), "a note above its heading"
PY
"$eb" report 2>/dev/null; [ $? -eq 2 ] && ok "no -o: exit 2" || bad "report without -o"

finish
