#!/usr/bin/env bash
# Fetches llama.cpp from the npm package node-llama-cpp (a git bundle of a
# pinned release), verifies it, builds libllama/ggml and the reference tools
# with CMake, and installs them into a cache outside the checkout, keyed by
# version and build options, so a clean clone reuses the build.
#
# Prints the install prefix on its last line of stdout.
#
# Environment:
#   EDGEBENCH_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/edgebench)
#   EDGEBENCH_CUDA    ON to add the CUDA backend (needs nvcc), default OFF
#   EDGEBENCH_CUDA_ARCHS  CUDA architectures (default: 90 if CUDA is ON)
#   EDGEBENCH_NATIVE  ON (default) to build with this CPU's instruction set
#   EDGEBENCH_JOBS    parallel build jobs (default: nproc)
#   EDGEBENCH_TARGET  arm64 to cross-build for 64-bit Arm with Debian's
#                     crossbuild-essential-arm64 (default: this machine)
#   EDGEBENCH_ARM_ARCH  the Arm features of that build (default
#                     armv8.2-a+dotprod+fp16: Cortex-A76 of a Raspberry Pi 5,
#                     and the Orin's A78AE; +i8mm for cores that have it)
set -euo pipefail

NLC_VERSION=3.22.1
# npm's dist.integrity of node-llama-cpp-3.22.1.tgz, pinned here so that a
# changed tarball on the registry is refused rather than built.
NLC_INTEGRITY='sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=='
LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6

cache=${EDGEBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgebench}
cuda=${EDGEBENCH_CUDA:-OFF}
native=${EDGEBENCH_NATIVE:-ON}
jobs=${EDGEBENCH_JOBS:-$(nproc)}
cuda_archs=${EDGEBENCH_CUDA_ARCHS:-90}
target=${EDGEBENCH_TARGET:-}
arm_arch=${EDGEBENCH_ARM_ARCH:-armv8.2-a+dotprod+fp16}

log() { echo "llama-setup: $*" >&2; }

if [ "$cuda" = ON ] && ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break
  done
  command -v nvcc >/dev/null || { log "EDGEBENCH_CUDA=ON but nvcc was not found"; exit 1; }
fi

opts=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON -DLLAMA_CURL=OFF
  -DGGML_NATIVE="$native" -DGGML_CUDA="$cuda" -DGGML_RPC=ON)
[ "$cuda" = ON ] && opts+=(-DCMAKE_CUDA_ARCHITECTURES="$cuda_archs")
cc=cc
if [ "$target" = arm64 ]; then
  cc=aarch64-linux-gnu-gcc
  command -v "$cc" >/dev/null || { log "EDGEBENCH_TARGET=arm64 needs $cc (crossbuild-essential-arm64; scripts/deps.sh arm64)"; exit 1; }
  native=OFF
  opts=("${opts[@]/-DGGML_NATIVE=*/-DGGML_NATIVE=OFF}")
  opts+=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64
    -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++
    -DCMAKE_FIND_ROOT_PATH=/usr/aarch64-linux-gnu -DGGML_CPU_ARM_ARCH="$arm_arch"
    -DLLAMA_OPENSSL=OFF) # no downloads; and the host's libssl is not the target's
elif [ -n "$target" ]; then
  log "EDGEBENCH_TARGET=$target: only arm64 is known"
  exit 1
fi

# A native build is only valid on a CPU with the same instruction set.
cpuflags=""
[ "$native" = ON ] && cpuflags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo || true)
compiler=$($cc --version | head -1)
key_src="$NLC_VERSION $LLAMA_COMMIT ${opts[*]} $compiler $cpuflags"
key=$(printf '%s' "$key_src" | sha256sum | cut -c1-16)
prefix="$cache/llama.cpp/$NLC_VERSION-$key"

if [ -f "$prefix/.complete" ]; then
  log "using cached build $prefix"
  echo "$prefix"
  exit 0
fi

mkdir -p "$cache/npm"
tgz="$cache/npm/node-llama-cpp-$NLC_VERSION.tgz"
if [ ! -f "$tgz" ]; then
  log "fetching node-llama-cpp@$NLC_VERSION from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null)
  mv "$tmp/node-llama-cpp-$NLC_VERSION.tgz" "$tgz.part"
  rm -rf "$tmp"
  mv "$tgz.part" "$tgz"
fi
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$NLC_INTEGRITY" ]; then
  log "integrity mismatch for $tgz: got $got, expected $NLC_INTEGRITY"
  rm -f "$tgz"
  exit 1
fi
log "verified $tgz ($NLC_INTEGRITY)"

work="$prefix.work"
rm -rf "$work/package" "$work/verify"
mkdir -p "$work"
tar -xzf "$tgz" -C "$work" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
bundle="$work/package/llama/gitRelease.bundle"
git init -q "$work/verify"
git -C "$work/verify" bundle verify "$bundle" >&2
# An interrupted build resumes (the CUDA kernels take an hour on two cores):
# a checkout left at the pinned commit, unmodified, is kept with its build
# directory, so ninja builds only what is missing. Anything else starts over.
if [ "$(git -C "$work/src" rev-parse HEAD 2>/dev/null)" = "$LLAMA_COMMIT" ] &&
  [ -z "$(git -C "$work/src" status --porcelain 2>/dev/null)" ]; then
  log "resuming the build in $work"
else
  rm -rf "$work/src" "$work/build"
  git clone -q "$bundle" "$work/src" 2>/dev/null
fi
head=$(git -C "$work/src" rev-parse HEAD)
if [ "$head" != "$LLAMA_COMMIT" ]; then
  log "bundle HEAD is $head, expected $LLAMA_COMMIT"
  exit 1
fi
tag=$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$work/package/llama/llama.cpp.info.json")

log "building llama.cpp $tag ($head) with ${opts[*]}"
# Libraries and tools find each other relative to themselves, so the
# install can be copied as it is.
# The tools link against libggml-cuda, which needs the driver's libcuda.so.1:
# a machine with the toolkit but no driver (a build host) leaves it to run time.
link=()
[ "$cuda" = ON ] && link=(-DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined)
cmake -S "$work/src" -B "$work/build" -G Ninja "${opts[@]}" "${link[@]}" \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN:$ORIGIN/../lib' \
  -DLLAMA_BUILD_NUMBER=1 -DLLAMA_BUILD_COMMIT="${head:0:8}" >&2
# llama-batched-bench is the reference for --parallel (bench/fidelity);
# ggml-rpc-server is the RPC backend's server
tools=(llama-bench llama-perplexity llama-quantize llama-batched-bench ggml-rpc-server)
cmake --build "$work/build" -j "$jobs" --target llama "${tools[@]}" >&2
rm -rf "$prefix"
mkdir -p "$prefix/bin" "$prefix/lib" "$prefix/include" "$prefix/share/edgebench/vocab"
cp -a "$work/build/bin/"*.so* "$prefix/lib/"
cp "$work/src/include/llama.h" "$work/src/ggml/include/"*.h "$prefix/include/"
for t in "${tools[@]}"; do
  cp "$work/build/bin/$t" "$prefix/bin/"
done
cp "$work/src/models"/ggml-vocab-*.gguf "$prefix/share/edgebench/vocab/"
cat > "$prefix/build-info.txt" <<INFO
node_llama_cpp=$NLC_VERSION
llama_cpp_tag=$tag
llama_cpp_commit=$head
build_options=${opts[*]}
target=${target:-native}
INFO
rm -rf "$work"
touch "$prefix/.complete"
log "installed into $prefix"
echo "$prefix"
