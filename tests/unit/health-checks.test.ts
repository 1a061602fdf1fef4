import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFindings, runHealthChecks } from '../../src/apply/health.js';
import type { BootstrapEvent } from '../../src/run/events.js';
import { FailureRecorder } from '../../src/failures/record.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import type { DesiredCheck, DesiredState } from '../../src/plan/desired-types.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/transport.js';

const REPO = join(import.meta.dirname, '../..');

/** A node whose health scripts answer what the test says, so the phase's own logic is what is tested. */
class ScriptedTransport implements Transport {
  readonly ran: string[] = [];
  constructor(
    readonly node: string,
    private readonly answers: Record<string, ExecResult>,
  ) {}
  async run(script: string, _options: ExecOptions): Promise<ExecResult> {
    this.ran.push(script);
    return this.answers[script] ?? { code: 0, stdout: '', stderr: '', timedOut: false };
  }
  close(): void {}
}

const finding = (node: string, problem: string, evidence: Record<string, unknown> = {}) =>
  JSON.stringify({ node, problem, evidence });
const found = (...lines: string[]): ExecResult => ({
  code: 1,
  stdout: `${lines.join('\n')}\n`,
  stderr: '',
  timedOut: false,
});
const health = (name: string, run: string): DesiredCheck => ({
  type: 'command',
  id: `b/r:check:${name}`,
  name,
  run,
  timeoutSeconds: 5,
  poll: true,
  sensitive: false,
  health: true,
});

function phase(
  transports: Record<string, ScriptedTransport>,
  checks: Record<string, DesiredCheck[]>,
  options: { maintenance?: string[] } = {},
) {
  const nodes = Object.keys(checks);
  const desired: DesiredState = {
    deployment: 't',
    batches: [{ index: 0, barclamp: 'nova', role: 'server' }],
    nodes: nodes.map((node) => ({ node, batches: [{ batch: 0, resources: [], checks: checks[node]! }] })),
  };
  const recorder = new FailureRecorder({
    taxonomy: loadTaxonomy(join(REPO, 'share/taxonomy.yaml')),
    runId: 'r',
    release: 'zed',
    toolVersion: '0',
    file: join(mkdtempSync(join(tmpdir(), 'health-')), 'failures.jsonl'),
    secrets: () => ['s3cret'],
    now: () => new Date(0),
  });
  const events: BootstrapEvent[] = [];
  let clock = 0;
  const run = runHealthChecks({
    desired,
    runOn: nodes,
    known: new Set(['ctl1', 'cmp1', 'cmp2']),
    maintenance: new Set(options.maintenance ?? []),
    transports: new Map(Object.entries(transports)),
    sink: (e) => events.push(e),
    recorder,
    parallel: 4,
    mode: 'once',
    stop: new AbortController().signal,
    kill: new AbortController().signal,
    sleep: async (ms) => void (clock += ms),
    nowMs: () => clock,
  });
  return { run, recorder, events };
}

describe('cloud health checks', () => {
  it('records each finding on the node it is about, classified, with the API row as evidence and no secret in it', async () => {
    const ctl1 = new ScriptedTransport('n', {
      nova: found(
        finding('cmp1', 'nova-compute on cmp1 is disabled: Masakari detected host failed.', {
          host: 'cmp1',
          status: 'disabled',
          state: 'up',
          token: 's3cret',
        }),
        finding('cmp2', 'placement has no resource provider for cmp2'),
      ),
    });
    const { run, recorder } = phase({ ctl1 }, { ctl1: [health('computes-in-service', 'nova')] });
    expect([...(await run)].sort()).toEqual(['cmp1', 'cmp2']);
    expect(recorder.records.map((r) => `${r.node} ${r.gene} ${r.step}`)).toEqual([
      'cmp1 CLOUD-COMPUTE-DISABLED b/r:check:computes-in-service',
      'cmp2 CLOUD-PROVIDER-MISSING b/r:check:computes-in-service',
    ]);
    const disabled = recorder.records[0]!;
    expect(disabled.evidence.message).toBe(
      'check computes-in-service: nova-compute on cmp1 is disabled: Masakari detected host failed.',
    );
    expect(disabled.evidence.details).toMatchObject({ host: 'cmp1', status: 'disabled', state: 'up' });
    expect(JSON.stringify(disabled)).not.toContain('s3cret');
  });

  it('gives every kind of finding its gene', async () => {
    const lines = [
      finding('cmp1', 'nova-compute on cmp1 is down: last report 2026-11-30T01:00:00'),
      finding('cmp1', 'neutron-dhcp-agent on cmp1 is not alive: last heartbeat 2026-11-30 01:00:00'),
      finding('cmp2', 'neutron has no neutron-metadata-agent on cmp2'),
      finding('cmp1', 'masakari host cmp1 of segment compute is on maintenance'),
      finding(
        'cmp2',
        'masakari notification 0b7c3f5e-1111-4c4c-8888-9d9d9d9d9d9d (COMPUTE_HOST on cmp2) is failed: its recovery did not finish',
      ),
      finding('cmp1', 'pacemaker member cmp1 is offline'),
      finding('ctl1', 'pacemaker resource operation fence-cmp1_monitor_60000 failed on ctl1: error'),
    ];
    const ctl1 = new ScriptedTransport('n', { all: found(...lines) });
    const { run, recorder } = phase({ ctl1 }, { ctl1: [health('all', 'all')] });
    await run;
    expect(recorder.records.map((r) => r.gene)).toEqual([
      'CLOUD-COMPUTE-DOWN',
      'CLOUD-AGENT-DEAD',
      'CLOUD-AGENT-DEAD',
      'CLOUD-HOST-ON-MAINTENANCE',
      'CLOUD-RECOVERY-FAILED',
      'HA-MEMBER-OFFLINE',
      'HA-RESOURCE-FAILED',
    ]);
  });

  it('the same finding from several members is recorded once; a node in maintenance is expected out of service', async () => {
    const offline = found(finding('cmp1', 'pacemaker member cmp1 is offline'));
    const ctl1 = new ScriptedTransport('n', { cluster: offline });
    const cmp2 = new ScriptedTransport('n', { cluster: offline });
    const once = phase(
      { ctl1, cmp2 },
      { ctl1: [health('cluster-healthy', 'cluster')], cmp2: [health('cluster-healthy', 'cluster')] },
    );
    expect([...(await once.run)]).toEqual(['cmp1']);
    expect(once.recorder.records.map((r) => `${r.node} ${r.gene}`)).toEqual(['cmp1 HA-MEMBER-OFFLINE']);
    expect(once.events.filter((e) => e.type === 'check.fail')).toHaveLength(1);

    const resting = phase(
      { ctl1, cmp2 },
      { ctl1: [health('cluster-healthy', 'cluster')], cmp2: [health('cluster-healthy', 'cluster')] },
      { maintenance: ['cmp1'] },
    );
    expect([...(await resting.run)]).toEqual([]);
    expect(resting.recorder.records).toEqual([]);
  });

  it('a check that cannot judge (API unreachable) fails on the node that ran it, with its own last word', async () => {
    const ctl1 = new ScriptedTransport('n', {
      nova: {
        code: 1,
        stdout: '',
        stderr: 'cannot reach the API: Unable to establish connection to http://10.0.0.11:8774/',
        timedOut: false,
      },
    });
    const { run, recorder } = phase({ ctl1 }, { ctl1: [health('computes-in-service', 'nova')] });
    expect([...(await run)]).toEqual(['ctl1']);
    expect(recorder.records[0]).toMatchObject({ node: 'ctl1', step: 'b/r:check:computes-in-service' });
    expect(recorder.records[0]!.evidence.message).toContain('cannot reach the API');
  });

  it('a finding about a node the inventory does not have stays on the node that ran the check', async () => {
    const ctl1 = new ScriptedTransport('n', {
      nova: found(finding('stranger', 'nova-compute on stranger is down: last report never')),
    });
    const { run, recorder } = phase({ ctl1 }, { ctl1: [health('computes-in-service', 'nova')] });
    expect([...(await run)]).toEqual(['ctl1']);
    expect(recorder.records.map((r) => `${r.node} ${r.gene}`)).toEqual(['ctl1 CLOUD-COMPUTE-DOWN']);
  });

  it('reads findings only from well-formed lines: other output, broken JSON and findings without a problem are not findings', () => {
    const stdout = [
      'progress: 3 services',
      '{"node": "cmp1"',
      JSON.stringify({ node: 'cmp1', problem: '' }),
      JSON.stringify({ node: 'cmp1', problem: 'x', evidence: [1] }),
      finding('cmp2', 'y', { a: 1 }),
    ].join('\n');
    expect(parseFindings(stdout)).toEqual([
      { node: 'cmp1', problem: 'x' },
      { node: 'cmp2', problem: 'y', evidence: { a: 1 } },
    ]);
  });
});
