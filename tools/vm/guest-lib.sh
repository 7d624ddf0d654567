# Helpers for test scripts inside the kernel-vm guest (busybox sh).
#   . /kernel-vm/guest-lib.sh
# Set-up through the kernel's own interfaces: gpio-sim and IIO software
# devices/triggers are created through configfs, gpio-sim inputs are driven
# through sysfs `pull`, exactly as a test on a developer's machine with these
# drivers loaded would do it.

KVM_CONFIGFS=/sys/kernel/config

kvm_fail() { echo "FAIL: $*"; exit 1; }
kvm_ok() { echo "ok: $*"; }

# kvm_wait SECONDS CMD...: retry CMD every 0.1 s until it succeeds; 1 if it never does.
kvm_wait() {
  local tries=$(($1 * 10)); shift
  while ! "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

# ---- gpio-sim ---------------------------------------------------------------

# gpiosim_create CHIP NAME...: a gpio-sim device called CHIP (the configfs
# directory name) with one bank whose line N is called by the Nth NAME ("-"
# leaves a line unnamed), then brought live. The bank appears as
# /dev/$(gpiosim_chip CHIP).
gpiosim_create() {
  local c=$1
  shift
  gpiosim_create_labelled "$c" '' "$@"
}

# gpiosim_create_labelled CHIP LABEL NAME...: the same, the bank labelled
# LABEL (what gpiodetect shows, and what a bench file's `device` may name:
# a board's chips keep their labels, not their gpiochipN numbers).
gpiosim_create_labelled() {
  local chip=$1 d=$KVM_CONFIGFS/gpio-sim/$1 i=0 n label=$2
  shift 2
  mkdir "$d" "$d/bank0" || return 1
  [ -z "$label" ] || echo "$label" > "$d/bank0/label" || return 1
  echo $# > "$d/bank0/num_lines" || return 1
  for n in "$@"; do
    if [ "$n" != - ]; then
      mkdir "$d/bank0/line$i" && echo "$n" > "$d/bank0/line$i/name" || return 1
    fi
    i=$((i + 1))
  done
  echo 1 > "$d/live" || return 1
  kvm_wait 5 test -c "/dev/$(gpiosim_chip "$chip")"
}

# gpiosim_chip CHIP: the bank's gpiochip name (gpiochipN).
gpiosim_chip() { cat "$KVM_CONFIGFS/gpio-sim/$1/bank0/chip_name"; }
# gpiosim_dev CHIP: the platform device's name (gpio-sim.N).
gpiosim_dev() { cat "$KVM_CONFIGFS/gpio-sim/$1/dev_name"; }

# gpiosim_offset CHIP LINE: LINE's offset; LINE is an offset or a line name.
gpiosim_offset() {
  local d
  case $2 in
    *[!0-9]*|'') ;;
    *) echo "$2"; return 0 ;;
  esac
  for d in "$KVM_CONFIGFS/gpio-sim/$1/bank0"/line*; do
    [ -f "$d/name" ] && [ "$(cat "$d/name")" = "$2" ] && { echo "${d##*/line}"; return 0; }
  done
  echo "gpiosim_offset: no line '$2' on $1" >&2
  return 1
}

# gpiosim_sysfs CHIP LINE: the line's sysfs group (holds `pull` and `value`).
gpiosim_sysfs() {
  local off
  off=$(gpiosim_offset "$1" "$2") || return 1
  echo "/sys/devices/platform/$(gpiosim_dev "$1")/$(gpiosim_chip "$1")/sim_gpio$off"
}

# gpiosim_pull CHIP LINE up|down: drive an input as the outside world would;
# a consumer watching edges sees a real edge event with a kernel timestamp.
gpiosim_pull() {
  local s
  s=$(gpiosim_sysfs "$1" "$2") || return 1
  echo "pull-$3" > "$s/pull"
}

# gpiosim_value CHIP LINE: the line's level as the outside world sees it
# (what a consumer drives on an output, the pull on an input).
gpiosim_value() {
  local s
  s=$(gpiosim_sysfs "$1" "$2") || return 1
  cat "$s/value"
}

# gpiosim_remove CHIP: take the chip down and remove its configfs tree.
gpiosim_remove() {
  local d=$KVM_CONFIGFS/gpio-sim/$1 l
  echo 0 > "$d/live"
  for l in "$d/bank0"/line*; do [ -d "$l" ] && rmdir "$l"; done
  rmdir "$d/bank0" "$d"
}

# ---- IIO --------------------------------------------------------------------

# iio_by_name NAME [device|trigger]: /sys/bus/iio/devices/... whose name is NAME.
iio_by_name() {
  local d pat='iio:device*'
  [ "${2:-device}" = trigger ] && pat='trigger*'
  for d in /sys/bus/iio/devices/$pat; do
    [ -f "$d/name" ] && [ "$(cat "$d/name")" = "$1" ] && { echo "$d"; return 0; }
  done
  return 1
}

# iio_dummy_create NAME: an iio_simple_dummy device called NAME (configfs);
# prints its sysfs directory.
iio_dummy_create() {
  mkdir "$KVM_CONFIGFS/iio/devices/dummy/$1" || return 1
  kvm_wait 5 iio_by_name "$1" && iio_by_name "$1"
}

# iio_hrtimer_create NAME HZ: an hrtimer trigger called NAME (configfs)
# running at HZ; prints its sysfs directory.
iio_hrtimer_create() {
  local t
  mkdir "$KVM_CONFIGFS/iio/triggers/hrtimer/$1" || return 1
  kvm_wait 5 iio_by_name "$1" trigger || return 1
  t=$(iio_by_name "$1" trigger)
  echo "$2" > "$t/sampling_frequency" || return 1
  echo "$t"
}

iio_dummy_remove() { rmdir "$KVM_CONFIGFS/iio/devices/dummy/$1"; }
iio_hrtimer_remove() { rmdir "$KVM_CONFIGFS/iio/triggers/hrtimer/$1"; }

# iiod_start [ARGS...]: Debian's iiod serving this guest's IIO devices on
# TCP 30431 (loopback is up); waits until it answers. Sets KVM_IIOD_PID.
iiod_start() {
  iiod "$@" > /tmp/iiod.log 2>&1 &
  KVM_IIOD_PID=$!
  kvm_wait 10 iio_attr -u ip:127.0.0.1 -C || { cat /tmp/iiod.log; return 1; }
}

# iiod_stop: SIGTERM, then SIGKILL after 2 s. Debian's iiod 0.24 here takes
# about a minute to act on SIGTERM: its avahi thread waits, with growing
# sleeps that do not watch the stop event, for a network interface other
# than loopback, and the guest has none.
iiod_stop() {
  local i=20
  [ -n "${KVM_IIOD_PID:-}" ] || return 0
  kill "$KVM_IIOD_PID" 2>/dev/null
  while kill -0 "$KVM_IIOD_PID" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
  kill -9 "$KVM_IIOD_PID" 2>/dev/null
  wait "$KVM_IIOD_PID" 2>/dev/null
  KVM_IIOD_PID=
}
