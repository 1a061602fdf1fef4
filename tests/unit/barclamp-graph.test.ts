import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/barclamp/catalog.js';
import { dependencyOrder } from '../../src/barclamp/graph.js';

const REPO = join(import.meta.dirname, '../..');

describe('barclamp dependency order', () => {
  const catalog = loadCatalog([join(REPO, 'barclamps')]);

  it('loads the shipped barclamps without problems', () => {
    expect(catalog.diagnostics).toEqual([]);
    expect([...catalog.barclamps.keys()].sort()).toEqual([
      'base',
      'database',
      'glance',
      'keystone',
      'masakari',
      'masakari-monitors',
      'memcached',
      'neutron',
      'nova',
      'ntp',
      'pacemaker',
      'placement',
      'provisioner',
      'rabbitmq',
      'tempest',
    ]);
  });

  it('puts requirements first, deterministically', () => {
    expect(dependencyOrder(['ntp'], catalog.barclamps)).toEqual({ ok: true, order: ['base', 'ntp'] });
    expect(dependencyOrder(['ntp', 'base'], catalog.barclamps)).toEqual(
      dependencyOrder(['base', 'ntp'], catalog.barclamps),
    );
  });

  it('names the cycle', () => {
    const cyclic = loadCatalog([join(REPO, 'tests/fixtures/barclamps-cycle')]);
    const result = dependencyOrder(['a'], cyclic.barclamps);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]!.summary).toBe('barclamp dependency cycle: a → b → c → a');
  });

  it('names a missing barclamp and who requires it, with a suggestion', () => {
    const result = dependencyOrder(['nttp'], catalog.barclamps);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.diagnostics[0]).toMatchObject({
        code: 'barclamp.missing',
        summary: "barclamp 'nttp' does not exist",
        suggestion: "did you mean 'ntp'?",
      });
  });
});
