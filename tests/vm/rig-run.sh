#!/bin/sh
# Inside the kernel-vm guest: a few seconds of `rig run` in real time on the
# bench of tests/vm/bench.cfg (real gpio-sim lines, the real IIO dummy and
# hrtimer trigger), with the alarm input pulsed through gpio-sim's `pull`
# during the hold, then what the run recorded.  From the top of the tree:
#   tools/kernel-vm run --share . tests/vm/rig-run.sh build/rig \
#       /etc/fonts /usr/share/fonts/truetype/dejavu /var/cache/fontconfig
# (without fontconfig's files and the fonts the PDF report cannot be written
# and rig exits 3 although the run itself completed).
# Set ESTOP=1 to press the emergency stop instead of pulsing the alarm.
. /kernel-vm/guest-lib.sh
gpiosim_create bench valve pump_enable alarm estop || kvm_fail "gpio-sim chip"
dev=$(iio_dummy_create dummy0) || kvm_fail "IIO dummy"
trig=$(iio_hrtimer_create trig0 100) || kvm_fail "hrtimer trigger"
rig=${RIG:-$KVM_CWD/build/rig}
out=/tmp/run

"$rig" run tests/vm/short.cfg --bench tests/vm/bench.cfg --dut fixtures/dut/itp-40.cfg \
  -o "$out" --operator kernel-vm > /tmp/rig-run.log 2>&1 &
pid=$!
kvm_wait 60 grep -q 'hold' /tmp/rig-run.log || echo "  (rig did not reach the hold step within 60 s)"
sleep 0.5
echo "== during the run (uptime $(cut -d' ' -f1 /proc/uptime) s)"
echo "  lines (gpio-sim value):$(for l in valve pump_enable alarm estop; do printf ' %s=%s' $l "$(gpiosim_value bench $l)"; done)"
echo "  dummy0: current_trigger='$(cat "$dev/trigger/current_trigger")' buffer/enable=$(cat "$dev/buffer/enable")"
if [ "${ESTOP:-0}" = 1 ]; then
  echo "  pressing estop at uptime $(cut -d' ' -f1 /proc/uptime) s"
  gpiosim_pull bench estop up
else
  echo "  alarm up at uptime $(cut -d' ' -f1 /proc/uptime) s"
  gpiosim_pull bench alarm up
  sleep 0.3
  echo "  alarm down at uptime $(cut -d' ' -f1 /proc/uptime) s"
  gpiosim_pull bench alarm down
fi
# Wait up to 90 s, showing what rig is doing if it takes longer than 20 s.
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 900 ]; do
  sleep 0.1
  i=$((i + 1))
  if [ $((i % 200)) -eq 0 ]; then
    echo "  still running at uptime $(cut -d' ' -f1 /proc/uptime) s:"
    ps -o pid,stat,time,args | grep -v ' ps ' | sed 's/^/    /'
    for t in /proc/$pid/task/*; do
      echo "    task ${t##*/} $(cat $t/comm 2>/dev/null): state $(cut -d' ' -f3 $t/stat 2>/dev/null), syscall $(cut -d' ' -f1-3 $t/syscall 2>/dev/null)"
    done
    tail -n 2 /tmp/rig-run.log | sed 's/^/    log: /'
  fi
done
if kill -0 $pid 2>/dev/null; then
  echo "  rig still running after 90 s: killed"
  kill -9 $pid
fi
wait $pid
rc=$?
echo "== rig run exit status $rc; its output:"
sed 's/^/  /' /tmp/rig-run.log
echo "== after"
echo "  lines (gpio-sim value):$(for l in valve pump_enable alarm estop; do printf ' %s=%s' $l "$(gpiosim_value bench $l)"; done)"
echo "  dummy0: current_trigger='$(cat "$dev/trigger/current_trigger")' buffer/enable=$(cat "$dev/buffer/enable")"
echo "== run directory"
ls "$out" "$out/data" 2>&1 | sed 's/^/  /'
for f in "$out"/data/*.csv; do [ -f "$f" ] && echo "  $(basename "$f"): $(($(wc -l < "$f") - 1)) rows; first: $(sed -n 2p "$f")"; done
echo "== events.jsonl"
cut -c1-220 "$out/events.jsonl" 2>/dev/null | sed 's/^/  /'
exit $rc
