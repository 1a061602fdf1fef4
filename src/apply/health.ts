import type { EventSink } from '../run/events.js';
import type { Observation } from '../failures/classify.js';
import type { FailureRecorder } from '../failures/record.js';
import type { DesiredCheck, DesiredState } from '../plan/desired-types.js';
import type { Transport } from '../transport/transport.js';
import { runPool } from '../util/pool.js';
import { checkObservation, recordCheckFailure, runCheck } from './checks.js';

/**
 * One thing a cloud health check found wrong, about one node: a line of the check's stdout such as
 * {"node": "cmp1", "problem": "nova-compute on cmp1 is disabled: …", "evidence": {…the service row…}}.
 * The check runs on one node (where the API credentials are) but speaks for all of them.
 */
export interface HealthFinding {
  node: string;
  problem: string;
  evidence?: Record<string, unknown>;
}

export type HealthCheck = Extract<DesiredCheck, { type: 'command' }> & { health: true };

export interface HealthDeps {
  desired: DesiredState;
  /** Nodes whose health checks run (reachable, converged). */
  runOn: readonly string[];
  /** Every node of the inventory: a finding naming another is kept on the node that ran the check. */
  known: ReadonlySet<string>;
  /** Nodes the inventory has in maintenance: whatever is found about them is expected, not a failure. */
  maintenance: ReadonlySet<string>;
  transports: ReadonlyMap<string, Transport>;
  sink: EventSink;
  recorder: FailureRecorder;
  parallel: number;
  /** apply polls (a service it just restarted needs a heartbeat to count as up); verify looks once. */
  mode: 'poll' | 'once';
  stop: AbortSignal;
  kill: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
}

/** Health checks are not run batch by batch: they judge the cloud, once every node has converged. */
export function isHealthCheck(check: DesiredCheck): check is HealthCheck {
  return check.type === 'command' && check.health === true;
}

/** The findings among a health check's stdout lines; other lines (progress, warnings) are not findings. */
export function parseFindings(stdout: string): HealthFinding[] {
  const findings: HealthFinding[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const f = value as Partial<HealthFinding>;
    if (typeof f.node !== 'string' || typeof f.problem !== 'string' || f.problem === '') continue;
    const evidence =
      f.evidence !== null && typeof f.evidence === 'object' && !Array.isArray(f.evidence) ? f.evidence : undefined;
    findings.push({ node: f.node, problem: f.problem.slice(0, 500), ...(evidence ? { evidence } : {}) });
  }
  return findings;
}

/**
 * Runs every health check of the given nodes, in parallel across nodes, and records each finding on the node
 * it is about (the same finding reported by several nodes — each cluster member sees the one offline — once).
 * Returns the nodes that are not healthy: those findings name, and those whose check could not judge.
 */
export async function runHealthChecks(deps: HealthDeps): Promise<Set<string>> {
  const unhealthy = new Set<string>();
  const seen = new Set<string>();
  const batchOf = new Map(deps.desired.batches.map((b) => [b.index, b]));
  // read-only and independent of each other: all at once (bounded), not node by node, check by check
  const work = deps.runOn.flatMap((node) =>
    (deps.desired.nodes.find((n) => n.node === node)?.batches ?? []).flatMap(({ batch, checks }) =>
      checks.filter(isHealthCheck).map((check) => ({ node, batch: batchOf.get(batch)!, check })),
    ),
  );
  await runPool(work, deps.parallel, async ({ node, batch, check }) => {
    const transport = deps.transports.get(node);
    if (!transport || deps.stop.aborted) return;
    const started = deps.nowMs();
    const result = await runCheck(check, transport, deps.kill, deps.sleep, deps.nowMs, deps.mode);
    const all = parseFindings(result.stdout ?? '');
    const findings = all.filter((f) => !deps.maintenance.has(f.node));
    // a check that found only what maintenance explains judged the cloud healthy
    if (findings.length === 0 && (result.ok || all.length > 0)) {
      deps.sink({ type: 'check.ok', node, check: check.id, ms: Math.round(deps.nowMs() - started) });
      return;
    }
    const context = { barclamp: batch.barclamp, role: batch.role, step: check.id };
    const reports =
      findings.length > 0
        ? findings.map((f) => ({
            node: deps.known.has(f.node) ? f.node : node,
            observation: findingObservation(check, f),
          }))
        : [{ node, observation: checkObservation(check, result) }];
    for (const report of reports) {
      const key = `${report.node}\u0000${report.observation.message}`;
      unhealthy.add(report.node);
      if (seen.has(key)) continue;
      seen.add(key);
      recordCheckFailure(deps.sink, deps.recorder, { node: report.node, ...context }, report.observation);
    }
  });
  return unhealthy;
}

function findingObservation(check: HealthCheck, finding: HealthFinding): Observation {
  // the problem is the check's own sentence, matched by the genes' stderr signals like any check's last word
  return {
    source: 'check',
    kind: 'health',
    message: `check ${check.name}: ${finding.problem}`,
    stderr: finding.problem,
    ...(finding.evidence ? { details: finding.evidence } : {}),
  };
}
