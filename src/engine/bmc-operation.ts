import { closeRun, openRun, type RunSession } from './run-session.js';
import { UserError } from '../core/user-error.js';
import { type FailureRecord } from '../failures/record.js';
import { IpmiDriver } from '../ipmi/ipmi-driver.js';
import { IpmiError } from '../ipmi/ipmi-error.js';
import type { BmcTarget } from '../ipmi/ipmitool.js';
import { bmcObservation } from '../failures/observations.js';
import { bmcTargetOf, ipmiToolFor } from './bmc-access.js';
import type { Deployment } from './deployment.js';
import type { Environment } from './environment.js';

export interface BmcOperationResult {
  node: string;
  /** What the BMC did or said (power state, "done"), or what went wrong. */
  text: string;
  record?: FailureRecord;
}

/**
 * `power` and `boot`: one operation through each named node's BMC, all at once (the IpmiTool keeps one
 * session per BMC). A BMC that fails is a classified failure record, like in apply — written to a run of
 * its own, created only when something failed, so `bootstrap failures` shows it as the latest failures.
 */
export async function runBmcOperation(
  env: Environment,
  deployment: Deployment,
  command: 'power' | 'boot',
  names: readonly string[],
  work: (driver: IpmiDriver) => Promise<string>,
): Promise<{ results: BmcOperationResult[]; runId?: string }> {
  const targets = names.map((name): [string, BmcTarget] => [name, targetOf(env, deployment, name)]);
  const tool = ipmiToolFor(env);
  const passwords = targets.map(([, t]) => t.password);
  // a run of its own only when a BMC failed: its failure records must be somewhere `bootstrap failures` finds them
  let failures: RunSession | undefined;
  const recorder = () => (failures ??= openRun(env, deployment, { command, nodes: names, secrets: () => passwords }));
  const results = await Promise.all(
    targets.map(async ([node, target]): Promise<BmcOperationResult> => {
      try {
        return { node, text: await work(new IpmiDriver(tool, target)) };
      } catch (error) {
        if (!(error instanceof IpmiError)) throw error;
        const { recorder: r, sink } = recorder();
        const record = r.record({ node, step: command }, bmcObservation(error));
        sink({ type: 'failure.recorded', record });
        return { node, text: error.message, record };
      }
    }),
  );
  if (!failures) return { results };
  const failed = results.filter((r) => r.record).length;
  const done = closeRun(env, failures, {
    status: 'failed',
    nodesOk: results.length - failed,
    nodesFailed: failed,
    changed: 0,
  });
  return { results, runId: done.runId };
}

function targetOf(env: Environment, deployment: Deployment, name: string): BmcTarget {
  const node = deployment.inventory.nodes.find((n) => n.name === name);
  if (!node)
    throw new UserError('invalid-input', `node '${name}' is not in ${deployment.inventory.file}`, [
      {
        severity: 'error',
        code: 'node.unknown',
        summary: `node '${name}' is not in ${deployment.inventory.file} (nodes: ${deployment.inventory.nodes.map((n) => n.name).join(', ')})`,
      },
    ]);
  const target = bmcTargetOf(deployment.inventory, node, env);
  if (!target)
    throw new UserError('precondition', `${name} has no BMC`, [
      {
        severity: 'error',
        code: 'bmc.none',
        summary: `node ${name} has no bmc section in ${deployment.inventory.file}`,
        suggestion: 'add bmc: { address: … } to the node',
      },
    ]);
  return target;
}
