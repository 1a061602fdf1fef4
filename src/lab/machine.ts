import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineNamespaces } from './container-node.js';

/** The SMBIOS identity of a simulated machine: what `dmidecode` would show (matches its BMC's FRU). */
export interface MachineIdentity {
  vendor: string;
  product: string;
  serial: string;
  /** 8-4-4-4-12 lower-case hex. */
  uuid: string;
}

const FIRMWARE_FILES = ['firmware.sh', 'netboot.sh', 'dhcp-bound.sh', 'installer.sh', 'disk-boot.sh'];

/** Statically linked busybox (Debian busybox-static): the RAM disk's whole userland. */
export const BUSYBOX = '/bin/busybox';

/**
 * Lays out a machine's "hardware" in its directory: firmware scripts, SMBIOS identity, an (empty) disk,
 * and returns the command the BMC runs on power-on.
 */
export function prepareMachine(
  machine: { namespace: string; dir: string; baseImage: string; identity: MachineIdentity },
  templateDir: string,
): string[] {
  mkdirSync(join(machine.dir, 'firmware'), { recursive: true });
  for (const file of FIRMWARE_FILES) copyFileSync(join(templateDir, file), join(machine.dir, 'firmware', file));
  const dmi = join(machine.dir, 'dmi');
  mkdirSync(dmi, { recursive: true });
  const fields: Record<string, string> = {
    sys_vendor: machine.identity.vendor,
    product_name: machine.identity.product,
    product_serial: machine.identity.serial,
    product_uuid: machine.identity.uuid,
    board_serial: machine.identity.serial,
  };
  for (const [name, value] of Object.entries(fields)) writeFileSync(join(dmi, name), `${value}\n`);
  mkdirSync(join(machine.dir, 'disk'), { recursive: true });
  return [
    ...machineNamespaces(machine.namespace),
    'sh',
    join(machine.dir, 'firmware', 'firmware.sh'),
    machine.dir,
    machine.baseImage,
    BUSYBOX,
  ];
}

/** A GUID as SMBIOS prints it (32 hex digits → 8-4-4-4-12). */
export function uuidOfGuid(guid: string): string {
  const g = guid.toLowerCase();
  return `${g.slice(0, 8)}-${g.slice(8, 12)}-${g.slice(12, 16)}-${g.slice(16, 20)}-${g.slice(20, 32)}`;
}
