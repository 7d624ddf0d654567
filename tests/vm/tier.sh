#!/bin/sh
# The kernel-in-the-loop tier, in one guest (tools/kernel-vm test): first the
# kernel's interfaces with Debian's own tools (tests/vm/smoke.sh), then rig's
# gpiod and iio backends on them (tests/vm/rig.sh), whose record
# tests/vm/check.sh then judges on the host. Each part runs whatever the
# other did; the exit status is the first failure's.
sh "$KVM_CWD/tests/vm/smoke.sh"
smoke=$?
echo "== smoke test exit status $smoke"
sh "$KVM_CWD/tests/vm/rig.sh"
rig=$?
echo "== rig tier exit status $rig"
[ "$smoke" -ne 0 ] && exit "$smoke"
exit "$rig"
