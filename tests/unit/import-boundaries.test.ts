import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/**
 * The layers of src/, lowest first: a folder imports only from folders of a lower layer (and itself). Folders of
 * the same layer are independent of each other. What this keeps true: util and core at the bottom; the planner
 * (plan) never reaches the executor (apply) or anything that runs; gathering facts is its own step between them;
 * reports read runs and never orchestrate; the engine's use cases sit above everything they combine; only the
 * dashboard and the CLI are above the engine.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['core'],
  ['ipmi', 'transport'],
  ['failures', 'barclamp'],
  ['inventory'],
  ['secrets'],
  ['plan'],
  ['run'],
  ['gather', 'apply', 'provision', 'bom', 'recoveries', 'report'],
  ['lab'],
  ['engine'],
  ['dashboard'],
  ['cli'],
];

/** The only files outside src/lab that may import it: the lab's own commands and the embedded default. */
const LAB_DOORS = ['cli/commands/lab.ts', 'cli/commands/embedded-lab.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of src/, static or dynamic, as [importing file, imported file] relative to src/. */
function imports(): [string, string][] {
  const found: [string, string][] = [];
  for (const file of sourceFiles(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      found.push([relative(SRC, file), relative(SRC, resolve(dirname(file), match[1]!))]);
    }
  }
  return found;
}

const folderOf = (path: string) => path.split('/')[0]!;
const layerOf = (folder: string) => LAYERS.findIndex((layer) => layer.includes(folder));

describe('import boundaries', () => {
  const all = imports();

  it('sees the imports (the scan works)', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all).toContainEqual(['engine/run.ts', 'apply/executor.js']);
  });

  it('every folder of src/ has its layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
    expect(readdirSync(SRC).filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it('a folder imports only from lower layers: nothing reaches up or sideways', () => {
    const wrong = all
      .filter(([from, to]) => folderOf(from) !== folderOf(to) && layerOf(folderOf(to)) >= layerOf(folderOf(from)))
      .map(([from, to]) => `${from} → ${to}`);
    expect(wrong).toEqual([]);
  });

  it('no product code imports the lab: only the lab commands and the embedded default do', () => {
    const wrong = all
      .filter(([from, to]) => folderOf(to) === 'lab' && folderOf(from) !== 'lab' && !LAB_DOORS.includes(from))
      .map(([from, to]) => `${from} → ${to}`);
    expect(wrong).toEqual([]);
  });
});
