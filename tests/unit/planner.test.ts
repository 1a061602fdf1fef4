import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { computeDesired } from '../../src/plan/desired.js';
import type { DesiredState } from '../../src/plan/desired-types.js';
import type { NodeFacts } from '../../src/plan/facts.js';
import { computePlan, sha } from '../../src/plan/planner.js';
import { factRequestFor } from '../../src/plan/gather-script.js';

const REPO = join(import.meta.dirname, '../..');

function desiredFor(inventoryFile: string, secrets: Record<string, string> = {}): DesiredState {
  const loaded = loadInventory(inventoryFile, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });
  expect(loaded.diagnostics).toEqual([]);
  const result = computeDesired({
    inventory: loaded.inventory!,
    barclamps: loaded.catalog.barclamps,
    secrets,
    sharedTemplates: join(REPO, 'barclamps', '_shared'),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.desired;
}

/** Facts of a node that already is exactly as desired. */
function convergedFacts(desired: DesiredState, node: string): NodeFacts {
  const facts: NodeFacts = { node, paths: {}, packages: {}, services: {}, guards: {} };
  for (const batch of desired.nodes.find((n) => n.node === node)!.batches) {
    for (const r of batch.resources) {
      if (r.type === 'file')
        facts.paths[r.path] = {
          exists: true,
          kind: 'file',
          mode: r.mode,
          owner: r.owner,
          group: r.group,
          sha256: sha(r.content),
          content: r.content,
        };
      if (r.type === 'directory')
        facts.paths[r.path] = { exists: true, kind: 'directory', mode: r.mode, owner: r.owner, group: r.group };
      if (r.type === 'package') for (const name of r.names) facts.packages[name] = { installed: true };
      if (r.type === 'service') facts.services[r.name] = { enabled: true, active: true };
      if (r.type === 'command') facts.guards[r.id] = true;
    }
  }
  return facts;
}

const emptyFacts = (node: string): NodeFacts => ({ node, paths: {}, packages: {}, services: {}, guards: {} });

describe('planner', () => {
  const desired = desiredFor(join(REPO, 'tests/fixtures/ntp-lab.yaml'));
  const nodes = desired.nodes.map((n) => n.node);

  it('plans everything on fresh nodes, in dependency and batch order, the same way every time', () => {
    const facts = new Map(nodes.map((n) => [n, emptyFacts(n)]));
    const plan = computePlan(desired, facts, 'digest');
    expect(JSON.stringify(computePlan(desired, facts, 'digest'))).toBe(JSON.stringify(plan));
    expect(plan.batches.map((b) => `${b.barclamp}/${b.role}`)).toEqual(['base/node', 'ntp/server', 'ntp/client']);
    expect(plan.nodes.find((n) => n.name === 'ctl1')!.steps.map((s) => `${s.action} ${s.summary}`)).toMatchSnapshot();
    expect(plan.summary).toEqual({ create: 36, update: 3, run: 6, noop: 0 });
  });

  it('plans nothing on converged nodes', () => {
    const plan = computePlan(desired, new Map(nodes.map((n) => [n, convergedFacts(desired, n)])), 'digest');
    expect(plan.summary).toEqual({ create: 0, update: 0, run: 0, noop: 45 });
  });

  it("says why a command runs in its guard's own words (what it printed last), and not for a sensitive command", () => {
    const facts = new Map(nodes.map((n) => [n, convergedFacts(desired, n)]));
    const ctl1 = facts.get('ctl1')!;
    const command = desired.nodes
      .find((n) => n.node === 'ctl1')!
      .batches.flatMap((b) => b.resources)
      .find((r) => r.type === 'command' && r.unless !== undefined)!;
    ctl1.guards[command.id] = false;
    ctl1.guardReasons = { [command.id]: 'to do: add host cmp2 to segment compute' };
    const step = (plan: ReturnType<typeof computePlan>) =>
      plan.nodes.find((n) => n.name === 'ctl1')!.steps.find((s) => s.id === command.id)!;
    expect(step(computePlan(desired, facts, 'digest'))).toMatchObject({
      action: 'run',
      changes: ['guard (unless) says: to do: add host cmp2 to segment compute'],
    });
    const secretive: DesiredState = {
      ...desired,
      nodes: desired.nodes.map((n) => ({
        ...n,
        batches: n.batches.map((b) => ({
          ...b,
          resources: b.resources.map((r) => (r.id === command.id ? { ...r, sensitive: true } : r)),
        })),
      })),
    };
    expect(step(computePlan(secretive, facts, 'digest')).changes).toEqual(['guard (unless) failed']);
  });

  it('updates one changed file with a diff and restarts only the service it notifies', () => {
    const facts = new Map(nodes.map((n) => [n, convergedFacts(desired, n)]));
    const cmp1 = facts.get('cmp1')!;
    const path = '/etc/chrony/chrony.conf';
    const edited = (cmp1.paths[path] as { content: string }).content.replace('makestep 1.0 3', 'makestep 9 9');
    cmp1.paths[path] = {
      exists: true,
      kind: 'file',
      mode: '0644',
      owner: 'root',
      group: 'root',
      sha256: sha(edited),
      content: edited,
    };
    const plan = computePlan(desired, facts, 'digest');
    const changes = plan.nodes.flatMap((n) =>
      n.steps.filter((s) => s.action !== 'noop').map((s) => `${n.name} ${s.action} ${s.summary}`),
    );
    expect(changes).toEqual(['cmp1 update write /etc/chrony/chrony.conf', 'cmp1 run restart chrony']);
    const step = plan.nodes.find((n) => n.name === 'cmp1')!.steps.find((s) => s.summary === `write ${path}`)!;
    expect(step.diff).toContain('-makestep 9 9');
    expect(step.diff).toContain('+makestep 1.0 3');
  });

  it('does not restart a service that this run starts anyway', () => {
    const facts = new Map(nodes.map((n) => [n, convergedFacts(desired, n)]));
    const ctl1 = facts.get('ctl1')!;
    ctl1.services.chrony = { enabled: true, active: false };
    ctl1.paths['/etc/default/chrony'] = { exists: false };
    const steps = computePlan(desired, facts, 'digest')
      .nodes.find((n) => n.name === 'ctl1')!
      .steps.filter((s) => s.action !== 'noop');
    expect(steps.map((s) => `${s.action} ${s.summary} ${s.changes.join(',')}`)).toEqual([
      'create write /etc/default/chrony create',
      'update service chrony start',
    ]);
  });

  it('a service whose package this run installs is started once, configured, and not restarted (package steps start no services)', () => {
    const facts = new Map(nodes.map((n) => [n, convergedFacts(desired, n)]));
    const ctl1 = facts.get('ctl1')!;
    ctl1.packages.chrony = { installed: false };
    ctl1.services.chrony = { enabled: false, active: false };
    ctl1.paths['/etc/chrony/chrony.conf'] = { exists: false };
    const steps = computePlan(desired, facts, 'digest')
      .nodes.find((n) => n.name === 'ctl1')!
      .steps.filter((s) => s.action !== 'noop');
    expect(steps.map((s) => `${s.action} ${s.summary}`)).toEqual([
      'create install chrony',
      'create write /etc/chrony/chrony.conf',
      'update service chrony',
    ]);
  });

  it('restarts a service an interrupted earlier run still owes a restart, although nothing changes now', () => {
    const facts = new Map(nodes.map((n) => [n, convergedFacts(desired, n)]));
    facts.get('cmp2')!.pendingRestarts = ['chrony'];
    const plan = computePlan(desired, facts, 'digest');
    const steps = plan.nodes.find((n) => n.name === 'cmp2')!.steps.filter((s) => s.action !== 'noop');
    expect(steps.map((s) => `${s.action} ${s.summary}: ${s.changes.join(',')}`)).toEqual([
      'run restart chrony: owed by an earlier run that ended before restarting it',
    ]);
    expect(plan.summary.run).toBe(1);
  });

  it('never puts a secret into the plan: sensitive files and commands are redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'planner-'));
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      [
        'deployment: s',
        'release: zed',
        'os: debian-12',
        `barclamp_paths: [${join(REPO, 'tests/fixtures/barclamps')}]`,
        'networks: {admin: {cidr: 10.5.0.0/24}}',
        'nodes: [{name: n1, addresses: {admin: 10.5.0.5}, roles: [r]}]',
        'roles: {r: [base/node, keeper/holder]}',
        '',
      ].join('\n'),
    );
    const secret = 'Zq8secretvalueXy7Zq8secre';
    const withSecret = desiredFor(inventory, { 'keeper.token': secret });
    const plan = computePlan(withSecret, new Map([['n1', emptyFacts('n1')]]), 'digest');
    const file = plan.nodes[0]!.steps.find((s) => s.summary === 'write /etc/keeper.conf')!;
    expect(file.diff).toBe('(sensitive)');
    expect(JSON.stringify(plan)).not.toContain(secret);
    expect(factRequestFor(withSecret, 'n1').guards.filter((g) => g.id.startsWith('keeper/'))).toEqual([
      { id: 'keeper/holder:command:register', creates: '/var/lib/keeper/registered' },
    ]);
    expect(JSON.stringify(factRequestFor(withSecret, 'n1'))).not.toContain(secret);
  });
});
