import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compare, environment, type SideResult } from './measure.js';
import type { PlanningResult } from './planning.js';

const REPO = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * `npm run bench`: every benchmark, side by side in one run, then bench/results/latest.{md,json}.
 * Options: --rounds N (default 3), --only NAME.
 */
interface Section {
  title: string;
  markdown: string;
  data: unknown;
}

async function planningSection(rounds: number): Promise<Section> {
  const sizes = [100, 1000, 10_000];
  const last = new Map<number, PlanningResult>();
  const results = await compare(sizes.map((nodes) => ({
    name: `${nodes} nodes`,
    run: async () => {
      const { stdout } = await run('node', ['--max-old-space-size=8192', join(import.meta.dirname, 'planning-child.js'), String(nodes)], { maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout) as PlanningResult;
      last.set(nodes, result);
      return { steps: result.steps, changes: result.changes, peakRssMiB: Math.round(result.peakRssMiB) };
    },
  })), rounds);
  const rows = results.map((r, i) => {
    const detail = last.get(sizes[i]!)!;
    const previous = i > 0 ? results[i - 1]! : undefined;
    const ratio = previous ? `${(r.medianMs / previous.medianMs).toFixed(1)}× for 10× nodes` : '—';
    return `| ${sizes[i]!.toLocaleString('en')} | ${seconds(r)} | ${ms(detail.validateMs)} / ${ms(detail.renderMs)} / ${ms(detail.planMs)} | ${detail.steps.toLocaleString('en')} | ${detail.changes} | ${Math.round(detail.peakRssMiB)} MiB | ${ratio} |`;
  });
  const markdown = [
    'Full reference barclamp set; 1 controller, 15 computes in the pacemaker/masakari ring (its limit), plain computes for the rest. Facts: a converged rack (derived from the desired state — no SSH), so the plan is the no-op re-apply plan. Each size in its own process (peak RSS is that size\'s). Target: 1,000 nodes in ≤ 2 s and ≤ 300 MB; cost linear in nodes.',
    '',
    '| nodes | wall (median, min–max) | validate / render / plan (last run) | planned steps | changes | peak RSS | scaling |',
    '|---:|---|---|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
  return { title: 'Planning at scale', markdown, data: results.map((r, i) => ({ ...r, phases: last.get(sizes[i]!) })) };
}

function seconds(r: SideResult): string {
  return `${(r.medianMs / 1000).toFixed(2)} s (${(r.minMs / 1000).toFixed(2)}–${(r.maxMs / 1000).toFixed(2)})`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

async function main(argv: string[]): Promise<void> {
  const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 3) || 3;
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const env = await environment();
  const benchmarks: [string, () => Promise<Section>][] = [['planning', () => planningSection(rounds)]];
  const sections: Section[] = [];
  for (const [name, bench] of benchmarks) {
    if (only !== undefined && only !== name) continue;
    process.stderr.write(`bench: ${name} (${rounds} rounds)…\n`);
    const section = await bench();
    process.stdout.write(`\n## ${section.title}\n\n${section.markdown}\n`);
    sections.push(section);
  }
  const when = new Date().toISOString();
  const header = `# Benchmark results\n\n${when} · ${Object.entries(env).map(([k, v]) => `${k} ${v}`).join(' · ')} · ${rounds} rounds, sides alternated\n`;
  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), `${header}${sections.map((s) => `\n## ${s.title}\n\n${s.markdown}\n`).join('')}`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ when, environment: env, rounds, results: Object.fromEntries(sections.map((s) => [s.title, s.data])) }, null, 2)}\n`);
  process.stderr.write(`bench: wrote bench/results/latest.md and latest.json\n`);
}

await main(process.argv.slice(2));
