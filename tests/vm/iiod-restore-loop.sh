#!/bin/sh
# kernel-vm guest script (not part of the tier): `rig probe` through Debian's
# iiod, REPRO_N times on the IIO dummy, the dummy set back to no trigger and
# the realtime clock before each; after each, whether rig left the trigger or
# the timestamp clock changed.  REPRO_HOGS busy loops run beside iiod and rig
# (a loaded board, a loaded CI host): the race of docs/kernel-vm.md,
# "Settings through iiod", shows with 2 of them.
#
#   R=$PWD; tools/kernel-vm run --share "$R" --env REPRO_RIG=$R/build/rig \
#     --env REPRO_OUT=$R/build/iiod-restore --env REPRO_N=20 --env REPRO_HOGS=2 \
#     "$R/tests/vm/iiod-restore-loop.sh" "$R/build/rig" /usr/sbin/iiod /usr/bin/iio_attr
#
# Writes REPRO_OUT/summary (a line per probe, then "left behind in K of N
# probes") and each probe's output (probe-I.log).
. /kernel-vm/guest-lib.sh
src=$KVM_CWD
rig=${REPRO_RIG:?REPRO_RIG: the rig binary}
out=${REPRO_OUT:?REPRO_OUT: where to write, on the shared folder}
n=${REPRO_N:-10}
mkdir -p "$out"
export PUMPRIG_OPERATOR=kernel-vm
gpiosim_create_labelled bench vm-bench valve pump_enable run_lamp alarm estop || kvm_fail gpio-sim
dev=$(iio_dummy_create dummy0) || kvm_fail "IIO dummy"
iio_hrtimer_create trig0 50 > /dev/null || kvm_fail "hrtimer trigger"
sed 's/uri = "local:"/uri = "ip:127.0.0.1"/' "$src/fixtures/bench/vm.cfg" > /tmp/vm-iiod.cfg
iiod_start || kvm_fail iiod
state() {
  echo "trig=$(cat "$dev/trigger/current_trigger") clock=$(cat "$dev/current_timestamp_clock") en=$(cat "$dev/buffer/enable")"
}
h=0
while [ "$h" -lt "${REPRO_HOGS:-0}" ]; do (while :; do :; done) & h=$((h + 1)); done
left=0 i=1
while [ "$i" -le "$n" ]; do
  echo "" > "$dev/trigger/current_trigger"
  echo realtime > "$dev/current_timestamp_clock"
  b=$(state)
  "$rig" probe --bench /tmp/vm-iiod.cfg > "$out/probe-$i.log" 2>&1
  rc=$?
  a=$(state)
  if [ "$a" = "$b" ]; then r=same; else r=LEFT; left=$((left + 1)); fi
  echo "probe $i rc=$rc before: $b after: $a $r" | tee -a "$out/summary"
  i=$((i + 1))
done
echo "left behind in $left of $n probes" | tee -a "$out/summary"
iiod_stop
exit 0
