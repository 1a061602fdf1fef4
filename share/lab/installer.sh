#!/bin/sh
# The lab's stand-in for the Debian installer, run from the RAM disk with the preseed URL the boot script
# named. The provisioner's side is real (boot script, preseed, late command, callback); what is simulated
# is the payload: the lab's Debian 12 base image becomes the installed system on the machine's disk.
#   installer.sh <preseed-url>        disk at /dev/disk0 (upper/ work/), payload at /media/base
set -u
say() { echo "installer: $*"; }
url=$1
wget -q -O /tmp/preseed.cfg "$url" || { say "cannot fetch the preseed file $url"; exit 1; }
value() { sed -n "s|^d-i $1 [a-z]* ||p" /tmp/preseed.cfg | head -n 1; }
hostname=$(value netcfg/get_hostname); domain=$(value netcfg/get_domain)
address=$(value netcfg/get_ipaddress); netmask=$(value netcfg/get_netmask)
late=$(value preseed/late_command)
[ -n "$hostname" ] && [ -n "$address" ] && [ -n "$netmask" ] || { say "the preseed sets no netcfg/get_hostname, get_ipaddress or get_netmask"; exit 1; }
say "installing $hostname ($address/$netmask)"
# partman: a fresh, empty disk
rm -rf /dev/disk0/upper /dev/disk0/work /dev/disk0/installed
mkdir -p /dev/disk0/upper /dev/disk0/work
# base-installer: the payload becomes the target system
mount -t overlay target -o lowerdir=/media/base,upperdir=/dev/disk0/upper,workdir=/dev/disk0/work /target || { say "cannot mount the target"; exit 1; }
mount --bind /dev /target/dev
# netcfg: static address, no default route (netcfg/no_default_route)
echo "$hostname" > /target/etc/hostname
printf '127.0.0.1\tlocalhost\n%s\t%s.%s %s\n' "$address" "$hostname" "$domain" "$hostname" > /target/etc/hosts
mkdir -p /target/etc/network
printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n    address %s\n    netmask %s\n' "$address" "$netmask" > /target/etc/network/interfaces
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /target/etc/machine-id
# openssh-server's postinst: this machine's own host keys
chroot /target ssh-keygen -q -A || { say "ssh-keygen failed"; exit 1; }
# grub-installer: the disk is bootable from now on
touch /dev/disk0/installed
# finish-install: d-i runs the late command with sh in the installer environment
if [ -n "$late" ] && ! sh -c "$late"; then
  say "preseed/late_command failed"
  rm -f /dev/disk0/installed
  umount /target/dev; umount /target
  exit 1
fi
umount /target/dev
umount /target
say "finished"
