#!/bin/sh
# A QEMU lab machine's power button: its BMC runs this on power-on. The boot order is the BMC's boot device,
# as a server's firmware reads it: a one-time `bootdev pxe` (then back to the default), `bootdev disk`, or by
# default the network first and the disk next (iPXE's `exit` from the provisioner's local script boots the disk).
#   qemu-power-on.sh <machine-dir> <nic-device> <disk-device> <command…>
dir=$1; nic=$2; disk=$3; shift 3
boot=$(cat "$dir/state.boot" 2>/dev/null || echo default)
[ "$boot" = pxe ] && echo default > "$dir/state.boot"
if [ "$boot" = disk ]; then net_index=2; disk_index=1; else net_index=1; disk_index=2; fi
echo "power-on: boot device $boot (network $net_index, disk $disk_index)"
exec "$@" -device "$nic,bootindex=$net_index" -device "$disk,bootindex=$disk_index"
