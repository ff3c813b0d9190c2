# Sourced by the analysis and report tests: two copies of the Jetson fixture,
# "orin-a" (VDD_IN 13.1 W) and "orin-b" (a tenth of its current, so timing
# noise under load cannot make it the costlier one per token), each with runs
# of a tiny preset at 1 and 2 threads, so energy is known. Needs eb, fx, work,
# bad() and a store in EDGEBENCH_STORE; leaves the model in $model.
model="$work/tiny.gguf"
"$eb" model synth --preset tiny-llama --type Q4_0 -o "$model" 2>/dev/null || bad "synth tiny-llama"
for dev in orin-a orin-b; do
  cp -r "$fx/jetson-orin-nano" "$work/$dev"
  mkdir -p "$work/$dev/proc/sys/kernel"
  echo "$dev" >"$work/$dev/proc/sys/kernel/hostname"
done
echo 263 >"$work/orin-b/sys/class/hwmon/hwmon1/curr1_input"
for dev in orin-a orin-b; do
  for t in 1 2; do
    "$eb" run -m "$model" -n 8 --reps "${ORIN_REPS:-3}" --warmup 1 --idle-s 0 -t $t -T $t \
      --sysfs-root "$work/$dev" -q >/dev/null 2>>"$work/err" ||
      bad "run on $dev with $t threads: $(tail -1 "$work/err")"
  done
done
