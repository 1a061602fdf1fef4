/** The validated, normalised inventory: what the rest of the tool works from. */
import type { PinnedPackages } from './pinned-packages.js';

export interface Inventory {
  /** Absolute path of the inventory file (for messages and relative paths). */
  file: string;
  deployment: string;
  release: string;
  os: string;
  networks: Record<string, Network>;
  bmc: BmcDefaults;
  ssh: SshSettings;
  nodes: NodeSpec[];
  /** Inventory role → barclamp roles (`ntp/server`). */
  roles: Record<string, BarclampRoleRef[]>;
  /** Per-barclamp attribute overrides (validated against each barclamp's schema). */
  attributes: Record<string, Record<string, unknown>>;
  /** Extra directories searched for barclamps, absolute. */
  barclampPaths: string[];
  /** The `lab:` section, interpreted by the lab. */
  lab: Record<string, unknown> | undefined;
  /** `bom.pin`: the package versions every node is held to. */
  pinnedPackages?: PinnedPackages;
}

export interface Network {
  name: string;
  cidr: string;
  gateway?: string;
  vlan?: number;
  mtu?: number;
  dhcp?: string;
  static?: string;
}

/** Where a secret comes from. Inline secrets are refused so inventories can be shared. */
export type SecretSource = { env: string } | { file: string };

export interface BmcDefaults {
  username?: string;
  password?: SecretSource;
  cipherSuites?: number[];
  /** The BMC user fencing uses (operator privilege is enough), when it is not the one above. */
  fence?: { username: string; password: SecretSource };
}

export interface SshSettings {
  user: string;
  port: number;
  /** Absolute path of the private key. */
  key?: string;
  connectTimeoutMs: number;
}

export interface NodeSpec {
  name: string;
  macs: string[];
  /** Network name → address. */
  addresses: Record<string, string>;
  bmc?: { address: string; username?: string; password?: SecretSource };
  ssh: SshSettings & { address: string };
  roles: string[];
  /** Per-node attribute overrides, by barclamp. */
  attributes: Record<string, Record<string, unknown>>;
  /** Out of service on purpose: apply and verify leave it alone; health checks expect it out of service. */
  maintenance?: true;
  /** Install-time disk choices: root device hints, and whether a disk that is not empty may be wiped. */
  install?: InstallSettings;
}

export interface InstallSettings {
  rootDevice: { name?: string; serial?: string; minSizeGiB?: number };
  wipe: boolean;
}

export interface BarclampRoleRef {
  barclamp: string;
  role: string;
}

export function roleRefText(ref: BarclampRoleRef): string {
  return `${ref.barclamp}/${ref.role}`;
}
