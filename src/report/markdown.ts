import type { FailureRecord } from '../failures/record.js';
import { groupByGene } from './by-gene.js';
import { seconds } from './duration.js';
import type { RunTimeline } from './timeline.js';

const BAR_WIDTH = 40;

/** A run report for a pull request or a wiki page: per-node timeline, then failures and what to do. */
export function runMarkdown(timeline: RunTimeline, failures: readonly FailureRecord[]): string {
  const span = Math.max(timeline.durationMs, 1);
  const out = [
    `# bootstrap run ${timeline.runId}`,
    '',
    `**${timeline.status}** · ${timeline.command} · started ${timeline.startedAt} · ${seconds(timeline.durationMs)} · ${timeline.changed} change(s) · ${failures.length} failure(s)`,
    '',
    '## Timeline',
    '',
  ];
  for (const node of timeline.nodes) {
    out.push(
      `### ${node.node} — ${node.status}`,
      '',
      '| phase | start | took | steps | status | |',
      '|---|---:|---:|---:|---|---|',
    );
    for (const p of node.phases) {
      const from = Math.floor((p.startMs / span) * BAR_WIDTH);
      const width = Math.max(1, Math.round(((p.endMs - p.startMs) / span) * BAR_WIDTH));
      const bar = `\`${'·'.repeat(from)}${(p.status === 'failed' ? '✗' : '█').repeat(width)}${'·'.repeat(Math.max(0, BAR_WIDTH - from - width))}\``;
      out.push(
        `| ${p.name} | +${seconds(p.startMs)} | ${seconds(p.endMs - p.startMs)} | ${p.steps}${p.retries ? ` (${p.retries} retried)` : ''} | ${p.status === 'failed' ? '**failed**' : p.status} | ${bar} |`,
      );
    }
    for (const f of node.failures)
      out.push(
        '',
        `- ✗ +${seconds(f.atMs)} **${f.gene}** in ${f.phase}${f.step ? ` (\`${f.step}\`)` : ''}: ${cell(f.message)}`,
      );
    out.push('');
  }
  const groups = groupByGene(failures);
  if (groups.length > 0) {
    out.push('## Failures by gene', '', '| gene | title | count | nodes | what to do |', '|---|---|---:|---|---|');
    for (const g of groups)
      out.push(`| ${g.gene} | ${cell(g.title)} | ${g.count} | ${g.nodes.join(', ')} | ${cell(g.mitigation)} |`);
    out.push('', '## Evidence', '');
    for (const r of failures) {
      out.push(
        `### ${r.gene} on ${r.node}${r.step ? ` — \`${r.step}\`` : ''} (attempt ${r.attempt})`,
        '',
        `${r.time} · ${r.classification} · ${r.severity}`,
        '',
        `> ${cell(r.evidence.message)}`,
        '',
      );
      if (r.evidence.stderrTail) out.push('```', r.evidence.stderrTail, '```', '');
    }
  }
  return `${out.join('\n')}\n`;
}

/** Table cells cannot hold pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
