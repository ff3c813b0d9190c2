#!/usr/bin/env bash
# Writes the /proc and /sys files of a 128-CPU server (or N_CPUS) under DIR: 128 cpufreq
# policies (one per CPU, as intel_pstate exposes them), 64 thermal zones, 8
# hwmon chips with 8 rails each (power and current/voltage files for the
# same rail), and 4 RAPL packages with their dram zones. Made at test time
# rather than kept as ~1,500 files in the repository.
set -euo pipefail
dir=${1:?usage: make_server_fixture.sh DIR [N_CPUS]}
ncpu=${2:-128}
rm -rf "$dir"
cpu=$dir/sys/devices/system/cpu
mkdir -p "$cpu/cpufreq" "$dir/proc/sys/kernel" "$dir/etc"
echo "0-$((ncpu - 1))" >"$cpu/online"
echo "0-$((ncpu - 1))" >"$cpu/possible"
for i in $(seq 0 $((ncpu - 1))); do
  p=$cpu/cpufreq/policy$i
  mkdir -p "$p"
  echo ondemand >"$p/scaling_governor"
  echo "performance powersave ondemand" >"$p/scaling_available_governors"
  echo $((2000000 + i * 1000)) >"$p/scaling_cur_freq"
  echo 3500000 >"$p/cpuinfo_max_freq"
  echo "$i" >"$p/related_cpus"
done
for z in $(seq 0 63); do
  t=$dir/sys/class/thermal/thermal_zone$z
  mkdir -p "$t"
  echo "x86_pkg_temp" >"$t/type"
  echo $((40000 + z * 100)) >"$t/temp"
done
for h in $(seq 0 7); do
  m=$dir/sys/class/hwmon/hwmon$h
  mkdir -p "$m"
  echo "ina226_$h" >"$m/name"
  for r in $(seq 1 8); do
    echo "rail_${h}_$r" >"$m/in${r}_label"
    echo 12000 >"$m/in${r}_input"                      # mV
    echo 500 >"$m/curr${r}_input"                      # mA
    echo $(((h * 8 + r) * 1000000)) >"$m/power${r}_input" # uW: 1..64 W
  done
done
for k in 0 1 2 3; do
  z=$dir/sys/class/powercap/intel-rapl:$k
  mkdir -p "$z" "$dir/sys/class/powercap/intel-rapl:$k:0"
  echo "package-$k" >"$z/name"
  echo $((1000000 * (k + 1))) >"$z/energy_uj"
  echo 262143328850 >"$z/max_energy_range_uj"
  echo dram >"$dir/sys/class/powercap/intel-rapl:$k:0/name"
  echo 1000 >"$dir/sys/class/powercap/intel-rapl:$k:0/energy_uj"
  echo 65712999613 >"$dir/sys/class/powercap/intel-rapl:$k:0/max_energy_range_uj"
done
printf 'MemTotal:       527938020 kB\nMemFree:        500000000 kB\nMemAvailable:   510000000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n' >"$dir/proc/meminfo"
echo 6.1.0-server >"$dir/proc/sys/kernel/osrelease"
echo server128 >"$dir/proc/sys/kernel/hostname"
