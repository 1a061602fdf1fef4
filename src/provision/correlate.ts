import type { BmcInventory } from '../ipmi/ipmi-driver.js';
import type { MachineRecord } from './machine-store.js';

export type Correlation =
  | { kind: 'match'; machine: string; by: string[] }
  | { kind: 'none' }
  | { kind: 'ambiguous'; machines: string[]; by: string[] };

/**
 * Out-of-band (BMC: FRU serial, GUID) meets in-band (agent: DMI serial, UUID). One machine only when the
 * evidence points at exactly one record; two records sharing a serial or GUID are reported, not guessed.
 */
export function correlate(bmc: BmcInventory, machines: readonly MachineRecord[]): Correlation {
  const hits = new Map<string, string[]>();
  const add = (id: string, why: string) => hits.set(id, [...(hits.get(id) ?? []), why]);
  for (const m of machines) {
    const dmi = m.hardware?.dmi;
    if (!dmi) continue;
    if (bmc.guid !== '' && dmi.uuid !== '' && sameGuid(bmc.guid, dmi.uuid)) add(m.id, 'GUID = SMBIOS UUID');
    if (bmc.fru.productSerial !== '' && dmi.serial !== '' && bmc.fru.productSerial === dmi.serial)
      add(m.id, 'FRU product serial = SMBIOS serial');
  }
  if (hits.size === 0) return { kind: 'none' };
  if (hits.size === 1) {
    const [machine, by] = [...hits][0]!;
    return { kind: 'match', machine, by };
  }
  return { kind: 'ambiguous', machines: [...hits.keys()].sort(), by: [...new Set([...hits.values()].flat())] };
}

/**
 * BMCs and SMBIOS disagree on byte order: the first three GUID fields are little-endian in SMBIOS ≥ 2.6
 * and in IPMI, and tools decode them differently. Equal in either order counts as equal.
 */
export function sameGuid(a: string, b: string): boolean {
  const hexA = a.toLowerCase().replace(/-/g, '');
  const hexB = b.toLowerCase().replace(/-/g, '');
  return hexA === hexB || hexA === swapFirstFields(hexB);
}

function swapFirstFields(hex: string): string {
  const bytes = (s: string) => s.match(/../g)!.reverse().join('');
  return bytes(hex.slice(0, 8)) + bytes(hex.slice(8, 12)) + bytes(hex.slice(12, 16)) + hex.slice(16);
}
