import type { Plan, PlanStep } from '../plan/plan-types.js';

const SYMBOL: Record<PlanStep['action'], string> = { create: '+', update: '~', run: '!', noop: ' ' };

/** The human plan: per node, each change with its symbol, file diffs indented; then the counts. */
export function planText(plan: Plan, color: boolean): string {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tint: Record<PlanStep['action'], number> = { create: 32, update: 33, run: 36, noop: 0 };
  const lines: string[] = [];
  for (const node of plan.nodes) {
    const changes = node.steps.filter((s) => s.action !== 'noop');
    const unchanged = node.steps.length - changes.length;
    lines.push(`${paint(1, node.name)}: ${changes.length} change(s), ${unchanged} unchanged`);
    for (const step of changes) {
      const detail = step.changes.length > 0 ? ` (${step.changes.join(', ')})` : '';
      lines.push(
        `  ${paint(tint[step.action], `${SYMBOL[step.action]} ${step.barclamp}/${step.role} ${step.summary}`)}${detail}`,
      );
      if (step.diff) lines.push(...indentDiff(step.diff, paint));
    }
  }
  for (const u of plan.unreachable)
    lines.push(`${paint(1, u.node)}: ${paint(31, `not planned: ${u.gene}`)} — ${u.message}`);
  const s = plan.summary;
  lines.push(
    '',
    `Plan: ${s.create} to create, ${s.update} to update, ${s.run} to run, ${s.noop} unchanged${plan.unreachable.length > 0 ? `, ${plan.unreachable.length} node(s) unreachable` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}

function indentDiff(diff: string, paint: (code: number, text: string) => string): string[] {
  if (!diff.includes('\n')) return [`      ${diff}`];
  return diff
    .split('\n')
    .filter((line) => !line.startsWith('Index:') && !line.startsWith('====') && line !== '')
    .map(
      (line) =>
        `      ${line.startsWith('+') && !line.startsWith('+++') ? paint(32, line) : line.startsWith('-') && !line.startsWith('---') ? paint(31, line) : line}`,
    );
}
