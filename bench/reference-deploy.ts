import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../src/inventory/load.js';
import { labSpecOf } from '../src/lab/lab-spec.js';
import { listRuns } from '../src/run/run-dir.js';
import { readRunRecord } from '../src/report/run-record.js';
import { buildTimeline } from '../src/report/timeline.js';
import { REPO, runCli } from '../tests/integration/support/test-rack.js';

export interface PhaseWall {
  phase: string;
  /** From the first node entering the phase to the last one leaving it. */
  wallMs: number;
  nodes: number;
}

export type PackageCache = 'cold' | 'warm';

export interface ReferenceDeploy {
  cache: PackageCache;
  totalMs: number;
  changed: number;
  phases: PhaseWall[];
}

/**
 * `bootstrap apply inventory/lab.yaml` as the README's first command runs it — the default lab from nothing
 * (powered-off machines, PXE installs) to the converged OpenStack reference — with the package cache as it
 * is (warm: every package already fetched by an earlier run) or emptied for the run (cold: every package comes
 * from the Debian mirror; the debootstrapped base image is kept, it is built once per machine). The phases
 * come from the run's own events (the report's timeline).
 */
export async function referenceDeploy(cache: PackageCache): Promise<ReferenceDeploy> {
  const inventory = join(REPO, 'inventory/lab.yaml');
  const stateDir = mkdtempSync(join(tmpdir(), 'bootstrap-bench-ref-'));
  const cli = (args: string[]) =>
    runCli(args, { cwd: REPO, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 3_600_000 });
  const packageCache = packageCacheDirOf(inventory);
  // the filled cache is set aside, not deleted: downloading it again costs every later run the cold time
  const aside = `${packageCache}.bench-aside`;
  try {
    await cli(['lab', 'down', inventory]);
    if (cache === 'cold' && existsSync(packageCache)) renameSync(packageCache, aside);
    const started = performance.now();
    const apply = await cli(['apply', inventory]);
    const totalMs = performance.now() - started;
    if (apply.code !== 0) throw new Error(`the reference apply failed: ${apply.stdout.slice(-3000)}`);
    const runId = listRuns(stateDir).at(-1)!;
    const timeline = buildTimeline(runId, readRunRecord(stateDir, runId).events);
    const spans = new Map<string, { start: number; end: number; nodes: number }>();
    for (const node of timeline.nodes) {
      for (const p of node.phases) {
        const span = spans.get(p.name) ?? { start: p.startMs, end: p.endMs, nodes: 0 };
        spans.set(p.name, {
          start: Math.min(span.start, p.startMs),
          end: Math.max(span.end, p.endMs),
          nodes: span.nodes + 1,
        });
      }
    }
    const phases = [...spans.entries()]
      .sort((a, b) => a[1].start - b[1].start)
      .map(([phase, s]) => ({ phase, wallMs: s.end - s.start, nodes: s.nodes }));
    return { cache, totalMs, changed: timeline.changed, phases };
  } finally {
    await cli(['lab', 'down', inventory]);
    rmSync(stateDir, { recursive: true, force: true });
    if (existsSync(aside)) {
      rmSync(packageCache, { recursive: true, force: true });
      renameSync(aside, packageCache);
    }
  }
}

function packageCacheDirOf(inventory: string): string {
  const loaded = loadInventory(inventory, { builtinBarclamps: join(REPO, 'barclamps'), home: homedir() });
  const spec = loaded.inventory && labSpecOf(loaded.inventory);
  if (!spec) throw new Error(`${inventory} has no lab section`);
  return join(spec.cacheDir, 'apt-cacher-ng');
}
