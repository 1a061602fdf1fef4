#!/bin/sh
# chassis_control hook for a lab BMC (ipmi_sim). ipmi_sim runs this through popen() and waits until
# stdout closes, so it must answer fast and never leave a child holding stdout. ipmitool retries, so the
# same command can arrive twice: every operation is idempotent.
#   <hook> <machine-dir> get power|boot     ->  power:0|1 / boot:<device>
#   <hook> <machine-dir> set power 0|1 | reset 1 | boot <device> | shutdown 1 | identify ...
# <machine-dir>/power-on is the machine's "hardware": started in its own session on power-on, its
# process group killed on power-off. State lives in <machine-dir>/state.power and state.boot.
dir=$1; op=$2; shift 2
echo "$(date -u +%FT%T.%N) $op $*" >> "$dir/chassis.log"
alive() { [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }
power_on() {
  echo 1 > "$dir/state.power"
  alive && return 0
  setsid "$dir/power-on" </dev/null >>"$dir/console.log" 2>&1 &
  echo $! > "$dir/pid"
}
power_off() {
  echo 0 > "$dir/state.power"
  if alive; then
    pid=$(cat "$dir/pid")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$dir/pid"
}
case $op in
get)
  for item in "$@"; do
    case $item in
      power)
        state=$(cat "$dir/state.power" 2>/dev/null || echo 0)
        # a machine whose hardware process died (crash, guest poweroff) reads as off
        if [ "$state" = 1 ] && ! alive; then state=0; echo 0 > "$dir/state.power"; fi
        echo "power:$state";;
      boot) echo "boot:$(cat "$dir/state.boot" 2>/dev/null || echo default)";;
      *) echo "Invalid parameter: $item"; exit 1;;
    esac
  done;;
set)
  while [ $# -gt 1 ]; do
    item=$1; value=$2; shift 2
    case $item in
      power) if [ "$value" = 1 ]; then power_on; else power_off; fi;;
      reset) if alive; then power_off; power_on; fi;;
      boot) echo "$value" > "$dir/state.boot";;
      shutdown) power_off;;
      identify) ;;
      *) echo "Invalid parameter: $item"; exit 1;;
    esac
  done;;
check) exit 0;;
*) echo "Unknown operation: $op"; exit 1;;
esac
exit 0
