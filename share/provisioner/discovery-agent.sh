#!/bin/sh
# bootstrap discovery agent: reports this machine's hardware as JSON to the provisioner.
# POSIX sh; runs under busybox (discovery ramdisk) and under a full Debian system.
#   discovery-agent.sh [CALLBACK_URL]     (default: bootstrap.callback= from the kernel command line)
#   discovery-agent.sh --print            (print the JSON, send nothing)
set -u
SYS=${BOOTSTRAP_SYSFS:-/sys}

callback=${1:-}
if [ -z "$callback" ]; then
  for word in $(cat /proc/cmdline 2>/dev/null); do
    case $word in bootstrap.callback=*) callback=${word#bootstrap.callback=};; esac
  done
fi

# JSON string: backslash and quote escaped, control characters dropped.
js() { printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
readf() { [ -r "$1" ] && tr -d '\n' < "$1" 2>/dev/null || true; }
num() { case $1 in ''|*[!0-9]*) echo "${2:-0}";; *) echo "$1";; esac; }

cpu_count=$(grep -c '^processor' /proc/cpuinfo)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
cpu_flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)

flags_json=""
for f in $cpu_flags; do flags_json="$flags_json${flags_json:+,}$(js "$f")"; done

disks_json=""
for dev in "$SYS"/block/*; do
  [ -e "$dev" ] || continue
  name=${dev##*/}
  case $name in loop*|ram*|zram*|sr*|fd*|dm-*|md*|nbd*) continue;; esac
  sectors=$(num "$(readf "$dev/size")")
  serial=$(readf "$dev/device/serial"); [ -n "$serial" ] || serial=$(readf "$dev/serial")
  disk="{\"name\":$(js "$name"),\"size_bytes\":$((sectors * 512)),\"model\":$(js "$(readf "$dev/device/model")"),\"serial\":$(js "$serial"),\"rotational\":$( [ "$(readf "$dev/queue/rotational")" = 1 ] && echo true || echo false)}"
  disks_json="$disks_json${disks_json:+,}$disk"
done

nics_json=""
for nic in "$SYS"/class/net/*; do
  [ -e "$nic" ] || continue
  name=${nic##*/}
  [ "$name" = lo ] && continue
  mac=$(readf "$nic/address")
  [ -n "$mac" ] || continue
  link=false; [ "$(readf "$nic/carrier")" = 1 ] && link=true
  speed=$(num "$(readf "$nic/speed")" 0)
  addrs=""
  for a in $(ip -o -4 addr show dev "$name" 2>/dev/null | awk '{print $4}'); do addrs="$addrs${addrs:+,}$(js "$a")"; done
  nics_json="$nics_json${nics_json:+,}{\"name\":$(js "$name"),\"mac\":$(js "$mac"),\"link\":$link,\"speed_mbps\":$speed,\"addresses\":[$addrs]}"
done

dmi=$SYS/class/dmi/id
bmc=""
if command -v ipmitool >/dev/null 2>&1 && [ -e /dev/ipmi0 ]; then
  bmc=$(ipmitool lan print 1 2>/dev/null | sed -n 's/^IP Address[[:space:]]*: //p' | head -n 1)
fi

report="{\"agent\":\"bootstrap-discovery/1\",\"cpu\":{\"count\":$(num "$cpu_count"),\"model\":$(js "$cpu_model"),\"flags\":[$flags_json]},\"memory_mib\":$(( $(num "$mem_kib") / 1024 )),\"disks\":[$disks_json],\"nics\":[$nics_json],\"dmi\":{\"vendor\":$(js "$(readf "$dmi/sys_vendor")"),\"product\":$(js "$(readf "$dmi/product_name")"),\"serial\":$(js "$(readf "$dmi/product_serial")"),\"uuid\":$(js "$(readf "$dmi/product_uuid")")},\"bmc_address\":$(js "$bmc")}"

if [ "$callback" = --print ] || [ -z "$callback" ]; then
  printf '%s\n' "$report"
  [ "$callback" = --print ] && exit 0
  echo "discovery-agent: no callback URL (bootstrap.callback= on the kernel command line)" >&2
  exit 2
fi

tmp=${TMPDIR:-/tmp}/bootstrap-report.$$
printf '%s' "$report" > "$tmp"
for attempt in 1 2 3 4 5; do
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 10 -H 'Content-Type: application/json' --data-binary "@$tmp" "$callback" >/dev/null && { rm -f "$tmp"; exit 0; }
  else
    wget -q -O /dev/null --header 'Content-Type: application/json' --post-file="$tmp" "$callback" && { rm -f "$tmp"; exit 0; }
  fi
  sleep "$attempt"
done
rm -f "$tmp"
echo "discovery-agent: could not deliver the report to $callback" >&2
exit 1
