import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/executor.js';
import { FailureRecorder } from '../../src/failures/record.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import type { Plan, PlanStep } from '../../src/plan/plan-types.js';
import { PENDING_RESTART_TRIGGER } from '../../src/plan/planner.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/transport.js';

const REPO = join(import.meta.dirname, '../..');

/** A node that runs nothing, only remembers the scripts it was given. */
class RecordingTransport implements Transport {
  readonly scripts: string[] = [];
  constructor(readonly node: string) {}
  async run(script: string, _options: ExecOptions): Promise<ExecResult> {
    this.scripts.push(script);
    return { code: 0, stdout: '', stderr: '', timedOut: false };
  }
  close(): void {}
}

const handler = (triggers: string[]): PlanStep => ({
  id: 'b/r:service:api:restart',
  node: 'n1',
  batch: 0,
  barclamp: 'b',
  role: 'r',
  kind: 'handler',
  action: 'run',
  summary: 'restart api',
  changes: [],
  digest: 'd',
  service: 'api',
  triggers,
});

async function execute(steps: PlanStep[]): Promise<string[]> {
  const plan: Plan = {
    format: 'bootstrap-plan/1',
    deployment: 't',
    inputDigest: 'x',
    batches: [{ index: 0, barclamp: 'b', role: 'r' }],
    nodes: [{ name: 'n1', steps, checks: [] }],
    unreachable: [],
    summary: { create: 0, update: 0, run: steps.length, noop: 0 },
  };
  const transport = new RecordingTransport('n1');
  const recorder = new FailureRecorder({
    taxonomy: loadTaxonomy(join(REPO, 'share/taxonomy.yaml')),
    runId: 'r',
    release: 'zed',
    toolVersion: '0',
    file: join(mkdtempSync(join(tmpdir(), 'exec-')), 'failures.jsonl'),
    secrets: () => [],
    now: () => new Date(0),
  });
  await executePlan({
    plan,
    desired: {
      deployment: 't',
      batches: plan.batches,
      nodes: [{ node: 'n1', batches: [{ batch: 0, resources: [], checks: [] }] }],
    },
    transports: new Map([['n1', transport]]),
    sink: () => {},
    recorder,
    parallel: 1,
    stop: new AbortController().signal,
    kill: new AbortController().signal,
    failedNodes: new Set(),
    sleep: async () => {},
    nowMs: () => 0,
  });
  return transport.scripts;
}

describe('restart handlers at apply time', () => {
  it('runs a restart an earlier, interrupted run still owes, although nothing changes in this run', async () => {
    const scripts = await execute([handler([PENDING_RESTART_TRIGGER])]);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain('restart');
    expect(scripts[0]).toContain('/var/lib/bootstrap/restart-pending/api');
  });

  it('skips a restart whose triggering steps did not run', async () => {
    expect(await execute([handler(['b/r:file:/etc/api.conf'])])).toEqual([]);
  });
});
