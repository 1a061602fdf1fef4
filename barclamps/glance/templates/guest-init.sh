#!/bin/sh
# /init of the reference guest image (Debian's cloud kernel + this busybox initramfs, on a small raw disk).
# Proves the cloud did its job, on the serial console (the server's console log): the address DHCP gave,
# the instance id and host name the metadata service gave, and a ping to any address set as the server's
# `ping_target` property. It never powers off by itself (only on the ACPI power button, as nova asks): a
# guest that stopped on its own would look like a failure to Masakari.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "bootstrap-guest: $*"; }
say "booted $(uname -r)"

modprobe virtio_pci
modprobe virtio_net
modprobe virtio_console 2>/dev/null
# The ACPI power button powers the guest off at once, as nova's stop and soft reboot expect of a guest
# (without it each waits its full timeout, then pulls the plug)
modprobe button
modprobe evdev
# (busybox acpid runs /etc/acpi/ACTION/PARAMETER; the power key is PWRF/00000080)
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\necho "bootstrap-guest: power button, powering off"\npoweroff -f\n' > /etc/acpi/PWRF/00000080
chmod 0755 /etc/acpi/PWRF/00000080
acpid -l /dev/null
ip link set lo up
nic=''
for attempt in $(seq 1 50); do
  for path in /sys/class/net/*; do
    [ "${path##*/}" = lo ] || { nic=${path##*/}; break 2; }
  done
  sleep 0.2
done
[ -n "$nic" ] || say "no network interface"
ip link set "$nic" up
# Blocks until a lease is bound, then stays in the background to renew it. Option 121 carries the route to
# the metadata address through neutron's DHCP port (isolated metadata: there is no router).
udhcpc -i "$nic" -s /bin/dhcp-event -O staticroutes -T 2 -A 3 >/dev/null 2>&1
say "address $(ip -o -4 addr show dev "$nic" | awk '{print $4}') on $nic"

# bookworm's busybox-static wget segfaults when given -T: timeout(1) bounds it instead
metadata() { timeout 10 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json 2>/dev/null; }
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
until json=$(metadata) && [ -n "$json" ]; do sleep 2; done
name=$(echo "$json" | field hostname)
[ -n "$name" ] && hostname "$name"
say "instance-id $(echo "$json" | field uuid) hostname $name"

# The metadata service shows the server's current properties: ping whatever `ping_target` names, once per value.
pinged=''
while true; do
  target=$(metadata | field ping_target)
  if [ -n "$target" ] && [ "$target" != "$pinged" ]; then
    if ping -c 3 -W 2 "$target" >/dev/null 2>&1; then say "ping $target ok"; else say "ping $target failed"; fi
    pinged=$target
  fi
  sleep 5
done
