import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineIdentity } from './machine.js';

/** Size of a QEMU machine's (sparse) disk: the discovery agent reports it, the install agent writes the OS onto it. */
const DISK_BYTES = 4 * 1024 ** 3;

export const QEMU = 'qemu-system-x86_64';
/** Debian's OVMF (package ovmf): the UEFI firmware code, read-only, and the template of a machine's own variables. */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** A QEMU machine's firmware: SeaBIOS (legacy BIOS) or OVMF (UEFI). */
export type QemuFirmware = 'bios' | 'uefi';

/**
 * A QEMU/TCG virtual machine as lab hardware: SeaBIOS or OVMF and the iPXE ROM of its virtio NIC (Debian's
 * ipxe-qemu) do a real network boot on the lab bridge through a tap device, and boot what is installed on its
 * disk; SMBIOS carries the identity its BMC's FRU also shows. Returns the command its BMC runs on power-on
 * (share/lab/qemu-power-on.sh orders NIC and disk by the BMC's boot device); `-no-reboot` makes a guest
 * reboot or power-off end the process, which the BMC then reads as "off".
 */
export function prepareQemuMachine(machine: {
  dir: string;
  tap: string;
  hostNamespace: string;
  mac: string;
  identity: MachineIdentity;
  firmware: QemuFirmware;
  /** share/lab/ */
  templateDir: string;
  memoryMiB?: number;
}): string[] {
  mkdirSync(machine.dir, { recursive: true });
  const vars = join(machine.dir, 'uefi-vars.fd');
  if (machine.firmware === 'uefi' && !existsSync(vars)) copyFileSync(OVMF_VARS, vars);
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
    'sh',
    join(machine.templateDir, 'qemu-power-on.sh'),
    machine.dir,
    machine.firmware,
    `virtio-net-pci,netdev=nic0,mac=${machine.mac}`,
    `virtio-blk-pci,drive=disk0,serial=${qemuOption(`DISK-${identity.serial}`)}`,
    // the BMC runs this inside its own namespace; the tap device is where the lab bridge is
    'ip',
    'netns',
    'exec',
    machine.hostNamespace,
    QEMU,
    '-accel',
    'tcg',
    '-m',
    String(machine.memoryMiB ?? 512),
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    ...(machine.firmware === 'uefi'
      ? ['-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`]
      : []),
    '-smbios',
    `type=1,manufacturer=${qemuOption(identity.vendor)},product=${qemuOption(identity.product)},serial=${qemuOption(identity.serial)},uuid=${identity.uuid}`,
    '-netdev',
    `tap,id=nic0,ifname=${machine.tap},script=no,downscript=no`,
    '-drive',
    `file=${disk},if=none,id=disk0,format=raw`,
  ];
}

/** QEMU option values escape a comma by doubling it. */
function qemuOption(value: string): string {
  return value.replace(/,/g, ',,');
}
