import { join } from 'node:path';
import type { BootstrapEvent, TimedEvent } from '../../../src/run/events.js';
import type { FailureRecord } from '../../../src/failures/record.js';
import { loadTaxonomy } from '../../../src/failures/taxonomy.js';
import type { Plan, PlanStep } from '../../../src/plan/plan-types.js';
import type { RunRecord } from '../../../src/report/run-record.js';

/** One apply on two nodes, as its run directory holds it: ctl1 fails db-sync (DB-ACCESS-DENIED), cmp1 converges. */
export const REPO = join(import.meta.dirname, '../../..');
export const taxonomy = loadTaxonomy(join(REPO, 'share/taxonomy.yaml'));
export const RUN = '20261122T080000Z-abc123';

export const failure: FailureRecord = {
  runId: RUN,
  time: '2026-11-22T08:00:09.000Z',
  node: 'ctl1',
  barclamp: 'keystone',
  role: 'server',
  step: 'keystone/server:command:db-sync',
  attempt: 1,
  gene: 'DB-ACCESS-DENIED',
  title: "Database refused a service's user or password",
  layer: 'database',
  classification: 'auth_failure',
  component: 'mariadb',
  severity: 'high',
  release: 'zed',
  toolVersion: '0.1.0',
  symptom: 'MariaDB error 1045',
  cause: 'passwords differ',
  mitigation: 'Re-run apply, "then" check, carefully',
  retryable: false,
  recreate: 'ALTER USER …',
  evidence: {
    source: 'remote-exec',
    message: 'run db-sync: exit code 1',
    exitCode: 1,
    stderrTail: '(1045, "Access denied for user \'keystone\'")\n<script>alert(1)</script>\u001b[31m',
  },
};

export function timed(seconds: number, event: BootstrapEvent): TimedEvent {
  return {
    time: new Date(Date.parse('2026-11-22T08:00:00.000Z') + seconds * 1000).toISOString(),
    ...event,
  } as TimedEvent;
}
export const step = (node: string, id: string, summary: string, action: PlanStep['action']): PlanStep => ({
  id,
  node,
  batch: 0,
  barclamp: id.split('/')[0]!,
  role: id.split('/')[1]!.split(':')[0]!,
  kind: 'command',
  action,
  summary,
  changes: [],
  digest: '',
});

export const plan = {
  format: 'bootstrap-plan/1',
  deployment: 'lab',
  inputDigest: '',
  batches: [],
  unreachable: [],
  summary: { create: 0, update: 0, run: 3, noop: 1 },
  nodes: [
    {
      name: 'ctl1',
      steps: [
        step('ctl1', 'base/node:file:/etc/hosts', 'write /etc/hosts', 'noop'),
        step('ctl1', 'keystone/server:command:db-sync', 'run db-sync', 'run'),
        step('ctl1', 'keystone/server:command:bootstrap', 'run bootstrap', 'run'),
      ],
      checks: [],
    },
    {
      name: 'cmp1',
      steps: [step('cmp1', 'ntp/client:service:chrony', 'service chrony', 'run')],
      checks: [
        {
          type: 'port',
          id: 'ntp/client:check:chrony',
          name: 'chrony',
          host: '127.0.0.1',
          port: 323,
          timeoutSeconds: 5,
        },
      ],
    },
  ],
} as unknown as Plan;

export const events: TimedEvent[] = [
  timed(0, {
    type: 'run.start',
    schema: 'bootstrap-events/1',
    runId: RUN,
    command: 'apply',
    deployment: 'lab',
    nodes: ['ctl1', 'cmp1'],
    runDir: '/x',
  }),
  timed(1, { type: 'provision.phase', node: 'ctl1', phase: 'power', message: 'on' }),
  timed(4, { type: 'provision.ok', node: 'ctl1', action: 'installed', ms: 3000 }),
  timed(4, { type: 'provision.ok', node: 'cmp1', action: 'adopted', ms: 10 }),
  timed(5, { type: 'gather.start', node: 'ctl1' }),
  timed(5, { type: 'gather.start', node: 'cmp1' }),
  timed(6, { type: 'gather.ok', node: 'ctl1', ms: 900 }),
  timed(6, { type: 'gather.ok', node: 'cmp1', ms: 900 }),
  timed(6, { type: 'step.start', node: 'cmp1', step: 'ntp/client:service:chrony', summary: 'service chrony' }),
  timed(7, {
    type: 'step.ok',
    node: 'cmp1',
    step: 'ntp/client:service:chrony',
    summary: 'service chrony',
    action: 'run',
    ms: 1000,
    attempt: 1,
  }),
  timed(7, { type: 'check.ok', node: 'cmp1', check: 'ntp/client:check:chrony', ms: 5 }),
  timed(7, { type: 'step.start', node: 'ctl1', step: 'keystone/server:command:db-sync', summary: 'run db-sync' }),
  timed(9, { type: 'failure.recorded', record: failure }),
  timed(9, {
    type: 'step.fail',
    node: 'ctl1',
    step: 'keystone/server:command:db-sync',
    summary: 'run db-sync',
    gene: 'DB-ACCESS-DENIED',
    message: 'run db-sync: exit code 1',
    ms: 2000,
  }),
];
export const finished = [
  ...events,
  timed(9, { type: 'node.done', node: 'ctl1', status: 'failed', changed: 0 }),
  timed(9, { type: 'node.done', node: 'cmp1', status: 'ok', changed: 1 }),
  timed(10, {
    type: 'run.done',
    runId: RUN,
    status: 'failed',
    nodesOk: 1,
    nodesFailed: 1,
    changed: 1,
    failures: 1,
    ms: 10_000,
  }),
];
export const run: RunRecord = { id: RUN, events: finished, failures: [failure], plan };
