import { UserError } from '../core/user-error.js';
import { IpmiDriver } from '../ipmi/ipmi-driver.js';
import { IpmiTool, type BmcTarget } from '../ipmi/ipmitool.js';
import { bmcLoginOf } from '../inventory/bmc-login.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { readSecretSource, SecretSourceError } from '../secrets/secret-source.js';
import { runCommand } from '../util/exec.js';
import type { Environment } from './environment.js';

/** The one IpmiTool of a command: its per-BMC session locks and cipher memory are shared by all callers. */
export function ipmiToolFor(env: Environment): IpmiTool {
  return new IpmiTool({ run: runCommand, sleep: env.sleep, nowMs: env.nowMs });
}

/** The node's BMC with credentials resolved, or undefined when the inventory gives it none. */
export function bmcTargetOf(inventory: Inventory, node: NodeSpec, env: Environment): BmcTarget | undefined {
  return node.bmc ? bmcTargetAt(inventory, node.bmc.address, env, node) : undefined;
}

/**
 * A BMC at `address` with the credentials the inventory gives it: the node's own when it belongs to one,
 * the inventory's bmc defaults otherwise (BMCs a sweep found that no node names yet).
 */
export function bmcTargetAt(inventory: Inventory, address: string, env: Environment, node?: NodeSpec): BmcTarget {
  const who = node ? `node ${node.name}` : `BMC ${address}`;
  const login = bmcLoginOf(inventory, node);
  const source = login.password;
  if (!source) throw bmcProblem(inventory, who, 'has no BMC password (bmc.password {file:} or {env:})');
  let password: string;
  try {
    password = readSecretSource(source, env.env);
  } catch (error) {
    if (!(error instanceof SecretSourceError)) throw error;
    throw bmcProblem(inventory, who, `BMC password: ${error.message}`);
  }
  return { address, username: login.username, password, cipherSuites: inventory.bmc.cipherSuites ?? [17, 3] };
}

export function bmcDriverOf(
  tool: IpmiTool,
  inventory: Inventory,
  node: NodeSpec,
  env: Environment,
): IpmiDriver | undefined {
  const target = bmcTargetOf(inventory, node, env);
  return target ? new IpmiDriver(tool, target) : undefined;
}

function bmcProblem(inventory: Inventory, who: string, summary: string): UserError {
  return new UserError('precondition', `${who}: ${summary}`, [
    {
      severity: 'error',
      code: 'bmc.password',
      summary: `${who} ${summary}`,
      suggestion: `fix the bmc section of ${inventory.file}; in the lab, bootstrap lab up creates the password file`,
    },
  ]);
}
