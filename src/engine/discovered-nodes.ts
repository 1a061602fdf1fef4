import type { DiscoveredBmc } from './discover.js';
import type { MachineRecord } from '../provision/machine-store.js';
import { NODE_NAME } from '../inventory/schema.js';
import type { DiscoveredNode } from '../inventory/merge-discovered.js';

/**
 * Machines not in the inventory: BMCs that answered (with the MACs of the PXE report they correlate with)
 * and PXE-enlisted machines no BMC claimed. Ambiguous correlations keep the BMC without MACs: one
 * machine's MACs must never end up on another's entry.
 */
export function discoveredNodes(bmcs: readonly DiscoveredBmc[], machines: readonly MachineRecord[]): DiscoveredNode[] {
  const byId = new Map(machines.map((m) => [m.id, m]));
  const claimed = new Set<string>();
  const out: DiscoveredNode[] = [];
  for (const bmc of bmcs) {
    if (bmc.node !== undefined || !bmc.inventory) continue;
    const match = bmc.correlation?.kind === 'match' ? byId.get(bmc.correlation.machine) : undefined;
    if (match) claimed.add(match.id);
    const fru = bmc.inventory.fru;
    const parts = [
      `BMC ${bmc.address}`,
      [fru.productManufacturer, fru.productName].filter(Boolean).join(' '),
      fru.productSerial && `serial ${fru.productSerial}`,
      match
        ? hardwareSummary(match)
        : bmc.correlation?.kind === 'ambiguous'
          ? `PXE report ambiguous (${bmc.correlation.machines.join(', ')}): MACs left out`
          : 'no PXE report yet',
    ];
    out.push({
      name: nameFrom(fru.productSerial, match?.macs[0] ?? bmc.inventory.lan.macAddress),
      macs: match?.macs ?? [],
      bmcAddress: bmc.address,
      summary: parts.filter(Boolean).join(', '),
    });
  }
  for (const machine of machines) {
    if (machine.node !== undefined || claimed.has(machine.id) || !machine.hardware) continue;
    out.push({
      name: nameFrom(machine.hardware.dmi.serial, machine.macs[0]),
      macs: machine.macs,
      summary: `PXE ${machine.macs[0] ?? '?'}, ${[machine.hardware.dmi.vendor, machine.hardware.dmi.product].filter(Boolean).join(' ')}, serial ${machine.hardware.dmi.serial || '?'}, ${hardwareSummary(machine)}`,
    });
  }
  return out;
}

function hardwareSummary(machine: MachineRecord): string {
  const hw = machine.hardware;
  if (!hw) return 'no hardware report';
  const disks = hw.disks.map((d) => `${d.name} ${Math.round(d.sizeBytes / 1024 ** 3)} GiB`).join(' + ');
  return `${hw.cpu.count} CPU, ${Math.round(hw.memoryMiB / 1024) || '<1'} GiB RAM, ${disks || 'no disk'}`;
}

/** A host name from the serial (lower-case, dashes), else from the MAC's last three bytes. */
function nameFrom(serial: string | undefined, mac: string | undefined): string {
  const fromSerial = (serial ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  if (fromSerial && NODE_NAME.test(fromSerial)) return fromSerial;
  return `machine-${(mac ?? '000000').replace(/:/g, '').slice(-6)}`;
}
