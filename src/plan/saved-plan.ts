import type { Plan, PlanStep } from './plan-types.js';

/**
 * A saved plan (`apply --plan`) is an expectation, not a program: apply plans again from the inventory,
 * barclamps, secrets and the nodes' facts, and runs the saved plan only when each of its changes is one this
 * fresh plan also derives — the same resource, digest, summary and (handlers) service and triggers, package
 * names the barclamp declares, service changes that exist. What the saved plan may differ in is what the nodes
 * may have done since (a file someone fixed, a drift that execution itself detects and records). Returns the
 * problems, empty when the saved plan may run.
 */
export function savedPlanProblems(
  saved: Plan,
  fresh: Plan,
  packageNames: (node: string, stepId: string) => readonly string[] | undefined,
  inventoryNodes: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const freshNodes = new Map(fresh.nodes.map((n) => [n.name, new Map(n.steps.map((s) => [s.id, s]))]));
  // nodes this run does not work on (--limit) or could not reach are not run from the saved plan either
  const notPlannedNow = new Set([...inventoryNodes].filter((n) => !freshNodes.has(n)));
  if (!Array.isArray(saved.nodes)) return ['it has no list of nodes'];
  for (const node of saved.nodes) {
    if (notPlannedNow.has(node?.name)) continue;
    const steps = freshNodes.get(node?.name);
    if (!steps) {
      problems.push(`node ${JSON.stringify(node?.name)} is not a node this inventory plans`);
      continue;
    }
    if (!Array.isArray(node.steps)) {
      problems.push(`node ${node.name} has no list of steps`);
      continue;
    }
    for (const step of node.steps) {
      if (step?.action === 'noop') continue;
      const expected = steps.get(step?.id);
      const where = `node ${node.name}, step ${JSON.stringify(step?.id)}`;
      if (!expected) {
        problems.push(`${where}: no such step is derived from the inputs`);
        continue;
      }
      const differs = differingFields(step, expected);
      if (differs.length > 0) problems.push(`${where}: ${differs.join(', ')} differ from what the inputs give`);
      if (!['create', 'update', 'run'].includes(step.action))
        problems.push(`${where}: unknown action ${JSON.stringify(step.action)}`);
      if (step.kind === 'package') {
        const declared = packageNames(node.name, step.id) ?? [];
        const foreign = (Array.isArray(step.changes) ? step.changes : [String(step.changes)]).filter(
          (name) => !declared.includes(name),
        );
        if (foreign.length > 0) problems.push(`${where}: packages ${foreign.join(', ')} are not the resource's`);
      }
      if (
        step.kind === 'service' &&
        (!Array.isArray(step.changes) || step.changes.some((c) => c !== 'enable' && c !== 'start'))
      )
        problems.push(`${where}: service changes other than enable and start`);
    }
  }
  return problems;
}

const FIXED: (keyof PlanStep)[] = [
  'node',
  'batch',
  'barclamp',
  'role',
  'kind',
  'summary',
  'digest',
  'service',
  'triggers',
];

function differingFields(saved: PlanStep, expected: PlanStep): string[] {
  const fields = FIXED.filter((field) => JSON.stringify(saved[field]) !== JSON.stringify(expected[field]));
  // a file's new content is the barclamp's: its digest after the write must be the one rendered now
  if (expected.after && JSON.stringify(saved.after) !== JSON.stringify(expected.after)) fields.push('after');
  return fields;
}
