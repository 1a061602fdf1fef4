import { UserError } from '../core/user-error.js';
import { acquireLock } from '../apply/lock.js';
import { hasOperatingSystem } from '../provision/machine-state.js';
import { KnownHosts } from '../transport/known-hosts.js';
import type { Deployment } from './deployment.js';
import type { Environment } from './environment.js';
import { machineStoreOf } from './provision-phase.js';

export interface ReinstallRequest {
  node: string;
  /** The machine's state before (undefined: bootstrap had no record of it). */
  was?: string;
  forgotHostKey: boolean;
}

/**
 * Marks an installed node for reinstallation by the next apply: its machine record goes back to allocated
 * (apply then takes it through PXE and the install again, instead of adopting the system that answers SSH) and
 * its pinned host key is forgotten (the reinstalled machine makes new ones). Refused unless the inventory allows
 * its disk to be wiped — the install agent would refuse the disk anyway, after a power-cycle. Takes the apply
 * lock: never under a running apply.
 */
export function requestReinstall(env: Environment, deployment: Deployment, nodeName: string): ReinstallRequest {
  const node = deployment.inventory.nodes.find((n) => n.name === nodeName);
  const file = deployment.inventory.file;
  if (!node) throw new UserError('invalid-input', `node '${nodeName}' is not in ${file}`);
  if (!node.bmc)
    throw new UserError(
      'precondition',
      `${nodeName} has no BMC in ${file}: bootstrap installs a machine by power-cycling it into PXE through its BMC`,
    );
  if (!node.install?.wipe)
    throw new UserError('precondition', `reinstalling ${nodeName} writes over its disk`, [
      {
        severity: 'error',
        code: 'reinstall.wipe',
        summary: `the inventory does not allow wiping ${nodeName}'s disk (install.wipe)`,
        suggestion: `set install: { wipe: true } for ${nodeName} in ${file}, then run this again`,
      },
    ]);
  const lock = acquireLock(deployment.paths.lock, `${env.pid}-reinstall`, env.now().toISOString(), {
    pid: env.pid,
    host: env.hostname,
    isAlive: env.isAlive,
  });
  try {
    const store = machineStoreOf(deployment, env);
    const record = store.get(nodeName);
    if (!record) store.enroll(nodeName, { node: nodeName, macs: node.macs }, 'allocated', 'reinstall requested');
    else if (hasOperatingSystem(record.state)) store.transition(nodeName, 'allocated', 'reinstall requested');
    const forgotHostKey = new KnownHosts(deployment.paths.knownHosts).forget(`${node.ssh.address}:${node.ssh.port}`);
    return { node: nodeName, ...(record ? { was: record.state } : {}), forgotHostKey };
  } finally {
    lock.release();
  }
}
