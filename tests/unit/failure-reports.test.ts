import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BootstrapEvent, TimedEvent } from '../../src/core/events.js';
import type { FailureRecord } from '../../src/failures/record.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import type { Plan, PlanStep } from '../../src/plan/plan-types.js';
import { failuresCsv } from '../../src/report/csv.js';
import { runHtml } from '../../src/report/html.js';
import { runJunit } from '../../src/report/junit.js';
import { runMarkdown } from '../../src/report/markdown.js';
import type { RunRecord } from '../../src/report/run-record.js';
import { buildTimeline } from '../../src/report/timeline.js';

const REPO = join(import.meta.dirname, '../..');
const taxonomy = loadTaxonomy(join(REPO, 'src/failures/taxonomy.yaml'));
const RUN = '20261122T080000Z-abc123';

const failure: FailureRecord = {
  runId: RUN, time: '2026-11-22T08:00:09.000Z', node: 'ctl1', barclamp: 'keystone', role: 'server', step: 'keystone/server:command:db-sync', attempt: 1,
  gene: 'DB-ACCESS-DENIED', title: "Database refused a service's user or password", layer: 'database', classification: 'auth_failure', component: 'mariadb', severity: 'high',
  release: 'zed', toolVersion: '0.1.0', symptom: 'MariaDB error 1045', cause: 'passwords differ', mitigation: 'Re-run apply, "then" check, carefully', retryable: false, recreate: 'ALTER USER …',
  evidence: { source: 'remote-exec', message: 'run db-sync: exit code 1', exitCode: 1, stderrTail: "(1045, \"Access denied for user 'keystone'\")\n<script>alert(1)</script>\u001b[31m" },
};

function timed(seconds: number, event: BootstrapEvent): TimedEvent {
  return { time: new Date(Date.parse('2026-11-22T08:00:00.000Z') + seconds * 1000).toISOString(), ...event } as TimedEvent;
}
const step = (node: string, id: string, summary: string, action: PlanStep['action']): PlanStep => ({ id, node, batch: 0, barclamp: id.split('/')[0]!, role: id.split('/')[1]!.split(':')[0]!, kind: 'command', action, summary, changes: [], digest: '' });

const plan = {
  format: 'bootstrap-plan/1', deployment: 'lab', inputDigest: '', batches: [], unreachable: [], summary: { create: 0, update: 0, run: 3, noop: 1 },
  nodes: [
    { name: 'ctl1', steps: [step('ctl1', 'base/node:file:/etc/hosts', 'write /etc/hosts', 'noop'), step('ctl1', 'keystone/server:command:db-sync', 'run db-sync', 'run'), step('ctl1', 'keystone/server:command:bootstrap', 'run bootstrap', 'run')], checks: [] },
    { name: 'cmp1', steps: [step('cmp1', 'ntp/client:service:chrony', 'service chrony', 'run')], checks: [{ type: 'port', id: 'ntp/client:check:chrony', name: 'chrony', host: '127.0.0.1', port: 323, timeoutSeconds: 5 }] },
  ],
} as unknown as Plan;

const events: TimedEvent[] = [
  timed(0, { type: 'run.start', runId: RUN, command: 'apply', deployment: 'lab', nodes: ['ctl1', 'cmp1'], runDir: '/x' }),
  timed(1, { type: 'provision.phase', node: 'ctl1', phase: 'power', message: 'on' }),
  timed(4, { type: 'provision.ok', node: 'ctl1', action: 'installed', ms: 3000 }),
  timed(4, { type: 'provision.ok', node: 'cmp1', action: 'adopted', ms: 10 }),
  timed(5, { type: 'gather.start', node: 'ctl1' }),
  timed(5, { type: 'gather.start', node: 'cmp1' }),
  timed(6, { type: 'gather.ok', node: 'ctl1', ms: 900 }),
  timed(6, { type: 'gather.ok', node: 'cmp1', ms: 900 }),
  timed(6, { type: 'step.start', node: 'cmp1', step: 'ntp/client:service:chrony', summary: 'service chrony' }),
  timed(7, { type: 'step.ok', node: 'cmp1', step: 'ntp/client:service:chrony', summary: 'service chrony', action: 'run', ms: 1000, attempt: 1 }),
  timed(7, { type: 'check.ok', node: 'cmp1', check: 'ntp/client:check:chrony', ms: 5 }),
  timed(7, { type: 'step.start', node: 'ctl1', step: 'keystone/server:command:db-sync', summary: 'run db-sync' }),
  timed(9, { type: 'failure.recorded', record: failure }),
  timed(9, { type: 'step.fail', node: 'ctl1', step: 'keystone/server:command:db-sync', summary: 'run db-sync', gene: 'DB-ACCESS-DENIED', message: 'run db-sync: exit code 1', ms: 2000 }),
];
const finished = [...events, timed(9, { type: 'node.done', node: 'ctl1', status: 'failed', changed: 0 }), timed(9, { type: 'node.done', node: 'cmp1', status: 'ok', changed: 1 }), timed(10, { type: 'run.done', runId: RUN, status: 'failed', nodesOk: 1, nodesFailed: 1, changed: 1, failures: 1, ms: 10_000 })];
const run: RunRecord = { id: RUN, events: finished, failures: [failure], plan };

describe('run timeline', () => {
  it('shows each node phase by phase, where the failure happened, and how long each took', () => {
    const timeline = buildTimeline(RUN, finished);
    expect(timeline.status).toBe('failed');
    expect(timeline.durationMs).toBe(10_000);
    const ctl1 = timeline.nodes.find((n) => n.node === 'ctl1')!;
    expect(ctl1.phases.map((p) => [p.name, p.status, p.startMs, p.endMs])).toEqual([['provision', 'ok', 1000, 4000], ['gather', 'ok', 5000, 6000], ['keystone/server', 'failed', 7000, 9000]]);
    expect(ctl1.failures).toEqual([{ atMs: 9000, gene: 'DB-ACCESS-DENIED', phase: 'keystone/server', step: 'keystone/server:command:db-sync', message: 'run db-sync: exit code 1' }]);
    expect(timeline.nodes.find((n) => n.node === 'cmp1')!.phases.at(-1)).toMatchObject({ name: 'ntp/client', status: 'ok', steps: 1 });
  });

  it('of a run killed mid-apply: the run and each node’s last phase are unfinished, earlier phases done', () => {
    const timeline = buildTimeline(RUN, events.slice(0, 12));
    expect(timeline.status).toBe('unfinished');
    const ctl1 = timeline.nodes.find((n) => n.node === 'ctl1')!;
    expect(ctl1.phases.map((p) => p.status)).toEqual(['ok', 'ok', 'unfinished']);
  });
});

describe('failure exports', () => {
  it('CSV: the Fault Genes columns first, one row per record, commas/quotes/line breaks quoted (RFC 4180)', () => {
    const rows = parseCsv(failuresCsv([failure], taxonomy));
    expect(rows[0]!.slice(0, 9)).toEqual(['failure mode', 'classification', 'component', 'symptom', 'root cause', 'mitigation', 'how reported', 'how to re-create', 'openstack release']);
    expect(rows).toHaveLength(2);
    const row = Object.fromEntries(rows[0]!.map((column, i) => [column, rows[1]![i]]));
    expect(row).toMatchObject({ 'failure mode': failure.title, classification: 'auth_failure', 'root cause': 'passwords differ', mitigation: 'Re-run apply, "then" check, carefully', 'openstack release': 'zed', gene: 'DB-ACCESS-DENIED', node: 'ctl1', step: failure.step });
    expect(row['how reported']).toContain('severity high');
  });

  it('JUnit: one case per planned step and check; the failure carries its gene, evidence and mitigation; unreached steps are skipped', () => {
    const junit = runJunit(run);
    expect(junit).toMatch(/<testsuites name="bootstrap run 20261122T080000Z-abc123" tests="7" failures="1" skipped="1">/);
    expect(junit).toMatch(/<testsuite name="ctl1" tests="4" failures="1" errors="0" skipped="1"/);
    expect(junit).toContain('<testcase name="write /etc/hosts (already in place)" classname="ctl1.base/node"');
    expect(junit).toMatch(/<testcase name="run db-sync" classname="ctl1.keystone\/server" time="2.000">\n\s+<failure type="DB-ACCESS-DENIED" message="\[DB-ACCESS-DENIED\] run db-sync: exit code 1">/);
    expect(junit).toContain('mitigation: Re-run apply, &quot;then&quot; check, carefully');
    expect(junit).toMatch(/<testcase name="run bootstrap"[^>]*>\n\s+<skipped /);
    expect(junit).toContain('<testcase name="check chrony" classname="cmp1.ntp/client"');
    expect(junit).toContain('&lt;script&gt;');
    expect(junit).not.toContain('\u001b');
  });

  it('Markdown and HTML reports: per-node timeline, failures by gene with what to do, evidence escaped', () => {
    const timeline = buildTimeline(RUN, finished);
    const markdown = runMarkdown(timeline, [failure]);
    expect(markdown).toContain('### ctl1 — failed');
    expect(markdown).toMatch(/\| keystone\/server \| \+7\.0 s \| 2\.0 s \| 1 \| \*\*failed\*\* \| `[·█✗]+` \|/);
    expect(markdown).toContain('| DB-ACCESS-DENIED |');
    expect(markdown).toContain('Re-run apply, "then" check, carefully');
    const html = runHtml(timeline, [failure]);
    expect(html).toContain('<div class="name failed">ctl1');
    expect(html).toMatch(/<div class="bar failed" style="left:70\.00%;width:max\(3px,20\.00%\)"/);
    expect(html).not.toContain('<script>');
    expect(html).not.toMatch(/<(script|link|img)\b/);
  });
});

describe('bootstrap failures', () => {
  const cli = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(REPO, 'bin/bootstrap.js'), 'failures', 'inventory/lab.yaml', ...args], { cwd: REPO }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  function stateWithRuns(): string {
    const state = mkdtempSync(join(tmpdir(), 'bootstrap-failures-'));
    for (const [id, records] of [['20261122T070000Z-aaaaaa', [failure, failure]], [RUN, [failure]]] as const) {
      mkdirSync(join(state, 'runs', id), { recursive: true });
      writeFileSync(join(state, 'runs', id, 'failures.jsonl'), records.map((r) => `${JSON.stringify({ ...r, runId: id })}\n`).join('') + '{"torn by a cra');
      writeFileSync(join(state, 'runs', id, 'events.jsonl'), finished.map((e) => `${JSON.stringify(e)}\n`).join(''));
      writeFileSync(join(state, 'runs', id, 'plan.json'), JSON.stringify(plan));
    }
    return state;
  }

  it('shows the latest run by default, skips a line torn by a crash, and compares runs gene by gene with --all', async () => {
    const state = stateWithRuns();
    const latest = await cli(['--state-dir', state]);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain(`1 failure(s) in run ${RUN}`);
    expect(latest.stdout).toContain('what to do: Re-run apply');
    const all = await cli(['--state-dir', state, '--all']);
    expect(all.stdout).toContain('3 failure(s) in 2 runs');
    expect(all.stdout).toMatch(/20261122T070000Z-aaaaaa\s+2\n/);
    expect(all.stdout).toMatch(new RegExp(`${RUN}\\s+1\\n`));
  });

  it('writes a report file atomically with --out; refuses an unknown run or format with exit 2 and a hint', async () => {
    const state = stateWithRuns();
    const out = join(state, 'report.xml');
    expect((await cli(['--state-dir', state, '--format', 'junit', '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<failure type="DB-ACCESS-DENIED"');
    const unknown = await cli(['--state-dir', state, '--run', '20261122T080000Z-abc124']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`did you mean '${RUN}'`);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    expect((await cli(['--state-dir', state, '--format', 'pdf'])).code).toBe(2);
    expect((await cli(['--state-dir', state, '--all', '--format', 'html'])).code).toBe(2);
  });
});

/** Minimal RFC 4180 reader, enough to prove the writer's quoting round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}
