#!/bin/sh
# /init of the discovery ramdisk (kernel + this busybox initramfs, booted by iPXE on real hardware and
# QEMU machines): bring up the NIC the machine booted from, fetch the discovery agent named on the kernel
# command line, let it report, power off — or, booted to install, run the install agent. The provisioner
# decides what happens next.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "ramdisk: $*"; }

for word in $(cat /proc/cmdline); do
  case $word in
    bootstrap.agent=*) agent=${word#*=} ;;
    bootstrap.mode=*) mode=${word#*=} ;;
    bootstrap.installer=*) installer=${word#*=} ;;
    url=*) preseed=${word#*=} ;;
    bootstrap.callback=*) callback=${word#*=} ;;
    BOOTIF=*) bootif=${word#*=} ;;
  esac
done
# Modules in dependency order, written by the image builder (NIC and disk drivers).
while read -r module; do insmod "/lib/modules/$module.ko" 2>/dev/null; done < /lib/modules/load-order

# Every NIC with a link gets DHCP; the first that gets an address carries the report.
ip link set lo up
address=''
for attempt in 1 2 3 4 5; do
  for nic in /sys/class/net/*; do
    nic=${nic##*/}
    [ "$nic" = lo ] && continue
    ip link set "$nic" up
    if udhcpc -i "$nic" -q -n -t 3 -T 1 -s /bin/udhcpc-script >/dev/null 2>&1; then address=$nic; break 2; fi
  done
  sleep 1
done
if [ -z "$address" ]; then
  say "no DHCP answer on any NIC; powering off"
elif [ "${mode:-}" = install ]; then
  # install: the provisioner's install agent writes the OS image; a failure was reported by the agent itself
  say "$address: installing with ${installer:-?}"
  if [ -n "${installer:-}" ] && wget -q -O /tmp/installer.sh "$installer" && sh /tmp/installer.sh "${preseed:-}"; then
    say "installed; powering off (the provisioner boots the machine from its disk)"
  else
    say "install failed; powering off"
  fi
else
  say "$address: $(ip -o -4 addr show dev "$address" | awk '{print $4}'); running the agent from ${agent:-?}"
  if [ -n "${agent:-}" ] && wget -q -O /tmp/agent.sh "$agent" && sh /tmp/agent.sh "${callback:-}"; then say "report delivered"; else say "discovery agent failed"; fi
fi
sync
poweroff -f
