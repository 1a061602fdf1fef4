#!/bin/sh
# A QEMU lab machine's power button: its BMC runs this on power-on. The boot order is the BMC's boot device,
# as a server's firmware reads it: a one-time `bootdev pxe` (then back to the default) puts the network first.
# Otherwise legacy BIOS machines keep the network first, as many racks are set up (the provisioner's script for
# an installed machine is iPXE's `exit`, and SeaBIOS boots the disk next), and UEFI machines the disk first (an
# empty disk falls through to the network): OVMF, back from iPXE's `exit`, offers its setup screen, not the disk.
#   qemu-power-on.sh <machine-dir> <firmware bios|uefi> <nic-device> <disk-device> <command…>
dir=$1; firmware=$2; nic=$3; disk=$4; shift 4
boot=$(cat "$dir/state.boot" 2>/dev/null || echo default)
[ "$boot" = pxe ] && echo default > "$dir/state.boot"
if [ "$boot" = pxe ] || { [ "$boot" != disk ] && [ "$firmware" = bios ]; }; then net_index=1; disk_index=2; else net_index=2; disk_index=1; fi
echo "power-on: boot device $boot (network $net_index, disk $disk_index)"
exec "$@" -device "$nic,bootindex=$net_index" -device "$disk,bootindex=$disk_index"
