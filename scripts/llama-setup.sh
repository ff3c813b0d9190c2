#!/usr/bin/env bash
# Fetches llama.cpp from the npm package node-llama-cpp (a git bundle of a
# pinned release), verifies it, builds libllama/ggml and the reference tools
# with CMake, proves the build with a self-test (scripts/llama-selftest.c)
# and installs it into a cache outside the checkout, keyed by version, build
# options, compiler and CPU, so a clean clone reuses the build.
#
# A build whose self-test crashes, hangs or computes a wrong result is not
# used: the next candidate is built instead (on x86-64: this CPU's native
# build, then its features minus AMX, then the portable build), and the
# failure is remembered beside the failed build's cache key, so later runs
# go straight to the build that works and say why in one line.
#
# Prints the install prefix on its last line of stdout.
#
# Environment:
#   EDGEBENCH_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/edgebench)
#   EDGEBENCH_CUDA    ON to add the CUDA backend (needs nvcc), default OFF
#   EDGEBENCH_CUDA_ARCHS  CUDA architectures (default: 90 if CUDA is ON)
#   EDGEBENCH_VULKAN  ON to add the Vulkan backend (needs glslc and the
#                     Vulkan headers: scripts/deps.sh), default OFF. The
#                     release's shader build is patched to guard two
#                     Intel-only shaders that need a glslc with cooperative
#                     matrices (Debian 12's has none); the build records it
#   EDGEBENCH_KLEIDIAI  ON to add Arm's KleidiAI micro-kernels to the CPU
#                     backend (GGML_CPU_KLEIDIAI; 64-bit Arm only), cached as
#                     its own variant. llama.cpp's CMake downloads KleidiAI
#                     from github.com when it configures, unless
#   EDGEBENCH_KLEIDIAI_SRC  names a copy of the release's KleidiAI source
#                     archive (kleidiai-<tag>-src.tar.gz), which is checked
#                     against the MD5 the release pins and used offline
#   EDGEBENCH_NATIVE  ON (default) to build with this CPU's instruction set
#   EDGEBENCH_CPU_OFF features the build must not use, comma-separated, from
#                     sse42 avx avx2 bmi2 fma f16c avx_vnni avx512 avx512_vbmi
#                     avx512_vnni avx512_bf16 amx (x86-64); on Arm any value
#                     skips the native build
#   EDGEBENCH_JOBS    parallel build jobs (default: nproc)
#   EDGEBENCH_TARGET  arm64 to cross-build for 64-bit Arm with Debian's
#                     crossbuild-essential-arm64 (default: this machine)
#   EDGEBENCH_ARM_ARCH  the Arm features of that build (default
#                     armv8.2-a+dotprod+fp16: Cortex-A76 of a Raspberry Pi 5,
#                     and the Orin's A78AE; +i8mm for cores that have it)
#   EDGEBENCH_SELFTEST_TIMEOUT  seconds before a self-test counts as hung (600)
# For the tests of this script only:
#   EDGEBENCH_SELFTEST_FAIL=crash:NAME or wrong:NAME  makes the self-test of
#                     candidate NAME (native, native-minus-amx, portable, ...)
#                     fail that way
#   EDGEBENCH_SETUP_PREBUILT=DIR  takes the libraries and tools of the
#                     llama.cpp install DIR instead of compiling (the
#                     self-test and everything after it run as usual)
set -euo pipefail

NLC_VERSION=3.22.1
# npm's dist.integrity of node-llama-cpp-3.22.1.tgz, pinned here so that a
# changed tarball on the registry is refused rather than built.
NLC_INTEGRITY='sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=='
LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6

cache=${EDGEBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgebench}
cuda=${EDGEBENCH_CUDA:-OFF}
vulkan=${EDGEBENCH_VULKAN:-OFF}
kleidiai=${EDGEBENCH_KLEIDIAI:-OFF}
kleidiai_src=${EDGEBENCH_KLEIDIAI_SRC:-}
kleidiai_dir=""
native=${EDGEBENCH_NATIVE:-ON}
jobs=${EDGEBENCH_JOBS:-$(nproc)}
cuda_archs=${EDGEBENCH_CUDA_ARCHS:-90}
target=${EDGEBENCH_TARGET:-}
arm_arch=${EDGEBENCH_ARM_ARCH:-armv8.2-a+dotprod+fp16}
cpu_off=${EDGEBENCH_CPU_OFF:-}
st_timeout=${EDGEBENCH_SELFTEST_TIMEOUT:-600}
prebuilt=${EDGEBENCH_SETUP_PREBUILT:-}
here=$(cd "$(dirname "$0")" && pwd)
selftest_src=$here/llama-selftest.c

log() { echo "llama-setup: $*" >&2; }

if [ "$cuda" = ON ] && ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break
  done
  command -v nvcc >/dev/null || { log "EDGEBENCH_CUDA=ON but nvcc was not found"; exit 1; }
fi

# llama-server is built without its web UI (no npm build, no download: the
# release then embeds an empty asset table) and without TLS: edgebench
# starts it on loopback only.
opts=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DGGML_CUDA="$cuda" -DGGML_RPC=ON)
[ "$cuda" = ON ] && opts+=(-DCMAKE_CUDA_ARCHITECTURES="$cuda_archs")
# Patches to the pinned release, each a file of scripts/patches applied in
# order; none unless a backend needs one.
patches=()
if [ "$vulkan" = ON ]; then
  command -v glslc >/dev/null || { log "EDGEBENCH_VULKAN=ON needs glslc (scripts/deps.sh installs it)"; exit 1; }
  opts+=(-DGGML_VULKAN=ON)
  patches+=(vulkan-debian12.patch)
fi
if [ "$kleidiai" = ON ]; then
  if [ "${EDGEBENCH_TARGET:-}" != arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    log "EDGEBENCH_KLEIDIAI=ON: KleidiAI's kernels are for 64-bit Arm (an arm64 machine, or EDGEBENCH_TARGET=arm64)"
    exit 2
  fi
  if [ -n "$kleidiai_src" ] && [ ! -r "$kleidiai_src" ]; then
    log "EDGEBENCH_KLEIDIAI_SRC=$kleidiai_src: no such file"
    exit 2
  fi
  opts+=(-DGGML_CPU_KLEIDIAI=ON)
fi
cc=cc
machine=$(uname -m)
if [ "$target" = arm64 ]; then
  cc=aarch64-linux-gnu-gcc
  command -v "$cc" >/dev/null || { log "EDGEBENCH_TARGET=arm64 needs $cc (crossbuild-essential-arm64; scripts/deps.sh arm64)"; exit 1; }
  native=OFF
  machine=aarch64
  opts+=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64
    -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++
    -DCMAKE_FIND_ROOT_PATH=/usr/aarch64-linux-gnu -DGGML_CPU_ARM_ARCH="$arm_arch")
elif [ -n "$target" ]; then
  log "EDGEBENCH_TARGET=$target: only arm64 is known"
  exit 1
fi

# The self-test's verdict holds for this CPU and compiler: both are in the
# key (a cross build is tested under emulation, the same on every host).
cpuflags=""
[ -z "$target" ] && cpuflags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo || true)
compiler=$($cc --version | head -1)
selftest_hash=$(sha256sum "$selftest_src" | cut -c1-16)
patch_hash=none
if [ ${#patches[@]} -gt 0 ]; then
  patch_hash=$(for p in "${patches[@]}"; do cat "$here/patches/$p"; done | sha256sum | cut -c1-16)
fi

# x86-64 features as ggml's CMake options: NAME OPTIONS CPUINFO-FLAGS
x86_features=(
  "sse42|GGML_SSE42|sse4_2" "avx|GGML_AVX|avx" "avx2|GGML_AVX2|avx2" "bmi2|GGML_BMI2|bmi2"
  "fma|GGML_FMA|fma" "f16c|GGML_F16C|f16c" "avx_vnni|GGML_AVX_VNNI|avx_vnni"
  "avx512|GGML_AVX512|avx512f avx512cd avx512vl avx512dq avx512bw"
  "avx512_vbmi|GGML_AVX512_VBMI|avx512vbmi" "avx512_vnni|GGML_AVX512_VNNI|avx512_vnni"
  "avx512_bf16|GGML_AVX512_BF16|avx512_bf16" "amx|GGML_AMX_TILE GGML_AMX_INT8|amx_tile amx_int8")
has_flags() { # FLAG... : all in this CPU's flags
  local f
  for f in "$@"; do [[ " ${cpuflags#*:} " == *" $f "* ]] || return 1; done
}
in_list() { [[ ",$2," == *",$1,"* ]]; }
for f in ${cpu_off//,/ }; do
  known=no
  for row in "${x86_features[@]}"; do [ "${row%%|*}" = "$f" ] && known=yes; done
  [ "$machine" != x86_64 ] && known=yes
  [ $known = yes ] || { log "EDGEBENCH_CPU_OFF: unknown feature '$f' (known: sse42 avx avx2 bmi2 fma f16c avx_vnni avx512 avx512_vbmi avx512_vnni avx512_bf16 amx)"; exit 2; }
done

# This CPU's own features, each as an explicit option, minus OFF.
explicit_opts() { # OFF
  local row name o flags out=(-DGGML_NATIVE=OFF)
  for row in "${x86_features[@]}"; do
    IFS='|' read -r name o flags <<<"$row"
    local v=OFF
    # shellcheck disable=SC2086
    has_flags $flags && ! in_list "$name" "$1" && v=ON
    for x in $o; do out+=("-D$x=$v"); done
  done
  # AMX (the table's last row) kept: its BF16 part too where the CPU has it
  if [ "$v" = ON ] && has_flags amx_bf16; then out+=(-DGGML_AMX_BF16=ON); fi
  echo "${out[@]}"
}
portable_opts() { # OFF: ggml's defaults for a non-native build, minus OFF
  local row name o flags out=(-DGGML_NATIVE=OFF)
  [ "$machine" = x86_64 ] || { echo "${out[@]}"; return; }
  for row in "${x86_features[@]}"; do
    IFS='|' read -r name o flags <<<"$row"
    if in_list "$name" "$1"; then for x in $o; do out+=("-D$x=OFF"); done; fi
  done
  echo "${out[@]}"
}

# The candidates, best first: NAME|OPTIONS|FEATURES TURNED OFF
cands=()
if [ -n "$target" ]; then
  cands+=("arm64|-DGGML_NATIVE=OFF|")
elif [ "$native" != ON ]; then
  cands+=("portable|$(portable_opts "$cpu_off")|$cpu_off")
elif [ "$machine" = x86_64 ]; then
  [ -z "$cpu_off" ] && cands+=("native|-DGGML_NATIVE=ON|")
  off=$cpu_off
  [ -z "$off" ] && has_flags amx_tile && off=amx
  [ -n "$off" ] && cands+=("native-minus-${off//,/-}|$(explicit_opts "$off")|$off")
  cands+=("portable|$(portable_opts "$cpu_off")|$cpu_off")
else
  [ -z "$cpu_off" ] && cands+=("native|-DGGML_NATIVE=ON|")
  cands+=("portable|-DGGML_NATIVE=OFF|$cpu_off")
fi

# ---- the source, verified ----
source_ready=no
fetch_source() {
  [ $source_ready = yes ] && return 0
  mkdir -p "$cache/npm"
  tgz="$cache/npm/node-llama-cpp-$NLC_VERSION.tgz"
  if [ ! -f "$tgz" ]; then
    log "fetching node-llama-cpp@$NLC_VERSION from the npm registry"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null)
    mv "$tmp/node-llama-cpp-$NLC_VERSION.tgz" "$tgz.part"
    rm -rf "$tmp"
    mv "$tgz.part" "$tgz"
  fi
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$NLC_INTEGRITY" ]; then
    log "integrity mismatch for $tgz: got $got, expected $NLC_INTEGRITY"
    rm -f "$tgz"
    exit 1
  fi
  log "verified $tgz ($NLC_INTEGRITY)"
  source_ready=yes
}

# ---- the self-test: prints "passed ..." or the failure on stdout ----
run_selftest() { # NAME WORK LIBDIR INCDIRS...
  local name=$1 work=$2 libdir=$3
  shift 3
  local incs=() d
  for d in "$@"; do incs+=(-I"$d"); done
  local runner=()
  if [ -n "$target" ]; then
    if ! command -v qemu-aarch64 >/dev/null || [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
      echo "not run: no qemu-aarch64 with the arm64 loader (scripts/deps.sh arm64)"
      return 0
    fi
    runner=(qemu-aarch64)
  fi
  if [ -e "$libdir/libggml-cuda.so" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
    echo "not run: the CUDA libraries need the driver's libcuda.so.1, which this machine lacks"
    return 0
  fi
  "$cc" -std=c11 -O1 -o "$work/llama-selftest" "$selftest_src" "${incs[@]}" -L"$libdir" \
    -lllama -lggml -lggml-base -lggml-cpu -lm -Wl,-rpath,"$libdir" >&2
  mkdir -p "$work/selftest"
  local fail="" rc=0 t0 t1
  case "${EDGEBENCH_SELFTEST_FAIL:-}" in
  crash:"$name") fail=crash ;;
  wrong:"$name") fail=wrong ;;
  esac
  local vocab="$work/src/models/ggml-vocab-llama-spm.gguf"
  t0=$(date +%s.%N)
  EDGEBENCH_SELFTEST_FAIL=$fail timeout -k 10 "$st_timeout" "${runner[@]}" "$work/llama-selftest" \
    "$vocab" "$work/selftest" >"$work/selftest.log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  local last_case n
  last_case=$(grep '^case ' "$work/selftest.log" | tail -1 | sed 's/^case //')
  n=$(grep -c '^pass ' "$work/selftest.log" || true)
  if [ $rc -eq 0 ] && [ "$(tail -1 "$work/selftest.log")" = ok ]; then
    printf 'passed: %s cases (F16 Q8_0 Q4_0 Q4_K_M; 1 and %s threads; repack on and off) in %.1f s\n' \
      "$n" "$(nproc)" "$(awk "BEGIN{print $t1 - $t0}")"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "failed: hung (no end in ${st_timeout} s) in case $last_case"
  elif [ $rc -gt 128 ]; then
    echo "failed: crashed (SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))) in case $last_case"
  elif [ $rc -eq 3 ]; then
    echo "failed: wrong result: $(grep '^wrong ' "$work/selftest.log" | tail -1 | sed 's/^wrong //')"
  else
    echo "failed: exit $rc: $(grep -v '^case \|^pass \|^features ' "$work/selftest.log" | tail -1)"
  fi
}

# ---- KleidiAI's source: the release's pinned archive, given or fetched ----
# Sets kleidiai_dir (empty: CMake downloads it) and kleidiai_note.
kleidiai_source() { # WORK
  local work=$1 cml="$1/src/ggml/src/ggml-cpu/CMakeLists.txt" ktag kmd5 got
  ktag=$(sed -n 's/.*set(KLEIDIAI_COMMIT_TAG "\([^"]*\)").*/\1/p' "$cml")
  kmd5=$(sed -n 's/.*set(KLEIDIAI_RELEASE_ARCHIVE_MD5 *"\([0-9a-f]*\)").*/\1/p' "$cml")
  kleidiai_dir=""
  if [ -z "$kleidiai_src" ]; then
    kleidiai_note="KleidiAI $ktag, downloaded by llama.cpp's CMake (MD5 $kmd5)"
    log "KleidiAI $ktag: llama.cpp's CMake downloads it from github.com (offline: EDGEBENCH_KLEIDIAI_SRC=kleidiai-$ktag-src.tar.gz)"
    return 0
  fi
  got=$(md5sum "$kleidiai_src" | cut -d' ' -f1)
  if [ -z "$kmd5" ] || [ "$got" != "$kmd5" ]; then
    log "EDGEBENCH_KLEIDIAI_SRC=$kleidiai_src: MD5 $got, but the release pins KleidiAI $ktag at ${kmd5:-(none found in $cml)}"
    return 1
  fi
  rm -rf "$work/kleidiai"
  mkdir -p "$work/kleidiai"
  tar -xzf "$kleidiai_src" -C "$work/kleidiai" || { log "EDGEBENCH_KLEIDIAI_SRC=$kleidiai_src: not a gzip tar archive"; return 1; }
  kleidiai_dir="$work/kleidiai"
  # an archive of one folder is that folder, as CMake's own extraction takes it
  local top
  top=$(ls -A "$kleidiai_dir")
  [ "$(printf '%s\n' "$top" | wc -l)" -eq 1 ] && [ -d "$kleidiai_dir/$top" ] && kleidiai_dir="$kleidiai_dir/$top"
  kleidiai_note="KleidiAI $ktag from $(basename "$kleidiai_src") (MD5 $kmd5, as the release pins)"
  log "KleidiAI $ktag: $kleidiai_note"
}

# ---- one candidate: built, tested and installed, or marked failed ----
build_one() { # NAME OPTIONS OFF OFF_REASON
  local name=$1 copts=$2 off=$3 off_reason=$4
  local work="$prefix.work"
  local all=("${opts[@]}")
  # shellcheck disable=SC2206
  all+=($copts)
  fetch_source
  rm -rf "$work/package" "$work/verify"
  mkdir -p "$work"
  tar -xzf "$tgz" -C "$work" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  local bundle="$work/package/llama/gitRelease.bundle"
  git init -q "$work/verify"
  git -C "$work/verify" bundle verify "$bundle" >&2
  # An interrupted build resumes (the CUDA kernels take an hour on two
  # cores): a checkout left at the pinned commit, unmodified, is kept with
  # its build directory, so ninja builds only what is missing.
  local want_diff=""
  [ ${#patches[@]} -gt 0 ] && want_diff=$(for p in "${patches[@]}"; do cat "$here/patches/$p"; done | sha256sum)
  local have_diff=""
  [ -n "$want_diff" ] && have_diff=$(git -C "$work/src" diff 2>/dev/null | sha256sum)
  if [ "$(git -C "$work/src" rev-parse HEAD 2>/dev/null)" = "$LLAMA_COMMIT" ] &&
    { { [ -z "$want_diff" ] && [ -z "$(git -C "$work/src" status --porcelain 2>/dev/null)" ]; } ||
      { [ -n "$want_diff" ] && [ "$have_diff" = "$want_diff" ]; }; }; then
    log "resuming the build in $work"
  else
    rm -rf "$work/src" "$work/build"
    git clone -q "$bundle" "$work/src" 2>/dev/null
    for p in "${patches[@]}"; do
      log "applying scripts/patches/$p"
      git -C "$work/src" apply "$here/patches/$p" >&2
    done
  fi
  local head tag
  head=$(git -C "$work/src" rev-parse HEAD)
  if [ "$head" != "$LLAMA_COMMIT" ]; then
    log "bundle HEAD is $head, expected $LLAMA_COMMIT"
    exit 1
  fi
  tag=$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$work/package/llama/llama.cpp.info.json")
  kleidiai_note=""
  if [ "$kleidiai" = ON ]; then
    kleidiai_source "$work" || exit 1
    [ -n "$kleidiai_dir" ] && all+=(-DFETCHCONTENT_SOURCE_DIR_KLEIDIAI="$kleidiai_dir")
  fi
  # llama-batched-bench is the reference for --parallel (bench/fidelity);
  # ggml-rpc-server is the RPC backend's server; llama-server is what
  # `run --engine server` measures
  local tools=(llama-bench llama-perplexity llama-quantize llama-batched-bench ggml-rpc-server
    llama-server)
  if [ -n "$prebuilt" ]; then
    log "candidate $name: taking the libraries and tools of $prebuilt instead of compiling"
    mkdir -p "$work/build/bin"
    cp -a "$prebuilt/lib/"*.so* "$work/build/bin/"
    for t in "${tools[@]}"; do cp "$prebuilt/bin/$t" "$work/build/bin/"; done
  else
    log "building llama.cpp $tag ($head), candidate $name, with ${all[*]}"
    # Libraries and tools find each other relative to themselves, so the
    # install can be copied as it is. The tools link against libggml-cuda,
    # which needs the driver's libcuda.so.1: a machine with the toolkit but
    # no driver (a build host) leaves it to run time.
    local link=()
    [ "$cuda" = ON ] && link=(-DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined)
    # A build that does not compile is not a fault of this CPU: it stops
    # here (no candidate after it, nothing marked failed). set -e does not
    # apply inside a function called as a condition, hence the checks.
    if ! cmake -S "$work/src" -B "$work/build" -G Ninja "${all[@]}" "${link[@]}" \
      -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN:$ORIGIN/../lib' \
      -DLLAMA_BUILD_NUMBER=1 -DLLAMA_BUILD_COMMIT="${head:0:8}" >&2; then
      log "candidate $name: CMake could not configure llama.cpp (above); kept in $work"
      [ "$kleidiai" = ON ] && [ -z "$kleidiai_dir" ] &&
        log "with EDGEBENCH_KLEIDIAI=ON and no EDGEBENCH_KLEIDIAI_SRC, CMake downloads KleidiAI from github.com: without that network, give a copy of the archive"
      exit 1
    fi
    if ! cmake --build "$work/build" -j "$jobs" --target llama "${tools[@]}" >&2; then
      log "candidate $name: llama.cpp did not compile (above); kept in $work, resumed next time"
      exit 1
    fi
  fi
  log "self-test of candidate $name"
  local verdict
  verdict=$(run_selftest "$name" "$work" "$work/build/bin" "$work/src/include" "$work/src/ggml/include")
  log "self-test of candidate $name: $verdict"
  features=$(sed -n 's/^features //p' "$work/selftest.log" 2>/dev/null | head -1)
  if [[ $verdict == failed:* ]]; then
    echo "${verdict#failed: }" >"$prefix.failed"
    cp "$work/selftest.log" "$prefix.failed.log" 2>/dev/null || true
    rm -rf "$work"
    return 1
  fi
  # the options as the cache key has them (a work folder's path is not one)
  local recorded_opts=() o
  for o in "${all[@]}"; do [[ $o == -DFETCHCONTENT_SOURCE_DIR_* ]] || recorded_opts+=("$o"); done
  rm -rf "$prefix"
  mkdir -p "$prefix/bin" "$prefix/lib" "$prefix/include" "$prefix/share/edgebench/vocab"
  cp -a "$work/build/bin/"*.so* "$prefix/lib/"
  cp "$work/src/include/llama.h" "$work/src/ggml/include/"*.h "$prefix/include/"
  for t in "${tools[@]}"; do
    cp "$work/build/bin/$t" "$prefix/bin/"
  done
  cp "$work/src/models"/ggml-vocab-*.gguf "$prefix/share/edgebench/vocab/"
  cat >"$prefix/build-info.txt" <<INFO
node_llama_cpp=$NLC_VERSION
llama_cpp_tag=$tag
llama_cpp_commit=$head
build_options=${recorded_opts[*]}
target=$machine${target:+ (cross-built)}
variant=$name${target:+ -march=$arm_arch}${kleidiai_note:+ +kleidiai}
cpu_features=${features:-unknown: the self-test did not run}
features_off=${off:-none}
features_off_reason=${off_reason:-}
selftest=$verdict
patches=${patches[*]:-none: the pinned release as it is}
cpu_kernels=${kleidiai_note:-ggml only (no KleidiAI)}
INFO
  rm -rf "$work"
  touch "$prefix/.complete"
  log "installed into $prefix"
  return 0
}

# The CPU-only build's options: a candidate whose CPU-only build failed its
# self-test (a CPU fault: the AMX crash) is not built again with a GPU
# backend added, which would take as long and fail the same way.
cpu_only_opts=()
for o in "${opts[@]}"; do
  case $o in
  -DGGML_CUDA=*) cpu_only_opts+=(-DGGML_CUDA=OFF) ;;
  -DCMAKE_CUDA_ARCHITECTURES=* | -DGGML_VULKAN=*) ;;
  *) cpu_only_opts+=("$o") ;;
  esac
done

# ---- the first candidate that works ----
why_off=""
failed_at=""
for cand in "${cands[@]}"; do
  IFS='|' read -r name copts off <<<"$cand"
  # shellcheck disable=SC2206
  all=("${opts[@]}" $copts)
  # shellcheck disable=SC2206
  cpu_all=("${cpu_only_opts[@]}" $copts)
  cpu_key=$(printf '%s' "$NLC_VERSION $LLAMA_COMMIT ${cpu_all[*]} $compiler $cpuflags selftest-$selftest_hash" |
    sha256sum | cut -c1-16)
  key=$(printf '%s' "$NLC_VERSION $LLAMA_COMMIT ${all[*]} $compiler $cpuflags selftest-$selftest_hash${patches[*]:+ patches-$patch_hash}" |
    sha256sum | cut -c1-16)
  prefix="$cache/llama.cpp/$NLC_VERSION-$key"
  reason=$why_off
  [ -z "$reason" ] && [ -n "$off" ] && [ -n "$cpu_off" ] && reason="turned off by EDGEBENCH_CPU_OFF"
  if [ -f "$prefix/.complete" ]; then
    [ -n "$why_off" ] && log "using the $name build: $why_off (delete $failed_at to try it again)"
    log "using cached build $prefix"
    echo "$prefix"
    exit 0
  fi
  if [ -f "$prefix.failed" ]; then
    why_off="the $name build failed its self-test on this CPU: $(cat "$prefix.failed")"
    failed_at="$prefix.failed"
    continue
  fi
  cpu_failed="$cache/llama.cpp/$NLC_VERSION-$cpu_key.failed"
  if [ "${all[*]}" != "${cpu_all[*]}" ] && [ -f "$cpu_failed" ]; then
    why_off="the $name CPU build failed its self-test on this CPU: $(cat "$cpu_failed")"
    failed_at="$cpu_failed"
    continue
  fi
  if build_one "$name" "$copts" "$off" "$reason"; then
    [ -n "$why_off" ] && log "using the $name build: $why_off (delete $failed_at to try it again)"
    echo "$prefix"
    exit 0
  fi
  why_off="the $name build failed its self-test on this CPU: $(cat "$prefix.failed")"
  failed_at="$prefix.failed"
done
log "no build passed its self-test: $why_off"
exit 1
