#!/bin/sh
# Smoke test of the kernel-in-the-loop VM, run inside the guest by
#   tools/kernel-vm test
# (busybox sh, with libgpiod's and libiio's Debian tools and iiod in the
# initramfs). It checks that the kernel drivers the rig's gpiod and iio
# backends will meet are really there and behave: a gpio-sim chip with named
# lines, edges made through sysfs `pull` seen by gpiomon with kernel
# timestamps, the IIO dummy with an hrtimer trigger, a buffered capture
# through libiio's local backend, and the same through Debian's iiod.
# Every check prints ok/FAIL; the last line is "N passed, N failed".
. /kernel-vm/guest-lib.sh

passed=0
failed=0
uptime() { read -r u _ < /proc/uptime; echo "$u"; }
last=$(uptime)
check() { # check DESCRIPTION CMD...: run CMD, show its output if it fails
  local what=$1 out t
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); t=ok
  else
    failed=$((failed + 1)); t=FAIL
  fi
  now=$(uptime)
  # the time since the previous check, set-up included
  echo "$t: $what ($(awk -v a="$last" -v b="$now" 'BEGIN { printf "%.2f", b - a }') s)"
  last=$now
  [ $t = ok ] || { [ -n "$out" ] && echo "$out" | sed 's/^/    /'; }
  return 0
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# ---- GPIO -------------------------------------------------------------------
# The lines a bench file names: outputs valve and pump_enable, inputs alarm and estop.
check "gpio-sim chip with named lines goes live" gpiosim_create bench valve pump_enable alarm estop
chip=$(gpiosim_chip bench)
echo "   gpio-sim device $(gpiosim_dev bench), /dev/$chip"
check "/dev/$chip is a character device" test -c "/dev/$chip"

gpioinfo "$chip" > /tmp/gpioinfo.txt 2>&1
sed 's/^/    /' /tmp/gpioinfo.txt
for name in valve pump_enable alarm estop; do
  check "gpioinfo shows line \"$name\"" grep -q "\"$name\"" /tmp/gpioinfo.txt
done
check "gpiofind finds alarm at offset 2" sh -c "[ \"\$(gpiofind alarm)\" = '$chip 2' ]"

# An output driven by a consumer: gpio-sim's sysfs `value` shows the level.
valve=$(gpiosim_offset bench valve)
gpioset --mode=signal "$chip" "$valve=1" &
setpid=$!
line_used() { gpioinfo "$chip" | grep "\"$1\"" | grep -q used; }
check "gpioset holds valve" kvm_wait 5 line_used valve
check "valve reads 1 through gpio-sim sysfs while driven high" sh -c "[ \"\$(cat $(gpiosim_sysfs bench valve)/value)\" = 1 ]"
kill "$setpid"; wait "$setpid" 2>/dev/null

# Input edges made through `pull`, seen by gpiomon with the kernel's timestamps
# (the v1 ABI's event timestamps are CLOCK_MONOTONIC since Linux 5.7).
alarm=$(gpiosim_offset bench alarm)
gpiomon --num-events=2 --format='%e %o %s.%n' "$chip" "$alarm" > /tmp/edges.txt 2>&1 &
monpid=$!
check "gpiomon holds alarm" kvm_wait 5 line_used alarm
t_before=$(cut -d' ' -f1 /proc/uptime)
gpiosim_pull bench alarm up
sleep 0.2
gpiosim_pull bench alarm down
kvm_wait 5 sh -c "! kill -0 $monpid" || kill "$monpid"
wait "$monpid" 2>/dev/null
sed 's/^/    edge: /' /tmp/edges.txt
check "gpiomon saw a rising then a falling edge on alarm" \
  sh -c "[ \"\$(cut -d' ' -f1,2 /tmp/edges.txt | tr '\n' ' ')\" = '1 $alarm 0 $alarm ' ]"
edges_ok() {
  awk -v before="$t_before" '
    { split($3, t, "."); ts[NR] = t[1] + t[2] / 1e9 }
    END {
      if (NR != 2) { print "expected 2 edges, got " NR; exit 1 }
      gap = ts[2] - ts[1]
      printf "    timestamps %.6f and %.6f s (monotonic), %.1f ms apart\n", ts[1], ts[2], gap * 1000
      if (ts[1] < before - 1) { print "first edge is before the pull (uptime " before ")"; exit 1 }
      if (gap < 0.15 || gap > 5) { print "edges should be about 200 ms apart"; exit 1 }
    }' /tmp/edges.txt
}
check "edge timestamps are kernel monotonic times about 200 ms apart" edges_ok
edges_ok 2>/dev/null | grep timestamps

# ---- IIO --------------------------------------------------------------------
dev=$(iio_dummy_create dummy0)
check "IIO dummy device created through configfs" test -n "$dev"
echo "   $dev"
check "dummy0 has in_voltage0_raw" test -f "$dev/in_voltage0_raw"
check "dummy0 has buffer/" test -d "$dev/buffer"
check "dummy0 has scan_elements/" test -d "$dev/scan_elements"
echo "    scan_elements: $(ls "$dev/scan_elements" | grep _en | tr '\n' ' ')"
trig=$(iio_hrtimer_create trig0 100)
check "hrtimer trigger created through configfs" test -n "$trig"
check "trigger runs at 100 Hz" sh -c "grep -q '^100' $trig/sampling_frequency"
echo "   $trig ($(cat "$trig/name"), $(cat "$trig/sampling_frequency") Hz)"
# Timestamps in the buffer use CLOCK_REALTIME unless told otherwise.
echo "    current_timestamp_clock: $(cat "$dev/current_timestamp_clock")"
echo monotonic > "$dev/current_timestamp_clock"
check "timestamp clock set to monotonic" grep -q monotonic "$dev/current_timestamp_clock"

iio_info -u local: > /tmp/iio_info.txt 2>&1
check "iio_info -u local: lists dummy0" grep -q 'dummy0' /tmp/iio_info.txt
check "iio_info -u local: lists trig0" grep -q 'trig0' /tmp/iio_info.txt
check "iio_attr reads voltage0 raw" iio_attr -u local: -c dummy0 voltage0 raw

# All four scan channels (4 x 16 bit) and the 64-bit timestamp: 16 bytes a sample.
scan_ok() { # scan_ok FILE SAMPLES: size, and timestamps increasing ~10 ms apart
  od -An -v -t d8 -w16 "$1" | awk -v n="$2" '
    { ts[NR] = $2 }
    END {
      if (NR != n) { print "expected " n " samples, got " NR; exit 1 }
      for (i = 2; i <= NR; i++) if (ts[i] <= ts[i-1]) { print "timestamps not increasing at " i; exit 1 }
      mean = (ts[NR] - ts[1]) / (NR - 1) / 1e6
      printf "    %d samples, timestamps %.6f .. %.6f s, mean spacing %.2f ms\n", NR, ts[1] / 1e9, ts[NR] / 1e9, mean
      if (mean < 5 || mean > 50) { print "spacing should be about 10 ms at 100 Hz"; exit 1 }
    }'
}
iio_readdev -u local: -t trig0 -b 16 -s 32 dummy0 > /tmp/local.bin 2> /tmp/readdev.err
check "buffered read through libiio local: returns 32 samples (512 bytes)" \
  sh -c "[ \$(wc -c < /tmp/local.bin) -eq 512 ] || { cat /tmp/readdev.err; wc -c < /tmp/local.bin; false; }"
check "buffered samples carry increasing kernel timestamps ~10 ms apart" scan_ok /tmp/local.bin 32
scan_ok /tmp/local.bin 32 2>/dev/null | grep samples
echo "    first sample: $(od -An -v -t d2 -N 8 /tmp/local.bin | tr -s ' ')  (voltage0, voltage1-voltage2, voltage3-voltage4, accel_x)"
check "buffer disabled again after the capture" sh -c "[ \"\$(cat $dev/buffer/enable)\" = 0 ]"

# ---- Debian's iiod inside the guest ----------------------------------------
# (not through check: iiod_start records the daemon's pid in this shell)
if iiod_start; then passed=$((passed + 1)); echo "ok: iiod starts and answers on ip:127.0.0.1"
else failed=$((failed + 1)); echo "FAIL: iiod starts and answers on ip:127.0.0.1"; fi
iio_info -u ip:127.0.0.1 > /tmp/iio_info_net.txt 2>&1
check "iio_info -u ip:127.0.0.1 lists dummy0" grep -q 'dummy0' /tmp/iio_info_net.txt
check "iio_info -u ip:127.0.0.1 lists trig0" grep -q 'trig0' /tmp/iio_info_net.txt
iio_readdev -u ip:127.0.0.1 -t trig0 -b 16 -s 32 dummy0 > /tmp/net.bin 2> /tmp/readdev-net.err
check "buffered read through iiod returns 32 samples (512 bytes)" \
  sh -c "[ \$(wc -c < /tmp/net.bin) -eq 512 ] || { cat /tmp/readdev-net.err; wc -c < /tmp/net.bin; false; }"
check "samples through iiod carry increasing kernel timestamps ~10 ms apart" scan_ok /tmp/net.bin 32
iiod_stop

# ---- tear-down through configfs ---------------------------------------------
check "hrtimer trigger removed" iio_hrtimer_remove trig0
check "IIO dummy removed" iio_dummy_remove dummy0
check "gpio-sim chip removed" gpiosim_remove bench
finish
