import { normalizeMac } from '../util/ipv4.js';

/** What the discovery agent reports about a machine (see share/provisioner/discovery-agent.sh). */
export interface HardwareReport {
  cpu: { count: number; model: string; flags: string[] };
  memoryMiB: number;
  disks: { name: string; sizeBytes: number; model: string; serial: string; rotational: boolean }[];
  nics: { name: string; mac: string; link: boolean; speedMbps: number | null; addresses: string[] }[];
  dmi: { vendor: string; product: string; serial: string; uuid: string };
  bmcAddress: string | null;
}

type Json = unknown;

/** Validates the agent's JSON (it comes over the network from a machine we do not control yet). */
export function parseHardwareReport(value: Json): { report?: HardwareReport; problems: string[] } {
  const problems: string[] = [];
  const o = record(value, 'report', problems);
  const cpu = record(o.cpu, 'cpu', problems);
  const dmi = record(o.dmi, 'dmi', problems);
  const report: HardwareReport = {
    cpu: {
      count: int(cpu.count, 'cpu.count', problems),
      model: str(cpu.model, 'cpu.model', problems),
      flags: list(cpu.flags, 'cpu.flags', problems).map(String),
    },
    memoryMiB: int(o.memory_mib, 'memory_mib', problems),
    disks: list(o.disks, 'disks', problems).map((d, i) => {
      const r = record(d, `disks[${i}]`, problems);
      return {
        name: str(r.name, `disks[${i}].name`, problems),
        sizeBytes: int(r.size_bytes, `disks[${i}].size_bytes`, problems),
        model: optStr(r.model),
        serial: optStr(r.serial),
        rotational: r.rotational === true || r.rotational === 1,
      };
    }),
    nics: list(o.nics, 'nics', problems).map((n, i) => {
      const r = record(n, `nics[${i}]`, problems);
      const speed = typeof r.speed_mbps === 'number' && r.speed_mbps > 0 ? r.speed_mbps : null;
      return {
        name: str(r.name, `nics[${i}].name`, problems),
        mac: macOf(str(r.mac, `nics[${i}].mac`, problems), `nics[${i}].mac`, problems),
        link: r.link === true || r.link === 1,
        speedMbps: speed,
        addresses: list(r.addresses, `nics[${i}].addresses`, problems).map(String),
      };
    }),
    dmi: {
      vendor: optStr(dmi.vendor),
      product: optStr(dmi.product),
      serial: optStr(dmi.serial),
      uuid: optStr(dmi.uuid).toLowerCase(),
    },
    bmcAddress: typeof o.bmc_address === 'string' && o.bmc_address !== '' ? o.bmc_address : null,
  };
  return problems.length === 0 ? { report, problems } : { problems };
}

function record(v: Json, what: string, problems: string[]): Record<string, Json> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, Json>;
  problems.push(`${what}: expected an object`);
  return {};
}

function list(v: Json, what: string, problems: string[]): Json[] {
  if (Array.isArray(v)) return v;
  problems.push(`${what}: expected a list`);
  return [];
}

function str(v: Json, what: string, problems: string[]): string {
  if (typeof v === 'string') return v;
  problems.push(`${what}: expected a string`);
  return '';
}

function macOf(v: string, what: string, problems: string[]): string {
  const mac = normalizeMac(v);
  if (mac === undefined) problems.push(`${what}: not a MAC address`);
  return mac ?? '';
}

function optStr(v: Json): string {
  return typeof v === 'string' ? v.trim() : '';
}

function int(v: Json, what: string, problems: string[]): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  problems.push(`${what}: expected a non-negative integer`);
  return 0;
}
