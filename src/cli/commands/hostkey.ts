import { openDeployment } from '../../engine/deployment.js';
import { KnownHosts } from '../../transport/known-hosts.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

/** `bootstrap hostkey forget INVENTORY NODE`: the deliberate way to re-trust a reinstalled node. */
export async function hostkeyCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [verb, file, nodeName] = args.positionals;
  if (verb !== 'forget' || !file || !nodeName) throw usage('usage: bootstrap hostkey forget INVENTORY NODE');
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  const node = deployment.inventory.nodes.find((n) => n.name === nodeName);
  if (!node) throw usage(`node '${nodeName}' is not in ${file}`);
  const endpoint = `${node.ssh.address}:${node.ssh.port}`;
  const forgotten = new KnownHosts(deployment.paths.knownHosts).forget(endpoint);
  io.stdout.write(
    forgotten
      ? `forgot the pinned host key of ${nodeName} (${endpoint}); the next contact pins the new one\n`
      : `no host key pinned for ${nodeName} (${endpoint})\n`,
  );
  return EXIT.ok;
}
