import { packageLayout } from '../../core/package-layout.js';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { loadCatalog } from '../../barclamp/catalog.js';
import type { ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

export async function barclampsCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const catalog = loadCatalog([packageLayout(io.env.packageRoot).barclamps]);
  for (const d of catalog.diagnostics) io.stderr.write(`${formatDiagnostic(d, io.env.cwd)}\n`);
  const list = [...catalog.barclamps.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (args.flags.has('json')) {
    io.stdout.write(
      `${JSON.stringify({ schema: 'bootstrap-barclamps/1', barclamps: list.map((b) => ({ name: b.name, version: b.version, description: b.description, requires: b.requires, roles: Object.keys(b.roles), attributes: b.attributes })) })}\n`,
    );
  } else {
    for (const b of list) {
      io.stdout.write(
        `${b.name} ${b.version} — ${b.description}\n  requires: ${b.requires.join(', ') || '-'}\n  roles: ${Object.values(
          b.roles,
        )
          .map(
            (r) => `${r.name}${r.min !== undefined || r.max !== undefined ? ` [${r.min ?? 0}..${r.max ?? '∞'}]` : ''}`,
          )
          .join(', ')}\n`,
      );
      for (const [name, spec] of Object.entries(b.attributes))
        io.stdout.write(
          `  attribute ${name} (${spec.type}${spec.default !== undefined ? `, default ${JSON.stringify(spec.default)}` : ''}): ${spec.description}\n`,
        );
    }
  }
  return catalog.diagnostics.length > 0 ? EXIT.invalid : EXIT.ok;
}
