import type { EventSink } from '../run/events.js';
import type { Observation } from '../failures/classify.js';
import type { FailureRecorder } from '../failures/record.js';
import type { DesiredResource, DesiredState } from '../plan/desired-types.js';
import type { Plan, PlanStep } from '../plan/plan-types.js';
import { PENDING_RESTART_TRIGGER } from '../plan/planner.js';
import { TransportError, type ExecResult, type Transport } from '../transport/transport.js';
import { runPool } from '../util/pool.js';
import { checkObservation, recordCheckFailure, runCheck } from './checks.js';
import { isHealthCheck } from './health.js';
import { stepScript } from './step-scripts.js';
import { observationOfTransportError } from '../failures/observations.js';

export interface ExecutorDeps {
  plan: Plan;
  desired: DesiredState;
  transports: ReadonlyMap<string, Transport>;
  sink: EventSink;
  recorder: FailureRecorder;
  parallel: number;
  /** Aborted on the first Ctrl-C: no new steps start; running ones finish. */
  stop: AbortSignal;
  /** Aborted on the second Ctrl-C or the overall deadline: running steps are killed. */
  kill: AbortSignal;
  /** Nodes that already failed (e.g. during gather); they get no steps. */
  failedNodes: ReadonlySet<string>;
  /** Stop scheduling once more nodes than this have failed (operators' --max-failures); undefined: never. */
  maxFailedNodes?: number;
  /** What a step or check killed through `kill` is recorded as (the overall deadline says where it was); default: its exit. */
  killedWork?: (node: string, what: string) => Observation | undefined;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
}

export interface NodeOutcome {
  status: 'ok' | 'failed' | 'skipped';
  changed: number;
}

export interface ExecutionResult {
  nodes: Map<string, NodeOutcome>;
  interrupted: boolean;
  /** Why the run stopped before the end without being interrupted (the failure budget was spent). */
  stoppedEarly?: string;
}

/** Default per-kind timeouts; command resources carry their own. Services get past a 600 s TimeoutStartSec (nova-compute). */
const TIMEOUT_MS: Record<string, number> = {
  package: 1_800_000,
  file: 60_000,
  directory: 60_000,
  service: 660_000,
  handler: 660_000,
};
/** Retries only where repeating is harmless. */
const RETRIES: Record<string, number> = { package: 2, file: 1, directory: 1, service: 0, handler: 0 };

/**
 * Executes exactly the plan: batches in order, nodes of a batch in parallel (bounded), steps of a node
 * in order. A failing node stops its own chain; the others continue.
 */
export async function executePlan(deps: ExecutorDeps): Promise<ExecutionResult> {
  const { plan, sink } = deps;
  const outcomes = new Map<string, NodeOutcome>(
    plan.nodes.map((n) => [n.name, { status: deps.failedNodes.has(n.name) ? 'failed' : 'ok', changed: 0 }]),
  );
  const resources = new Map<string, DesiredResource>();
  for (const node of deps.desired.nodes)
    for (const batch of node.batches) for (const r of batch.resources) resources.set(`${node.node}\u0000${r.id}`, r);
  const changedSteps = new Map<string, Set<string>>(plan.nodes.map((n) => [n.name, new Set()]));
  const budget = failureBudget(deps, outcomes);
  const stopped = () => deps.stop.aborted || budget.spent() !== undefined;
  const hasWork = (n: Plan['nodes'][number], index: number) =>
    n.steps.some((s) => s.batch === index) ||
    n.checks.some((c) => !isHealthCheck(c) && checkBatch(deps.desired, n.name, c.id) === index);
  const finishedBatches = new Map<string, Set<number>>(plan.nodes.map((n) => [n.name, new Set()]));

  for (const batch of plan.batches) {
    if (stopped()) break;
    const members = plan.nodes.filter((n) => outcomes.get(n.name)!.status === 'ok' && hasWork(n, batch.index));
    if (members.length === 0) continue;
    sink({
      type: 'batch.start',
      batch: batch.index,
      barclamp: batch.barclamp,
      role: batch.role,
      nodes: members.map((m) => m.name),
    });
    await runPool(members, deps.parallel, async (node) => {
      if (stopped()) return;
      const transport = deps.transports.get(node.name)!;
      const outcome = outcomes.get(node.name)!;
      const ran = changedSteps.get(node.name)!;
      for (const step of node.steps.filter((s) => s.batch === batch.index)) {
        if (stopped()) return;
        if (step.action === 'noop') continue;
        if (step.kind === 'handler' && !step.triggers!.some((id) => id === PENDING_RESTART_TRIGGER || ran.has(id)))
          continue;
        // Packages and commands that ran earlier may legitimately create files (a package's default config):
        // the drift check then cannot tell their change from someone else's, so it only guards untouched nodes.
        const compareBefore = ![...ran].some((id) => /:(package|command):/.test(id));
        const ok = await runStep(deps, transport, step, resources.get(`${node.name}\u0000${step.id}`), compareBefore);
        if (!ok) {
          budget.fail(outcome);
          return;
        }
        outcome.changed++;
        ran.add(step.id);
      }
      // the cloud's health is judged once every node converged (runHealthChecks), not batch by batch
      const checks = (
        deps.desired.nodes.find((n) => n.node === node.name)!.batches.find((b) => b.batch === batch.index)?.checks ?? []
      ).filter((c) => !isHealthCheck(c));
      for (const check of checks) {
        if (stopped()) return;
        const started = deps.nowMs();
        const result = await runCheck(check, transport, deps.kill, deps.sleep, deps.nowMs);
        if (result.ok) {
          sink({ type: 'check.ok', node: node.name, check: check.id, ms: Math.round(deps.nowMs() - started) });
          continue;
        }
        const killedAs = deps.kill.aborted ? deps.killedWork?.(node.name, `check ${check.name}`) : undefined;
        recordCheckFailure(
          sink,
          deps.recorder,
          { node: node.name, barclamp: batch.barclamp, role: batch.role, step: check.id },
          killedAs ?? checkObservation(check, result),
        );
        budget.fail(outcome);
        return;
      }
      finishedBatches.get(node.name)!.add(batch.index);
    });
  }
  for (const node of plan.nodes) {
    const outcome = outcomes.get(node.name)!;
    // a node the stop caught before its last batch is skipped; one that had already done everything is ok
    if (
      outcome.status === 'ok' &&
      plan.batches.some((b) => hasWork(node, b.index) && !finishedBatches.get(node.name)!.has(b.index))
    )
      outcome.status = 'skipped';
    sink({ type: 'node.done', node: node.name, status: outcome.status, changed: outcome.changed });
  }
  const stoppedEarly = budget.spent();
  return { nodes: outcomes, interrupted: deps.stop.aborted, ...(stoppedEarly !== undefined ? { stoppedEarly } : {}) };
}

/**
 * Operators' --max-failures: once more nodes than allowed have failed, nothing new starts (running steps
 * finish) — a rack with a systematic problem stops early instead of failing every node the same way.
 */
function failureBudget(deps: ExecutorDeps, outcomes: Map<string, NodeOutcome>) {
  let spent: string | undefined;
  const failedCount = () => [...outcomes.values()].filter((o) => o.status === 'failed').length;
  const check = () => {
    if (spent !== undefined || deps.maxFailedNodes === undefined) return;
    const failed = failedCount();
    if (failed <= deps.maxFailedNodes) return;
    spent = `${failed} of ${outcomes.size} node(s) failed, more than the ${deps.maxFailedNodes} --max-failures allows: no new steps were started`;
    deps.sink({ type: 'run.interrupt', message: spent });
  };
  check();
  return {
    fail(outcome: NodeOutcome) {
      outcome.status = 'failed';
      check();
    },
    spent: () => spent,
  };
}

async function runStep(
  deps: ExecutorDeps,
  transport: Transport,
  step: PlanStep,
  resource: DesiredResource | undefined,
  compareBefore: boolean,
): Promise<boolean> {
  const { sink } = deps;
  const retries = resource?.type === 'command' ? resource.retries : (RETRIES[step.kind] ?? 0);
  const timeoutMs = resource?.type === 'command' ? resource.timeoutSeconds * 1000 : (TIMEOUT_MS[step.kind] ?? 300_000);
  const script = stepScript(step, resource, { compareBefore });
  const started = deps.nowMs();
  sink({ type: 'step.start', node: step.node, step: step.id, summary: step.summary });
  for (let attempt = 1; ; attempt++) {
    let result: ExecResult | undefined;
    let transportError: TransportError | undefined;
    try {
      result = await transport.run(script, { timeoutMs, signal: deps.kill });
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      transportError = error;
    }
    if (result && result.code === 0) {
      sink({
        type: 'step.ok',
        node: step.node,
        step: step.id,
        summary: step.summary,
        action: step.action,
        ms: Math.round(deps.nowMs() - started),
        attempt,
      });
      return true;
    }
    const killedAs = deps.kill.aborted ? deps.killedWork?.(step.node, step.summary) : undefined;
    const observation: Observation = killedAs
      ? { ...killedAs, ...(result ? { stderr: result.stderr || result.stdout } : {}) }
      : transportError
        ? observationOfTransportError(transportError)
        : {
            source: 'remote-exec' as const,
            kind: step.kind,
            message: result!.timedOut
              ? `${step.summary}: no result within ${timeoutMs / 1000} s`
              : `${step.summary}: exit code ${result!.code}`,
            exitCode: result!.code,
            stderr: result!.stderr || result!.stdout,
            timedOut: result!.timedOut,
          };
    // a command's declared retries are its author's judgement (e.g. "the cluster may still be electing"), so they
    // hold whatever the gene says; elsewhere only retryable genes are repeated
    const worthRetrying = resource?.type === 'command' || deps.recorder.classify(observation).retryable;
    const canRetry =
      attempt <= retries &&
      !deps.stop.aborted &&
      !deps.kill.aborted &&
      !transportError &&
      !result!.timedOut &&
      worthRetrying;
    if (canRetry) {
      sink({
        type: 'step.retry',
        node: step.node,
        step: step.id,
        summary: step.summary,
        attempt,
        message: observation.message,
      });
      await deps.sleep(Math.min(30_000, 1000 * 2 ** (attempt - 1)));
      continue;
    }
    const record = deps.recorder.record(
      { node: step.node, barclamp: step.barclamp, role: step.role, step: step.id, attempt },
      observation,
    );
    sink({ type: 'failure.recorded', record });
    sink({
      type: 'step.fail',
      node: step.node,
      step: step.id,
      summary: step.summary,
      gene: record.gene,
      message: record.evidence.message,
      ms: Math.round(deps.nowMs() - started),
    });
    return false;
  }
}

function checkBatch(desired: DesiredState, node: string, checkId: string): number | undefined {
  return desired.nodes.find((n) => n.node === node)?.batches.find((b) => b.checks.some((c) => c.id === checkId))?.batch;
}
