import { normalize } from 'node:path';
import { UserError } from '../core/user-error.js';
import type { Inventory } from '../inventory/types.js';
import { DEFAULT_HTTP_PORT, imagesDirOf } from '../provision/provisioner-config.js';
import { formatIPv4, parseCidr } from '../util/ipv4.js';

/** What a local lab consists of, derived from an inventory's `lab:` section and its nodes. */
export interface LabSpec {
  name: string;
  /** Host side of the admin bridge (the admin node), e.g. 10.77.0.1/24. */
  adminBridgeAddress: string;
  /** Where the lab keeps its node disks, keys and pids (outside the repository). */
  dir: string;
  /** Shared cache for the base image and packages. */
  cacheDir: string;
  packageCachePort: number;
  /** The provisioner's HTTP boot server on the admin bridge. */
  provisionerPort: number;
  /** Host side of the BMC bridge, e.g. 10.78.0.1/24. */
  bmcBridgeAddress: string;
  /**
   * Host side of the provider bridge (the inventory's `provider` network, its gateway), when there is one:
   * every container machine then gets a second NIC, eth1, on it, for guest traffic.
   */
  providerBridgeAddress?: string;
  /**
   * The BMC user fencing logs in as (the inventory's bmc.fence), created on every lab BMC (administrator-level:
   * see src/lab/bmc-sim.ts); its password is generated like the administrator's.
   */
  fenceUser?: string;
  /** Where the provisioner's boot images live (the discovery kernel and ramdisk for QEMU machines). */
  imagesDir: string;
  /** Machines in the rack: the inventory's nodes, then spares nobody has told the bootstrapper about. */
  nodes: LabMachineSpec[];
}

export interface LabMachineSpec {
  name: string;
  /** Admin address the inventory gives it (spares have none until discovered). */
  address?: string;
  mac: string;
  bmcAddress: string;
  bmcMac: string;
  /** Its management NIC (eth2, on the BMC bridge): a fixed address, as a real server's NICs have. */
  managementMac: string;
  spare: boolean;
  /**
   * container: a namespace machine whose firmware emulates PXE/iPXE in shell (fast, the default);
   * qemu: a QEMU/TCG virtual machine with a real BIOS and iPXE ROM that boots the discovery kernel.
   */
  kind: 'container' | 'qemu';
  /** A QEMU machine's firmware (legacy BIOS unless lab.machines says uefi). */
  firmware?: 'bios' | 'uefi';
}

/** The inventory network the lab gives every machine a second NIC on (guests' traffic, not the admin NIC's). */
export const PROVIDER_NETWORK = 'provider';
/** That NIC's name inside a machine: what the lab inventory maps neutron's physnet to. */
export const PROVIDER_NIC = 'eth1';
/**
 * A third NIC of every container machine, on the BMC bridge: a rack's management network, over which the
 * cluster fences a lost member through its BMC. The node's operating system gives it its address.
 */
export const MANAGEMENT_NIC = 'eth2';

export const DEFAULT_LAB_ROOT = '/var/lib/bootstrap-lab';
export const DEFAULT_CACHE_DIR = '/var/cache/bootstrap-lab';

export function labSpecOf(
  inventory: Inventory,
  overrides: { name?: string; machines?: number; qemuSpares?: number } = {},
): LabSpec | undefined {
  const lab = inventory.lab;
  if (!lab) return undefined;
  const name = overrides.name ?? (typeof lab.name === 'string' ? lab.name : inventory.deployment);
  const admin = inventory.networks.admin;
  const bmc = inventory.networks.bmc;
  const provider = inventory.networks[PROVIDER_NETWORK];
  const prefix = admin?.cidr.split('/')[1] ?? '24';
  const adminBridgeAddress = `${typeof lab.admin_address === 'string' ? lab.admin_address : (admin?.gateway ?? '10.77.0.1')}/${prefix}`;
  const dir = typeof lab.dir === 'string' ? lab.dir : `${DEFAULT_LAB_ROOT}/${name}`;
  refuseUnsafeLabDir(dir, inventory.file);
  refuseUnknownMachines(inventory);
  return {
    name,
    adminBridgeAddress,
    dir,
    cacheDir: typeof lab.cache_dir === 'string' ? lab.cache_dir : DEFAULT_CACHE_DIR,
    packageCachePort: typeof lab.package_cache_port === 'number' ? lab.package_cache_port : 3142,
    provisionerPort: typeof lab.provisioner_port === 'number' ? lab.provisioner_port : DEFAULT_HTTP_PORT,
    bmcBridgeAddress: `${typeof lab.bmc_address === 'string' ? lab.bmc_address : (bmc?.gateway ?? '10.78.0.1')}/${bmc?.cidr.split('/')[1] ?? '24'}`,
    ...(provider ? { providerBridgeAddress: providerBridgeAddressOf(provider) } : {}),
    ...(inventory.bmc.fence ? { fenceUser: inventory.bmc.fence.username } : {}),
    imagesDir: imagesDirOf(inventory),
    nodes: machines(
      inventory,
      overrides.machines ?? inventory.nodes.length,
      overrides.qemuSpares ?? (typeof lab.qemu_spares === 'number' ? lab.qemu_spares : 0),
    ),
  };
}

/** Directories `lab down` must never remove, whatever an inventory says (it removes lab.dir recursively, as root). */
const SYSTEM_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/lib',
  '/var/cache',
  '/var/tmp',
  '/var/log',
]);

/** lab.machines names inventory nodes and says what they are: anything else is a mistake worth stopping for. */
function refuseUnknownMachines(inventory: Inventory): void {
  const machines = inventory.lab?.machines;
  if (machines === undefined) return;
  const problems: string[] = [];
  if (typeof machines !== 'object' || machines === null || Array.isArray(machines))
    problems.push('lab.machines must map node names to {kind: qemu, firmware: bios|uefi}');
  else
    for (const [name, entry] of Object.entries(machines as Record<string, unknown>)) {
      const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      if (!inventory.nodes.some((n) => n.name === name)) problems.push(`lab.machines.${name}: no node of that name`);
      if (e.kind !== 'qemu' && e.kind !== 'container')
        problems.push(`lab.machines.${name}.kind: ${JSON.stringify(e.kind)} is not qemu or container`);
      if (e.firmware !== undefined && e.firmware !== 'bios' && e.firmware !== 'uefi')
        problems.push(`lab.machines.${name}.firmware: ${JSON.stringify(e.firmware)} is not bios or uefi`);
    }
  if (problems.length === 0) return;
  throw new UserError(
    'invalid-input',
    problems[0]!,
    problems.map((summary) => ({
      severity: 'error' as const,
      code: 'lab.machines',
      location: { file: inventory.file, line: 1, col: 1 },
      summary,
      suggestion: 'lab: { machines: { NODE: { kind: qemu, firmware: uefi } } } — NODE one of the inventory nodes',
    })),
  );
}

/** lab.dir: an absolute, normalised path of its own, two levels deep at least, not a system directory. */
function refuseUnsafeLabDir(dir: string, file: string): void {
  const normal = normalize(dir).replace(/\/+$/, '') || '/';
  const problem = !dir.startsWith('/')
    ? 'is not an absolute path'
    : normal !== dir.replace(/\/+$/, '')
      ? 'is not in normal form (.., //, ./)'
      : SYSTEM_DIRS.has(normal) || normal.split('/').length < 3
        ? 'is a system directory'
        : undefined;
  if (!problem) return;
  throw new UserError('invalid-input', `lab.dir ${JSON.stringify(dir)} ${problem}`, [
    {
      severity: 'error',
      code: 'lab.dir',
      location: { file, line: 1, col: 1 },
      summary: `lab.dir ${JSON.stringify(dir)} ${problem}: the lab keeps its machines there and lab down removes it`,
      suggestion: `a directory of its own, e.g. ${DEFAULT_LAB_ROOT}/NAME (the default)`,
    },
  ]);
}

/**
 * The last `qemuSpares` spares are QEMU machines. Inventory nodes are container machines, unless
 * `lab.machines: {NAME: {kind: qemu, firmware: bios|uefi}}` makes one a QEMU machine that bootstrap installs
 * onto its own disk (the real-metal path).
 */
function machines(inventory: Inventory, count: number, qemuSpares: number): LabMachineSpec[] {
  const bmcBase = bmcBaseOf(inventory);
  const chosen = (name: string): { kind: 'container' | 'qemu'; firmware?: 'bios' | 'uefi' } => {
    const entry = (inventory.lab?.machines as Record<string, { kind?: unknown; firmware?: unknown }> | undefined)?.[
      name
    ];
    if (entry?.kind !== 'qemu') return { kind: 'container' };
    return { kind: 'qemu', firmware: entry.firmware === 'uefi' ? 'uefi' : 'bios' };
  };
  const list: LabMachineSpec[] = [];
  for (let i = 0; i < count; i++) {
    const n = inventory.nodes[i];
    const bmcMac = `52:54:00:78:${hex(Math.floor(i / 256))}:${hex(i % 256)}`;
    const managementMac = `52:54:00:7b:${hex(Math.floor(i / 256))}:${hex(i % 256)}`;
    if (n)
      list.push({
        name: n.name,
        address: n.ssh.address,
        mac: n.macs[0] ?? `52:54:00:77:00:${hex(i + 1)}`,
        bmcAddress: n.bmc?.address ?? `${bmcBase}.${11 + i}`,
        bmcMac,
        managementMac,
        spare: false,
        ...chosen(n.name),
      });
    else
      list.push({
        name: `spare${i + 1 - inventory.nodes.length}`,
        mac: `52:54:00:77:01:${hex(i % 256)}`,
        bmcAddress: `${bmcBase}.${11 + i}`,
        bmcMac,
        managementMac,
        spare: true,
        ...(i >= count - qemuSpares
          ? { kind: 'qemu' as const, firmware: 'bios' as const }
          : { kind: 'container' as const }),
      });
  }
  return list;
}

/** First three octets of the BMC network (spares get BMC addresses after the inventory's). */
function bmcBaseOf(inventory: Inventory): string {
  return (inventory.networks.bmc?.cidr ?? '10.78.0.0/24').split('.').slice(0, 3).join('.');
}

/** The network's gateway, or else its first host address, with its prefix (the inventory validated the CIDR). */
function providerBridgeAddressOf(network: { cidr: string; gateway?: string }): string {
  const cidr = parseCidr(network.cidr)!;
  return `${network.gateway ?? formatIPv4(cidr.network + 1)}/${cidr.prefix}`;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Interface names are limited to 15 characters; lab names are kept short for that. */
export function labNames(
  spec: LabSpec,
  index: number,
  node: string,
): {
  bridge: string;
  bmcBridge: string;
  providerBridge: string;
  namespace: string;
  hostVeth: string;
  providerVeth: string;
  managementVeth: string;
  tap: string;
  hostNamespace: string;
  bmcNamespace: string;
  bmcVeth: string;
} {
  return {
    managementVeth: `bsy-${spec.name}-${index}`.slice(0, 15),
    providerBridge: `bsp-${spec.name}`.slice(0, 15),
    providerVeth: `bsx-${spec.name}-${index}`.slice(0, 15),
    hostNamespace: `bsh-${spec.name}`,
    tap: `bsq-${spec.name}-${index}`.slice(0, 15),
    bridge: `bsa-${spec.name}`.slice(0, 15),
    bmcBridge: `bsm-${spec.name}`.slice(0, 15),
    namespace: `bsn-${spec.name}-${node}`,
    hostVeth: `bsv-${spec.name}-${index}`.slice(0, 15),
    bmcNamespace: `bsb-${spec.name}-${node}`,
    bmcVeth: `bsw-${spec.name}-${index}`.slice(0, 15),
  };
}
