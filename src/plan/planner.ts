import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import type { DesiredResource, DesiredState } from './desired-types.js';
import type { NodeFacts } from './facts.js';
import type { Plan, PlanStep, PlanSummary } from './plan-types.js';

export const SENSITIVE = '(sensitive)';

/**
 * The pure heart of the tool: desired state + gathered facts → plan. No clock, no randomness, no I/O;
 * the same inputs always give the same plan, so it can be reviewed, stored and snapshot-tested.
 */
export function computePlan(
  desired: DesiredState,
  facts: ReadonlyMap<string, NodeFacts>,
  inputDigest: string,
  unreachable: Plan['unreachable'] = [],
): Plan {
  const batchByIndex = new Map(desired.batches.map((b) => [b.index, b]));
  const contentSha = memoizedSha();
  const nodes = desired.nodes
    .filter((n) => facts.has(n.node))
    .map((nodeDesired) => {
      const nodeFacts = facts.get(nodeDesired.node)!;
      const steps: PlanStep[] = [];
      for (const nodeBatch of nodeDesired.batches) {
        const batch = batchByIndex.get(nodeBatch.batch)!;
        const batchSteps = withWatchedFiles(
          nodeBatch.resources,
          nodeBatch.resources.map((r) =>
            planResource(r, nodeFacts, contentSha, {
              node: nodeDesired.node,
              batch: batch.index,
              barclamp: batch.barclamp,
              role: batch.role,
            }),
          ),
        );
        steps.push(...withHandlers(batchSteps, handlerSteps(nodeBatch.resources, batchSteps, nodeFacts)));
      }
      // the plan is written to the run directory and shown: a check script that carries a secret is listed by name only
      const checks = nodeDesired.batches
        .flatMap((b) => b.checks)
        .map((c) => (c.type === 'command' && c.sensitive ? { ...c, run: SENSITIVE } : c));
      return { name: nodeDesired.node, steps, checks };
    });
  const summary: PlanSummary = { create: 0, update: 0, run: 0, noop: 0 };
  for (const node of nodes) for (const step of node.steps) summary[step.action]++;
  return {
    format: 'bootstrap-plan/1',
    deployment: desired.deployment,
    inputDigest,
    batches: desired.batches,
    nodes,
    unreachable,
    summary,
  };
}

type StepBase = Pick<PlanStep, 'node' | 'batch' | 'barclamp' | 'role'>;

function planResource(
  resource: DesiredResource,
  facts: NodeFacts,
  contentSha: (text: string) => string,
  base: StepBase,
): PlanStep {
  // a file's digest covers its content through the content's hash: the same /etc/hosts on every node is hashed once
  const common = {
    ...base,
    id: resource.id,
    digest: digestOf(resource.type === 'file' ? { ...resource, content: contentSha(resource.content) } : resource),
  };
  switch (resource.type) {
    case 'package': {
      const missing = resource.names.filter((name) => !facts.packages[name]?.installed);
      return {
        ...common,
        kind: 'package',
        action: missing.length > 0 ? 'create' : 'noop',
        summary: `install ${resource.names.join(' ')}`,
        changes: missing,
      };
    }
    case 'directory': {
      const fact = facts.paths[resource.path];
      const after = { sha256: null, mode: resource.mode, owner: resource.owner, group: resource.group };
      if (!fact?.exists)
        return {
          ...common,
          kind: 'directory',
          action: 'create',
          summary: `directory ${resource.path}`,
          changes: ['create'],
          before: null,
          after,
        };
      const changes = attributeChanges(fact, resource);
      if (fact.kind !== 'directory') changes.unshift(`replace ${fact.kind} with directory`);
      return {
        ...common,
        kind: 'directory',
        action: changes.length > 0 ? 'update' : 'noop',
        summary: `directory ${resource.path}`,
        changes,
        before: { sha256: null, mode: fact.mode, owner: fact.owner, group: fact.group },
        after,
      };
    }
    case 'file': {
      const fact = facts.paths[resource.path];
      const sha256 = contentSha(resource.content);
      const after = { sha256, mode: resource.mode, owner: resource.owner, group: resource.group };
      const diffOf = (before: string) =>
        resource.sensitive
          ? SENSITIVE
          : createTwoFilesPatch(resource.path, resource.path, before, resource.content, '', '', { context: 3 });
      if (!fact?.exists)
        return {
          ...common,
          kind: 'file',
          action: 'create',
          summary: `write ${resource.path}`,
          changes: ['create'],
          diff: diffOf(''),
          before: null,
          after,
        };
      const changes = attributeChanges(fact, resource);
      const contentChanged = fact.sha256 !== sha256;
      if (contentChanged) changes.unshift('content');
      if (fact.kind !== 'file') changes.unshift(`replace ${fact.kind} with file`);
      const step: PlanStep = {
        ...common,
        kind: 'file',
        action: changes.length > 0 ? 'update' : 'noop',
        summary: `write ${resource.path}`,
        changes,
        before: { sha256: fact.sha256 ?? null, mode: fact.mode, owner: fact.owner, group: fact.group },
        after,
      };
      if (contentChanged)
        step.diff =
          fact.content !== undefined || resource.sensitive
            ? diffOf(fact.content ?? '')
            : '(previous content too large to show)';
      return step;
    }
    case 'service': {
      const fact = facts.services[resource.name] ?? { enabled: false, active: false };
      const changes = [
        ...(resource.enabled && !fact.enabled ? ['enable'] : []),
        ...(resource.started && !fact.active ? ['start'] : []),
      ];
      return {
        ...common,
        kind: 'service',
        action: changes.length > 0 ? 'update' : 'noop',
        summary: `service ${resource.name}`,
        changes,
      };
    }
    case 'command': {
      const done = facts.guards[resource.id] === true;
      return {
        ...common,
        kind: 'command',
        action: done ? 'noop' : 'run',
        summary: `run ${resource.name}`,
        changes: done
          ? []
          : [
              resource.creates !== undefined
                ? `${resource.creates} is missing`
                : resource.unless !== undefined
                  ? guardSaid(resource, facts.guardReasons?.[resource.id])
                  : 'unguarded: always runs',
            ],
      };
    }
  }
}

/** Why a command runs: what its failing guard printed last, unless the command is sensitive (it may echo a secret). */
function guardSaid(resource: { sensitive: boolean }, said: string | undefined): string {
  return said && !resource.sensitive ? `guard (unless) says: ${said}` : 'guard (unless) failed';
}

/** A command runs when a file it watches changes in the same batch, whatever its guard said before the change. */
function withWatchedFiles(resources: DesiredResource[], steps: PlanStep[]): PlanStep[] {
  const changedFiles = new Set(
    resources.flatMap((r, i) => (r.type === 'file' && steps[i]!.action !== 'noop' ? [r.path] : [])),
  );
  return steps.map((step, i) => {
    const r = resources[i]!;
    if (r.type !== 'command' || step.action !== 'noop') return step;
    const changed = (r.watch ?? []).filter((path) => changedFiles.has(path));
    return changed.length > 0 ? { ...step, action: 'run', changes: changed.map((path) => `${path} changed`) } : step;
  });
}

/** Trigger of a restart owed by an earlier run: the executor runs it although nothing ran in this one. */
export const PENDING_RESTART_TRIGGER = '(pending)';
const PENDING = PENDING_RESTART_TRIGGER;

/**
 * Each restart goes right after the later of its service resource and its last trigger, so what follows the
 * service in the role (an API call, a database step) meets the new configuration, not the old process.
 */
function withHandlers(steps: PlanStep[], handlers: PlanStep[]): PlanStep[] {
  const out = [...steps];
  for (const handler of handlers) {
    const anchors = [handler.id.slice(0, -':restart'.length), ...handler.triggers!].map((id) =>
      out.findIndex((s) => s.id === id),
    );
    out.splice(Math.max(...anchors) + 1, 0, handler);
  }
  return out;
}

/** A notified service restarts once in its role's batch — unless this run starts it anyway. */
function handlerSteps(resources: DesiredResource[], steps: PlanStep[], facts: NodeFacts): PlanStep[] {
  const triggers = new Map<string, string[]>();
  resources.forEach((r, i) => {
    if ((r.type !== 'file' && r.type !== 'command') || steps[i]!.action === 'noop') return;
    for (const service of r.notify) triggers.set(service, [...(triggers.get(service) ?? []), r.id]);
  });
  for (const r of resources) {
    if (r.type === 'service' && facts.pendingRestarts?.includes(r.name) && !triggers.has(r.name))
      triggers.set(r.name, [PENDING]);
  }
  const out: PlanStep[] = [];
  for (const [service, ids] of [...triggers].sort(([a], [b]) => a.localeCompare(b))) {
    const serviceStep = steps.find((s) => s.kind === 'service' && s.summary === `service ${service}`)!;
    const wanted = resources.find((r) => r.type === 'service' && r.name === service) as Extract<
      DesiredResource,
      { type: 'service' }
    >;
    // Starting picks up the new configuration anyway (package steps keep Debian's postinst from starting
    // services with their packaged defaults, see step-scripts); stopped services stay stopped.
    const startsThisRun = serviceStep.changes.includes('start') && !ids.includes(PENDING);
    const staysStopped = !wanted.started && !facts.services[service]?.active;
    if (startsThisRun || staysStopped) continue;
    out.push({
      ...pick(serviceStep),
      id: `${serviceStep.id}:restart`,
      kind: 'handler',
      action: 'run',
      summary: `restart ${service}`,
      changes: ids.map((id) =>
        id === PENDING
          ? 'owed by an earlier run that ended before restarting it'
          : `notified by ${id.split(':').slice(1).join(':')}`,
      ),
      digest: digestOf({ restart: service, triggers: ids }),
      service,
      triggers: ids,
    });
  }
  return out;
}

function pick(step: PlanStep): StepBase {
  return { node: step.node, batch: step.batch, barclamp: step.barclamp, role: step.role };
}

function attributeChanges(
  fact: { mode: string; owner: string; group: string },
  want: { mode: string; owner: string; group: string },
): string[] {
  const changes: string[] = [];
  if (fact.mode !== want.mode) changes.push(`mode ${fact.mode} → ${want.mode}`);
  if (fact.owner !== want.owner) changes.push(`owner ${fact.owner} → ${want.owner}`);
  if (fact.group !== want.group) changes.push(`group ${fact.group} → ${want.group}`);
  return changes;
}

export function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * sha256 of texts that recur: rendering shares one string among the nodes a template renders the same
 * for, and a Map keyed by that string finds it again without reading it (V8 keeps a string's hash).
 */
export function memoizedSha(): (text: string) => string {
  const known = new Map<string, string>();
  return (text) => {
    let digest = known.get(text);
    if (digest === undefined) known.set(text, (digest = sha(text)));
    return digest;
  };
}

export function digestOf(value: unknown): string {
  return sha(JSON.stringify(value));
}

/**
 * The digest of a whole desired state, hashed node by node (one JSON string of a large rack's desired
 * state would pass V8's maximum string length: 10,000 nodes did), file contents by their own hash.
 */
export function desiredDigest(desired: DesiredState): string {
  const contentSha = memoizedSha();
  const hash = createHash('sha256').update(
    JSON.stringify({ deployment: desired.deployment, batches: desired.batches }),
  );
  for (const node of desired.nodes)
    hash
      .update('\n')
      .update(
        JSON.stringify(node, (key, value: unknown) =>
          key === 'content' && typeof value === 'string' ? contentSha(value) : value,
        ),
      );
  return hash.digest('hex');
}
