import { closeRun, openRun, type RunSession } from './run-session.js';
import { readFileSync } from 'node:fs';
import { UserError } from '../core/user-error.js';
import { fanOut, type EventSink } from '../run/events.js';
import { acquireLock } from '../apply/lock.js';
import { executePlan, type ExecutionResult } from '../apply/executor.js';
import { runHealthChecks } from '../apply/health.js';
import { recordBillOfMaterials } from '../bom/record-bom.js';
import { writeJson, type RunDir } from '../run/run-dir.js';
import type { Observation } from '../failures/classify.js';
import { FailureRecorder } from '../failures/record.js';
import { seconds } from '../report/duration.js';
import { gatherFacts } from '../gather/gather.js';
import { computePlan } from '../plan/planner.js';
import type { Plan } from '../plan/plan-types.js';
import { savedPlanProblems } from '../plan/saved-plan.js';
import type { DesiredState } from '../plan/desired-types.js';
import type { Secrets } from '../secrets/secret-store.js';
import type { Transport } from '../transport/transport.js';
import {
  desiredState,
  maintenanceNodes,
  preflight,
  prepareSecrets,
  selectNodes,
  sshTransports,
  type Deployment,
} from './deployment.js';
import type { Environment } from './environment.js';
import { NodeProgress } from './node-progress.js';
import { markDeployment, provisionPhase } from './provision-phase.js';

export interface RunOptions {
  limit?: string[];
  parallel: number;
  sink: EventSink;
  /** First interrupt: stop scheduling. */
  stop: AbortSignal;
  /** Second interrupt or deadline: kill running steps. */
  kill: AbortSignal;
  /** Tests and the lab may supply transports; by default SSH per inventory. */
  transports?: (nodes: string[]) => Map<string, Transport>;
  /** Optional check suites this run includes (only verify asks for any). */
  checkSuites?: readonly string[];
}

export interface ApplyOptions extends RunOptions {
  /** Execute this saved plan instead of planning. */
  planFile?: string;
  /** The whole apply's deadline: when it passes running steps are killed and each unfinished node is recorded. */
  deadlineMs?: number;
  /** Stop scheduling once more nodes than this have failed: a count, or a percentage of the selected nodes. */
  maxFailures?: { nodes: number } | { percent: number };
}

/** A run that has its directory, event sink, failure recorder and rendered desired state. */
export interface Started extends RunSession {
  secrets: Secrets;
  desired: DesiredState;
  inputDigest: string;
  nodes: string[];
  transports: Map<string, Transport>;
}

export function startRun(env: Environment, deployment: Deployment, command: string, options: RunOptions): Started {
  const nodes = selectNodes(deployment, options.limit);
  const { secrets, generated } = prepareSecrets(env, deployment);
  const { desired, inputDigest } = desiredState(env, deployment, secrets, options.checkSuites);
  const secretValues = Object.values(secrets);
  const session = openRun(env, deployment, {
    command,
    nodes,
    secrets: () => secretValues,
    sink: options.sink,
    maintenance: [...maintenanceNodes(deployment)],
  });
  if (generated.length > 0) session.sink({ type: 'secrets.generated', names: generated });
  return { ...session, secrets, desired, inputDigest, nodes, transports: new Map() };
}

/** Connections are opened after provisioning, which may have pinned new host keys. */
export function connectNodes(deployment: Deployment, s: Started, options: RunOptions): void {
  s.transports = options.transports ? options.transports(s.nodes) : sshTransports(deployment, s.nodes);
}

async function gatherAndPlan(env: Environment, s: Started, options: RunOptions): Promise<Plan> {
  const gathered = await gatherFacts(s.desired, s.nodes, s.transports, {
    sink: s.sink,
    recorder: s.recorder,
    parallel: options.parallel,
    signal: options.kill,
    nowMs: env.nowMs,
  });
  return computePlan(s.desired, gathered.facts, s.inputDigest, gathered.unreachable);
}

async function planWith(env: Environment, s: Started, options: RunOptions): Promise<Plan> {
  return planReady(s, await gatherAndPlan(env, s, options));
}

/** The plan this run executes, kept in the run's directory and announced. */
function planReady(s: Started, plan: Plan): Plan {
  writeJson(s.run.plan, plan);
  s.sink({
    type: 'plan.ready',
    summary: plan.summary,
    changedNodes: plan.nodes.filter((n) => n.steps.some((st) => st.action !== 'noop')).map((n) => n.name),
  });
  return plan;
}

/** `bootstrap plan`: gather (read-only) and compute the plan. Nothing on any node changes. */
export async function runPlan(
  env: Environment,
  deployment: Deployment,
  options: RunOptions,
): Promise<{ plan: Plan; run: RunDir; failures: number }> {
  preflight(env, deployment, options.limit);
  const s = startRun(env, deployment, 'plan', options);
  connectNodes(deployment, s, options);
  try {
    const plan = await planWith(env, s, options);
    closeRun(env, s, {
      status: plan.unreachable.length > 0 ? 'failed' : 'ok',
      nodesOk: plan.nodes.length,
      nodesFailed: plan.unreachable.length,
      changed: 0,
    });
    return { plan, run: s.run, failures: s.recorder.records.length };
  } finally {
    for (const t of s.transports.values()) t.close();
  }
}

export interface ApplyOutcome {
  plan: Plan;
  run: RunDir;
  execution: ExecutionResult;
  failures: FailureRecorder['records'];
}

/**
 * `bootstrap apply`, phase by phase: lock → start the run (secrets, desired state, run.start) → provision the
 * nodes without an OS → connect → plan (gather + plan, or a saved plan planning agrees with) → execute exactly
 * that plan → settle (the cloud's health checks, the bill of materials) → summarise (life-cycle marks, run.done).
 */
export async function runApply(
  env: Environment,
  deployment: Deployment,
  requested: ApplyOptions,
): Promise<ApplyOutcome> {
  preflight(env, deployment, requested.limit);
  const lockRunId = `${env.pid}-${env.randomId()}`;
  const lock = acquireLock(deployment.paths.lock, lockRunId, env.now().toISOString(), {
    pid: env.pid,
    host: env.hostname,
    isAlive: env.isAlive,
  });
  const progress = new NodeProgress(env.nowMs);
  const deadline = overallDeadline(requested.deadlineMs);
  // the deadline stops scheduling and kills running steps, like a second Ctrl-C, but is reported as a failure
  const options: ApplyOptions = {
    ...requested,
    sink: fanOut(progress.sink, requested.sink),
    stop: AbortSignal.any([requested.stop, deadline.signal]),
    kill: AbortSignal.any([requested.kill, deadline.signal]),
  };
  const deadlineObservation = (node: string): Observation => ({
    source: 'deadline',
    kind: 'run',
    message: `the overall deadline of ${seconds(requested.deadlineMs ?? 0)} passed: ${progress.describe(node)}`,
  });
  let s: Started | undefined;
  try {
    s = startRun(env, deployment, 'apply', options);
    if (lock.tookOverFrom)
      s.sink({
        type: 'lock.taken-over',
        pid: lock.tookOverFrom.pid,
        host: lock.tookOverFrom.host,
        since: lock.tookOverFrom.since,
      });
    // Nodes without an operating system are installed first (PXE through their BMCs); failures end their run here.
    const notProvisioned = await provisionPhase(env, deployment, s.nodes, {
      sink: s.sink,
      recorder: s.recorder,
      parallel: options.parallel,
      signal: options.stop,
    });
    const selected = s.nodes;
    s.nodes = s.nodes.filter((n) => !notProvisioned.includes(n));
    connectNodes(deployment, s, options);
    const plan = await planPhase(env, s, options);
    const limited: Plan = { ...plan, nodes: plan.nodes.filter((n) => s!.nodes.includes(n.name)) };
    const deployable = s.nodes.filter((n) => !plan.unreachable.some((u) => u.node === n));
    markDeployment(deployment, env, deployable, 'deploying', `apply run ${s.run.id}`);
    const execution = await executePlan({
      plan: limited,
      desired: s.desired,
      transports: s.transports,
      sink: s.sink,
      recorder: s.recorder,
      parallel: options.parallel,
      stop: options.stop,
      kill: options.kill,
      failedNodes: new Set([...plan.unreachable.map((u) => u.node), ...notProvisioned]),
      ...(options.maxFailures ? { maxFailedNodes: allowedFailures(options.maxFailures, selected.length) } : {}),
      killedWork: (node) => (deadline.passed() ? deadlineObservation(node) : undefined),
      sleep: env.sleep,
      nowMs: env.nowMs,
    });
    for (const u of plan.unreachable)
      if (s.nodes.includes(u.node)) execution.nodes.set(u.node, { status: 'failed', changed: 0 });
    await settlePhase(env, deployment, s, options, execution, deployable, deadline.passed());
    for (const n of notProvisioned) if (selected.includes(n)) execution.nodes.set(n, { status: 'failed', changed: 0 });
    if (deadline.passed()) {
      // every node the deadline left unfinished says where it was, unless it already has its own record
      for (const node of selected) {
        if (execution.nodes.get(node)?.status === 'ok' || s.recorder.records.some((r) => r.node === node)) continue;
        const record = s.recorder.record({ node }, deadlineObservation(node));
        s.sink({ type: 'failure.recorded', record });
        execution.nodes.set(node, { status: 'failed', changed: execution.nodes.get(node)?.changed ?? 0 });
      }
    }
    const byStatus = (status: string) => deployable.filter((n) => execution.nodes.get(n)?.status === status);
    markDeployment(deployment, env, byStatus('ok'), 'deployed', `apply run ${s.run.id}`);
    markDeployment(deployment, env, byStatus('failed'), 'deploy-failed', `apply run ${s.run.id}`);
    const outcomes = [...execution.nodes.values()];
    const failed = outcomes.filter((o) => o.status === 'failed').length;
    const interrupted = execution.interrupted && !deadline.passed();
    execution.interrupted = interrupted;
    const status = interrupted ? 'interrupted' : failed > 0 || s.recorder.records.length > 0 ? 'failed' : 'ok';
    const stoppedEarly = deadline.passed()
      ? `the overall deadline of ${seconds(requested.deadlineMs ?? 0)} passed`
      : execution.stoppedEarly;
    closeRun(
      env,
      s,
      {
        status,
        ...(stoppedEarly !== undefined ? { stoppedEarly } : {}),
        nodesOk: outcomes.filter((o) => o.status === 'ok').length,
        nodesFailed: failed,
        changed: outcomes.reduce((n, o) => n + o.changed, 0),
      },
      { nodes: Object.fromEntries(execution.nodes), failuresByGene: countBy(s.recorder.records.map((r) => r.gene)) },
    );
    return { plan, run: s.run, execution, failures: s.recorder.records };
  } finally {
    deadline.cancel();
    for (const t of s?.transports.values() ?? []) t.close();
    lock.release();
  }
}

/** The plan this apply executes: planned now, or a saved plan that planning now agrees with. */
async function planPhase(env: Environment, s: Started, options: ApplyOptions): Promise<Plan> {
  if (options.planFile === undefined) return planWith(env, s, options);
  // the saved plan is what was reviewed; what runs is rebuilt from the inputs and must agree with it
  const saved = loadSavedPlan(options.planFile, s.inputDigest);
  const fresh = await gatherAndPlan(env, s, options);
  refuseForeignSteps(options.planFile, saved, fresh, s.desired);
  return planReady(s, { ...saved, batches: fresh.batches, unreachable: fresh.unreachable });
}

/**
 * After the plan ran: converged is not healthy — the cloud's own view (services enabled and up, agents alive,
 * hosts in service), asked from the nodes that converged once nothing else is left to do, decides whether they
 * are ok; then what each node runs now, package by package (bootstrap bom shows it and compares runs).
 */
async function settlePhase(
  env: Environment,
  deployment: Deployment,
  s: Started,
  options: ApplyOptions,
  execution: ExecutionResult,
  deployable: readonly string[],
  deadlinePassed: boolean,
): Promise<void> {
  if (!execution.interrupted && execution.stoppedEarly === undefined && !deadlinePassed) {
    const converged = s.nodes.filter((n) => execution.nodes.get(n)?.status === 'ok');
    for (const node of await cloudHealthPhase(env, deployment, s, options, converged, 'poll'))
      execution.nodes.set(node, { status: 'failed', changed: execution.nodes.get(node)?.changed ?? 0 });
  }
  if (!execution.interrupted)
    await recordBillOfMaterials(s.run, deployable, s.transports, {
      parallel: options.parallel,
      signal: options.kill,
      sink: s.sink,
    });
}

/** The barclamps' health checks within a run (apply polls them, verify asks once): the nodes found unhealthy. */
export function cloudHealthPhase(
  env: Environment,
  deployment: Deployment,
  s: Started,
  options: RunOptions,
  runOn: readonly string[],
  mode: 'poll' | 'once',
): Promise<Set<string>> {
  return runHealthChecks({
    desired: s.desired,
    runOn: [...runOn],
    known: new Set(deployment.inventory.nodes.map((n) => n.name)),
    maintenance: maintenanceNodes(deployment),
    transports: s.transports,
    sink: s.sink,
    recorder: s.recorder,
    parallel: options.parallel,
    mode,
    stop: options.stop,
    kill: options.kill,
    sleep: env.sleep,
    nowMs: env.nowMs,
  });
}

function allowedFailures(limit: NonNullable<ApplyOptions['maxFailures']>, selected: number): number {
  return 'nodes' in limit ? limit.nodes : Math.floor((limit.percent / 100) * selected);
}

/** A timer that aborts its signal when the deadline passes; without a deadline, a signal that never aborts. */
function overallDeadline(ms: number | undefined): { signal: AbortSignal; passed: () => boolean; cancel: () => void } {
  const controller = new AbortController();
  const timer = ms === undefined ? undefined : setTimeout(() => controller.abort(), ms);
  return { signal: controller.signal, passed: () => controller.signal.aborted, cancel: () => clearTimeout(timer) };
}

function loadSavedPlan(file: string, inputDigest: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (error) {
    throw new UserError('invalid-input', `cannot read plan ${file}`, [
      {
        severity: 'error',
        code: 'plan.unreadable',
        location: { file, line: 1, col: 1 },
        summary: `cannot read plan: ${(error as Error).message}`,
        suggestion: 'write a plan with: bootstrap plan INVENTORY --out plan.json',
      },
    ]);
  }
  if (plan.format !== 'bootstrap-plan/1') {
    throw new UserError('invalid-input', `${file} is not a bootstrap plan`, [
      {
        severity: 'error',
        code: 'plan.format',
        location: { file, line: 1, col: 1 },
        summary: `unknown plan format '${String(plan.format)}'`,
      },
    ]);
  }
  if (plan.inputDigest !== inputDigest) {
    throw new UserError('stale-plan', 'the saved plan no longer matches the inventory, barclamps or secrets', [
      {
        severity: 'error',
        code: 'plan.stale',
        location: { file, line: 1, col: 1 },
        summary: 'the plan was made from different inputs (inventory, barclamps, templates or secrets changed since)',
        suggestion: 'run bootstrap plan again, review it, and apply the new plan',
      },
    ]);
  }
  return plan;
}

/** A saved plan whose changes are not all derived from the inputs (edited by hand, or from elsewhere) is refused. */
function refuseForeignSteps(file: string, saved: Plan, fresh: Plan, desired: DesiredState): void {
  const packages = (node: string, stepId: string) => {
    const resource = desired.nodes
      .find((n) => n.node === node)
      ?.batches.flatMap((b) => b.resources)
      .find((r) => r.id === stepId);
    return resource?.type === 'package' ? resource.names : undefined;
  };
  const problems = savedPlanProblems(saved, fresh, packages, new Set(desired.nodes.map((n) => n.node)));
  if (problems.length === 0) return;
  throw new UserError(
    'invalid-input',
    `${file} holds steps the inventory, barclamps and secrets do not give`,
    problems.slice(0, 20).map((summary) => ({
      severity: 'error' as const,
      code: 'plan.foreign-step',
      location: { file, line: 1, col: 1 },
      summary,
      suggestion:
        'a saved plan is only ever the output of bootstrap plan --out for these inputs: plan again and review it',
    })),
  );
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
