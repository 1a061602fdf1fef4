import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli, type CliResult } from '../integration/support/test-rack.js';
import { runPool } from '../../src/util/pool.js';

/**
 * Bad input is refused before anything changes: every malformed inventory and barclamp manifest of the
 * corpus, given to the real CLI's validate, plan and apply, exits 2 with the problem's code at
 * file:line:col, shows no stack trace, and leaves no state directory behind (no secrets, lock, run or
 * known host written — and so no node contacted: nothing connects before the state directory exists).
 */
const INVENTORIES = join(REPO, 'tests/fixtures/inventories/bad');
const MANIFESTS = join(REPO, 'tests/fixtures/barclamps-bad');
const work = mkdtempSync(join(tmpdir(), 'bootstrap-bad-input-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  name: string;
  inventory: string;
  /** `file:line:col: error: … [code]` fragments stderr must contain. */
  expected: { file: string; line: number; col: number; code: string }[];
}

function inventoryCases(): Case[] {
  return readdirSync(INVENTORIES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(INVENTORIES, f);
      const expected = [...readFileSync(file, 'latin1').matchAll(/^# expect: (\S+) (\d+):(\d+)$/gm)].map((m) => ({
        file,
        code: m[1]!,
        line: Number(m[2]),
        col: Number(m[3]),
      }));
      return { name: `inventory ${f}`, inventory: file, expected };
    });
}

/** Each manifest case is a directory of barclamps plus `expect` (CODE FILE LINE:COL, FILE relative or "inventory"). */
function manifestCases(): Case[] {
  return readdirSync(MANIFESTS)
    .sort()
    .map((dir) => {
      const inventory = join(work, `${dir}.yaml`);
      writeFileSync(inventory, manifestInventory(join(MANIFESTS, dir)));
      const expected = readFileSync(join(MANIFESTS, dir, 'expect'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const [code, file, at] = l.split(' ') as [string, string, string];
          const [line, col] = at.split(':').map(Number) as [number, number];
          return { code, file: file === 'inventory' ? inventory : join(MANIFESTS, dir, file), line, col };
        });
      return { name: `barclamp ${dir}`, inventory, expected };
    });
}

/** Line numbers in the manifest cases' `expect` files refer to this text: keep it as it is. */
function manifestInventory(barclampPath: string): string {
  return `deployment: t
release: zed
os: debian-12
barclamp_paths: [${barclampPath}]
networks:
  admin: {cidr: 10.1.0.0/24, static: 10.1.0.10-10.1.0.99, dhcp: 10.1.0.100-10.1.0.199}
nodes:
  - {name: ctl1, addresses: {admin: 10.1.0.11}, roles: [controller]}
  - {name: ctl2, addresses: {admin: 10.1.0.12}, roles: [controller]}
roles:
  controller: [base/node, x/r]
`;
}

/** Files too large to keep in the repository are made here: a 5 MB inventory and a 5 MB manifest. */
function hugeCases(): Case[] {
  const inventory = join(work, 'huge-inventory.yaml');
  writeFileSync(inventory, `deployment: t\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
  const barclamps = join(work, 'huge-barclamps');
  mkdirSync(join(barclamps, 'x'), { recursive: true });
  const manifest = join(barclamps, 'x', 'barclamp.yaml');
  writeFileSync(manifest, `name: x\n# ${'y'.repeat(5 * 1024 * 1024)}\n`);
  const withHugeManifest = join(work, 'huge-manifest.yaml');
  writeFileSync(withHugeManifest, manifestInventory(barclamps));
  return [
    {
      name: 'inventory larger than 4 MiB',
      inventory,
      expected: [{ file: inventory, code: 'inventory.too-large', line: 1, col: 1 }],
    },
    {
      name: 'barclamp manifest larger than 4 MiB',
      inventory: withHugeManifest,
      expected: [{ file: manifest, code: 'barclamp.too-large', line: 1, col: 1 }],
    },
  ];
}

const cases = [...inventoryCases(), ...manifestCases(), ...hugeCases()];

describe('bad input', () => {
  it('the corpus has at least 40 malformed inventories and barclamp manifests, each with what it must produce', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) expect(c.expected.length, c.name).toBeGreaterThan(0);
  });

  it('validate, plan and apply refuse every one with exit 2, the code at file:line:col, no stack trace, nothing written', async () => {
    const problems: string[] = [];
    const jobs = cases.flatMap((c) => (['validate', 'plan', 'apply'] as const).map((command) => ({ c, command })));
    await runPool(jobs, 4, async ({ c, command }) => {
      const stateDir = join(work, 'state', `${c.name.replace(/\W+/g, '-')}-${command}`);
      const result = await runCli([command, c.inventory, '--state-dir', stateDir], { cwd: work, timeoutMs: 60_000 });
      const problem = refusalProblem(result, c, work);
      if (problem) problems.push(`${command} ${c.name}: ${problem}`);
      if (existsSync(stateDir)) problems.push(`${command} ${c.name}: created ${stateDir}`);
    });
    expect(problems).toEqual([]);
  });
});

/** Files are named relative to where the command ran (the person's working directory) when they lie below it. */
function refusalProblem(result: CliResult, c: Case, cwd: string): string | undefined {
  if (result.code !== 2) return `exit ${result.code}, expected 2; stderr: ${result.stderr.slice(0, 300)}`;
  if (/^\s+at .+:\d+:\d+\)?$/m.test(result.stderr) || /internal error/.test(result.stderr))
    return `stack trace or internal error: ${result.stderr.slice(0, 300)}`;
  for (const e of c.expected) {
    const file = e.file.startsWith(`${cwd}/`) ? relative(cwd, e.file) : e.file;
    if (!result.stderr.includes(`${file}:${e.line}:${e.col}: error:`) || !result.stderr.includes(`[${e.code}]`))
      return `no ${e.code} at ${file}:${e.line}:${e.col} in: ${result.stderr.slice(0, 400)}`;
  }
  if (!/nothing was changed/.test(result.stderr)) return 'does not say that nothing was changed';
  return undefined;
}
