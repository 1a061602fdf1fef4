import { packageLayout } from '../../core/package-layout.js';
import { resolve } from 'node:path';
import { formatDiagnostic, hasErrors } from '../../core/diagnostic.js';
import { UserError } from '../../core/user-error.js';
import { openDeployment, preflight } from '../../engine/deployment.js';
import { loadInventory } from '../../inventory/load.js';
import type { ParsedArgs } from '../args.js';
import { usage } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

export async function validateCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usage('validate needs an inventory file: bootstrap validate INVENTORY');
  const loaded = loadInventory(resolve(io.env.cwd, file), {
    builtinBarclamps: packageLayout(io.env.packageRoot).barclamps,
    home: io.env.home,
  });
  if (!hasErrors(loaded.diagnostics)) {
    // templates are input too: a template reading an undeclared attribute is found here, not at apply time
    try {
      preflight(io.env, openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined), undefined);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      loaded.diagnostics.push(...error.diagnostics);
    }
  }
  if (args.flags.has('json')) {
    io.stdout.write(
      `${JSON.stringify({ schema: 'bootstrap-validate/1', valid: !hasErrors(loaded.diagnostics), diagnostics: loaded.diagnostics })}\n`,
    );
  } else if (loaded.diagnostics.length === 0) {
    const inv = loaded.inventory!;
    io.stdout.write(
      `${file}: valid — deployment ${inv.deployment}, ${inv.nodes.length} node(s), ${Object.keys(inv.networks).length} network(s)\n`,
    );
  } else {
    for (const d of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(d, io.env.cwd)}\n`);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
    io.stderr.write(`${errors} error(s) in ${file}; nothing was changed\n`);
  }
  return hasErrors(loaded.diagnostics) ? EXIT.invalid : EXIT.ok;
}
