#!/bin/sh
# A lab machine's firmware: what runs when its BMC powers it on. Started by the chassis hook inside the
# machine's own network, mount, UTS and PID namespaces (so this shell is PID 1 until the OS takes over).
#   firmware.sh <machine-dir> <base-image> <busybox>
# Boot order like a server BIOS: a one-time `bootdev pxe` from the BMC wins; otherwise the disk when an
# OS is installed on it; otherwise the network. The network boot runs from a RAM disk (tmpfs + busybox),
# as a real PXE ROM/iPXE/installer would; the disk boot is the installed system with systemd as PID 1.
set -u
dir=$1; image=$2; busybox=$3
say() { echo "firmware[$(date -u +%T)]: $*"; }

# What the RAM disk sees of the machine: its own NICs (sysfs mounted inside its network namespace), the
# SMBIOS identity the lab gave it (this host may have none), its disk and the installation payload.
netboot() {
  rd=$dir/ramdisk
  mkdir -p "$rd"
  mount -t tmpfs -o mode=0755 ramdisk "$rd" || return 1
  mkdir -p "$rd/bin" "$rd/proc" "$rd/.sysfs" "$rd/sys" "$rd/dev" "$rd/tmp" "$rd/run" "$rd/target" "$rd/media/base" "$rd/etc"
  cp "$busybox" "$rd/bin/busybox" && chroot "$rd" /bin/busybox --install -s /bin
  cp "$dir/firmware/netboot.sh" "$dir/firmware/installer.sh" "$dir/firmware/dhcp-bound.sh" "$rd/bin/"
  mount -t proc proc "$rd/proc"
  mount -t sysfs sysfs "$rd/.sysfs"
  mount -t tmpfs -o mode=0755 sys "$rd/sys"
  mkdir -p "$rd/sys/class/dmi"
  cp -r "$dir/dmi" "$rd/sys/class/dmi/id"
  for link in block bus devices; do ln -s "/.sysfs/$link" "$rd/sys/$link"; done
  ln -s /.sysfs/class/net "$rd/sys/class/net"
  mount -t tmpfs -o mode=0755 dev "$rd/dev"
  for node in null zero random urandom tty; do cp -a "/dev/$node" "$rd/dev/"; done
  mkdir -p "$rd/dev/disk0" "$dir/disk"
  mount --bind "$dir/disk" "$rd/dev/disk0"
  mount --bind "$image" "$rd/media/base" && mount -o remount,bind,ro "$rd/media/base"
  chroot "$rd" /bin/sh /bin/netboot.sh
  rc=$?
  umount -R "$rd" 2>/dev/null || umount -l "$rd"
  return $rc
}

while :; do
  boot=$(cat "$dir/state.boot" 2>/dev/null || echo default)
  # IPMI boot flags are valid for the next boot only
  [ "$boot" = pxe ] && echo default > "$dir/state.boot"
  ip link set lo up
  ip link set eth0 up
  ip addr flush dev eth0
  if [ "$boot" = pxe ] || { [ "$boot" != disk ] && [ ! -e "$dir/disk/installed" ]; }; then
    say "network boot (boot device: $boot)"
    netboot
    case $? in
      0) say "network boot handed over to the next boot device" ;;
      10) say "rebooting"; continue ;;
      11) say "powering off"; exit 0 ;;
      12) say "halted (see above)"; exec sleep 2147483647 ;;
      *) say "network boot failed" ;;
    esac
    ip addr flush dev eth0
  fi
  if [ -e "$dir/disk/installed" ]; then
    say "booting from disk"
    exec sh "$dir/firmware/disk-boot.sh" "$image" "$dir/disk" "$dir/root" ""
  fi
  say "no bootable device; retrying in 5 s"
  sleep 5
done
