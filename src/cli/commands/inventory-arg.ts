import { join, resolve } from 'node:path';
import { openDeployment, type Deployment } from '../../engine/deployment.js';
import type { ParsedArgs } from '../args.js';
import type { CommandIO } from '../io.js';

/** The inventory a command works on: the given file, else $BOOTSTRAP_INVENTORY, else the embedded lab. */
export function deploymentFor(args: ParsedArgs, io: CommandIO, file: string | undefined): Deployment {
  const chosen =
    file ??
    (args.flags.get('inventory') as string | undefined) ??
    io.env.env.BOOTSTRAP_INVENTORY ??
    join(io.env.packageRoot, 'inventory', 'lab.yaml');
  return openDeployment(io.env, resolve(io.env.cwd, chosen), args.flags.get('state-dir') as string | undefined);
}
