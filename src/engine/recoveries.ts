import { closeRun } from './run-session.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunDir } from '../run/run-dir.js';
import { observationOfTransportError } from '../failures/observations.js';
import { UserError } from '../core/user-error.js';
import type { FailureRecord } from '../failures/record.js';
import { barclampRolesOf } from '../plan/desired.js';
import {
  describeNotification,
  parseNotifications,
  SNAPSHOT_NOTIFICATIONS,
  timingsOf,
  verdictOf,
  type MasakariNotification,
  type RecoveriesSnapshot,
  type RecoveryVerdict,
} from '../recoveries/notification.js';
import { TransportError } from '../transport/transport.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { preflight, type Deployment } from './deployment.js';
import type { Environment } from './environment.js';
import { connectNodes, startRun, type RunOptions } from './run.js';

/** The report a barclamp role declares for this command (the reference: masakari's server role). */
const REPORT = 'recoveries';

/** Where the recoveries report comes from: the first deployed role that declares it, and the node holding it. */
interface ReportSource {
  barclamp: string;
  role: string;
  run: string;
  node: string;
}

function recoveriesReport(deployment: Deployment): ReportSource | undefined {
  const { inventory, catalog } = deployment;
  for (const barclamp of [...catalog.barclamps.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const role of Object.values(barclamp.roles)) {
      const report = role.reports[REPORT];
      if (!report) continue;
      const ref = `${barclamp.name}/${role.name}`;
      const node = inventory.nodes.find((n) => barclampRolesOf(inventory, n).has(ref));
      if (node) return { barclamp: barclamp.name, role: role.name, run: report.run, node: node.name };
    }
  }
  return undefined;
}

export interface RecoveriesOutcome {
  run: RunDir;
  seen: { notification: MasakariNotification; verdict: RecoveryVerdict; recordedNow: boolean }[];
  failures: FailureRecord[];
}

/**
 * `bootstrap recoveries`: reads masakari's notifications on the node that runs masakari and records each failure
 * masakari handled — recovered or not — as a failure record of this run, once: the notifications already
 * recorded by an earlier run are kept in the state directory (recoveries.json) and only shown again.
 */
export async function runRecoveries(
  env: Environment,
  deployment: Deployment,
  options: RunOptions,
): Promise<RecoveriesOutcome> {
  const source = recoveriesReport(deployment);
  if (!source)
    throw new UserError(
      'invalid-input',
      `no node of ${deployment.inventory.file} holds a role with a recoveries report`,
      [
        {
          severity: 'error',
          code: 'recoveries.no-masakari',
          summary:
            'no node holds a role that reports recoveries (in the reference: masakari/server): there is nothing to ask',
          suggestion: 'add masakari/server to a role of the inventory',
        },
      ],
    );
  preflight(env, deployment, [source.node]);
  const s = startRun(env, deployment, 'recoveries', { ...options, limit: [source.node] });
  connectNodes(deployment, s, options);
  const ledgerFile = join(deployment.stateDir, 'recoveries.json');
  const recorded = new Set(readLedger(ledgerFile));
  const seen: RecoveriesOutcome['seen'] = [];
  const snapshot: RecoveriesSnapshot['notifications'] = [];
  let status: 'ok' | 'failed' | 'interrupted' = 'ok';
  try {
    const notifications = await readNotifications(s, source, options);
    if (notifications === undefined) status = 'failed';
    for (const notification of notifications ?? []) {
      const verdict = verdictOf(notification);
      const recordable = verdict === 'recovered' || verdict === 'failed' || verdict === 'ignored';
      const recordedNow = recordable && !recorded.has(notification.id);
      const timings = timingsOf(notification);
      const what = describeNotification(notification);
      // one observation: what is recorded the first time, and what classifies it when it is only shown again
      const observation = {
        source: 'recovery' as const,
        kind: notification.type,
        message: `masakari notification ${notification.id}: ${what}; status ${notification.status}`,
        details: { ...notification, timings },
      };
      let gene: string | undefined;
      if (recordedNow) {
        const record = s.recorder.record(
          {
            node: notification.host ?? source.node,
            barclamp: source.barclamp,
            role: source.role,
            step: `notification ${notification.id}`,
          },
          observation,
        );
        s.sink({ type: 'failure.recorded', record });
        recorded.add(notification.id);
        gene = record.gene;
      } else if (recordable) {
        gene = s.recorder.classify(observation).code;
      }
      if (verdict === 'failed' && recordedNow) status = 'failed';
      seen.push({ notification, verdict, recordedNow });
      const shown = {
        kind: notification.type,
        host: notification.host ?? '?',
        what,
        status: notification.status,
        verdict,
        ...(gene !== undefined ? { gene } : {}),
        ...(timings.totalSeconds !== undefined ? { totalSeconds: timings.totalSeconds } : {}),
        phases: timings.phases.map((p) => ({ task: p.task, seconds: p.seconds })),
      };
      if (verdict !== 'not-a-failure') snapshot.push({ id: notification.id, ...shown, created: notification.created });
      s.sink({ type: 'recovery.seen', notification: notification.id, ...shown, recordedNow });
    }
    writeFileAtomic(ledgerFile, `${JSON.stringify({ recorded: [...recorded].sort() }, null, 2)}\n`, 0o600);
    if (notifications !== undefined) {
      const view: RecoveriesSnapshot = {
        at: env.now().toISOString(),
        notifications: snapshot.reverse().slice(0, SNAPSHOT_NOTIFICATIONS),
      };
      writeFileAtomic(recoveriesSnapshotFile(deployment.stateDir), `${JSON.stringify(view)}\n`, 0o600);
    }
    if (options.stop.aborted) status = 'interrupted';
    closeRun(env, s, {
      status,
      nodesOk: status === 'ok' ? 1 : 0,
      nodesFailed: status === 'failed' ? 1 : 0,
      changed: 0,
    });
    return { run: s.run, seen, failures: s.recorder.records };
  } finally {
    for (const t of s.transports.values()) t.close();
  }
}

/** undefined when they could not be read: that failure is recorded like any other. */
async function readNotifications(
  s: ReturnType<typeof startRun>,
  source: ReportSource,
  options: RunOptions,
): Promise<MasakariNotification[] | undefined> {
  const { node } = source;
  const where = { node, barclamp: source.barclamp, role: source.role, step: 'read notifications' };
  try {
    const result = await s.transports.get(node)!.run(source.run, { timeoutMs: 120_000, signal: options.kill });
    if (result.code !== 0) {
      s.sink({
        type: 'failure.recorded',
        record: s.recorder.record(where, {
          source: 'remote-exec',
          kind: 'command',
          message: `the ${REPORT} report of ${source.barclamp}/${source.role} failed on ${node} (exit ${result.code})`,
          exitCode: result.code,
          stderr: result.stderr,
        }),
      });
      return undefined;
    }
    try {
      return parseNotifications(result.stdout);
    } catch (error) {
      s.sink({
        type: 'failure.recorded',
        record: s.recorder.record(where, {
          source: 'remote-exec',
          kind: 'command',
          message: `the ${REPORT} report of ${source.barclamp}/${source.role} printed no notification list: ${(error as Error).message}`,
          exitCode: 0,
        }),
      });
      return undefined;
    }
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    s.sink({ type: 'failure.recorded', record: s.recorder.record(where, observationOfTransportError(error)) });
    return undefined;
  }
}

/** The dashboard reads what the last `bootstrap recoveries` saw from here. */
export function recoveriesSnapshotFile(stateDir: string): string {
  return join(stateDir, 'recoveries-view.json');
}

function readLedger(file: string): string[] {
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { recorded?: unknown };
  return Array.isArray(parsed.recorded) ? parsed.recorded.filter((x): x is string => typeof x === 'string') : [];
}
