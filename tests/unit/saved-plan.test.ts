import { describe, expect, it } from 'vitest';
import type { Plan, PlanStep } from '../../src/plan/plan-types.js';
import { savedPlanProblems } from '../../src/plan/saved-plan.js';

const step = (id: string, kind: PlanStep['kind'], extra: Partial<PlanStep> = {}): PlanStep => ({
  id,
  node: 'n1',
  batch: 0,
  barclamp: 'b',
  role: 'r',
  kind,
  action: 'create',
  summary: `do ${id}`,
  changes: [],
  digest: `d-${id}`,
  ...extra,
});
const planOf = (steps: PlanStep[]): Plan => ({
  format: 'bootstrap-plan/1',
  deployment: 't',
  inputDigest: 'x',
  batches: [{ index: 0, barclamp: 'b', role: 'r' }],
  nodes: [{ name: 'n1', steps, checks: [] }],
  unreachable: [],
  summary: { create: 0, update: 0, run: 0, noop: 0 },
});
const fresh = planOf([
  step('b/r:package:chrony', 'package', { changes: ['chrony'] }),
  step('b/r:file:/etc/x', 'file', {
    action: 'update',
    before: { sha256: 'a', mode: '0644', owner: 'root', group: 'root' },
    after: { sha256: 'b', mode: '0644', owner: 'root', group: 'root' },
  }),
  step('b/r:command:init', 'command', { action: 'run' }),
  step('b/r:service:chrony', 'service', { changes: ['enable', 'start'] }),
  step('b/r:service:chrony:restart', 'handler', { action: 'run', service: 'chrony', triggers: ['b/r:file:/etc/x'] }),
]);
const packages = () => ['chrony'];
const INVENTORY = new Set(['n1', 'n2']);
const edited = (change: (steps: PlanStep[]) => void) => {
  const plan = structuredClone(fresh);
  change(plan.nodes[0]!.steps);
  return savedPlanProblems(plan, fresh, packages, INVENTORY);
};

describe('a saved plan is an expectation, not a program', () => {
  it('runs when every change is one the inputs give, also when a node changed since (drift is found while executing)', () => {
    expect(savedPlanProblems(fresh, fresh, packages, INVENTORY)).toEqual([]);
    const since = structuredClone(fresh);
    since.nodes[0]!.steps[1] = { ...since.nodes[0]!.steps[1]!, action: 'noop' };
    expect(savedPlanProblems(fresh, since, packages, INVENTORY)).toEqual([]);
  });

  it('refuses steps edited by hand: another command, digest, content, service, packages or trigger', () => {
    expect(edited((s) => s.push(step('b/r:command:evil', 'command', { action: 'run' })))).toEqual([
      'node n1, step "b/r:command:evil": no such step is derived from the inputs',
    ]);
    expect(edited((s) => (s[2]!.digest = 'tampered'))).toEqual([
      'node n1, step "b/r:command:init": digest differ from what the inputs give',
    ]);
    expect(edited((s) => (s[1]!.after = { sha256: 'evil', mode: '4755', owner: 'root', group: 'root' }))).toEqual([
      'node n1, step "b/r:file:/etc/x": after differ from what the inputs give',
    ]);
    expect(edited((s) => (s[4]!.service = 'ssh'))).toEqual([
      'node n1, step "b/r:service:chrony:restart": service differ from what the inputs give',
    ]);
    expect(edited((s) => (s[0]!.changes = ['chrony', 'netcat-traditional']))).toEqual([
      'node n1, step "b/r:package:chrony": packages netcat-traditional are not the resource\'s',
    ]);
    expect(edited((s) => (s[3]!.changes = ['enable', 'mask']))).toEqual([
      'node n1, step "b/r:service:chrony": service changes other than enable and start',
    ]);
    expect(edited((s) => (s[2]!.action = 'destroy' as PlanStep['action']))).toEqual([
      'node n1, step "b/r:command:init": unknown action "destroy"',
    ]);
  });

  it('leaves out nodes this run does not plan (--limit, unreachable): they are not run from the saved plan either', () => {
    const two = structuredClone(fresh);
    two.nodes.push({ ...structuredClone(fresh.nodes[0]!), name: 'n2' });
    two.nodes[1]!.steps.push(step('b/r:command:evil', 'command', { action: 'run' }));
    expect(savedPlanProblems(two, fresh, packages, INVENTORY)).toEqual([]);
  });

  it('refuses nodes the inventory does not plan and files that are not plans', () => {
    const foreign = structuredClone(fresh);
    foreign.nodes[0]!.name = 'elsewhere';
    expect(savedPlanProblems(foreign, fresh, packages, INVENTORY)).toEqual([
      'node "elsewhere" is not a node this inventory plans',
    ]);
    expect(savedPlanProblems({ ...fresh, nodes: 'x' } as unknown as Plan, fresh, packages, INVENTORY)).toEqual([
      'it has no list of nodes',
    ]);
  });
});
