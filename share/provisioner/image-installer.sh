#!/bin/sh
# bootstrap install agent: the deploy steps of an install on a real (or QEMU) machine, run by the ramdisk's
# /init (busybox) with the preseed URL the boot script named. Like Ironic's agent and MAAS's curtin it writes
# a whole-disk image rather than running debian-installer: the image is the one the provisioner built from
# Debian packages, checked against its SHA-256. Then the machine's own settings go onto it (hostname, address,
# NIC named by MAC, host keys made here), and the preseed's late command installs the key and calls back.
# A step that fails is reported to the provisioner with this log; the machine powers off and can be re-run.
#   image-installer.sh PRESEED_URL
set -u
url=$1
# the machine as the ramdisk sees it; the unit specs point these at a pretend machine
SYS=${BOOTSTRAP_SYSFS:-/sys}
DEV=${BOOTSTRAP_DEV:-/dev}
TMP=${TMPDIR:-/tmp}
log=$TMP/install.log
step=preseed
say() { echo "installer: $*" | tee -a "$log"; }
value() { sed -n "s|^[a-z-]* $1 [a-z]* ||p" "$TMP/preseed.cfg" | head -n 1; }
# The provisioner hears where the install stopped, with this log (the install token proves it is this install).
fail() {
  say "step $step failed: $*"
  # a half-installed disk is left empty, so that re-running the install needs no consent to wipe it
  [ "${wrote:-}" = 1 ] && dd if=/dev/zero of="$DEV/$disk" bs=1M count=1 conv=notrunc,fsync 2>/dev/null
  if [ -n "${mac:-}" ] && [ -n "${token:-}" ]; then
    { echo "$*"; echo '--- install log ---'; tail -n 40 "$log"; } > "$TMP/failure"
    wget -q -O /dev/null --post-file="$TMP/failure" "$server/callback/$mac/failed?token=$token&step=$step" ||
      say "could not report the failure to $server"
  fi
  exit 1
}
server=${url%/preseed/*}
for attempt in 1 2 3 4 5; do
  wget -q -O "$TMP/preseed.cfg" "$url" && break
  [ "$attempt" = 5 ] && fail "cannot fetch the preseed file $url"
  sleep "$attempt"
done
mac=$(value netcfg/choose_interface); late=$(value preseed/late_command)
# the install's one-time token is in the late command's callback, the only place the preseed carries it
token=$(printf '%s' "$late" | sed -n 's/.*[?&]token=\([0-9a-f]*\).*/\1/p')
hostname=$(value netcfg/get_hostname); domain=$(value netcfg/get_domain)
address=$(value netcfg/get_ipaddress); netmask=$(value netcfg/get_netmask)
image=$(value bootstrap/image); sha256=$(value bootstrap/image-sha256); wipe=$(value bootstrap/wipe)
hint_name=$(value bootstrap/root-name); hint_serial=$(value bootstrap/root-serial)
min_bytes=$(value bootstrap/root-min-bytes)
[ -n "$hostname" ] && [ -n "$address" ] && [ -n "$netmask" ] && [ -n "$mac" ] ||
  fail "the preseed sets no netcfg/get_hostname, get_ipaddress, get_netmask or choose_interface"
[ -n "$image" ] && [ -n "$sha256" ] || fail "the provisioner offers no OS image (it builds one on start: see its log)"

# Root device: among the machine's disks, those that match every hint the inventory gave (name, serial,
# minimum size); of those the smallest, as Ironic's agent picks (a small boot disk beside large data disks).
step=disk
disk=''; disk_bytes=0; seen=''
for dev in "$SYS"/block/*; do
  name=${dev##*/}
  case $name in loop*|ram*|zram*|sr*|fd*|dm-*|md*|nbd*) continue ;; esac
  bytes=$(( $(cat "$dev/size") * 512 ))
  serial=$(cat "$dev/device/serial" 2>/dev/null || cat "$dev/serial" 2>/dev/null || true)
  seen="$seen $name($serial, $((bytes / 1048576)) MiB)"
  [ -n "$hint_name" ] && [ "$name" != "$hint_name" ] && continue
  [ -n "$hint_serial" ] && [ "$serial" != "$hint_serial" ] && continue
  [ "$bytes" -lt "${min_bytes:-4294967296}" ] && continue
  if [ -z "$disk" ] || [ "$bytes" -lt "$disk_bytes" ]; then disk=$name; disk_bytes=$bytes; fi
done
[ -n "$disk" ] || fail "no disk matches the root device hints (name '${hint_name}', serial '${hint_serial}', at least ${min_bytes:-4294967296} bytes); disks:${seen:- none}"
say "root disk /dev/$disk ($((disk_bytes / 1048576)) MiB)"

# A disk that holds anything in its first MiB (partition table, boot sector, file system) is wiped only when
# the inventory says so: an install must never destroy data nobody meant to give up.
step=wipe
used=$(dd if="$DEV/$disk" bs=1M count=1 2>/dev/null | tr -d '\000' | wc -c)
if [ "$used" -gt 0 ] && [ "$wipe" != true ]; then
  fail "disk /dev/$disk is not empty (a partition table or data in its first MiB) and the inventory does not allow wiping it: set install.wipe: true for $hostname, or give it an empty disk"
fi

# The image, streamed onto the disk; its SHA-256 is computed on the way and must be the provisioner's.
step=image
say "writing $image"
wrote=1
set -o pipefail
rm -f "$TMP/image.fifo"; mkfifo "$TMP/image.fifo"
sha256sum < "$TMP/image.fifo" > "$TMP/image.sha256" &
summer=$!
if ! wget -q -O - "$image" 2>>"$log" | tee "$TMP/image.fifo" | gunzip -c 2>>"$log" | dd of="$DEV/$disk" bs=1M 2>>"$log"; then
  wait "$summer"
  fail "cannot download or write $image"
fi
wait "$summer"
set +o pipefail
step=checksum
got=$(cut -d ' ' -f 1 "$TMP/image.sha256")
if [ "$got" != "$sha256" ]; then
  # fail() clears the disk's first MiB: never leave a disk that boots an image nobody vouched for
  fail "the image's SHA-256 is $got, the provisioner's is $sha256: the download was damaged or the image is not the provisioner's"
fi
sync
say "image written and verified ($sha256)"

# The machine's own settings, on its root file system (the image's third partition).
step=configure
blockdev --rereadpt "$DEV/$disk" 2>>"$log"
root=''
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  for part in "$SYS"/block/"$disk"/"$disk"*3; do [ -e "$part" ] && root=$DEV/${part##*/}; done
  [ -n "$root" ] && [ -b "$root" ] && break
  sleep 0.3
done
[ -n "$root" ] || fail "the written disk has no third (root) partition"
mkdir -p /target
mount -t ext4 "$root" /target 2>>"$log" || fail "cannot mount $root"
mount -o bind /dev /target/dev
echo "$hostname" > /target/etc/hostname
printf '127.0.0.1\tlocalhost\n%s\t%s.%s %s\n' "$address" "$hostname" "$domain" "$hostname" > /target/etc/hosts
# the admin NIC is named by its MAC, whatever the kernel calls it first (no default route: see the preseed)
mkdir -p /target/etc/systemd/network /target/etc/network
printf '[Match]\nMACAddress=%s\n\n[Link]\nName=admin0\n' "$mac" > /target/etc/systemd/network/10-bootstrap-admin.link
printf 'auto lo\niface lo inet loopback\n\nauto admin0\niface admin0 inet static\n    address %s\n    netmask %s\n' "$address" "$netmask" > /target/etc/network/interfaces
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /target/etc/machine-id
chroot /target ssh-keygen -q -A 2>>"$log" || fail "ssh-keygen failed"

step=callback
if [ -n "$late" ] && ! sh -c "$late" 2>>"$log"; then
  umount /target/dev; umount /target
  fail "the preseed's late command failed (authorized key or the installed callback)"
fi
umount /target/dev
umount /target
sync
say "finished"
