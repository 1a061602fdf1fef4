import type { FailureRecord } from '../failures/record.js';
import { escapeMarkup as esc } from './escape.js';
import { groupByGene } from './by-gene.js';
import { seconds } from './duration.js';
import type { RunTimeline } from './timeline.js';

/**
 * A self-contained HTML report (no scripts, no external assets: it can be attached to a CI run or mailed):
 * one lane per node with its phases to scale and a red tick where each failure happened.
 */
export function runHtml(timeline: RunTimeline, failures: readonly FailureRecord[]): string {
  const span = Math.max(timeline.durationMs, 1);
  const pct = (ms: number) => `${((ms / span) * 100).toFixed(2)}%`;
  const lanes = timeline.nodes.map((node) => {
    const bars = node.phases.map(
      (p) =>
        `<div class="bar ${p.status}" style="left:${pct(p.startMs)};width:max(3px,${pct(p.endMs - p.startMs)})" title="${esc(`${p.name}: ${p.status}, +${seconds(p.startMs)}, took ${seconds(p.endMs - p.startMs)}, ${p.steps} step(s)`)}"><span>${esc(p.name)}</span></div>`,
    );
    const marks = node.failures.map(
      (f) =>
        `<div class="mark" style="left:${pct(f.atMs)}" title="${esc(`${f.gene} in ${f.phase}: ${f.message}`)}"></div>`,
    );
    return `<div class="lane"><div class="name ${node.status}">${esc(node.node)}<small>${esc(node.status)}</small></div><div class="track">${bars.join('')}${marks.join('')}</div></div>`;
  });
  const groups = groupByGene(failures).map(
    (g) =>
      `<tr><td><code>${esc(g.gene)}</code></td><td>${esc(g.title)}</td><td>${g.count}</td><td>${esc(g.nodes.join(', '))}</td><td>${esc(g.mitigation)}</td></tr>`,
  );
  const evidence = failures.map(
    (r) =>
      `<details><summary><code>${esc(r.gene)}</code> on ${esc(r.node)} ${r.step ? `<code>${esc(r.step)}</code>` : ''} · attempt ${r.attempt} · ${esc(r.time)}</summary><p>${esc(r.evidence.message)}</p>${r.evidence.stderrTail ? `<pre>${esc(r.evidence.stderrTail)}</pre>` : ''}<p><b>What to do:</b> ${esc(r.mitigation)}</p></details>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bootstrap run ${esc(timeline.runId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}.status{padding:.1em .5em;border-radius:3px;color:#fff}.status.ok{background:#2a7}.status.failed,.status.interrupted{background:#c33}.status.unfinished{background:#999}
.lane{display:flex;align-items:center;margin:.3em 0}.name{width:11em;font-weight:600}.name small{display:block;font-weight:400;color:#777}
.name.failed{color:#c33}.track{position:relative;flex:1;height:2.2em;background:#f4f4f4;border-radius:3px}
.bar{position:absolute;top:.3em;height:1.6em;border-radius:2px;overflow:hidden;white-space:nowrap;font-size:11px;color:#fff;box-sizing:border-box;padding:0 3px;line-height:1.6em}
.bar.ok{background:#4a90d9}.bar.failed{background:#d9534f}.bar.unfinished{background:#aaa}
.mark{position:absolute;top:0;bottom:0;width:3px;background:#c00}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:20em}details{margin:.4em 0}
</style></head><body>
<h1>bootstrap run ${esc(timeline.runId)} <span class="status ${esc(timeline.status)}">${esc(timeline.status)}</span></h1>
<p>${esc(timeline.command)} · started ${esc(timeline.startedAt)} · ${esc(seconds(timeline.durationMs))} · ${timeline.changed} change(s) · ${failures.length} failure(s)</p>
<h2>Timeline</h2>
${lanes.join('\n')}
${groups.length > 0 ? `<h2>Failures by gene</h2>\n<table><tr><th>gene</th><th>title</th><th>count</th><th>nodes</th><th>what to do</th></tr>${groups.join('')}</table>\n<h2>Evidence</h2>\n${evidence.join('\n')}` : '<p>No failures.</p>'}
</body></html>
`;
}
