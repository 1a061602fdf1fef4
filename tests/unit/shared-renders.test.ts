import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import ejs from 'ejs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { computeDesired } from '../../src/plan/desired.js';

const REPO = join(import.meta.dirname, '../..');

/**
 * A template that cannot see its node is rendered once and shared by every node with the same attributes
 * (that is what keeps planning linear in nodes). What a barclamp author relies on: every node still gets
 * exactly what rendering it on its own would give.
 */
describe('templates rendered once for many nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-shared-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const barclamp = join(dir, 'barclamps', 'roster');
  mkdirSync(join(barclamp, 'templates'), { recursive: true });
  writeFileSync(
    join(barclamp, 'barclamp.yaml'),
    stringify({
      name: 'roster',
      description: 'Test barclamp: files that do and do not depend on the node they are rendered for.',
      version: '1.0.0',
      requires: [],
      attributes: { greeting: { type: 'string', description: 'First line.', default: 'hello' } },
      roles: {
        member: {
          description: 'Every node.',
          resources: [
            { file: { path: '/etc/roster', template: 'roster.ejs', mode: '0644' } },
            { file: { path: '/etc/self-by-locals', template: 'self-by-locals.ejs', mode: '0644' } },
            { file: { path: '/etc/self', content: '<%= node.name %>\n', mode: '0644' } },
            { file: { path: '/etc/with-partial', template: 'with-partial.ejs', mode: '0644' } },
          ],
        },
      },
    }),
  );
  writeFileSync(
    join(barclamp, 'templates', 'roster.ejs'),
    '<%= attributes.greeting %>\n<% for (const n of nodes) { -%>\n<%= n.name %>\n<% } -%>\n',
  );
  writeFileSync(join(barclamp, 'templates', 'self-by-locals.ejs'), "<%= locals['no' + 'de'].name %>\n");
  writeFileSync(join(barclamp, 'templates', 'with-partial.ejs'), "<%- include('partial.ejs') %>");
  writeFileSync(join(barclamp, 'templates', 'partial.ejs'), 'first version\n');
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    stringify({
      deployment: 'shared',
      release: 'zed',
      os: 'debian-12',
      barclamp_paths: ['barclamps'],
      networks: { admin: { cidr: '10.90.0.0/24', gateway: '10.90.0.1', static: '10.90.0.10-10.90.0.99' } },
      ssh: { user: 'root' },
      nodes: ['a', 'b', 'c'].map((name, i) => ({
        name,
        addresses: { admin: `10.90.0.${11 + i}` },
        roles: ['all'],
        ...(name === 'b' ? { attributes: { roster: { greeting: 'hi from b' } } } : {}),
      })),
      roles: { all: ['roster/member'] },
    }),
  );

  const files = () => {
    const loaded = loadInventory(inventory, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });
    expect(loaded.diagnostics).toEqual([]);
    const result = computeDesired({
      inventory: loaded.inventory!,
      barclamps: loaded.catalog.barclamps,
      secrets: {},
      sharedTemplates: join(REPO, 'barclamps', '_shared'),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    return Object.fromEntries(
      result.desired.nodes.map((n) => [
        n.node,
        Object.fromEntries(
          n.batches.flatMap((b) => b.resources).flatMap((r) => (r.type === 'file' ? [[r.path, r.content]] : [])),
        ),
      ]),
    );
  };

  it('a node with its own attributes gets its own rendering of a template the others share', () => {
    const byNode = files();
    expect(byNode.a!['/etc/roster']).toBe('hello\na\nb\nc\n');
    expect(byNode.b!['/etc/roster']).toBe('hi from b\na\nb\nc\n');
    expect(byNode.c!['/etc/roster']).toBe('hello\na\nb\nc\n');
  });

  it('a template that reaches its node, by name or through the locals object, is rendered for each node', () => {
    const byNode = files();
    expect(['a', 'b', 'c'].map((n) => byNode[n]!['/etc/self'])).toEqual(['a\n', 'b\n', 'c\n']);
    expect(['a', 'b', 'c'].map((n) => byNode[n]!['/etc/self-by-locals'])).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('an edited partial is picked up by the next run of the same process, and ejs keeps no cache of its own', () => {
    const ejsCache = ejs.cache;
    expect(files().a!['/etc/with-partial']).toBe('first version\n');
    writeFileSync(join(barclamp, 'templates', 'partial.ejs'), 'second version\n');
    expect(Object.values(files()).map((f) => f['/etc/with-partial'])).toEqual([
      'second version\n',
      'second version\n',
      'second version\n',
    ]);
    expect(ejs.cache).toBe(ejsCache);
  });
});
