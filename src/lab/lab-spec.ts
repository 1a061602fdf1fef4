import type { Inventory } from '../inventory/types.js';

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
  /** Host side of the BMC bridge, e.g. 10.78.0.1/24. */
  bmcBridgeAddress: string;
  nodes: { name: string; address: string; bmcAddress: string; bmcMac: string }[];
}

export const DEFAULT_LAB_ROOT = '/var/lib/bootstrap-lab';
export const DEFAULT_CACHE_DIR = '/var/cache/bootstrap-lab';

export function labSpecOf(inventory: Inventory): LabSpec | undefined {
  const lab = inventory.lab;
  if (!lab) return undefined;
  const name = typeof lab.name === 'string' ? lab.name : inventory.deployment;
  const admin = inventory.networks.admin;
  const bmc = inventory.networks.bmc;
  const prefix = admin?.cidr.split('/')[1] ?? '24';
  const adminBridgeAddress = `${typeof lab.admin_address === 'string' ? lab.admin_address : (admin?.gateway ?? '10.77.0.1')}/${prefix}`;
  return {
    name,
    adminBridgeAddress,
    dir: typeof lab.dir === 'string' ? lab.dir : `${DEFAULT_LAB_ROOT}/${name}`,
    cacheDir: typeof lab.cache_dir === 'string' ? lab.cache_dir : DEFAULT_CACHE_DIR,
    packageCachePort: typeof lab.package_cache_port === 'number' ? lab.package_cache_port : 3142,
    bmcBridgeAddress: `${typeof lab.bmc_address === 'string' ? lab.bmc_address : (bmc?.gateway ?? '10.78.0.1')}/${bmc?.cidr.split('/')[1] ?? '24'}`,
    nodes: inventory.nodes.map((n, i) => ({ name: n.name, address: n.ssh.address, bmcAddress: n.bmc?.address ?? `10.78.0.${11 + i}`, bmcMac: `52:54:00:78:${hex(Math.floor(i / 256))}:${hex(i % 256)}` })),
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Interface names are limited to 15 characters; lab names are kept short for that. */
export function labNames(spec: LabSpec, index: number, node: string): { bridge: string; bmcBridge: string; namespace: string; hostVeth: string; bmcNamespace: string; bmcVeth: string } {
  return {
    bridge: `bsa-${spec.name}`.slice(0, 15),
    bmcBridge: `bsm-${spec.name}`.slice(0, 15),
    namespace: `bsn-${spec.name}-${node}`,
    hostVeth: `bsv-${spec.name}-${index}`.slice(0, 15),
    bmcNamespace: `bsb-${spec.name}-${node}`,
    bmcVeth: `bsw-${spec.name}-${index}`.slice(0, 15),
  };
}
