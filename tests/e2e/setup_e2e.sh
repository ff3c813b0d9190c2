#!/usr/bin/env bash
# The llama.cpp build's self-test and its fallback (scripts/llama-setup.sh),
# in a cache of its own. Compiling llama.cpp twice would take most of CI's
# time, so the build step takes the libraries of the installed build
# (EDGEBENCH_SETUP_PREBUILT); the source is still verified, the self-test
# runs on those libraries, and a forced failure of the first candidate
# (EDGEBENCH_SELFTEST_FAIL) must make the script fall back, say why, record
# it in build-info.txt and remember it for the next run.
set -u
setup=$1
prefix=$2
. "$(dirname "$0")/../support/e2e_common.sh"

tgz="$(dirname "$(dirname "$prefix")")/npm/node-llama-cpp-3.22.1.tgz"
if [ ! -f "$tgz" ]; then
  echo "skipped: no verified node-llama-cpp tarball beside the installed build ($tgz)"
  exit 77
fi
second=portable
if [ "$(uname -m)" = x86_64 ] && grep -qw amx_tile /proc/cpuinfo; then second=native-minus-amx; fi

fresh_cache() { # DIR
  mkdir -p "$1/npm"
  ln -sf "$tgz" "$1/npm/"
}

# 1. the native candidate's self-test crashes: the next candidate is used
fresh_cache "$work/c1"
EDGEBENCH_CACHE=$work/c1 EDGEBENCH_SETUP_PREBUILT=$prefix EDGEBENCH_SELFTEST_FAIL=crash:native \
  "$setup" >"$work/out1" 2>"$work/err1"
rc=$?
got=$(tail -1 "$work/out1")
info=$got/build-info.txt
if [ $rc -eq 0 ] && [ -f "$info" ] && grep -qx "variant=$second" "$info" &&
  grep -q "^features_off_reason=the native build failed its self-test on this CPU: crashed (SIGSEGV)" "$info" &&
  grep -q "^selftest=passed: 16 cases" "$info" &&
  grep -q "^cpu_features=." "$info" &&
  grep -q "using the $second build: the native build failed its self-test" "$work/err1" &&
  ls "$work/c1/llama.cpp/"*.failed >/dev/null 2>&1; then
  ok "native self-test crashed: $second used, build-info says why ($(grep ^features_off= "$info"))"
else
  bad "fallback (exit $rc): $(tail -5 "$work/err1") $(cat "$info" 2>/dev/null)"
fi
[ "$second" = native-minus-amx ] && { grep -qx "features_off=amx" "$info" && grep -q -- "-DGGML_AMX_INT8=OFF" "$info" &&
  ok "native minus AMX: every other feature of this CPU kept, AMX off" || bad "native minus AMX: $(cat "$info")"; }

# 2. the decision is kept: the next run goes straight to that build
t0=$(date +%s)
EDGEBENCH_CACHE=$work/c1 "$setup" >"$work/out2" 2>"$work/err2"
rc=$?
if [ $rc -eq 0 ] && [ "$(tail -1 "$work/out2")" = "$got" ] && ! grep -q "self-test of candidate" "$work/err2" &&
  [ "$(grep -c "using the $second build: the native build failed its self-test" "$work/err2")" = 1 ]; then
  ok "second run: the cached $second build in $(($(date +%s) - t0)) s, one line saying why"
else
  bad "second run (exit $rc): $(cat "$work/err2")"
fi

# 3. a wrong result is a failure too
fresh_cache "$work/c3"
EDGEBENCH_CACHE=$work/c3 EDGEBENCH_SETUP_PREBUILT=$prefix EDGEBENCH_SELFTEST_FAIL=wrong:native \
  "$setup" >"$work/out3" 2>"$work/err3"
rc=$?
[ $rc -eq 0 ] && grep -q "the native build failed its self-test on this CPU: wrong result" "$work/err3" &&
  ok "a wrong result falls back the same way" || bad "wrong result (exit $rc): $(tail -3 "$work/err3")"

# 4. a feature forced off, and a name that is not a feature
fresh_cache "$work/c4"
EDGEBENCH_CACHE=$work/c4 EDGEBENCH_CPU_OFF=bogus "$setup" >"$work/out4" 2>"$work/err4"
rc=$?
[ $rc -eq 2 ] && grep -q "EDGEBENCH_CPU_OFF: unknown feature 'bogus'" "$work/err4" &&
  ok "EDGEBENCH_CPU_OFF=bogus refused (exit 2)" || bad "bogus feature (exit $rc): $(cat "$work/err4")"
if [ "$(uname -m)" = x86_64 ]; then
  EDGEBENCH_CACHE=$work/c4 EDGEBENCH_SETUP_PREBUILT=$prefix EDGEBENCH_CPU_OFF=avx512 \
    "$setup" >"$work/out5" 2>"$work/err5"
  rc=$?
  i5=$(tail -1 "$work/out5")/build-info.txt
  [ $rc -eq 0 ] && grep -qx "features_off=avx512" "$i5" && grep -q -- "-DGGML_AVX512=OFF" "$i5" &&
    grep -qx "features_off_reason=turned off by EDGEBENCH_CPU_OFF" "$i5" &&
    ok "EDGEBENCH_CPU_OFF=avx512: no native candidate, AVX-512 off, recorded as asked" ||
    bad "forced off (exit $rc): $(tail -3 "$work/err5") $(cat "$i5" 2>/dev/null)"
fi

# 5. KleidiAI: Arm's only; an archive that is not the release's pinned one is
# refused before anything is built (the real archive comes from github.com,
# which tests do not reach)
EDGEBENCH_CACHE=$work/c4 EDGEBENCH_KLEIDIAI=ON EDGEBENCH_TARGET= "$setup" >"$work/out6" 2>"$work/err6"
rc=$?
if [ "$(uname -m)" != aarch64 ]; then
  [ $rc -eq 2 ] && grep -q "KleidiAI's kernels are for 64-bit Arm" "$work/err6" &&
    ok "EDGEBENCH_KLEIDIAI=ON on $(uname -m) refused (exit 2)" || bad "KleidiAI on $(uname -m) (exit $rc): $(cat "$work/err6")"
fi
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  fresh_cache "$work/c7"
  echo "not KleidiAI" | gzip >"$work/kleidiai-v1.24.0-src.tar.gz"
  EDGEBENCH_CACHE=$work/c7 EDGEBENCH_TARGET=arm64 EDGEBENCH_KLEIDIAI=ON \
    EDGEBENCH_KLEIDIAI_SRC="$work/kleidiai-v1.24.0-src.tar.gz" "$setup" >"$work/out7" 2>"$work/err7"
  rc=$?
  [ $rc -eq 1 ] && grep -q "but the release pins KleidiAI v1.24.0 at [0-9a-f]\{32\}" "$work/err7" &&
    ! grep -q "building llama.cpp" "$work/err7" &&
    ok "a KleidiAI archive that is not the pinned one refused, nothing built: $(grep -o 'MD5.*' "$work/err7" | head -1)" ||
    bad "KleidiAI archive check (exit $rc): $(tail -3 "$work/err7")"
else
  skip "the KleidiAI archive check needs the arm64 cross compiler (scripts/deps.sh arm64)"
fi
finish
