import { join } from 'node:path';
import type { EventSink } from '../run/events.js';
import type { FailureRecorder } from '../failures/record.js';
import { IllegalTransition, type MachineState } from '../provision/machine-state.js';
import { MachineStore } from '../provision/machine-store.js';
import { provisionNodes } from '../provision/provision-nodes.js';
import { fingerprintOf, KnownHosts } from '../transport/known-hosts.js';
import { portOpen } from '../util/tcp-probe.js';
import { bmcDriverOf, ipmiToolFor } from './bmc-access.js';
import type { Deployment } from './deployment.js';
import type { Environment } from './environment.js';

export const INSTALL_DEADLINE_MS = 15 * 60_000;
export const SSH_AFTER_INSTALL_DEADLINE_MS = 5 * 60_000;

export function machineStoreOf(deployment: Deployment, env: Environment): MachineStore {
  return new MachineStore(join(deployment.stateDir, 'machines'), env.now);
}

/** Installs the selected nodes that have no operating system yet; returns the names that failed. */
export async function provisionPhase(
  env: Environment,
  deployment: Deployment,
  nodes: readonly string[],
  run: { sink: EventSink; recorder: FailureRecorder; parallel: number; signal: AbortSignal },
): Promise<string[]> {
  const store = machineStoreOf(deployment, env);
  const tool = ipmiToolFor(env);
  const knownHosts = new KnownHosts(deployment.paths.knownHosts);
  const specs = deployment.inventory.nodes.filter((n) => nodes.includes(n.name));
  const result = await provisionNodes(specs, {
    store,
    driverFor: (node) => bmcDriverOf(tool, deployment.inventory, node, env),
    sshAnswers: (node) => portOpen(node.ssh.address, node.ssh.port),
    pinHostKey: (node, publicKey) => {
      const endpoint = `${node.ssh.address}:${node.ssh.port}`;
      const fingerprint = fingerprintOf(Buffer.from(publicKey.split(/\s+/)[1] ?? '', 'base64'));
      const pinned = knownHosts.pinned(endpoint);
      if (pinned === undefined) knownHosts.pin(endpoint, fingerprint);
      return pinned === undefined ? 'pinned' : pinned === fingerprint ? 'unchanged' : 'conflict';
    },
    sink: run.sink,
    recorder: run.recorder,
    parallel: run.parallel,
    signal: run.signal,
    sleep: env.sleep,
    nowMs: env.nowMs,
    installDeadlineMs: Number(env.env.BOOTSTRAP_INSTALL_DEADLINE_MS ?? INSTALL_DEADLINE_MS),
    sshDeadlineMs: SSH_AFTER_INSTALL_DEADLINE_MS,
  });
  return result.failed;
}

/** Moves machines we track through deploying → deployed / deploy-failed around the barclamp run. */
export function markDeployment(
  deployment: Deployment,
  env: Environment,
  nodes: readonly string[],
  to: MachineState,
  reason: string,
): void {
  const store = machineStoreOf(deployment, env);
  for (const name of nodes) {
    if (!store.get(name)) continue;
    try {
      store.transition(name, to, reason);
    } catch (error) {
      if (!(error instanceof IllegalTransition)) throw error;
    }
  }
}
