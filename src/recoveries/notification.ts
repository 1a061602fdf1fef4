/** One masakari notification as the masakari barclamp's bootstrap-masakari-notifications prints it. */
export interface MasakariNotification {
  id: string;
  type: string;
  host: string | null;
  status: string;
  payload: Record<string, unknown>;
  generated: string | null;
  created: string | null;
  updated: string | null;
  workflow: { task: string; state: string; messages: { time: string; message: string }[] }[];
  server_actions?: { action: string; start: string; request: string }[];
}

/**
 * What a notification means for the deployment: a failure masakari recovered, one it could not recover, one it
 * chose not to act on, one still being recovered, or no failure at all.
 */
export type RecoveryVerdict = 'recovered' | 'failed' | 'ignored' | 'in-progress' | 'not-a-failure';

/**
 * The libvirt events of a guest that crashed. The instance monitor reports every stop — a server deleted
 * (STOPPED_DESTROYED) or shut down (STOPPED_SHUTDOWN) too — and masakari ignores those: they are no failure.
 */
const CRASH_EVENTS = new Set(['STOPPED_FAILED', 'IO_ERROR_REPORT']);

export function verdictOf(n: MasakariNotification): RecoveryVerdict {
  // a host that came back reports itself too
  if (n.type === 'COMPUTE_HOST' && n.payload.event !== 'STOPPED') return 'not-a-failure';
  if (n.type === 'VM' && !CRASH_EVENTS.has(String(n.payload.vir_domain_event))) return 'not-a-failure';
  if (n.status === 'finished') return 'recovered';
  if (n.status === 'error' || n.status === 'failed') return 'failed';
  // a lost host ignored is a host nobody recovered (its power-off could not be confirmed: host_status UNKNOWN);
  // a crashed instance or a process ignored is masakari's choice (an instance without HA_Enabled)
  if (n.status === 'ignored') return n.type === 'COMPUTE_HOST' ? 'failed' : 'ignored';
  return 'in-progress';
}

/** A recovery's phases: each workflow task from its first to its last message, and detection to the end. */
export interface RecoveryTimings {
  /** From the monitor's detection (generated) to masakari's last update (finished, failed). */
  totalSeconds?: number;
  /** From the monitor's detection to the API accepting it. */
  notifiedSeconds?: number;
  phases: { task: string; state: string; seconds: number }[];
}

export function timingsOf(n: MasakariNotification): RecoveryTimings {
  const phases = n.workflow.flatMap((t) => {
    const times = t.messages.map((m) => parseUtc(m.time)).filter((x): x is number => x !== undefined);
    return times.length === 0
      ? []
      : [{ task: t.task, state: t.state, seconds: round((Math.max(...times) - Math.min(...times)) / 1000) }];
  });
  const generated = parseUtc(n.generated);
  const created = parseUtc(n.created);
  const updated = parseUtc(n.updated);
  return {
    ...(generated !== undefined && updated !== undefined ? { totalSeconds: round((updated - generated) / 1000) } : {}),
    ...(generated !== undefined && created !== undefined
      ? { notifiedSeconds: round((created - generated) / 1000) }
      : {}),
    phases,
  };
}

/** What happened, in one line: the notification's kind of failure and where. */
export function describeNotification(n: MasakariNotification): string {
  const host = n.host ?? 'an unknown host';
  if (n.type === 'COMPUTE_HOST' && n.payload.event === 'STARTED')
    return `host ${host} back (${String(n.payload.cluster_status ?? '?')})`;
  if (n.type === 'COMPUTE_HOST')
    return `host ${host} lost (${String(n.payload.cluster_status ?? '?')}, power ${n.payload.host_status === 'NORMAL' ? 'confirmed off' : String(n.payload.host_status ?? '?')})`;
  if (n.type === 'VM')
    return `instance ${String(n.payload.instance_uuid ?? '?')} on ${host}: ${String(n.payload.event ?? '?')}/${String(n.payload.vir_domain_event ?? '?')}`;
  if (n.type === 'PROCESS')
    return `process ${String(n.payload.process_name ?? '?')} on ${host} ${String(n.payload.event ?? '?').toLowerCase()}`;
  return `${n.type} on ${host}`;
}

/** Masakari prints UTC times without a zone ("2026-11-29 21:26:00.033287" or with a T). */
function parseUtc(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(`${text.replace(' ', 'T').replace(/Z$/, '')}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

/** Refuses output that is not a list of notifications: the script's output is input like any other. */
export function parseNotifications(text: string): MasakariNotification[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('not a JSON list');
  for (const item of parsed) {
    const n = item as Partial<MasakariNotification>;
    if (
      typeof n !== 'object' ||
      n === null ||
      typeof n.id !== 'string' ||
      typeof n.type !== 'string' ||
      typeof n.status !== 'string' ||
      !Array.isArray(n.workflow) ||
      typeof n.payload !== 'object'
    ) {
      throw new Error(`an entry is not a notification: ${JSON.stringify(item).slice(0, 200)}`);
    }
  }
  return parsed as MasakariNotification[];
}

/** The failures the last `bootstrap recoveries` saw, kept in the state directory for the dashboard (newest first). */
export interface RecoveriesSnapshot {
  at: string;
  notifications: {
    id: string;
    kind: string;
    host: string;
    what: string;
    status: string;
    verdict: RecoveryVerdict;
    gene?: string;
    totalSeconds?: number;
    phases: { task: string; seconds: number }[];
    created: string | null;
  }[];
}

/** Notifications a snapshot keeps: the newest ones are what an operator watches. */
export const SNAPSHOT_NOTIFICATIONS = 50;
