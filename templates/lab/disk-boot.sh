#!/bin/sh
# Boots the OS installed on a lab machine's disk: overlayfs (shared read-only base image below, the
# machine's disk above), its own /proc, /run and /tmp, then systemd as PID 1 of the machine's namespaces.
#   disk-boot.sh <base-image> <disk-dir> <root-mount-point> [authorized-key]
# The authorized key is only for nodes created without the installer (the engine's test racks).
set -e
lower=$1; disk=$2; root=$3; key=${4:-}
mkdir -p "$disk/upper" "$disk/work" "$root"
mount -t overlay "bs-$(basename "$(dirname "$disk")")" -o "lowerdir=$lower,upperdir=$disk/upper,workdir=$disk/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
hostname "$(cat "$root/etc/hostname")"
[ -s "$root/etc/machine-id" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$root/etc/machine-id"
if [ -n "$key" ]; then
  mkdir -p "$root/root/.ssh"; chmod 700 "$root/root/.ssh"
  printf '%s\n' "$key" > "$root/root/.ssh/authorized_keys"; chmod 600 "$root/root/.ssh/authorized_keys"
fi
[ -f "$root/etc/ssh/ssh_host_ed25519_key" ] || chroot "$root" ssh-keygen -q -A
exec chroot "$root" /lib/systemd/systemd --system
