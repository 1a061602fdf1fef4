import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  bomChanges,
  INSTALLED_PACKAGES_SCRIPT,
  parseInstalledPackages,
  type BillOfMaterials,
} from '../../src/bom/bill-of-materials.js';

const bom = (runId: string, nodes: BillOfMaterials['nodes']): BillOfMaterials => ({
  format: 'bootstrap-bom/1',
  runId,
  nodes,
});

describe('the bill of materials', () => {
  it("reads dpkg's own list on this Debian machine: every installed package with its exact version", () => {
    const packages = parseInstalledPackages(
      execFileSync('sh', ['-c', INSTALLED_PACKAGES_SCRIPT], { encoding: 'utf8' }),
    );
    const dpkg = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'dpkg'], { encoding: 'utf8' });
    expect(packages.dpkg).toBe(dpkg);
    expect(Object.keys(packages).length).toBeGreaterThan(100);
    expect(Object.keys(packages)).toEqual([...Object.keys(packages)].sort((a, b) => a.localeCompare(b)));
  });

  it('keeps only package lines, with an architecture qualifier where dpkg gives one', () => {
    expect(parseInstalledPackages('chrony 4.3-2+deb12u1\nlibc6:i386 2.36-9\ngarbage line here\n\n')).toEqual({
      chrony: '4.3-2+deb12u1',
      'libc6:i386': '2.36-9',
    });
  });

  it('says per node what was upgraded, added and removed between two runs', () => {
    const a = bom('r1', { ctl1: { chrony: '4.3-2', nova: '26.2.2-1' }, cmp1: { chrony: '4.3-2' } });
    const b = bom('r2', {
      ctl1: { chrony: '4.3-2+deb12u1', nova: '26.2.2-1', tempest: '33.0.0' },
      cmp2: { chrony: '4.3-2' },
    });
    expect(bomChanges(a, b)).toEqual([
      { node: 'cmp1', package: 'chrony', before: '4.3-2' },
      { node: 'cmp2', package: 'chrony', after: '4.3-2' },
      { node: 'ctl1', package: 'chrony', before: '4.3-2', after: '4.3-2+deb12u1' },
      { node: 'ctl1', package: 'tempest', after: '33.0.0' },
    ]);
    expect(bomChanges(a, a)).toEqual([]);
  });
});
