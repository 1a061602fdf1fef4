import { existsSync } from 'node:fs';
import { runHealthChecks, isHealthCheck } from '../apply/health.js';
import { FailureRecorder } from '../failures/record.js';
import { desiredState, maintenanceNodes, readOnlySecrets, sshTransports, type Deployment } from './deployment.js';
import type { Environment } from './environment.js';

export interface NodeHealth {
  /** unknown: the deployment was never applied, or no node could be asked. */
  state: 'ok' | 'unhealthy' | 'maintenance' | 'unknown';
  findings: { gene: string; problem: string }[];
}

/**
 * The cloud's health per node, as `bootstrap status` shows it: the barclamps' health checks, run once on the
 * nodes that hold them, nothing recorded or changed. Unknown where the deployment has no secrets yet.
 */
export async function cloudHealth(
  env: Environment,
  deployment: Deployment,
  options: { parallel: number; signal: AbortSignal },
): Promise<Map<string, NodeHealth>> {
  const names = deployment.inventory.nodes.map((n) => n.name);
  const resting = maintenanceNodes(deployment);
  const health = new Map<string, NodeHealth>(
    names.map((n) => [n, { state: resting.has(n) ? 'maintenance' : 'unknown', findings: [] }]),
  );
  if (!existsSync(deployment.paths.secrets)) return health;
  // only read: what is missing (a barclamp added since) renders with a throw-away value, never stored
  const secrets = readOnlySecrets(env, deployment);
  const { desired } = desiredState(env, deployment, secrets);
  const judges = desired.nodes
    .filter((n) => !resting.has(n.node) && n.batches.some((b) => b.checks.some(isHealthCheck)))
    .map((n) => n.node);
  if (judges.length === 0) return health;
  const transports = sshTransports(deployment, judges);
  const recorder = new FailureRecorder({
    taxonomy: deployment.taxonomy,
    runId: 'status',
    release: deployment.inventory.release,
    toolVersion: env.toolVersion,
    file: undefined,
    secrets: () => Object.values(secrets),
    now: env.now,
  });
  let asked = false;
  try {
    await runHealthChecks({
      desired,
      runOn: judges,
      known: new Set(names),
      maintenance: resting,
      transports,
      sink: (event) => (asked ||= event.type === 'check.ok' || event.type === 'check.fail'),
      recorder,
      parallel: options.parallel,
      mode: 'once',
      stop: options.signal,
      kill: options.signal,
      sleep: env.sleep,
      nowMs: env.nowMs,
    });
  } finally {
    for (const t of transports.values()) t.close();
  }
  if (!asked) return health;
  for (const name of names) if (!resting.has(name)) health.set(name, { state: 'ok', findings: [] });
  // checks run at once and finish in any order: shown sorted, the same every time
  for (const record of [...recorder.records].sort(
    (a, b) => a.gene.localeCompare(b.gene) || a.evidence.message.localeCompare(b.evidence.message),
  )) {
    const entry = health.get(record.node)!;
    entry.state = 'unhealthy';
    entry.findings.push({ gene: record.gene, problem: record.evidence.message });
  }
  return health;
}
