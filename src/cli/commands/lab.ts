import { join, resolve } from 'node:path';
import { UserError } from '../../core/user-error.js';
import { openDeployment, type Deployment } from '../../engine/deployment.js';
import type { Environment } from '../../engine/environment.js';
import { labDown, labStatus, labUp, missingTools, type LabDeps, type LabHostKey } from '../../lab/lab.js';
import { KnownHosts } from '../../transport/known-hosts.js';
import { labSpecOf } from '../../lab/lab-spec.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

/** `bootstrap lab up|down|status [INVENTORY]` — the local simulated rack (inventory/lab.yaml by default). */
export async function labCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [verb, file] = args.positionals;
  if (verb !== 'up' && verb !== 'down' && verb !== 'status') throw usage('usage: bootstrap lab up|down|status [INVENTORY]');
  const deployment = openDeployment(io.env, file ? resolve(io.env.cwd, file) : join(io.env.packageRoot, 'inventory', 'lab.yaml'), args.flags.get('state-dir') as string | undefined);
  const spec = labSpecOf(deployment.inventory);
  if (!spec) throw usage(`${deployment.inventory.file} has no lab: section, so it describes real machines, not a lab`);
  const deps = labDeps(io);
  if (verb === 'status') {
    const status = await labStatus(spec, io.env.isAlive);
    if (args.flags.has('json')) io.stdout.write(`${JSON.stringify({ name: spec.name, ...status })}\n`);
    else {
      io.stdout.write(`lab ${spec.name}: ${status.up ? 'up' : 'not (fully) up'}\n`);
      io.stdout.write(`  ${'node'.padEnd(12)} ${'admin'.padEnd(15)} ${'bmc'.padEnd(15)} state\n`);
      for (const n of status.nodes) io.stdout.write(`  ${n.name.padEnd(12)} ${n.address.padEnd(15)} ${n.bmcAddress.padEnd(15)} ${n.running ? 'power on' : 'power off'}${n.bmcRunning ? '' : ', BMC down'}${n.sshReady ? ', ssh ready' : ''}\n`);
    }
    return status.up ? EXIT.ok : EXIT.failed;
  }
  await requireLabHost(io.env);
  if (verb === 'up') pinLabHostKeys(deployment, await labUp(spec, deps));
  else await labDown(spec, deps);
  return EXIT.ok;
}

/** Records the keys of nodes the lab just created as trusted for this deployment. */
export function pinLabHostKeys(deployment: Deployment, keys: LabHostKey[]): void {
  const knownHosts = new KnownHosts(deployment.paths.knownHosts);
  for (const key of keys) if (knownHosts.verify(key.endpoint, key.fingerprint) !== 'match') knownHosts.pin(key.endpoint, key.fingerprint);
}

export function labDeps(io: CommandIO): LabDeps {
  return {
    log: (line) => io.stderr.write(`lab: ${line}\n`),
    sleep: io.env.sleep,
    nowMs: io.env.nowMs,
    isAlive: io.env.isAlive,
    kill: io.env.kill,
    hooks: { chassisControl: join(io.env.packageRoot, 'templates/lab/chassis-control.sh'), lanConfig: join(io.env.packageRoot, 'templates/lab/lan-config.sh') },
  };
}

export async function requireLabHost(env: Environment): Promise<void> {
  if (!env.isRoot) {
    throw new UserError('precondition', 'the lab needs root (network namespaces, bridges, mounts)', [{ severity: 'error', code: 'lab.not-root', summary: 'the local lab must be run as root', suggestion: 'run it with sudo, e.g. sudo npx bootstrap lab up' }]);
  }
  const missing = await missingTools();
  if (missing.length > 0) {
    throw new UserError('precondition', `the lab needs programs that are not installed: ${missing.join(', ')}`, [{ severity: 'error', code: 'lab.missing-tools', summary: `missing programs: ${missing.join(', ')}`, suggestion: 'install them with: sudo .ci/setup-host (apt-get install debootstrap apt-cacher-ng openssh-client iproute2 util-linux)' }]);
  }
}
