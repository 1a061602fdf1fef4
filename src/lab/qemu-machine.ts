import { closeSync, ftruncateSync, mkdirSync, openSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineIdentity } from './machine.js';

/** Size of a QEMU machine's (sparse) disk: the agent reports it; nothing is installed on it. */
const DISK_BYTES = 4 * 1024 ** 3;

export const QEMU = 'qemu-system-x86_64';

/**
 * A QEMU/TCG virtual machine as lab hardware: SeaBIOS and the iPXE ROM of its virtio NIC (Debian's
 * ipxe-qemu) do a real network boot on the lab bridge through a tap device; SMBIOS carries the identity
 * its BMC's FRU also shows. Returns the command its BMC runs on power-on; `-no-reboot` makes a guest
 * reboot or power-off end the process, which the BMC then reads as "off".
 */
export function prepareQemuMachine(machine: {
  dir: string;
  tap: string;
  hostNamespace: string;
  mac: string;
  identity: MachineIdentity;
  memoryMiB?: number;
}): string[] {
  mkdirSync(machine.dir, { recursive: true });
  const disk = join(machine.dir, 'disk.img');
  if (!existsSync(disk)) {
    const fd = openSync(disk, 'w', 0o600);
    try {
      ftruncateSync(fd, DISK_BYTES);
    } finally {
      closeSync(fd);
    }
  }
  const { identity } = machine;
  return [
    // the BMC runs this inside its own namespace; the tap device is where the lab bridge is
    'ip',
    'netns',
    'exec',
    machine.hostNamespace,
    QEMU,
    '-accel',
    'tcg',
    '-m',
    String(machine.memoryMiB ?? 256),
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    '-boot',
    'n',
    '-smbios',
    `type=1,manufacturer=${qemuOption(identity.vendor)},product=${qemuOption(identity.product)},serial=${qemuOption(identity.serial)},uuid=${identity.uuid}`,
    '-netdev',
    `tap,id=nic0,ifname=${machine.tap},script=no,downscript=no`,
    '-device',
    `virtio-net-pci,netdev=nic0,mac=${machine.mac}`,
    '-drive',
    `file=${disk},if=none,id=disk0,format=raw`,
    '-device',
    `virtio-blk-pci,drive=disk0,serial=${qemuOption(`DISK-${identity.serial}`)}`,
  ];
}

/** QEMU option values escape a comma by doubling it. */
function qemuOption(value: string): string {
  return value.replace(/,/g, ',,');
}
