#!/usr/bin/env bash
# Installs the packages edgebench builds and tests with, when any is missing,
# and checks their versions. Needs root (or sudo) only to install.
#
#   scripts/deps.sh          for this machine: Debian 12 (x86-64 or arm64,
#                            Raspberry Pi OS) or Ubuntu 22.04 arm64 (JetPack 6)
#   scripts/deps.sh arm64    also what cross-building for arm64 and testing it
#                            under qemu-user needs (Debian 12 x86-64)
set -euo pipefail
mode=${1:-native}
log() { echo "deps: $*" >&2; }

id=unknown ver=unknown
if [ -r /etc/os-release ]; then
  . /etc/os-release
  id=${ID:-unknown} ver=${VERSION_ID:-unknown}
fi
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case "$id $ver" in
"debian 12" | "raspbian 12") os=debian12 ;;
"ubuntu 22.04") os=ubuntu2204 ;;
*)
  log "unsupported system: $id $ver ($arch). edgebench is built and tested on Debian 12"
  log "(x86-64, arm64: Raspberry Pi OS) and Ubuntu 22.04 arm64 (JetPack 6); it needs a C11"
  log "compiler (gcc >= 10), CMake >= 3.18, ninja, pkg-config, git, npm, openssl and the -dev"
  log "packages of cjson, cmocka >= 1.1, inih >= 53, sqlite3, libpq and ncurses; install those and"
  log "run make again with EDGEBENCH_SKIP_DEPS=1"
  [ "${EDGEBENCH_SKIP_DEPS:-}" = 1 ] && exit 0
  exit 1
  ;;
esac

pkgs=(build-essential cmake ninja-build pkg-config git openssl npm
  libcjson-dev libcmocka-dev libinih-dev libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev
  postgresql gnuplot-nox libncurses-dev tmux iproute2 clang)
# libFuzzer's runtime for `make fuzz` (Debian 12's clang is 14)
[ "$os" = debian12 ] && pkgs+=(libclang-rt-14-dev)
# The Vulkan variant (EDGEBENCH_VULKAN=ON) and its tests on Mesa's
# software Vulkan (lavapipe)
[ "$os" = debian12 ] && pkgs+=(libvulkan-dev glslc glslang-tools spirv-headers mesa-vulkan-drivers)
# Headless Chromium takes the report's screenshots; Ubuntu ships it as a
# snap only, so there the report test checks the page without it.
[ "$os" = debian12 ] && pkgs+=(chromium)
if [ "$mode" = arm64 ]; then
  [ "$arch" = amd64 ] || { log "cross-building for arm64 is set up on an x86-64 Debian 12 machine (this is $arch)"; exit 1; }
  pkgs+=(crossbuild-essential-arm64 qemu-user qemu-user-binfmt file
    libcjson-dev:arm64 libcmocka-dev:arm64 libinih-dev:arm64 libsqlite3-dev:arm64 libncurses-dev:arm64
    libssl-dev:arm64 libcurl4-openssl-dev:arm64 libpq5:arm64 libc6:arm64 libgomp1:arm64 libstdc++6:arm64 libgcc-s1:arm64
    libvulkan-dev:arm64 mesa-vulkan-drivers:arm64)
  # libpq-dev is not multi-arch: the build uses its headers with libpq5:arm64.
  # The arm64 Vulkan variant links the arm64 Vulkan loader and is tested on
  # arm64 lavapipe under qemu-user (its shaders compiled by the host's glslc).
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding the arm64 architecture (dpkg --add-architecture arm64)"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo dpkg --add-architecture arm64
    $sudo apt-get update -qq >&2
  fi
elif [ "$mode" != native ]; then
  log "usage: scripts/deps.sh [arm64]"
  exit 2
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from elsewhere (e.g. a Node.js install); only its command matters.
if command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = npm ] || tmp+=("$p"); done; missing=("${tmp[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2
  # the arm64 runtime libraries must match the installed x86-64 ones' versions
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

# Versions below these lack what edgebench uses.
too_old=()
need() { # PACKAGE MIN
  local v
  v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
  if [ -z "$v" ]; then too_old+=("$1 (not installed, need >= $2)")
  elif ! dpkg --compare-versions "$v" ge "$2"; then too_old+=("$1 $v (need >= $2)"); fi
}
need cmake 3.18
need libinih-dev 53
need libcmocka-dev 1.1
gcc_major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
[ "${gcc_major:-0}" -ge 10 ] || too_old+=("gcc ${gcc_major:-none} (need >= 10)")
if [ ${#too_old[@]} -gt 0 ]; then
  log "too old or missing on $id $ver: ${too_old[*]}"
  exit 1
fi

# JetPack's CUDA toolkit is in /usr/local/cuda, off PATH.
if [ "${EDGEBENCH_CUDA:-OFF}" = ON ] && ! command -v nvcc >/dev/null; then
  found=""
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && found=$d && break; done
  if [ -n "$found" ]; then log "CUDA toolkit found in $found (the setup script adds it to PATH)"
  else log "EDGEBENCH_CUDA=ON but no nvcc on PATH or in /usr/local/cuda*/bin (JetPack: nvidia-jetpack, or cuda-toolkit)"; exit 1; fi
fi
exit 0
