import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/executor.js';
import { durationFlag, failureLimitFlag, parseArgs } from '../../src/cli/args.js';
import type { BootstrapEvent } from '../../src/run/events.js';
import { UserError } from '../../src/core/user-error.js';
import { NodeProgress } from '../../src/engine/node-progress.js';
import { FailureRecorder } from '../../src/failures/record.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import type { Plan, PlanStep } from '../../src/plan/plan-types.js';
import type { ExecResult, Transport } from '../../src/transport/transport.js';

const REPO = join(import.meta.dirname, '../..');
const NODES = ['n1', 'n2', 'n3', 'n4'];

/** A node whose steps exit with `code`; it remembers how many it was given. */
class ScriptedNode implements Transport {
  runs = 0;
  constructor(
    readonly node: string,
    private readonly code: number,
  ) {}
  async run(): Promise<ExecResult> {
    this.runs++;
    return { code: this.code, stdout: '', stderr: this.code === 0 ? '' : 'boom', timedOut: false };
  }
  close(): void {}
}

const step = (node: string, batch: number): PlanStep => ({
  id: `b/r${batch}:command:c${batch}`,
  node,
  batch,
  barclamp: 'b',
  role: `r${batch}`,
  kind: 'command',
  action: 'run',
  summary: `run c${batch}`,
  changes: [],
  digest: 'd',
});

/** `batchCount` batches on four nodes, one node at a time; `failing` nodes fail their first step. */
async function run(failing: string[], maxFailedNodes?: number, batchCount = 2) {
  const indexes = [...Array(batchCount).keys()];
  const plan: Plan = {
    format: 'bootstrap-plan/1',
    deployment: 't',
    inputDigest: 'x',
    batches: indexes.map((index) => ({ index, barclamp: 'b', role: `r${index}` })),
    nodes: NODES.map((name) => ({ name, steps: indexes.map((i) => step(name, i)), checks: [] })),
    unreachable: [],
    summary: { create: 0, update: 0, run: 8, noop: 0 },
  };
  const transports = new Map(NODES.map((n) => [n, new ScriptedNode(n, failing.includes(n) ? 1 : 0)]));
  const events: BootstrapEvent[] = [];
  const recorder = new FailureRecorder({
    taxonomy: loadTaxonomy(join(REPO, 'share/taxonomy.yaml')),
    runId: 'r',
    release: 'zed',
    toolVersion: '0',
    file: join(mkdtempSync(join(tmpdir(), 'budget-')), 'failures.jsonl'),
    secrets: () => [],
    now: () => new Date(0),
  });
  const desired = {
    deployment: 't',
    batches: plan.batches,
    nodes: NODES.map((node) => ({
      node,
      batches: indexes.map((batch) => ({
        batch,
        resources: [
          {
            type: 'command' as const,
            id: `b/r${batch}:command:c${batch}`,
            name: `c${batch}`,
            run: 'true',
            timeoutSeconds: 10,
            retries: 0,
            notify: [],
            sensitive: false,
          },
        ],
        checks: [],
      })),
    })),
  };
  const result = await executePlan({
    plan,
    desired,
    transports,
    sink: (e) => events.push(e),
    recorder,
    parallel: 1,
    stop: new AbortController().signal,
    kill: new AbortController().signal,
    failedNodes: new Set(),
    ...(maxFailedNodes !== undefined ? { maxFailedNodes } : {}),
    sleep: async () => {},
    nowMs: () => 0,
  });
  return { result, events, runs: Object.fromEntries([...transports].map(([n, t]) => [n, t.runs])) };
}

describe('--max-failures', () => {
  it('without a budget, every node goes as far as it can', async () => {
    const { result, runs } = await run(['n1', 'n2']);
    expect(Object.fromEntries([...result.nodes].map(([n, o]) => [n, o.status]))).toEqual({
      n1: 'failed',
      n2: 'failed',
      n3: 'ok',
      n4: 'ok',
    });
    expect(runs).toEqual({ n1: 1, n2: 1, n3: 2, n4: 2 });
    expect(result.stoppedEarly).toBeUndefined();
  });

  it('once more nodes than allowed failed, nothing new starts and the rest are skipped, with the reason', async () => {
    const { result, runs, events } = await run(['n1', 'n2'], 1);
    expect(runs).toEqual({ n1: 1, n2: 1, n3: 0, n4: 0 });
    expect(Object.fromEntries([...result.nodes].map(([n, o]) => [n, o.status]))).toEqual({
      n1: 'failed',
      n2: 'failed',
      n3: 'skipped',
      n4: 'skipped',
    });
    expect(result.stoppedEarly).toBe(
      '2 of 4 node(s) failed, more than the 1 --max-failures allows: no new steps were started',
    );
    expect(result.interrupted).toBe(false);
    expect(events).toContainEqual({ type: 'run.interrupt', message: result.stoppedEarly });
  });

  it('a node that had done all its work before the budget ran out is ok, not skipped', async () => {
    const { result } = await run(['n1', 'n3'], 1, 1);
    expect(Object.fromEntries([...result.nodes].map(([n, o]) => [n, o.status]))).toEqual({
      n1: 'failed',
      n2: 'ok',
      n3: 'failed',
      n4: 'skipped',
    });
  });

  it('a budget that is not exceeded changes nothing', async () => {
    const { result, runs } = await run(['n1', 'n2'], 2);
    expect(runs).toEqual({ n1: 1, n2: 1, n3: 2, n4: 2 });
    expect(result.stoppedEarly).toBeUndefined();
  });

  it('is given as a node count or a percentage, and anything else is a usage error', () => {
    const flags = (...argv: string[]) => parseArgs(argv, new Set(['max-failures', 'deadline']), new Set());
    expect(failureLimitFlag(flags('--max-failures', '0'), 'max-failures')).toEqual({ nodes: 0 });
    expect(failureLimitFlag(flags('--max-failures', '25%'), 'max-failures')).toEqual({ percent: 25 });
    for (const bad of ['-1', '2.5', '150%', 'some'])
      expect(() => failureLimitFlag(flags('--max-failures', bad), 'max-failures')).toThrow(UserError);
    expect(durationFlag(flags('--deadline', '1h30m'), 'deadline')).toBe(5_400_000);
    expect(durationFlag(flags('--deadline', '90'), 'deadline')).toBe(90_000);
    expect(durationFlag(flags('--deadline', '45s'), 'deadline')).toBe(45_000);
    for (const bad of ['0', '10 minutes', 'm', '-5s'])
      expect(() => durationFlag(flags('--deadline', bad), 'deadline')).toThrow(UserError);
  });
});

describe('what a deadline says about a node', () => {
  it('names the phase, the running step and its age, and the last thing observed', () => {
    let now = 0;
    const progress = new NodeProgress(() => now);
    progress.sink({
      type: 'run.start',
      schema: 'bootstrap-events/1',
      runId: 'r',
      command: 'apply',
      deployment: 'd',
      nodes: ['ctl1', 'cmp1'],
      runDir: '/x',
    });
    progress.sink({ type: 'batch.start', batch: 3, barclamp: 'nova', role: 'compute', nodes: ['ctl1'] });
    now = 1000;
    progress.sink({
      type: 'step.ok',
      node: 'ctl1',
      step: 's1',
      summary: 'write /etc/hosts',
      action: 'update',
      ms: 10,
      attempt: 1,
    });
    now = 2000;
    progress.sink({ type: 'step.start', node: 'ctl1', step: 's2', summary: 'install nova-compute' });
    now = 185_000;
    expect(progress.describe('ctl1')).toBe(
      "ctl1 was in nova/compute, running 'install nova-compute' for 3 min 3 s; last observed 3 min 4 s earlier: step done: write /etc/hosts",
    );
    expect(progress.describe('cmp1')).toBe('cmp1 was in waiting to start; nothing observed from it yet');
  });
});
