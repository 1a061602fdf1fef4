import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../src/inventory/load.js';
import { computeDesired, declaredSecrets } from '../src/plan/desired.js';
import type { DesiredState } from '../src/plan/desired-types.js';
import type { NodeFacts } from '../src/plan/facts.js';
import { computePlan, desiredDigest, memoizedSha } from '../src/plan/planner.js';
import { randomSecret } from '../src/secrets/secret-store.js';

const REPO = join(import.meta.dirname, '../..');

/**
 * Planning at scale: the full reference barclamp set on synthetic racks (1 controller, 15 computes in the
 * pacemaker/masakari ring — its limit — and plain computes for the rest). No SSH: the facts are what gather
 * would report for a converged rack (every file, package, service and guard as desired), derived from the
 * desired state itself, so the plan is the no-op plan an operator re-applying a rack gets.
 */
export interface PlanningResult {
  nodes: number;
  validateMs: number;
  renderMs: number;
  planMs: number;
  totalMs: number;
  steps: number;
  changes: number;
  peakRssMiB: number;
}

export function syntheticInventory(nodes: number): Record<string, unknown> {
  const address = (i: number) => `10.${64 + Math.floor(i / 65_000)}.${Math.floor((i % 65_000) / 250)}.${(i % 250) + 2}`;
  return {
    deployment: `bench-${nodes}`,
    release: 'zed',
    os: 'debian-12',
    networks: { admin: { cidr: '10.64.0.0/10', gateway: '10.64.0.1', static: '10.64.0.2-10.127.255.254' } },
    ssh: { user: 'root' },
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: i === 0 ? 'ctl1' : `cmp${i}`,
      addresses: { admin: address(i) },
      roles: [i === 0 ? 'controller' : i <= 15 ? 'compute-ha' : 'compute'],
    })),
    roles: {
      controller: [
        'base/node',
        'ntp/server',
        'database/server',
        'rabbitmq/server',
        'memcached/server',
        'keystone/server',
        'glance/server',
        'placement/server',
        'neutron/server',
        'nova/controller',
        'pacemaker/node',
        'masakari/server',
      ],
      'compute-ha': [
        'base/node',
        'ntp/client',
        'neutron/agent',
        'nova/compute',
        'pacemaker/node',
        'masakari-monitors/compute',
      ],
      compute: ['base/node', 'ntp/client', 'neutron/agent', 'nova/compute'],
    },
    attributes: { nova: { virt_type: 'qemu', cpu_mode: 'none' }, pacemaker: { stonith: false } },
  };
}

/** What gather reports for a node that already is exactly as desired. */
export function convergedFacts(desired: DesiredState): Map<string, NodeFacts> {
  const sha = memoizedSha();
  const facts = new Map<string, NodeFacts>();
  for (const node of desired.nodes) {
    const f: NodeFacts = { node: node.node, paths: {}, packages: {}, services: {}, guards: {} };
    for (const batch of node.batches) {
      for (const r of batch.resources) {
        if (r.type === 'package') for (const name of r.names) f.packages[name] = { installed: true, version: '1' };
        if (r.type === 'file')
          f.paths[r.path] = {
            exists: true,
            kind: 'file',
            mode: r.mode,
            owner: r.owner,
            group: r.group,
            sha256: sha(r.content),
          };
        if (r.type === 'directory')
          f.paths[r.path] = { exists: true, kind: 'directory', mode: r.mode, owner: r.owner, group: r.group };
        if (r.type === 'service') f.services[r.name] = { enabled: r.enabled, active: r.started };
        if (r.type === 'command') f.guards[r.id] = true;
      }
    }
    facts.set(node.node, f);
  }
  return facts;
}

export function planAtScale(nodes: number): PlanningResult {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-bench-plan-'));
  try {
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, stringify(syntheticInventory(nodes)));
    const t0 = performance.now();
    const loaded = loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });
    if (!loaded.inventory)
      throw new Error(`synthetic inventory is invalid: ${loaded.diagnostics.map((d) => d.summary).join('; ')}`);
    const t1 = performance.now();
    const secrets = Object.fromEntries(
      declaredSecrets(loaded.inventory, loaded.catalog.barclamps).map((s) => [s.key, randomSecret(s.length)]),
    );
    const result = computeDesired({
      inventory: loaded.inventory,
      barclamps: loaded.catalog.barclamps,
      secrets,
      sharedTemplates: join(REPO, 'barclamps', '_shared'),
    });
    if (!result.ok) throw new Error(`render failed: ${result.diagnostics.map((d) => d.summary).join('; ')}`);
    const t2 = performance.now();
    // what gather would report (on the nodes, in a real run): not planning's work, so not timed
    const facts = convergedFacts(result.desired);
    const t3 = performance.now();
    const plan = computePlan(result.desired, facts, desiredDigest(result.desired));
    const t4 = performance.now();
    const steps = plan.nodes.reduce((n, node) => n + node.steps.length, 0);
    const changes = plan.nodes.reduce((n, node) => n + node.steps.filter((s) => s.action !== 'noop').length, 0);
    return {
      nodes,
      validateMs: t1 - t0,
      renderMs: t2 - t1,
      planMs: t4 - t3,
      totalMs: t2 - t0 + (t4 - t3),
      steps,
      changes,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
