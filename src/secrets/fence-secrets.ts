import { bmcLoginOf } from '../inventory/bmc-login.js';
import type { Inventory, NodeSpec, SecretSource } from '../inventory/types.js';
import { readSecretSource, SecretSourceError } from './secret-source.js';
import type { Secrets } from './secret-store.js';

/** Templates read a node's fencing password as `secrets['bmc_fence.NODE']`. */
export const FENCE_SECRET_PREFIX = 'bmc_fence.';

/** Who fencing logs in as on a node's BMC: the inventory's `bmc.fence` user, else the node's own BMC login. */
export interface FenceLogin {
  username: string;
  password?: SecretSource;
  /** Whether the inventory named a fencing user (then an unreadable password is the operator's to fix). */
  dedicated: boolean;
}

export function fenceLoginOf(inventory: Inventory, node: NodeSpec): FenceLogin | undefined {
  if (!node.bmc) return undefined;
  if (inventory.bmc.fence)
    return { username: inventory.bmc.fence.username, password: inventory.bmc.fence.password, dedicated: true };
  return { ...bmcLoginOf(inventory, node), dedicated: false };
}

export interface UnreadableFenceSecret {
  node: string;
  reason: string;
}

/**
 * Every node's fencing password, read from the inventory's secret sources. Before a lab exists its password
 * files do not either: `placeholder` stands in for what cannot be read yet (the templates still render);
 * a real run gets the unreadable dedicated ones back to report them, and leaves the others out.
 */
export function fenceSecrets(
  inventory: Inventory,
  env: Readonly<Record<string, string | undefined>>,
  placeholder?: string,
): { secrets: Secrets; unreadable: UnreadableFenceSecret[] } {
  const secrets: Secrets = {};
  const unreadable: UnreadableFenceSecret[] = [];
  for (const node of inventory.nodes) {
    const login = fenceLoginOf(inventory, node);
    if (!login?.password) continue;
    try {
      secrets[`${FENCE_SECRET_PREFIX}${node.name}`] = readSecretSource(login.password, env);
    } catch (error) {
      if (!(error instanceof SecretSourceError)) throw error;
      if (placeholder !== undefined) secrets[`${FENCE_SECRET_PREFIX}${node.name}`] = placeholder;
      else if (login.dedicated) unreadable.push({ node: node.name, reason: error.message });
    }
  }
  return { secrets, unreadable };
}
