import { listRuns } from '../../run/run-dir.js';
import type { FailureRecord } from '../../failures/record.js';
import type { Taxonomy } from '../../failures/taxonomy.js';
import { groupByGene } from '../../report/by-gene.js';
import { failuresCsv } from '../../report/csv.js';
import { runHtml } from '../../report/html.js';
import { runJunit } from '../../report/junit.js';
import { runMarkdown } from '../../report/markdown.js';
import { readRunRecord, type RunRecord } from '../../report/run-record.js';
import { buildTimeline } from '../../report/timeline.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { didYouMean } from '../../util/suggest.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

const FORMATS = ['table', 'json', 'csv', 'junit', 'markdown', 'html'] as const;
type Format = (typeof FORMATS)[number];
/** Formats that describe one run (its plan and timeline), not a pile of records. */
const ONE_RUN_FORMATS: readonly Format[] = ['junit', 'markdown', 'html'];

/** `bootstrap failures [INVENTORY] [--run ID|--all] [--format F] [--out FILE]`: the records of past runs, in the form people need. */
export async function failuresCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const format = (args.flags.get('format') as string | undefined) ?? 'table';
  if (!FORMATS.includes(format as Format)) throw usage(`unknown format '${format}' (one of ${FORMATS.join(', ')})`);
  const all = args.flags.has('all');
  const runId = args.flags.get('run') as string | undefined;
  if (all && runId) throw usage('--run and --all exclude each other');
  if (all && ONE_RUN_FORMATS.includes(format as Format))
    throw usage(`--format ${format} describes one run; use --run ID (or the latest run, the default)`);

  const runs = listRuns(deployment.stateDir);
  if (runs.length === 0) {
    io.stderr.write(`no runs yet in ${deployment.stateDir} (bootstrap apply writes one per run)\n`);
    return EXIT.ok;
  }
  if (runId !== undefined && !runs.includes(runId)) {
    const hint = didYouMean(runId, runs);
    throw usage(
      `no run '${runId}' in ${deployment.stateDir}/runs${hint ? `; ${hint}` : ''} (the latest is ${runs.at(-1)})`,
    );
  }
  const chosen = (all ? runs : [runId ?? runs.at(-1)!]).map((id) => readRunRecord(deployment.stateDir, id));
  const records = chosen.flatMap((run) => run.failures);
  const output = render(format as Format, chosen, records, deployment.taxonomy);
  const out = args.flags.get('out') as string | undefined;
  if (out) {
    writeFileAtomic(out, output, 0o600);
    io.stderr.write(
      `${format} of ${all ? `${chosen.length} run(s)` : chosen[0]!.id} written to ${out} (${records.length} failure(s))\n`,
    );
  } else io.stdout.write(output);
  return EXIT.ok;
}

function render(format: Format, runs: RunRecord[], records: FailureRecord[], taxonomy: Taxonomy): string {
  const run = runs[0]!;
  switch (format) {
    case 'json':
      return records.map((r) => `${JSON.stringify(r)}\n`).join('');
    case 'csv':
      return failuresCsv(records, taxonomy);
    case 'junit':
      return runJunit(run);
    case 'markdown':
      return runMarkdown(buildTimeline(run.id, run.events), run.failures);
    case 'html':
      return runHtml(buildTimeline(run.id, run.events), run.failures);
    case 'table':
      return table(runs, records);
  }
}

function table(runs: RunRecord[], records: FailureRecord[]): string {
  const many = runs.length > 1;
  const lines: string[] = [];
  if (records.length === 0) lines.push(`no failures in ${many ? `${runs.length} runs` : `run ${runs[0]!.id}`}`);
  else {
    lines.push(`${records.length} failure(s) in ${many ? `${runs.length} runs` : `run ${runs[0]!.id}`}`);
    for (const r of records)
      lines.push(
        `  ${many ? `${r.runId}  ` : ''}${r.time.slice(11, 19)}  ${r.node.padEnd(10)} ${r.gene.padEnd(28)} ${r.step ?? ''}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}`,
        `      ${r.evidence.message.split('\n')[0]}`,
      );
    lines.push('', 'by gene:');
    for (const g of groupByGene(records))
      lines.push(`  ${g.gene} — ${g.title} (${g.count}×: ${g.nodes.join(', ')})`, `    what to do: ${g.mitigation}`);
  }
  if (many) {
    // the same gene counted per run, so a fix (or a regression) shows up as a changed column
    const genes = [...new Set(records.map((r) => r.gene))].sort();
    if (genes.length > 0) {
      lines.push(
        '',
        `runs compared (failures per gene):`,
        `  ${'run'.padEnd(26)} ${genes.map((g) => g.padStart(Math.max(4, g.length))).join(' ')}`,
      );
      for (const run of runs)
        lines.push(
          `  ${run.id.padEnd(26)} ${genes.map((g) => String(run.failures.filter((r) => r.gene === g).length).padStart(Math.max(4, g.length))).join(' ')}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}
