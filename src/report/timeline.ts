import type { TimedEvent } from '../run/events.js';

export type PhaseStatus = 'ok' | 'failed' | 'unfinished';

/** One stretch of a node's run: provisioning, gathering facts, or one barclamp role. */
export interface Phase {
  name: string;
  startMs: number;
  endMs: number;
  status: PhaseStatus;
  steps: number;
  retries: number;
}

export interface FailureMark {
  atMs: number;
  gene: string;
  phase: string;
  step?: string;
  message: string;
}

export interface NodeTimeline {
  node: string;
  phases: Phase[];
  failures: FailureMark[];
  status: 'ok' | 'failed' | 'skipped' | 'unfinished';
}

export interface RunTimeline {
  runId: string;
  command: string;
  startedAt: string;
  durationMs: number;
  status: 'ok' | 'failed' | 'interrupted' | 'unfinished';
  changed: number;
  nodes: NodeTimeline[];
}

/**
 * Per-node phases from a run's events: pure, so the report of a killed run shows where each node was
 * (its last phase stays "unfinished").
 */
export function buildTimeline(runId: string, events: readonly TimedEvent[]): RunTimeline {
  const t0 = events.length > 0 ? Date.parse(events[0]!.time) : 0;
  const at = (e: TimedEvent) => Date.parse(e.time) - t0;
  const nodes = new Map<string, NodeTimeline>();
  const row = (node: string) => {
    let timeline = nodes.get(node);
    if (!timeline) nodes.set(node, (timeline = { node, phases: [], failures: [], status: 'unfinished' }));
    return timeline;
  };
  const touch = (
    node: string,
    name: string,
    e: TimedEvent,
    effect: { failed?: boolean; step?: boolean; retry?: boolean } = {},
  ) => {
    const phases = row(node).phases;
    let phase = phases.at(-1);
    if (!phase || phase.name !== name)
      phases.push((phase = { name, startMs: at(e), endMs: at(e), status: 'unfinished', steps: 0, retries: 0 }));
    phase.endMs = at(e);
    if (effect.step) phase.steps++;
    if (effect.retry) phase.retries++;
    if (effect.failed) phase.status = 'failed';
  };
  let start: Extract<TimedEvent, { type: 'run.start' }> | undefined;
  let done: Extract<TimedEvent, { type: 'run.done' }> | undefined;
  for (const e of events) {
    switch (e.type) {
      case 'run.start':
        start = e;
        for (const node of e.nodes) row(node);
        break;
      case 'provision.phase':
      case 'provision.ok':
        touch(e.node, 'provision', e);
        break;
      case 'provision.fail':
        touch(e.node, 'provision', e, { failed: true });
        break;
      case 'gather.start':
      case 'gather.ok':
        touch(e.node, 'gather', e);
        break;
      case 'gather.fail':
        touch(e.node, 'gather', e, { failed: true });
        break;
      case 'step.start':
        touch(e.node, roleOf(e.step), e);
        break;
      case 'step.ok':
        touch(e.node, roleOf(e.step), e, { step: true });
        break;
      case 'step.retry':
        touch(e.node, roleOf(e.step), e, { retry: true });
        break;
      case 'step.fail':
        touch(e.node, roleOf(e.step), e, { step: true, failed: true });
        break;
      case 'check.ok':
        touch(e.node, roleOf(e.check), e);
        break;
      case 'check.fail':
        touch(e.node, roleOf(e.check), e, { failed: true });
        break;
      case 'failure.recorded': {
        const r = e.record;
        const phase = r.barclamp ? `${r.barclamp}/${r.role ?? ''}` : (row(r.node).phases.at(-1)?.name ?? 'run');
        row(r.node).failures.push({
          atMs: at(e),
          gene: r.gene,
          phase,
          ...(r.step ? { step: r.step } : {}),
          message: r.evidence.message,
        });
        break;
      }
      case 'node.done':
        row(e.node).status = e.status;
        break;
      case 'run.done':
        done = e;
        break;
      default:
        break;
    }
  }
  for (const timeline of nodes.values()) {
    timeline.phases.forEach((phase, i) => {
      // a phase that a later phase followed, or that the finished run closed, ended well unless it failed
      if (phase.status === 'unfinished' && (i < timeline.phases.length - 1 || done)) phase.status = 'ok';
    });
  }
  const last = events.at(-1);
  return {
    runId,
    command: start?.command ?? '?',
    startedAt: events[0]?.time ?? '',
    durationMs: done ? done.ms : last ? at(last) : 0,
    status: done ? done.status : 'unfinished',
    changed: done?.changed ?? 0,
    nodes: [...nodes.values()],
  };
}

/** Step and check ids start with "barclamp/role:". */
function roleOf(id: string): string {
  return id.split(':')[0]!;
}
