import type { TimedEvent } from '../run/events.js';
import type { FailureRecord } from '../failures/record.js';
import type { Gene } from '../failures/taxonomy.js';
import type { MachineRecord } from '../provision/machine-store.js';
import type { RecoveriesSnapshot } from '../recoveries/notification.js';
import { groupByGene } from '../report/by-gene.js';
import type { RunRecord } from '../report/run-record.js';
import { buildTimeline, type NodeTimeline, type RunTimeline } from '../report/timeline.js';

/** What the dashboard is drawn from: files of the state directory, the inventory, and BMC power answers. */
export interface DashboardInput {
  deployment: string;
  nodes: readonly { name: string; admin: string; bmc?: string; roles: readonly string[] }[];
  machines: readonly MachineRecord[];
  /** Power as the BMCs last answered ("on", "off", "? (timeout)"); absent: not asked yet. */
  power: Readonly<Record<string, string>>;
  /** The newest runs, oldest first (the last one is "the current run"). */
  runs: readonly RunRecord[];
  genes: readonly Gene[];
  /** What the last `bootstrap recoveries` saw of masakari's notifications, if it ever ran. */
  recoveries?: RecoveriesSnapshot;
}

export interface NodeRow {
  name: string;
  /** Life-cycle state (machine state machine), or "unknown" for a node never provisioned nor applied. */
  state: string;
  power: string;
  admin: string;
  bmc: string;
  roles: string[];
  hardware: string;
  /** What the current run is doing on it ("keystone/server: run db-sync"), or how it ended there. */
  activity: string;
  /** ok | failed | running | skipped | idle — colours the row. */
  status: 'ok' | 'failed' | 'running' | 'skipped' | 'idle';
  lastFailure?: { gene: string; message: string; at: string };
  /** The newest masakari notification about this node: what failed and what became of it. */
  recovery?: { verdict: string; what: string; status: string };
}

export interface GeneCard {
  gene: string;
  title: string;
  symptoms: string;
  mitigation: string;
  recreate: string;
  count: number;
  nodes: string[];
  /** The newest record's evidence, already redacted by the recorder. */
  evidence: string;
}

export interface DashboardView {
  deployment: string;
  counts: Record<NodeRow['status'], number>;
  nodes: NodeRow[];
  current?: {
    runId: string;
    command: string;
    status: RunTimeline['status'];
    startedAt: string;
    durationMs: number;
    changed: number;
    failures: number;
    plan?: { create: number; update: number; run: number; noop: number };
  };
  /** Newest first; at most TIMELINE_LANES lanes each, failed nodes first (nodeCount says how many ran). */
  timelines: (RunTimeline & { nodeCount: number })[];
  failures: GeneCard[];
  /** Masakari's notifications as the last `bootstrap recoveries` saw them (newest first), and when. */
  recoveries?: RecoveriesSnapshot;
  /** What the current run's plan changes, node by node (no-ops left out). */
  plan: { node: string; action: string; summary: string }[];
}

/** Plan lines shown at most: a 1,000-node first apply plans tens of thousands of changes. */
const PLAN_LINES = 500;
const EVIDENCE_CHARS = 600;
/** Lanes per timeline: a picture of 1,000 lanes says nothing, and five of them weighed 1.3 MB per update. */
export const TIMELINE_LANES = 60;

/**
 * The dashboard's whole state, computed from its input alone (pure: the server and the tests share it).
 * timelineOf lets a caller reuse the timelines of runs that cannot change any more.
 */
export function dashboardView(
  input: DashboardInput,
  timelineOf: (run: RunRecord) => RunTimeline = (run) => buildTimeline(run.id, run.events),
): DashboardView {
  const timelines = input.runs.map(timelineOf);
  const current = input.runs.at(-1);
  const currentTimeline = timelines.at(-1);
  const machines = new Map(input.machines.map((m) => [m.node ?? m.id, m]));
  const activity = current
    ? activityByNode(current.events)
    : new Map<string, { text: string; status: NodeRow['status'] }>();
  const nodes = input.nodes.map((n): NodeRow => {
    const machine = machines.get(n.name);
    const lastRecord = current?.failures.filter((f) => f.node === n.name).at(-1);
    const now = activity.get(n.name);
    const lastFailure = lastRecord
      ? { gene: lastRecord.gene, message: lastRecord.evidence.message, at: lastRecord.time }
      : machine?.lastFailure;
    const recovery = input.recoveries?.notifications.find((r) => r.host === n.name && r.verdict !== 'not-a-failure');
    return {
      name: n.name,
      state: machine?.state ?? 'unknown',
      power: input.power[n.name] ?? (n.bmc ? '…' : 'no BMC'),
      admin: n.admin,
      bmc: n.bmc ?? '',
      roles: [...n.roles],
      hardware: hardwareSummary(machine),
      activity: now?.text ?? '',
      status: now?.status ?? 'idle',
      ...(lastFailure ? { lastFailure } : {}),
      ...(recovery ? { recovery: { verdict: recovery.verdict, what: recovery.what, status: recovery.status } } : {}),
    };
  });
  const counts: DashboardView['counts'] = { ok: 0, failed: 0, running: 0, skipped: 0, idle: 0 };
  for (const n of nodes) counts[n.status]++;
  const genes = new Map(input.genes.map((g) => [g.code, g]));
  const records = current?.failures ?? [];
  const failures = groupByGene(records).map((group): GeneCard => {
    const gene = genes.get(group.gene);
    const newest = [...records].reverse().find((r) => r.gene === group.gene)!;
    return {
      gene: group.gene,
      title: group.title,
      symptoms: gene?.symptoms ?? '',
      mitigation: group.mitigation,
      recreate: gene?.recreate ?? '',
      count: group.count,
      nodes: group.nodes,
      evidence: evidenceOf(newest),
    };
  });
  const plan = (current?.plan?.nodes ?? [])
    .flatMap((n) =>
      n.steps
        .filter((s) => s.action !== 'noop')
        .map((s) => ({ node: n.name, action: s.action, summary: `${s.barclamp}/${s.role}: ${s.summary}` })),
    )
    .slice(0, PLAN_LINES);
  return {
    deployment: input.deployment,
    counts,
    nodes,
    ...(current && currentTimeline
      ? {
          current: {
            runId: current.id,
            command: currentTimeline.command,
            status: currentTimeline.status,
            startedAt: currentTimeline.startedAt,
            durationMs: currentTimeline.durationMs,
            changed: currentTimeline.changed,
            failures: records.length,
            ...(current.plan ? { plan: current.plan.summary } : {}),
          },
        }
      : {}),
    timelines: [...timelines]
      .reverse()
      .map((t) => ({ ...t, nodes: lanesWorthDrawing(t.nodes), nodeCount: t.nodes.length })),
    failures,
    ...(input.recoveries ? { recoveries: input.recoveries } : {}),
    plan,
  };
}

/** The lanes a timeline shows: failed and unfinished nodes first (what people look for), then the rest in order. */
function lanesWorthDrawing(nodes: readonly NodeTimeline[]): NodeTimeline[] {
  if (nodes.length <= TIMELINE_LANES) return [...nodes];
  const troubled = nodes.filter((n) => n.status === 'failed' || n.status === 'unfinished');
  const rest = nodes.filter((n) => n.status !== 'failed' && n.status !== 'unfinished');
  return [...troubled, ...rest].slice(0, TIMELINE_LANES);
}

/** Per node: what the run is doing now, or how the node ended in it. */
function activityByNode(events: readonly TimedEvent[]): Map<string, { text: string; status: NodeRow['status'] }> {
  const out = new Map<string, { text: string; status: NodeRow['status'] }>();
  for (const e of events) {
    switch (e.type) {
      case 'run.start':
        for (const node of e.nodes) out.set(node, { text: `waiting (${e.command})`, status: 'running' });
        break;
      case 'provision.phase':
        out.set(e.node, { text: `${e.phase}: ${e.message}`, status: 'running' });
        break;
      case 'gather.start':
        out.set(e.node, { text: 'gathering facts', status: 'running' });
        break;
      case 'step.start':
        out.set(e.node, { text: `${e.step.split(':')[0]}: ${e.summary}`, status: 'running' });
        break;
      case 'step.fail':
      case 'check.fail':
        out.set(e.node, { text: `[${e.gene}] ${e.message}`, status: 'failed' });
        break;
      case 'failure.recorded':
        if (out.get(e.record.node)?.status !== 'failed')
          out.set(e.record.node, { text: `[${e.record.gene}] ${e.record.evidence.message}`, status: 'failed' });
        break;
      case 'node.done':
        out.set(
          e.node,
          e.status === 'ok'
            ? { text: `done: ${e.changed} change(s)`, status: 'ok' }
            : { text: out.get(e.node)?.status === 'failed' ? out.get(e.node)!.text : e.status, status: e.status },
        );
        break;
      case 'run.done':
        // a node the run never reached a node.done for (verify, plan) ends with the run
        for (const [node, a] of out)
          if (a.status === 'running')
            out.set(node, { text: `done (${e.status})`, status: e.status === 'ok' ? 'ok' : 'idle' });
        break;
      default:
        break;
    }
  }
  return out;
}

function hardwareSummary(machine: MachineRecord | undefined): string {
  const hw = machine?.hardware;
  if (!hw) return '';
  const parts = [
    `${hw.cpu.count} CPU`,
    `${Math.round(hw.memoryMiB / 1024)} GiB`,
    `${hw.nics.length} NIC${hw.nics.length === 1 ? '' : 's'}`,
  ];
  if (hw.dmi.serial) parts.push(`S/N ${hw.dmi.serial}`);
  return parts.join(' · ');
}

function evidenceOf(record: FailureRecord): string {
  const text = [record.evidence.message, record.evidence.stderrTail ?? ''].filter(Boolean).join('\n');
  return text.length > EVIDENCE_CHARS ? `…${text.slice(-EVIDENCE_CHARS)}` : text;
}
