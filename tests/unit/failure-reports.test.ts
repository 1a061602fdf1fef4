import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failuresCsv } from '../../src/report/csv.js';
import { runHtml } from '../../src/report/html.js';
import { runJunit } from '../../src/report/junit.js';
import { runMarkdown } from '../../src/report/markdown.js';
import { buildTimeline } from '../../src/report/timeline.js';

import { events, failure, finished, plan, REPO, run, RUN, taxonomy } from './support/sample-run.js';

describe('run timeline', () => {
  it('shows each node phase by phase, where the failure happened, and how long each took', () => {
    const timeline = buildTimeline(RUN, finished);
    expect(timeline.status).toBe('failed');
    expect(timeline.durationMs).toBe(10_000);
    const ctl1 = timeline.nodes.find((n) => n.node === 'ctl1')!;
    expect(ctl1.phases.map((p) => [p.name, p.status, p.startMs, p.endMs])).toEqual([
      ['provision', 'ok', 1000, 4000],
      ['gather', 'ok', 5000, 6000],
      ['keystone/server', 'failed', 7000, 9000],
    ]);
    expect(ctl1.failures).toEqual([
      {
        atMs: 9000,
        gene: 'DB-ACCESS-DENIED',
        phase: 'keystone/server',
        step: 'keystone/server:command:db-sync',
        message: 'run db-sync: exit code 1',
      },
    ]);
    expect(timeline.nodes.find((n) => n.node === 'cmp1')!.phases.at(-1)).toMatchObject({
      name: 'ntp/client',
      status: 'ok',
      steps: 1,
    });
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
    expect(rows[0]!.slice(0, 9)).toEqual([
      'failure mode',
      'classification',
      'component',
      'symptom',
      'root cause',
      'mitigation',
      'how reported',
      'how to re-create',
      'openstack release',
    ]);
    expect(rows).toHaveLength(2);
    const row = Object.fromEntries(rows[0]!.map((column, i) => [column, rows[1]![i]]));
    expect(row).toMatchObject({
      'failure mode': failure.title,
      classification: 'auth_failure',
      'root cause': 'passwords differ',
      mitigation: 'Re-run apply, "then" check, carefully',
      'openstack release': 'zed',
      gene: 'DB-ACCESS-DENIED',
      node: 'ctl1',
      step: failure.step,
    });
    expect(row['how reported']).toContain('severity high');
  });

  it('JUnit: one case per planned step and check; the failure carries its gene, evidence and mitigation; unreached steps are skipped', () => {
    const junit = runJunit(run);
    expect(junit).toMatch(
      /<testsuites name="bootstrap run 20261122T080000Z-abc123" tests="7" failures="1" skipped="1">/,
    );
    expect(junit).toMatch(/<testsuite name="ctl1" tests="4" failures="1" errors="0" skipped="1"/);
    expect(junit).toContain('<testcase name="write /etc/hosts (already in place)" classname="ctl1.base/node"');
    expect(junit).toMatch(
      /<testcase name="run db-sync" classname="ctl1.keystone\/server" time="2.000">\n\s+<failure type="DB-ACCESS-DENIED" message="\[DB-ACCESS-DENIED\] run db-sync: exit code 1">/,
    );
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
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'node',
        [join(REPO, 'bin/bootstrap.js'), 'failures', 'inventory/lab.yaml', ...args],
        { cwd: REPO },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  function stateWithRuns(): string {
    const state = mkdtempSync(join(tmpdir(), 'bootstrap-failures-'));
    made.push(state);
    for (const [id, records] of [
      ['20261122T070000Z-aaaaaa', [failure, failure]],
      [RUN, [failure]],
    ] as const) {
      mkdirSync(join(state, 'runs', id), { recursive: true });
      writeFileSync(
        join(state, 'runs', id, 'failures.jsonl'),
        records.map((r) => `${JSON.stringify({ ...r, runId: id })}\n`).join('') + '{"torn by a cra',
      );
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
