#!/bin/sh
# build-guest-image OUT.raw INIT DHCP-EVENT — the reference guest image, from Debian packages only (this
# node's mirror): Debian's cloud kernel with its virtio modules and a busybox-static initramfs, on a FAT
# partition of a small raw disk booted by syslinux (SeaBIOS, i.e. nova's default firmware). Written next to
# OUT and renamed into place, so a half-built image is never registered.
set -eu
out=$1 init=$2 event=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
chown _apt "$work" 2>/dev/null || true   # apt-get download drops to _apt
package=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -n "$package" ] || { echo "apt knows no linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
apt-get download -q "$package"
dpkg-deb -x ./*.deb kernel
release=${package#linux-image-}
modules=lib/modules/$release

mkdir -p initrd/bin initrd/dev initrd/proc initrd/sys initrd/tmp initrd/run initrd/etc "initrd/$modules"
cp /bin/busybox initrd/bin/busybox
ln -s busybox initrd/bin/sh
cp "$init" initrd/init
cp "$event" initrd/bin/dhcp-event
chmod 0755 initrd/init initrd/bin/dhcp-event
# virtio NIC, disk and console drivers, and the ACPI power button: the cloud kernel builds them as modules
for module in drivers/virtio drivers/net/virtio_net.ko drivers/net/net_failover.ko net/core/failover.ko drivers/block/virtio_blk.ko drivers/char/virtio_console.ko drivers/acpi/button.ko drivers/input/evdev.ko; do
  mkdir -p "initrd/$modules/kernel/$(dirname "$module")"
  cp -r "kernel/$modules/kernel/$module" "initrd/$modules/kernel/$module"
done
cp "kernel/$modules/modules.builtin" "kernel/$modules/modules.order" "initrd/$modules/"
depmod -b initrd "$release"
(cd initrd && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 > initrd.img
cp "kernel/boot/vmlinuz-$release" vmlinuz

cat > syslinux.cfg <<'CFG'
DEFAULT guest
PROMPT 0
TIMEOUT 0
LABEL guest
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND console=tty0 console=ttyS0,115200 loglevel=3
CFG
# 1 MiB alignment, one bootable FAT partition, syslinux's MBR code in front of the partition table
size_mib=$(( ($(stat -c %s vmlinuz) + $(stat -c %s initrd.img)) / 1048576 + 8 ))
truncate -s "${size_mib}M" disk.raw
printf 'label: dos\nstart=2048, type=c, bootable\n' | sfdisk -q disk.raw
mkfs.vfat -F 16 --offset 2048 -n GUEST disk.raw >/dev/null
syslinux --offset 1048576 --install disk.raw
mcopy -i disk.raw@@1M vmlinuz initrd.img syslinux.cfg ::
dd if=/usr/lib/syslinux/mbr/mbr.bin of=disk.raw bs=440 count=1 conv=notrunc status=none
mv disk.raw "$out.part"
mv "$out.part" "$out"
echo "$out: $package, $(stat -c %s "$out") bytes"
