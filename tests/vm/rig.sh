#!/bin/sh
# Inside the kernel-in-the-loop guest (tests/vm/tier.sh, from tools/kernel-vm
# test): rig's gpiod and iio backends, through the code paths a bench board
# uses, against real kernel drivers: a gpio-sim chip whose lines carry the
# names fixtures/bench/vm.cfg gives, the IIO simple dummy with an hrtimer
# trigger, and Debian's iiod serving the same device.
#
# This script only makes things happen and writes down what it did and what
# the kernel showed, into $KVM_TEST_OUT (on the shared folder); the host
# (tests/vm/check.sh) judges it. Per scenario a directory with:
#   run/         rig's run directory (events.jsonl, results.json, ...)
#   rc           rig's exit status
#   rig.log      its stdout and stderr
#   pull         "BEFORE AFTER": CLOCK_MONOTONIC ns around the sysfs write
#                that made an input's edge (gpio-sim `pull`)
#   kill         CLOCK_MONOTONIC ns when a signal was sent
#   lines        each line's level as the outside world sees it (gpio-sim
#                `value`) after rig ended: name=0|1
#   watch        the outputs as the kernel shows them, polled every 2 ms by
#                /usr/bin/gpiowatch (tools/vm/gpiowatch.c), outside rig:
#                "T_NS PREV_NS NAME held|free in|out LEVEL CONSUMER" on
#                each change (CLOCK_MONOTONIC)
# and, at the top, clocksource and the IIO state around each probe
# (iio-*.txt).
. /kernel-vm/guest-lib.sh

out=${KVM_TEST_OUT:?KVM_TEST_OUT: where to write}
src=$KVM_CWD
rig=$src/build/rig
benchtool=$src/build/bench_iio_kernel
bench=$src/fixtures/bench/vm.cfg
dut=$src/fixtures/dut/itp-40.cfg
runs=/tmp/runs                  # run directories on the guest's tmpfs, copied out after
mkdir -p "$out" "$runs"
export PUMPRIG_OPERATOR=kernel-vm

say() { echo "   $*"; }
now() { stamp; }

# ---- the bench, made through configfs ---------------------------------------
gpiosim_create_labelled bench vm-bench valve pump_enable run_lamp alarm estop \
  || kvm_fail "gpio-sim chip"
dev=$(iio_dummy_create dummy0) || kvm_fail "IIO dummy"
# 50 Hz, not the bench's 100: shows that rig sets it and puts it back
trig=$(iio_hrtimer_create trig0 50) || kvm_fail "hrtimer trigger"
cat /sys/devices/system/clocksource/clocksource0/current_clocksource > "$out/clocksource"
echo "rig: $("$rig" --version)" > "$out/versions"
uname -r >> "$out/versions"
simdir=$(dirname "$(gpiosim_sysfs bench valve)")
say "bench: $(gpiosim_chip bench) ($(gpiosim_dev bench)), $dev, $trig; clocksource $(cat "$out/clocksource")"

lines() { # lines FILE: each line's level as the outside world sees it
  for l in valve pump_enable run_lamp alarm estop; do echo "$l=$(gpiosim_value bench $l)"; done > "$1"
}
iio_state() { # iio_state FILE: what rig may change on the dummy and its trigger
  {
    echo "current_trigger=$(cat "$dev/trigger/current_trigger")"
    echo "buffer_enable=$(cat "$dev/buffer/enable")"
    echo "buffer_length=$(cat "$dev/buffer/length")"
    echo "timestamp_clock=$(cat "$dev/current_timestamp_clock")"
    echo "trig0_sampling_frequency=$(cat "$trig/sampling_frequency")"
    for f in "$dev"/scan_elements/*_en; do n=${f##*/}; echo "${n%_en}=$(cat "$f")"; done
  } > "$1"
}
iio_restore() { # iio_restore FILE: the dummy and its trigger back to a state iio_state wrote
  local k v
  echo 0 > "$dev/buffer/enable"
  while IFS='=' read -r k v; do
    case $k in
      current_trigger) echo "$v" > "$dev/trigger/current_trigger" ;;
      buffer_enable) ;;
      buffer_length) echo "$v" > "$dev/buffer/length" ;;
      timestamp_clock) echo "$v" > "$dev/current_timestamp_clock" ;;
      trig0_sampling_frequency) echo "$v" > "$trig/sampling_frequency" ;;
      *) echo "$v" > "$dev/scan_elements/${k}_en" ;;
    esac
  done < "$1"
  [ "$(sed -n 's/^buffer_enable=//p' "$1")" = 1 ] && echo 1 > "$dev/buffer/enable"
  return 0
}
# watch_begin FILE: gpiowatch on the outputs into FILE, waited for until it
# has looked once; watch_end: stopped
watch_begin() {
  gpiowatch 2 "/dev/$(gpiosim_chip bench)" "$simdir" valve pump_enable run_lamp > "$1" &
  watch_pid=$!
  kvm_wait 10 grep -q '^# watching' "$1" || kvm_fail "gpiowatch did not start"
}
watch_end() { kill "$watch_pid"; wait "$watch_pid"; }

# start NAME SEQUENCE [BENCH]: rig run in the background; sets pid and d
start() {
  d=$out/$1
  mkdir -p "$d"
  watch_begin "$d/watch"
  "$rig" run "$src/tests/vm/$2" --bench "${3:-$bench}" --dut "$dut" -o "$runs/$1" -q \
    > "$d/rig.log" 2>&1 &
  pid=$!
}
# wait_text TEXT SECONDS: until the run's events.jsonl holds TEXT
wait_text() { kvm_wait "$2" grep -q "$1" "$runs/${d##*/}/events.jsonl"; }
# finish [SECONDS]: waits for rig to end (killed after SECONDS), records it
finish() {
  local i=$((${1:-60} * 10))
  while kill -0 "$pid" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    echo "rig did not end within ${1:-60} s: killed" >> "$d/rig.log"
    kill -9 "$pid"
  fi
  wait "$pid"
  echo $? > "$d/rc"
  lines "$d/lines"
  watch_end
  [ -d "$runs/${d##*/}" ] && cp -a "$runs/${d##*/}" "$d/run"
  say "${d##*/}: rig exit status $(cat "$d/rc"); lines after: $(tr '\n' ' ' < "$d/lines")"
}
line_is() { [ "$(gpiosim_value bench "$1")" = "$2" ]; }

# ---- rig probe, local: ------------------------------------------------------
echo "== rig probe on local: (every instrument opened, read once, closed)"
iio_state "$out/iio-probe-before.txt"
mkdir -p "$out/probe"
"$rig" probe --bench "$bench" > "$out/probe/rig.log" 2>&1
echo $? > "$out/probe/rc"
iio_state "$out/iio-probe-after.txt"
lines "$out/probe/lines"
sed 's/^/   /' "$out/probe/rig.log"

# ---- the occlusion alarm from a kernel edge ---------------------------------
echo "== occlusion: the alarm line pulled up 0.3 s after the valve closed"
start occlusion occlusion.cfg
if kvm_wait 60 line_is valve 1; then
  sleep 0.3   # the stimulus: an alarm 0.3 s into the occlusion
  stamp "$(gpiosim_sysfs bench alarm)/pull" pull-up > "$d/pull"
else
  say "the valve never closed"
fi
finish 60
gpiosim_pull bench alarm down

# ---- the emergency stop -----------------------------------------------------
echo "== estop: pulled up during a hold, outputs at their run levels"
start estop hold.cfg
if wait_text '"kind":"hold"' 60 && kvm_wait 10 line_is pump_enable 1; then
  stamp "$(gpiosim_sysfs bench estop)/pull" pull-up > "$d/pull"
else
  say "the run never reached its hold"
fi
finish 30
gpiosim_pull bench estop down

# ---- every other way a run ends ---------------------------------------------
echo "== a completed run"
start completed short.cfg
finish 60

for sig in INT TERM HUP SEGV; do
  echo "== SIG$sig during a hold"
  start "sig$sig" hold.cfg
  if wait_text '"kind":"hold"' 60 && kvm_wait 10 line_is pump_enable 1; then
    now > "$d/kill"
    kill -"$sig" "$pid"
  else
    say "the run never reached its hold"
  fi
  finish 30
done

echo "== kill -9 during a hold, then rig safe by hand"
start kill9 hold.cfg
if wait_text '"kind":"hold"' 60 && kvm_wait 10 line_is pump_enable 1; then
  now > "$d/kill"
  kill -9 "$pid"
fi
finish 10
watch_begin "$d/watch-safe"
"$rig" safe --bench "$bench" --reason "after kill -9" > "$d/safe.log" 2>&1
echo $? > "$d/safe-rc"
lines "$d/lines-after-safe"
watch_end
# A killed rig cannot put the IIO device back (its buffer was enabled, on
# rig's trigger and clock): written down for the host to report, then the
# test puts it back itself, so that what follows starts from the same state.
iio_state "$out/iio-kill9-after.txt"
iio_restore "$out/iio-probe-before.txt"

# ---- Debian's iiod serving the same device ----------------------------------
echo "== iiod: rig probe and a run on ip:127.0.0.1 (the network path, real kernel buffers)"
sed 's/uri = "local:"/uri = "ip:127.0.0.1"/' "$bench" > /tmp/vm-iiod.cfg
if iiod_start; then
  iio_state "$out/iio-iiod-probe-before.txt"
  mkdir -p "$out/iiod-probe"
  "$rig" probe --bench /tmp/vm-iiod.cfg > "$out/iiod-probe/rig.log" 2>&1
  echo $? > "$out/iiod-probe/rc"
  iio_state "$out/iio-iiod-probe-after.txt"
  sed 's/^/   /' "$out/iiod-probe/rig.log"
  start iiod-run short.cfg /tmp/vm-iiod.cfg
  finish 60
  iio_state "$out/iio-iiod-run-after.txt"
else
  echo "iiod did not start" > "$out/iiod-failed"
  cat /tmp/iiod.log >> "$out/iiod-failed"
fi

# ---- buffered throughput: the backend against iio_readdev -------------------
# The same device, trigger, rate, buffer size and scan (voltage0 and the
# timestamp, 16 bytes), each process timed from its start to its end.
# iio_readdev is not given -t (it would set the trigger to its own 100 Hz):
# the trigger is assigned and set here, as rig would set it.
echo "== buffered capture: the iio backend against iio_readdev"
capture() { # capture NAME URI HZ SCANS
  local c=$out/capture/$1 t0 t1 buf
  mkdir -p "$c"
  buf=$(( $3 / 10 + 1 )); [ $buf -lt 16 ] && buf=16   # the backend's: a batch of 100 ms and one more
  echo "uri=$2 hz=$3 scans=$4 buffer=$buf" > "$c/params"
  iio_state "$c/iio-before.txt"
  t0=$(now)
  "$benchtool" "$2" dummy0 voltage0 trig0 "$3" "$4" > "$c/backend" 2> "$c/backend.err"
  echo "rc=$?" >> "$c/backend"
  t1=$(now)
  echo "wall_ns=$((t1 - t0))" >> "$c/backend"
  iio_state "$c/iio-after-backend.txt"
  echo "$3" > "$trig/sampling_frequency"
  echo trig0 > "$dev/trigger/current_trigger"
  echo monotonic > "$dev/current_timestamp_clock"
  t0=$(now)
  iio_readdev -u "$2" -b "$buf" -s "$4" dummy0 voltage0 timestamp > "$c/readdev.bin" 2> "$c/readdev.err"
  echo "rc=$?" > "$c/readdev"
  t1=$(now)
  echo "wall_ns=$((t1 - t0))" >> "$c/readdev"
  # iio_readdev leaves its buffer length (and this test's settings): put back
  iio_restore "$c/iio-before.txt"
  # the timestamps (the second 8 bytes of each 16-byte scan), for the host
  od -An -v -t d8 -w16 "$c/readdev.bin" | awk '{ print $2 }' > "$c/readdev.ts"
  rm -f "$c/readdev.bin"
  say "$1: backend $(cat "$c/backend" | tr '\n' ' ')"
  say "$1: iio_readdev $(tr '\n' ' ' < "$c/readdev") ($(wc -l < "$c/readdev.ts") scans)"
}
iio_state "$out/iio-capture-before.txt"
capture local-1k local: 1000 3000
[ -n "${KVM_IIOD_PID:-}" ] && capture iiod-1k ip:127.0.0.1 1000 3000
iio_state "$out/iio-capture-after.txt"
iiod_stop

echo "== rig tier: record in $out"
exit 0
