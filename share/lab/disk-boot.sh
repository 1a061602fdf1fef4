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
# Only the devices a server's OS needs, never the host's /dev (its disks, consoles, kernel log, KVM): the
# memory and random devices, a controlling terminal, tun for libvirt's guest NICs, pseudo-terminals of its
# own (sshd, guest serial consoles) and shared memory. /dev/console is the machine's console log, as
# systemd-nspawn does it with a pty: systemd's status lines land where `bootstrap lab console` reads.
mount -t tmpfs -o mode=0755,nosuid dev "$root/dev"
mkdir -p "$root/dev/net" "$root/dev/pts" "$root/dev/shm"
for node in null zero full random urandom tty net/tun; do cp -a "/dev/$node" "$root/dev/$node"; done
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"; ln -s /proc/self/fd/1 "$root/dev/stdout"; ln -s /proc/self/fd/2 "$root/dev/stderr"
if [ -f /proc/self/fd/1 ]; then : > "$root/dev/console"; mount --bind /proc/self/fd/1 "$root/dev/console"; fi
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
