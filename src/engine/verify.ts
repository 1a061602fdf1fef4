import { closeRun } from './run-session.js';
import { checkObservation, recordCheckFailure, runCheck } from '../apply/checks.js';
import { isHealthCheck } from '../apply/health.js';
import { type RunDir } from '../run/run-dir.js';
import { observationOfTransportError } from '../failures/observations.js';
import type { FailureRecord } from '../failures/record.js';
import { TransportError } from '../transport/transport.js';
import { runPool } from '../util/pool.js';
import { preflight, type Deployment } from './deployment.js';
import type { Environment } from './environment.js';
import { cloudHealthPhase, connectNodes, startRun, type RunOptions } from './run.js';

export interface VerifyOutcome {
  run: RunDir;
  /** Per node: ok when every check passed. */
  nodes: Map<string, 'ok' | 'failed'>;
  failures: FailureRecord[];
  interrupted: boolean;
}

/** How long reaching a node may take before its checks are given up (sshd answers in well under a second). */
const REACH_TIMEOUT_MS = 30_000;

/**
 * `bootstrap verify`: every check of every selected node, once, in barclamp order — nothing is changed and
 * no lock is taken. Unlike apply, a node's failing check does not stop its other checks: verify reports
 * everything that is wrong, each failure classified and recorded like apply's.
 */
export async function runVerify(env: Environment, deployment: Deployment, options: RunOptions): Promise<VerifyOutcome> {
  preflight(env, deployment, options.limit);
  const s = startRun(env, deployment, 'verify', options);
  connectNodes(deployment, s, options);
  const nodes = new Map<string, 'ok' | 'failed'>(s.nodes.map((n) => [n, 'ok']));
  const batchOf = new Map(s.desired.batches.map((b) => [b.index, b]));
  const unreachable = new Set<string>();
  try {
    await runPool(s.nodes, options.parallel, async (node) => {
      if (options.stop.aborted) return;
      const transport = s.transports.get(node)!;
      try {
        await transport.run('true', { timeoutMs: REACH_TIMEOUT_MS, signal: options.kill });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        const record = s.recorder.record({ node }, observationOfTransportError(error));
        s.sink({ type: 'failure.recorded', record });
        nodes.set(node, 'failed');
        unreachable.add(node);
        return;
      }
      const batches = s.desired.nodes.find((n) => n.node === node)?.batches ?? [];
      for (const { batch: index, checks } of batches) {
        const batch = batchOf.get(index)!;
        for (const check of checks.filter((c) => !isHealthCheck(c))) {
          if (options.stop.aborted) return;
          const started = env.nowMs();
          const result = await runCheck(check, transport, options.kill, env.sleep, env.nowMs, 'once');
          if (result.ok) {
            s.sink({ type: 'check.ok', node, check: check.id, ms: Math.round(env.nowMs() - started) });
            continue;
          }
          recordCheckFailure(
            s.sink,
            s.recorder,
            { node, barclamp: batch.barclamp, role: batch.role, step: check.id },
            checkObservation(check, result),
          );
          nodes.set(node, 'failed');
        }
      }
    });
    // the cloud's own view (services, agents, hosts, notifications), asked where the credentials are
    const unhealthy = await cloudHealthPhase(
      env,
      deployment,
      s,
      options,
      s.nodes.filter((n) => !unreachable.has(n)),
      'once',
    );
    for (const node of unhealthy) nodes.set(node, 'failed');
    const interrupted = options.stop.aborted;
    const failed = [...nodes.values()].filter((v) => v === 'failed').length;
    const status = interrupted ? 'interrupted' : failed > 0 ? 'failed' : 'ok';
    closeRun(
      env,
      s,
      { status, nodesOk: nodes.size - failed, nodesFailed: failed, changed: 0 },
      { nodes: Object.fromEntries(nodes) },
    );
    return { run: s.run, nodes, failures: s.recorder.records, interrupted };
  } finally {
    for (const t of s.transports.values()) t.close();
  }
}
