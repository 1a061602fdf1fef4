import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadInventory } from '../../src/inventory/load.js';

const REPO = join(import.meta.dirname, '../..');
const BAD = join(REPO, 'tests/fixtures/inventories/bad');
const load = (file: string) => loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });

/** Each corpus file starts with `# expect: CODE LINE:COL` lines: the diagnostics it must produce, where. */
function expectations(file: string): { code: string; line: number; col: number }[] {
  const text = readFileSync(file, 'latin1');
  return [...text.matchAll(/^# expect: (\S+) (\d+):(\d+)$/gm)].map((m) => ({
    code: m[1]!,
    line: Number(m[2]),
    col: Number(m[3]),
  }));
}

describe('inventory validation', () => {
  it('accepts the embedded lab inventory without a single diagnostic', () => {
    const loaded = load(join(REPO, 'inventory/lab.yaml'));
    expect(loaded.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    expect(loaded.inventory?.nodes.map((n) => n.name)).toEqual(['cmp1', 'cmp2', 'ctl1']);
  });

  describe.each(
    readdirSync(BAD)
      .filter((f) => f.endsWith('.yaml'))
      .sort(),
  )('refuses %s', (name) => {
    it('with the expected code at the expected file:line:col, and no inventory', () => {
      const file = join(BAD, name);
      const loaded = load(file);
      expect(loaded.inventory).toBeUndefined();
      const wanted = expectations(file);
      expect(wanted.length).toBeGreaterThan(0);
      const found = loaded.diagnostics.map((d) => ({ code: d.code, line: d.location?.line, col: d.location?.col }));
      for (const w of wanted) expect(found).toContainEqual(w);
      for (const d of loaded.diagnostics) {
        expect(d.location?.file).toBe(file);
        expect(d.summary.length).toBeGreaterThan(10);
      }
    });
  });

  it('reports every problem at once, with paths and suggestions', () => {
    const file = join(BAD, 'unknown-role.yaml');
    const [d] = load(file).diagnostics;
    expect(d).toMatchObject({
      code: 'inventory.unknown-role',
      path: 'nodes[1].roles[0]',
      suggestion: "did you mean 'compute'?",
    });
  });

  it('suggests the closest attribute name', () => {
    const [d] = load(join(BAD, 'unknown-attribute.yaml')).diagnostics;
    expect(d?.suggestion).toBe("did you mean 'upstream'?");
  });
});
