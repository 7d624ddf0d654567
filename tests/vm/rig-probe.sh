#!/bin/sh
# Inside the kernel-vm guest: the bench of tests/vm/bench.cfg made of real
# kernel drivers, then `rig probe` on it.  Run from the top of the tree:
#   cmake --build build --target rig
#   tools/kernel-vm run --share . tests/vm/rig-probe.sh build/rig
. /kernel-vm/guest-lib.sh
gpiosim_create bench valve pump_enable alarm estop || kvm_fail "gpio-sim chip"
iio_dummy_create dummy0 > /dev/null || kvm_fail "IIO dummy"
iio_hrtimer_create trig0 100 > /dev/null || kvm_fail "hrtimer trigger"
rig=${RIG:-$KVM_CWD/build/rig}
"$rig" --version
echo "== rig probe --bench tests/vm/bench.cfg"
"$rig" probe --bench tests/vm/bench.cfg
rc=$?
echo "== rig probe exit status $rc"
echo "== lines after probe (gpio-sim sysfs value: what the outside world sees)"
for l in valve pump_enable alarm estop; do echo "  $l = $(gpiosim_value bench $l)"; done
gpioinfo gpiochip0
exit $rc
