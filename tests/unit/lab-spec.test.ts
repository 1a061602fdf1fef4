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

describe('lab.machines: inventory nodes on QEMU machines, installed onto their own disk', () => {
  const specWith = (machines: unknown) => {
    const doc = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as Record<string, any>;
    doc.lab.machines = machines;
    const file = join(mkdtempSync(join(tmpdir(), 'lab-spec-')), 'inventory.yaml');
    writeFileSync(file, stringify(doc));
    return () =>
      labSpecOf(loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' }).inventory!);
  };

  it('makes the named node a QEMU machine with the firmware asked for (legacy BIOS by default); the others stay containers', () => {
    const nodes = specWith({ cmp1: { kind: 'qemu', firmware: 'uefi' }, cmp2: { kind: 'qemu' } })()!.nodes;
    expect(nodes.map((n) => [n.name, n.kind, n.firmware])).toEqual([
      ['cmp1', 'qemu', 'uefi'],
      ['cmp2', 'qemu', 'bios'],
      ['ctl1', 'container', undefined],
    ]);
  });

  it.each([
    [{ cmp9: { kind: 'qemu' } }, /lab\.machines\.cmp9: no node of that name/],
    [{ cmp1: { kind: 'vm' } }, /lab\.machines\.cmp1\.kind: "vm" is not qemu or container/],
    [{ cmp1: { kind: 'qemu', firmware: 'coreboot' } }, /firmware: "coreboot" is not bios or uefi/],
    [['cmp1'], /lab\.machines must map node names/],
  ])('refuses %j', (machines, message) => {
    expect(specWith(machines)).toThrow(message);
  });
});
