#!/usr/bin/env bash
# Installs the Debian 12 packages edgebench builds and tests with, when any is
# missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config git openssl npm
      libcjson-dev libcmocka-dev libinih-dev libsqlite3-dev libpq-dev libssl-dev
      postgresql gnuplot-nox chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from elsewhere (e.g. a Node.js install); only its command matters.
if command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = npm ] || tmp+=("$p"); done; missing=("${tmp[@]}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
