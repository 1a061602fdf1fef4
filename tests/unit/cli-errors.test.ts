import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(REPO, 'bin/bootstrap.js'), ...args], { cwd: REPO }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('the CLI with bad input', () => {
  it('validate: exit 2, every problem with file:line:col, no stack trace', async () => {
    const file = 'tests/fixtures/inventories/bad/duplicate-name.yaml';
    const result = await cli(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${file}:9:12: error: node name 'ctl1' is also used by nodes[0] (nodes[1].name) [inventory.duplicate-name]`,
    );
    expect(result.stderr).toContain('nothing was changed');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('apply refuses an invalid inventory before touching anything', async () => {
    const result = await cli([
      'apply',
      'tests/fixtures/inventories/bad/overlapping-ranges.yaml',
      '--state-dir',
      '/tmp/bootstrap-never-created',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[inventory.range-overlap]');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--limit naming a node the inventory has in maintenance is refused: runs leave it alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maintenance-'));
    const inventory = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as {
      nodes: { name: string; maintenance?: boolean }[];
    };
    inventory.nodes.find((n) => n.name === 'cmp2')!.maintenance = true;
    writeFileSync(join(dir, 'inventory.yaml'), stringify(inventory));
    const result = await cli([
      'apply',
      join(dir, 'inventory.yaml'),
      '--limit',
      'cmp2',
      '--state-dir',
      join(dir, 'state'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--limit names node(s) the inventory has in maintenance: cmp2');
    expect(result.stderr).toContain('remove its maintenance: true');
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('a dashboard token on the command line is refused (every local user could read it), with where to put it instead', async () => {
    const result = await cli([
      'serve',
      'inventory/lab.yaml',
      '--listen',
      '0.0.0.0:0',
      '--token',
      'a-token-of-sufficient-length',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--token puts the dashboard token in the process list');
    expect(result.stderr).toContain('BOOTSTRAP_UI_TOKEN');
  });

  it('unknown commands and options are usage errors', async () => {
    expect((await cli(['aply'])).code).toBe(2);
    const option = await cli(['plan', 'inventory/lab.yaml', '--paralel', '3']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --paralel');
  });
});
