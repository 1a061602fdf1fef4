import type { Inventory, NodeSpec, SecretSource } from './types.js';

/**
 * Who the inventory logs in as on a BMC: the node's own user and password where it gives them, the inventory's
 * bmc defaults otherwise (also for BMCs a sweep found that no node names yet).
 */
export function bmcLoginOf(inventory: Inventory, node?: NodeSpec): { username: string; password?: SecretSource } {
  const password = node?.bmc?.password ?? inventory.bmc.password;
  return { username: node?.bmc?.username ?? inventory.bmc.username ?? 'admin', ...(password ? { password } : {}) };
}
