import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mergeDiscovered } from '../../src/inventory/merge-discovered.js';

const INVENTORY = `# our rack — hand-written
deployment: rack
release: zed
os: debian-12
networks:
  admin: { cidr: 10.1.0.0/24, gateway: 10.1.0.1, static: 10.1.0.10-10.1.0.12 }
nodes:
  # the controller; do not touch
  - name: ctl1
    macs: ["52:54:00:00:00:01"]
    addresses: { admin: 10.1.0.10 }
    roles: [controller]
roles:
  controller: [base/node]
`;

const spare = {
  name: 'srv-123',
  macs: ['52:54:00:00:00:02'],
  bmcAddress: '10.2.0.12',
  summary: 'BMC 10.2.0.12, serial SRV-123',
};

describe('discover --write-inventory: merging discovered machines into an inventory', () => {
  it('appends new machines with a free static address, their MACs and BMC, no roles, and a comment saying what was found', () => {
    const result = mergeDiscovered(INVENTORY, [spare], '2026-11-22');
    expect(result.added).toEqual(['srv-123']);
    const doc = parse(result.text) as { nodes: unknown[] };
    expect(doc.nodes[1]).toEqual({
      name: 'srv-123',
      macs: ['52:54:00:00:00:02'],
      addresses: { admin: '10.1.0.11' },
      bmc: { address: '10.2.0.12' },
      roles: [],
    });
    expect(result.text).toContain('# discovered 2026-11-22: BMC 10.2.0.12, serial SRV-123');
  });

  it('keeps what people wrote: comments, order, names, roles and addresses', () => {
    const text = mergeDiscovered(INVENTORY, [spare], '2026-11-22').text;
    expect(text.startsWith('# our rack — hand-written\n')).toBe(true);
    expect(text).toContain('  # the controller; do not touch\n  - name: ctl1\n');
    expect(text.indexOf('roles:\n  controller')).toBeGreaterThan(text.indexOf('srv-123'));
  });

  it('recognises an entry by MAC or BMC even after it was renamed and given roles; only adds what is missing', () => {
    const first = mergeDiscovered(INVENTORY, [spare], '2026-11-22').text;
    const edited = first.replace('name: srv-123', 'name: cmp7').replace('roles: []', 'roles: [compute]');
    const again = mergeDiscovered(edited, [spare], '2026-11-23');
    expect(again.added).toEqual([]);
    expect(again.unchanged).toEqual(['cmp7']);
    expect(again.text).toBe(edited);
    const moreMacs = mergeDiscovered(edited, [{ ...spare, macs: [...spare.macs, '52:54:00:00:00:03'] }], '2026-11-23');
    expect(moreMacs.updated).toEqual(['cmp7']);
    expect(
      (parse(moreMacs.text) as { nodes: { name: string; macs: string[]; roles: string[] }[] }).nodes[1],
    ).toMatchObject({ name: 'cmp7', macs: ['52:54:00:00:00:02', '52:54:00:00:00:03'], roles: ['compute'] });
  });

  it('does not reuse addresses or names, and says which new entries still need an address', () => {
    const result = mergeDiscovered(
      INVENTORY,
      [
        spare,
        { ...spare, macs: ['52:54:00:00:00:04'], bmcAddress: '10.2.0.13' },
        { name: 'srv-9', macs: ['52:54:00:00:00:05'], summary: 'PXE' },
      ],
      '2026-11-22',
    );
    const nodes = (parse(result.text) as { nodes: { name: string; addresses?: { admin: string } }[] }).nodes;
    expect(nodes.map((n) => [n.name, n.addresses?.admin])).toEqual([
      ['ctl1', '10.1.0.10'],
      ['srv-123', '10.1.0.11'],
      ['srv-123-2', '10.1.0.12'],
      ['srv-9', undefined],
    ]);
    expect(result.needsAddress).toEqual(['srv-9']);
  });
});
