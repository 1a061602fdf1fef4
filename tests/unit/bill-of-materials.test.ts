import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { pinsForNode } from '../../src/inventory/pinned-packages.js';
import { computeDesired } from '../../src/plan/desired.js';
import {
  bomChanges,
  INSTALLED_PACKAGES_SCRIPT,
  parseInstalledPackages,
  type BillOfMaterials,
} from '../../src/bom/bill-of-materials.js';

const REPO = join(import.meta.dirname, '../..');

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

describe('pinning a known-good bill of materials (inventory bom.pin)', () => {
  const write = (content: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'bom-pin-'));
    writeFileSync(join(dir, 'bill.json'), typeof content === 'string' ? content : JSON.stringify(content));
    const doc = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as Record<string, any>;
    doc.bom = { pin: 'bill.json' };
    // the base barclamp alone: it is the one that pins
    doc.roles = { controller: ['base/node'], compute: ['base/node'] };
    doc.attributes = { base: doc.attributes.base };
    delete doc.bmc.fence;
    writeFileSync(join(dir, 'inventory.yaml'), stringify(doc));
    return join(dir, 'inventory.yaml');
  };
  const load = (file: string) => loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });
  const bill = {
    format: 'bootstrap-bom/1',
    runId: 'r1',
    nodes: {
      ctl1: { chrony: '4.3-2+deb12u1', 'libc6:amd64': '2.36-9+deb12u13', 'libc6:i386': '2.36-9' },
      cmp1: { chrony: '4.3-2', less: '590-2.1~deb12u2' },
    },
  };

  it("holds each node to its own recorded versions, over its peers' (a node the bill does not name gets theirs); native architecture qualifiers dropped, foreign packages not pinned", () => {
    const { inventory, diagnostics } = load(write(bill));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(pinsForNode(inventory!.pinnedPackages, 'ctl1')).toEqual({
      chrony: '4.3-2+deb12u1',
      less: '590-2.1~deb12u2',
      libc6: '2.36-9+deb12u13',
    });
    expect(pinsForNode(inventory!.pinnedPackages, 'cmp1')).toEqual({
      chrony: '4.3-2',
      less: '590-2.1~deb12u2',
      libc6: '2.36-9+deb12u13',
    });
    expect(pinsForNode(inventory!.pinnedPackages, 'cmp2')).toEqual({
      chrony: '4.3-2+deb12u1',
      less: '590-2.1~deb12u2',
      libc6: '2.36-9+deb12u13',
    });
    expect(pinsForNode(undefined, 'ctl1')).toEqual({});
  });

  it('renders apt preferences the base barclamp installs: every pinned version at priority 1001', () => {
    const { inventory, catalog } = load(write(bill));
    const result = computeDesired({
      inventory: inventory!,
      barclamps: catalog.barclamps,
      secrets: {},
      sharedTemplates: join(REPO, 'barclamps', '_shared'),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    const file = result.desired.nodes
      .find((n) => n.node === 'cmp1')!
      .batches.flatMap((b) => b.resources)
      .find((r) => r.type === 'file' && r.path === '/etc/apt/preferences.d/bootstrap-bom');
    if (file?.type !== 'file') throw new Error('no preferences file');
    expect(file.content).toContain('\nPackage: chrony\nPin: version 4.3-2\nPin-Priority: 1001\n');
    expect(file.content).toContain('\nPackage: libc6\nPin: version 2.36-9+deb12u13\nPin-Priority: 1001\n');
  });

  it.each([
    ['{ nope', /bill\.json is not JSON/],
    [{ format: 'something/2', nodes: {} }, /is not a bill of materials \(format bootstrap-bom\/1\)/],
    [
      { format: 'bootstrap-bom/1', nodes: { ctl1: { 'chrony; reboot': '1' } } },
      /"chrony; reboot" is not a Debian package name/,
    ],
    [
      { format: 'bootstrap-bom/1', nodes: { ctl1: { chrony: '1\nPackage: *' } } },
      /package chrony has no Debian version/,
    ],
  ])('refuses a bill that is not one, at the line of bom.pin (exit 2 territory): %j', (content, message) => {
    const { inventory, diagnostics } = load(write(content));
    expect(inventory).toBeUndefined();
    const problem = diagnostics.find((d) => d.code === 'inventory.bom.pin');
    expect(problem?.summary).toMatch(message);
    expect(problem?.location?.line).toBeGreaterThan(1);
  });
});
