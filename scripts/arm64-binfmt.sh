#!/usr/bin/env bash
# Lets this x86-64 kernel run arm64 programs through qemu-aarch64 (Debian's
# qemu-user-binfmt), as a board runs them natively: the end-to-end scripts
# start the arm64 edgebench, and a sweep starts its trials as child
# processes of it. Needs root; does nothing when already set up.
set -euo pipefail
dir=/proc/sys/fs/binfmt_misc
conf=/usr/lib/binfmt.d/qemu-aarch64.conf
[ -e "$dir/qemu-aarch64" ] && exit 0
[ -r "$conf" ] || { echo "arm64-binfmt: no $conf (install qemu-user-binfmt: scripts/deps.sh arm64)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "arm64-binfmt: registering qemu-aarch64 needs root" >&2; exit 1; }
[ -e "$dir/register" ] || mount -t binfmt_misc binfmt_misc "$dir"
cat "$conf" >"$dir/register"
echo "arm64-binfmt: arm64 programs run through qemu-aarch64" >&2
