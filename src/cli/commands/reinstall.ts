import { openDeployment } from '../../engine/deployment.js';
import { requestReinstall } from '../../engine/reinstall.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

/** `bootstrap reinstall INVENTORY NODE`: the next apply installs NODE again, from PXE, onto a wiped disk. */
export async function reinstallCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [file, nodeName] = args.positionals;
  if (!file || !nodeName) throw usage('usage: bootstrap reinstall INVENTORY NODE');
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  const request = requestReinstall(io.env, deployment, nodeName);
  io.stdout.write(
    `${nodeName} (${request.was ?? 'no record'}) will be reinstalled by the next apply: PXE, the install onto its wiped disk, new host keys${request.forgotHostKey ? ' (the pinned one is forgotten)' : ''}\n`,
  );
  return EXIT.ok;
}
