import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { labSpecOf } from '../../src/lab/lab-spec.js';

const REPO = join(import.meta.dirname, '../..');

function specWithDir(dir: string) {
  const doc = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as Record<string, any>;
  doc.lab.dir = dir;
  const file = join(mkdtempSync(join(tmpdir(), 'lab-spec-')), 'inventory.yaml');
  writeFileSync(file, stringify(doc));
  return () => labSpecOf(loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' }).inventory!);
}

describe('lab.dir, which lab down removes recursively as root', () => {
  it.each(['/', '/etc', '/var/lib', '/tmp', '/usr/', 'relative/lab', '/var/lib/../../etc', '/var//lib/x', '/home'])(
    'refuses %j',
    (dir) => {
      expect(specWithDir(dir)).toThrow(/lab\.dir/);
    },
  );

  it.each(['/var/lib/bootstrap-lab/lab', '/tmp/bootstrap-ref-x/lab', '/srv/labs/one/'])(
    'takes a directory of its own: %j',
    (dir) => {
      expect(specWithDir(dir)()!.dir).toBe(dir);
    },
  );
});
