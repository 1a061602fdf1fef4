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
  nodes: { name: string; address: string }[];
}

export const DEFAULT_LAB_ROOT = '/var/lib/bootstrap-lab';
export const DEFAULT_CACHE_DIR = '/var/cache/bootstrap-lab';

export function labSpecOf(inventory: Inventory): LabSpec | undefined {
  const lab = inventory.lab;
  if (!lab) return undefined;
  const name = typeof lab.name === 'string' ? lab.name : inventory.deployment;
  const admin = inventory.networks.admin;
  const prefix = admin?.cidr.split('/')[1] ?? '24';
  const adminBridgeAddress = `${typeof lab.admin_address === 'string' ? lab.admin_address : (admin?.gateway ?? '10.77.0.1')}/${prefix}`;
  return {
    name,
    adminBridgeAddress,
    dir: typeof lab.dir === 'string' ? lab.dir : `${DEFAULT_LAB_ROOT}/${name}`,
    cacheDir: typeof lab.cache_dir === 'string' ? lab.cache_dir : DEFAULT_CACHE_DIR,
    packageCachePort: typeof lab.package_cache_port === 'number' ? lab.package_cache_port : 3142,
    nodes: inventory.nodes.map((n) => ({ name: n.name, address: n.ssh.address })),
  };
}

/** Interface names are limited to 15 characters; lab names are kept short for that. */
export function labNames(spec: LabSpec, index: number, node: string): { bridge: string; namespace: string; hostVeth: string } {
  return { bridge: `bsa-${spec.name}`.slice(0, 15), namespace: `bsn-${spec.name}-${node}`, hostVeth: `bsv-${spec.name}-${index}`.slice(0, 15) };
}
