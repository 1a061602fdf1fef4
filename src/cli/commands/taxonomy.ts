import { packageLayout } from '../../core/package-layout.js';
import { howDetected, howReported } from '../../failures/gene-text.js';
import { loadTaxonomy } from '../../failures/taxonomy.js';
import { didYouMean } from '../../util/suggest.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

export async function taxonomyCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const taxonomy = loadTaxonomy(packageLayout(io.env.packageRoot).taxonomy);
  const code = args.positionals[0];
  if (code === undefined) {
    if (args.flags.has('json'))
      io.stdout.write(`${JSON.stringify({ schema: 'bootstrap-taxonomy/1', genes: taxonomy.genes })}\n`);
    else
      for (const g of taxonomy.genes)
        io.stdout.write(`${g.code.padEnd(24)} ${g.layer.padEnd(14)} ${g.classification.padEnd(22)} ${g.title}\n`);
    return EXIT.ok;
  }
  const gene = taxonomy.byCode.get(code.toUpperCase());
  if (!gene)
    throw usage(
      `unknown gene '${code}'${(() => {
        const hint = didYouMean(code.toUpperCase(), taxonomy.byCode.keys());
        return hint ? `; ${hint}` : '';
      })()}`,
    );
  if (args.flags.has('json')) {
    io.stdout.write(`${JSON.stringify({ schema: 'bootstrap-gene/1', ...gene })}\n`);
    return EXIT.ok;
  }
  io.stdout.write(
    [
      `${gene.code}: ${gene.title}`,
      `  layer: ${gene.layer}   classification: ${gene.classification}   component: ${gene.component}   severity: ${gene.severity}`,
      `  releases: ${gene.releases.join(', ')}   retryable: ${gene.retryable ? 'yes' : 'no'}`,
      `  symptoms: ${gene.symptoms}`,
      `  cause: ${gene.cause}`,
      `  detected by: ${howDetected(gene)}`,
      `  mitigation: ${gene.mitigation}`,
      `  reported: ${howReported(gene)}`,
      `  re-create: ${gene.recreate}`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
