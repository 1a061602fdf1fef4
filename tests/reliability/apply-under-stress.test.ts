import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, createTestRack, sleep, type TestRack } from '../integration/support/test-rack.js';

/**
 * An apply under what deploy day does to it — a Ctrl-C or a kill at any moment, a second operator, a node
 * that dies, a rack failing the same way everywhere, a deadline — never corrupts state, loses a failure
 * record or leaks a secret, and the next apply converges. Real container nodes (systemd + sshd), real
 * packages; needs root (.ci/run installs what it needs).
 */
type Event = Record<string, any>;
const events = (stdout: string): Event[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Event];
      } catch {
        return []; // the line a kill cut short
      }
    });

/** A deterministic random sequence per seed (mulberry32), so a failing seed can be re-run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('apply under interruption, faults, concurrency and deadlines', () => {
  let rack: TestRack;
  const figures = { interruptions: 0, recordsBeforeKill: 0, recordsLost: 0, cmdlinesSampled: 0, secretsFound: 0 };

  beforeAll(async () => {
    rack = await createTestRack('r1', 203, ['ctl1', 'cmp1', 'cmp2']);
  });
  afterAll(async () => {
    console.log(`reliability figures: ${JSON.stringify(figures)}`);
    await rack?.destroy();
  });

  const inventory = (o: { motd?: string; failOn?: string[]; delay?: number; crashOn?: string[] } = {}) => {
    const doc = rack.baseInventory();
    doc.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
    doc.roles.controller.push('canary/probe', 'vault/holder');
    doc.roles.compute.push('canary/probe', 'vault/holder');
    if (o.crashOn) {
      doc.roles.compute.push('flaky/service');
      for (const node of doc.nodes) if (o.crashOn.includes(node.name)) node.attributes = { flaky: { crash: true } };
    }
    doc.attributes.base.motd = o.motd ?? 'reliability';
    doc.attributes.canary = { fail_on: o.failOn ?? [], delay: o.delay ?? 0 };
    return rack.writeInventory(doc);
  };
  const resetCanary = async () => {
    for (const n of rack.nodes) {
      const removed = await rack.exec(n.name, 'rm -f /etc/canary-done && test ! -e /etc/canary-done');
      expect(removed.code, `${n.name}: ${removed.stderr}`).toBe(0);
      expect(rack.diskFile(n.name, 'etc/canary-done'), n.name).toBeUndefined();
    }
  };

  /** The real CLI, running: its output so far, a way to signal it, its end. */
  const startApply = (args: string[]) => {
    const child = spawn(
      'node',
      [join(REPO, 'bin/bootstrap.js'), 'apply', ...args, '--json', '--state-dir', rack.stateDir],
      { cwd: rack.dir },
    );
    const run = {
      stdout: '',
      stderr: '',
      child,
      done: new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      ),
    };
    child.stdout.on('data', (c: Buffer) => (run.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (run.stderr += c.toString()));
    return run;
  };
  const until = async (what: () => boolean, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!what()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await sleep(50);
    }
  };
  const converges = async (file: string) => {
    const apply = await rack.cli(['apply', file, '--json']);
    expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
    const plan = await rack.cli(['plan', file, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).summary).toMatchObject({ create: 0, update: 0, run: 0 });
    return events(apply.stdout);
  };

  it('secrets never appear in any process argument, output, run file or report, and inventory values cannot inject commands', async () => {
    const motd = `reliability $(touch /tmp/pwned) \`touch /tmp/pwned2\`; touch /tmp/pwned3 '"`;
    const apply = startApply([inventory({ motd })]);
    const seen = new Set<string>();
    // every process on this host — the CLI, ssh, and every process of every node container — sampled while the apply runs
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const pid of await readdir('/proc').catch(() => [])) {
          if (!/^\d+$/.test(pid)) continue;
          const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (cmdline) seen.add(cmdline.replace(/\0/g, ' '));
        }
        figures.cmdlinesSampled++;
        await sleep(10);
      }
    })();
    const end = await apply.done;
    running = false;
    await sampler;
    expect(end.code, apply.stdout.slice(-3000) + apply.stderr).toBe(0);

    const secretsFile = join(rack.stateDir, 'secrets.json');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const secrets = Object.values(JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<string, string>);
    expect(secrets.length).toBeGreaterThan(0);
    const reports = await Promise.all(
      ['markdown', 'html', 'csv', 'junit', 'json'].map((format) =>
        rack.cli(['failures', inventory({ motd }), '--format', format]),
      ),
    );
    const everywhere =
      [...seen].join('\n') +
      apply.stdout +
      apply.stderr +
      stateText(join(rack.stateDir, 'runs')) +
      reports.map((r) => r.stdout + r.stderr).join('\n');
    for (const secret of secrets) {
      expect(everywhere.includes(secret), 'a generated secret leaked').toBe(false);
      figures.secretsFound += everywhere.split(secret).length - 1;
    }
    // the secret did reach the node, in a file only root can read
    expect((await rack.exec('cmp1', 'stat -c %a /etc/vault.conf && cat /etc/vault.conf')).stdout).toBe(
      `600\ntoken = ${secrets[0]}\n`,
    );
    // the motd is the inventory's text, byte for byte; nothing in it ran
    expect(rack.diskFile('cmp2', 'etc/motd')?.split('\n')[0]).toBe(motd);
    expect((await rack.exec('cmp2', 'ls /tmp/pwned /tmp/pwned2 /tmp/pwned3 2>&1 || true')).stdout).not.toMatch(
      /^\/tmp\/pwned\d?$/m,
    );
  }, 600_000);

  it('SIGKILL and SIGINT at random moments (seeded) never corrupt state or lose a record, and the next apply converges', async () => {
    // an uninterrupted apply of the same shape says how long the window for a kill is
    await resetCanary();
    const started = Date.now();
    const whole = startApply([inventory({ motd: 'seed 0', failOn: ['cmp2'], delay: 2 })]);
    expect((await whole.done).code).toBe(1);
    const windowMs = Date.now() - started;
    await converges(inventory({ motd: 'seed 0' }));

    const seeds: [number, NodeJS.Signals][] = [
      [1, 'SIGKILL'],
      [2, 'SIGKILL'],
      [3, 'SIGKILL'],
      [4, 'SIGINT'],
      [5, 'SIGINT'],
    ];
    for (const [seed, signal] of seeds) {
      const next = random(seed);
      await resetCanary();
      const file = inventory({ motd: `seed ${seed}`, failOn: ['cmp2'], delay: 2 });
      const apply = startApply([file]);
      await sleep(200 + Math.floor(next() * (windowMs - 400)));
      const stillRunning = apply.child.exitCode === null;
      apply.child.kill(signal);
      const end = await apply.done;
      if (stillRunning) figures.interruptions++;
      const context = `seed ${seed} ${signal}`;
      if (signal === 'SIGINT' && stillRunning) expect([130, 1], context).toContain(end.code);

      // every state file is whole: JSON parses, every record line parses
      expect(corruptStateFiles(rack.stateDir), context).toEqual([]);
      // every failure the killed run reported was already on disk
      const seen = events(apply.stdout);
      const runDir = seen.find((e) => e.type === 'run.start')?.runDir as string | undefined;
      const reported = seen.filter((e) => e.type === 'failure.recorded').map((e) => e.record);
      figures.recordsBeforeKill += reported.length;
      if (runDir !== undefined && reported.length > 0) {
        const stored = readFileSync(join(runDir, 'failures.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        for (const record of reported) {
          const kept = stored.some((r) => JSON.stringify(r) === JSON.stringify(record));
          if (!kept) figures.recordsLost++;
          expect(kept, `${context}: record lost`).toBe(true);
        }
      }
      // a killed apply leaves a stale lock the next one takes over (and says so); an interrupted one releases it
      if (signal === 'SIGINT' || !stillRunning)
        expect(existsSync(join(rack.stateDir, 'apply.lock')), context).toBe(false);
      const rerun = await converges(inventory({ motd: `seed ${seed}`, delay: 0 }));
      if (signal === 'SIGKILL' && stillRunning && existsSync(join(runDir ?? '/nonexistent', 'events.jsonl'))) {
        expect(
          rerun.some((e) => e.type === 'lock.taken-over'),
          context,
        ).toBe(true);
      }
      for (const n of rack.nodes)
        expect(rack.diskFile(n.name, 'etc/motd')?.split('\n')[0], context).toBe(`seed ${seed}`);
    }
    expect(figures.interruptions).toBeGreaterThanOrEqual(3);
    expect(figures.recordsLost).toBe(0);
  }, 1_200_000);

  it('a second apply is refused while one runs; plan, status and verify keep working meanwhile', async () => {
    await resetCanary();
    // long enough that plan, status and verify all run inside it on a loaded machine too
    const file = inventory({ delay: 15 });
    const first = startApply([file]);
    try {
      await until(() => first.stdout.includes('"type":"batch.start"'));
      const second = await rack.cli(['apply', file]);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain(`state directory is locked by run ${first.child.pid}-`);
      expect(second.stderr).toContain(`(pid ${first.child.pid} on `);
      const plan = await rack.cli(['plan', file, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const status = await rack.cli(['status', file]);
      expect(status.code, status.stderr).toBe(0);
      // verify takes no lock either (its checks may fail while the apply is half-way: 0 or 1, never refused)
      const verify = await rack.cli(['verify', file]);
      expect(verify.stderr).not.toContain('locked');
      expect([0, 1], verify.stdout).toContain(verify.code);
      expect(status.stdout).toContain('cmp2');
      expect(first.child.exitCode).toBeNull();
    } finally {
      // never leave it running into the next test
      expect((await first.done).code).toBe(0);
    }
  }, 600_000);

  it('a node lost mid-apply fails alone with its gene and evidence; the others finish; after it is back, apply converges', async () => {
    await resetCanary();
    const file = inventory({ delay: 4 });
    const apply = startApply([file]);
    let end;
    try {
      await until(() =>
        events(apply.stdout).some(
          (e) => e.type === 'step.start' && e.node === 'cmp2' && e.summary === 'run maybe-fail',
        ),
      );
      await rack.kill('cmp2');
    } finally {
      end = await apply.done;
      await rack.restart('cmp2');
    }
    expect(end.code, apply.stdout.slice(-2000)).toBe(1);
    const seen = events(apply.stdout);
    const outcome = Object.fromEntries(seen.filter((e) => e.type === 'node.done').map((e) => [e.node, e.status]));
    expect(outcome).toEqual({ ctl1: 'ok', cmp1: 'ok', cmp2: 'failed' });
    const records = seen.filter((e) => e.type === 'failure.recorded').map((e) => e.record);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ node: 'cmp2', barclamp: 'canary', gene: expect.stringMatching(/^SSH-/) });
    expect(records[0].evidence.message).toMatch(/connection to .* lost while running a command/);
    await converges(file);
  }, 600_000);

  it('a service that crash-loops after a successful start fails its node as SVC-CRASH-LOOP with its journal; fixed, apply converges', async () => {
    const apply = await rack.cli(['apply', inventory({ crashOn: ['cmp1'] }), '--json']);
    expect(apply.code, apply.stdout.slice(-2000)).toBe(1);
    const seen = events(apply.stdout);
    expect(Object.fromEntries(seen.filter((e) => e.type === 'node.done').map((e) => [e.node, e.status]))).toEqual({
      cmp1: 'failed',
      cmp2: 'ok',
      ctl1: 'ok',
    });
    const records = seen.filter((e) => e.type === 'failure.recorded').map((e) => e.record);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ node: 'cmp1', barclamp: 'flaky', gene: 'SVC-CRASH-LOOP' });
    expect(records[0].evidence.stderrTail).toContain('flaky is crash-looping: it exited right after its');
    expect(records[0].evidence.stderrTail).toContain('--- journal flaky');
    expect((await rack.exec('cmp2', 'systemctl is-active flaky')).stdout.trim()).toBe('active');
    await converges(inventory({ crashOn: [] }));
    expect((await rack.exec('cmp1', 'systemctl is-active flaky')).stdout.trim()).toBe('active');
  }, 600_000);

  it('--max-failures stops a run that fails everywhere the same way: nothing new starts, the rest are skipped', async () => {
    await resetCanary();
    // one node at a time, in name order: cmp1 fails, cmp2 fails (one more than allowed), ctl1 never starts
    const apply = startApply([inventory({ failOn: ['cmp1', 'cmp2'] }), '--parallel', '1', '--max-failures', '1']);
    expect((await apply.done).code).toBe(1);
    const seen = events(apply.stdout);
    expect(Object.fromEntries(seen.filter((e) => e.type === 'node.done').map((e) => [e.node, e.status]))).toEqual({
      cmp1: 'failed',
      cmp2: 'failed',
      ctl1: 'skipped',
    });
    expect(seen.find((e) => e.type === 'run.done')).toMatchObject({
      status: 'failed',
      stoppedEarly: '2 of 3 node(s) failed, more than the 1 --max-failures allows: no new steps were started',
    });
    expect(seen.some((e) => e.type === 'step.start' && e.node === 'ctl1')).toBe(false);
    expect(rack.diskFile('ctl1', 'etc/canary-done')).toBeUndefined();
    await converges(inventory());
  }, 600_000);

  it('--deadline kills what runs, records where every unfinished node was, and the next apply converges', async () => {
    await resetCanary();
    const apply = startApply([inventory({ delay: 40 }), '--deadline', '15s']);
    const end = await apply.done;
    expect(end.code, apply.stdout.slice(-2000)).toBe(1);
    const seen = events(apply.stdout);
    const records = seen.filter((e) => e.type === 'failure.recorded').map((e) => e.record);
    expect(records.map((r) => r.node).sort()).toEqual(['cmp1', 'cmp2', 'ctl1']);
    for (const r of records) {
      expect(r.gene).toBe('TIME-RUN-DEADLINE');
      expect(r.evidence.message).toMatch(
        new RegExp(
          `^the overall deadline of 15\\.0 s passed: ${r.node} was in canary/probe, running 'run maybe-fail' for \\d+\\.\\d s; last observed`,
        ),
      );
    }
    expect(seen.find((e) => e.type === 'run.done')).toMatchObject({
      status: 'failed',
      stoppedEarly: 'the overall deadline of 15.0 s passed',
    });
    expect(existsSync(join(rack.stateDir, 'apply.lock'))).toBe(false);
    // what the killed steps started is gone from the nodes too (their process groups were ended there)
    for (const n of rack.nodes)
      expect((await rack.exec(n.name, "pgrep -fa '^sleep 40$' || true")).stdout.trim(), n.name).toBe('');
    await converges(inventory());
  }, 600_000);
});

/** Every run file's text (events, plan, records, summary): where a secret must not be. */
function stateText(runs: string): string {
  return readdirSync(runs)
    .flatMap((run) => readdirSync(join(runs, run)).map((f) => readFileSync(join(runs, run, f), 'utf8')))
    .join('\n');
}

/**
 * State files that do not parse. Records and events are appended with fsync a line at a time; only the
 * events file may end in a line the kill cut short (it is progress, not a record).
 */
function corruptStateFiles(dir: string): string[] {
  const bad: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    if (entry.name.endsWith('.json') && !parses(text)) bad.push(file);
    if (entry.name.endsWith('.jsonl')) {
      const lines = text.split('\n').filter(Boolean);
      const tornLastAllowed = entry.name === 'events.jsonl' && !text.endsWith('\n');
      lines.forEach((line, i) => {
        if (!parses(line) && !(tornLastAllowed && i === lines.length - 1)) bad.push(`${file}:${i + 1}`);
      });
    }
  }
  return bad;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
