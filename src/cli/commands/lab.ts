import { packageLayout } from '../../core/package-layout.js';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/user-error.js';
import { ipmiToolFor } from '../../engine/bmc-access.js';
import { openDeployment, type Deployment } from '../../engine/deployment.js';
import type { Environment } from '../../engine/environment.js';
import {
  labDown,
  labStatus,
  labUp,
  missingTools,
  recordedLayout,
  type LabDeps,
  type LabStatus,
} from '../../lab/lab.js';
import { labSpecOf, type LabSpec } from '../../lab/lab-spec.js';
import { enterMachine, machineInitPid } from '../../lab/node-shell.js';
import { FAULT_CATALOG } from '../../lab/faults/fault-catalog.js';
import { FaultStepError } from '../../lab/faults/fault.js';
import {
  activeFaults,
  healFaults,
  injectFault,
  injectorFor,
  WHOLE_LAB,
  type FaultHost,
} from '../../lab/faults/lab-faults.js';
import { dnsmasqPaths } from '../../provision/dnsmasq-config.js';
import { provisionerConfigOf } from '../../provision/provisioner-config.js';
import { didYouMean } from '../../util/suggest.js';
import { machineStoreOf } from '../../engine/provision-phase.js';
import { KnownHosts } from '../../transport/known-hosts.js';
import { intFlag, usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

const USAGE =
  'usage: bootstrap lab up|down|status [INVENTORY] [--nodes N] [--qemu M] [--name NAME] | lab console NODE [INVENTORY] | lab exec NODE [INVENTORY] -- COMMAND… | lab faults|inject GENE|heal [GENE] [INVENTORY] [--node N] [--port P]';

/** `bootstrap lab …` — the local simulated rack (inventory/lab.yaml by default). */
export async function labCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const verb = args.positionals[0];
  if (verb === 'console' || verb === 'exec') return machineCommand(verb, args, io);
  if (verb === 'faults' || verb === 'inject' || verb === 'heal') return faultCommand(verb, args, io);
  if (verb !== 'up' && verb !== 'down' && verb !== 'status') throw usage(USAGE);
  const { deployment, spec } = openLab(args, io, args.positionals[1]);
  if (verb === 'status') {
    const status = await labStatus(spec, io.env);
    if (args.flags.has('json'))
      io.stdout.write(`${JSON.stringify({ schema: 'bootstrap-lab-status/1', name: spec.name, ...status })}\n`);
    else io.stdout.write(statusText(spec, status));
    return status.up ? EXIT.ok : EXIT.failed;
  }
  await requireLabHost(io.env, spec);
  if (verb === 'down') {
    await labDown(spec, labDeps(io, deployment));
    return EXIT.ok;
  }
  await bringUp(io, deployment, spec);
  return EXIT.ok;
}

/** Brings the lab up; machines it had to create have new, empty disks, so what we knew of them is void. */
export async function bringUp(io: CommandIO, deployment: Deployment, spec: LabSpec): Promise<void> {
  const { created } = await labUp(spec, labDeps(io, deployment));
  const store = machineStoreOf(deployment, io.env);
  const knownHosts = new KnownHosts(deployment.paths.knownHosts);
  for (const name of created) {
    store.forget(name);
    const node = deployment.inventory.nodes.find((n) => n.name === name);
    if (node) knownHosts.forget(`${node.ssh.address}:${node.ssh.port}`);
  }
}

function openLab(args: ParsedArgs, io: CommandIO, file: string | undefined): { deployment: Deployment; spec: LabSpec } {
  const deployment = openDeployment(
    io.env,
    file ? resolve(io.env.cwd, file) : join(io.env.packageRoot, 'inventory', 'lab.yaml'),
    args.flags.get('state-dir') as string | undefined,
  );
  const name = args.flags.get('name');
  if (name !== undefined && (typeof name !== 'string' || !/^[a-z0-9]{1,8}$/.test(name)))
    throw usage('--name must be 1–8 lower-case letters or digits (it becomes part of interface names)');
  const named = labSpecOf(deployment.inventory, typeof name === 'string' ? { name } : {});
  if (!named) throw usage(`${deployment.inventory.file} has no lab: section, so it describes real machines, not a lab`);
  // Without --nodes/--qemu, a lab that is up keeps the layout it was brought up with.
  const recorded = recordedLayout(named);
  const machines = args.flags.has('nodes')
    ? intFlag(args, 'nodes', deployment.inventory.nodes.length, 1, 200)
    : recorded?.machines;
  const qemuSpares = args.flags.has('qemu') ? intFlag(args, 'qemu', 0, 0, 16) : recorded?.qemuSpares;
  const spec = labSpecOf(deployment.inventory, {
    ...(typeof name === 'string' ? { name } : {}),
    ...(machines !== undefined ? { machines } : {}),
    ...(qemuSpares !== undefined ? { qemuSpares } : {}),
  })!;
  const spares = spec.nodes.filter((n) => n.spare).length;
  if (spec.nodes.filter((n) => n.kind === 'qemu').length < (qemuSpares ?? 0))
    throw usage(`--qemu ${qemuSpares}: only spares can be QEMU machines and this lab has ${spares} (raise --nodes)`);
  return { deployment, spec };
}

function statusText(spec: LabSpec, status: LabStatus): string {
  const lines = [
    `lab ${spec.name}: ${status.up ? 'up' : 'not (fully) up'}; provisioner ${status.provisioner ? 'running' : 'not running'}`,
  ];
  lines.push(
    `  ${'machine'.padEnd(10)} ${'mac'.padEnd(17)} ${'admin'.padEnd(13)} ${'bmc'.padEnd(13)} ${'power'.padEnd(7)} ${'ssh'.padEnd(4)} last console line`,
  );
  for (const m of status.machines) {
    const power = m.bmc === 'down' ? 'BMC down' : m.power;
    lines.push(
      `  ${m.name.padEnd(10)} ${m.mac.padEnd(17)} ${(m.address ?? '(dhcp)').padEnd(13)} ${m.bmcAddress.padEnd(13)} ${power.padEnd(7)} ${(m.sshReady ? 'yes' : '-').padEnd(4)} ${m.lastConsole ?? ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `lab console NODE` prints the machine's console; `lab exec NODE -- CMD` runs CMD inside it (nsenter). */
async function machineCommand(verb: 'console' | 'exec', args: ParsedArgs, io: CommandIO): Promise<number> {
  const [, node, maybeFile, ...rest] = args.positionals;
  if (!node) throw usage(USAGE);
  const hasFile = maybeFile !== undefined && /\.ya?ml$/.test(maybeFile);
  const { spec } = openLab(args, io, hasFile ? maybeFile : undefined);
  const command = hasFile ? rest : [maybeFile, ...rest].filter((s): s is string => s !== undefined);
  const machine = spec.nodes.find((n) => n.name === node);
  if (!machine)
    throw usage(`no machine '${node}' in lab ${spec.name} (machines: ${spec.nodes.map((n) => n.name).join(', ')})`);
  const dir = join(spec.dir, 'nodes', node);
  if (verb === 'exec' && machine.kind === 'qemu')
    throw usage(
      `${node} is a QEMU machine: it runs only the discovery ramdisk; see its console with: bootstrap lab console ${node}`,
    );
  if (verb === 'console') {
    const log = join(dir, 'console.log');
    io.stdout.write(
      existsSync(log)
        ? readFileSync(log, 'utf8').split('\n').slice(-200).join('\n')
        : `(no console output yet: ${node} was never powered on)\n`,
    );
    return EXIT.ok;
  }
  await requireLabHost(io.env);
  if (command.length === 0) throw usage('lab exec needs a command: bootstrap lab exec NODE -- COMMAND…');
  const init = await machineInitPid(spec, node);
  if (!init)
    throw new UserError('precondition', `${node} is powered off`, [
      {
        severity: 'error',
        code: 'lab.powered-off',
        summary: `${node} is not running`,
        suggestion: `power it on: bootstrap power on ${node}`,
      },
    ]);
  return new Promise((done) => {
    const child = spawn('nsenter', [...enterMachine(init), '--', ...command], { stdio: 'inherit' });
    child.once('exit', (code) => done(code ?? EXIT.failed));
    child.once('error', () => done(EXIT.failed));
  });
}

/**
 * `lab faults` lists what the lab can re-create and what is injected now; `lab inject GENE --node N`
 * re-creates a failure mode; `lab heal [GENE] [--node N]` undoes injected faults (all by default).
 */
async function faultCommand(verb: 'faults' | 'inject' | 'heal', args: ParsedArgs, io: CommandIO): Promise<number> {
  const gene = verb === 'faults' ? undefined : args.positionals.slice(1).find((p) => !/\.ya?ml$/.test(p));
  const file = args.positionals.slice(1).find((p) => /\.ya?ml$/.test(p));
  const { deployment, spec } = openLab(args, io, file);
  const node = args.flags.get('node') as string | undefined;
  if (node !== undefined && !spec.nodes.some((n) => n.name === node))
    throw usage(`no machine '${node}' in lab ${spec.name} (machines: ${spec.nodes.map((n) => n.name).join(', ')})`);
  const injector = gene === undefined ? undefined : injectorFor(gene);
  if (gene !== undefined && !injector) {
    const hint = didYouMean(
      gene.toUpperCase(),
      FAULT_CATALOG.map((f) => f.gene),
    );
    throw usage(`the lab cannot re-create '${gene}'${hint ? `; ${hint}` : ''} (see: bootstrap lab faults)`);
  }
  if (verb === 'faults') {
    const active = activeFaults(spec);
    const lines = ['failure modes this lab re-creates (bootstrap lab inject GENE [--node N]):'];
    for (const f of FAULT_CATALOG)
      lines.push(
        `  ${f.gene.padEnd(22)} ${f.scope === 'node' ? '--node N' : 'lab-wide'}  ${f.does}`,
        `  ${''.padEnd(22)}           shown by: ${f.shownBy}`,
      );
    lines.push(
      active.length === 0
        ? 'injected now: nothing'
        : `injected now: ${active.map((f) => `${f.gene} on ${f.node} since ${f.since}`).join('; ')}`,
    );
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  }
  await requireLabHost(io.env, spec);
  const host = faultHost(io, deployment);
  if (verb === 'heal') {
    let healed;
    try {
      healed = await healFaults(
        spec,
        { ...(gene !== undefined ? { gene } : {}), ...(node !== undefined ? { node } : {}) },
        host,
      );
    } catch (error) {
      if (!(error instanceof FaultStepError)) throw error;
      // the fault stays recorded: heal can be asked again once the machine lets it
      io.stderr.write(
        `could not heal: ${error.message}\n  it stays injected (bootstrap lab faults); try bootstrap lab heal again once the machine lets it\n`,
      );
      return EXIT.failed;
    }
    io.stdout.write(
      healed.length === 0 ? 'nothing to heal\n' : healed.map((f) => `healed ${f.gene} on ${f.node}\n`).join(''),
    );
    return EXIT.ok;
  }
  if (injector!.scope === 'node' && node === undefined)
    throw usage(
      `${injector!.gene} is done to one machine: add --node N (machines: ${spec.nodes.map((n) => n.name).join(', ')})`,
    );
  const target = injector!.scope === 'node' ? node! : WHOLE_LAB;
  const port = args.flags.has('port') ? intFlag(args, 'port', 0, 1, 65535) : undefined;
  const healCommand = `bootstrap lab heal ${injector!.gene}${injector!.scope === 'node' ? ` --node ${target}` : ''}`;
  try {
    await injectFault(spec, injector!, target, host, port !== undefined ? { port } : {});
  } catch (error) {
    if (!(error instanceof FaultStepError)) throw error;
    // recorded before it started: heal undoes whatever part of it was done
    io.stderr.write(
      `could not inject ${injector!.gene} on ${target}: ${error.message}\n  undo what was done with: ${healCommand}\n`,
    );
    return EXIT.failed;
  }
  io.stdout.write(
    `injected ${injector!.gene} on ${target}: ${injector!.does}\n  shown by: ${injector!.shownBy}\n  undo with: ${healCommand}\n`,
  );
  return EXIT.ok;
}

function faultHost(io: CommandIO, deployment: Deployment): FaultHost {
  const config = provisionerConfigOf(deployment.inventory, deployment.stateDir);
  return {
    kill: io.env.kill,
    now: io.env.now,
    ipmi: ipmiToolFor(io.env),
    dhcpPid: () => {
      if (!config) return undefined;
      const file = dnsmasqPaths(config).pid;
      const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
      return Number.isInteger(pid) && io.env.isAlive(pid) ? pid : undefined;
    },
  };
}

export function labDeps(io: CommandIO, deployment: Deployment): LabDeps {
  return {
    log: (line) => io.stderr.write(`lab: ${line}\n`),
    sleep: io.env.sleep,
    nowMs: io.env.nowMs,
    isAlive: io.env.isAlive,
    kill: io.env.kill,
    templateDir: packageLayout(io.env.packageRoot).labScripts,
    provisionerTemplateDir: packageLayout(io.env.packageRoot).bootFiles,
    provisionerCommand: [
      io.env.execPath,
      join(io.env.packageRoot, 'bin', 'bootstrap.js'),
      'provisioner',
      'serve',
      deployment.inventory.file,
      '--state-dir',
      deployment.stateDir,
    ],
  };
}

export async function requireLabHost(env: Environment, spec?: LabSpec): Promise<void> {
  if (!env.isRoot) {
    throw new UserError('precondition', 'the lab needs root (network namespaces, bridges, mounts)', [
      {
        severity: 'error',
        code: 'lab.not-root',
        summary: 'the local lab must be run as root',
        suggestion: 'run it with sudo, e.g. sudo npx bootstrap lab up',
      },
    ]);
  }
  const missing = await missingTools(spec);
  if (missing.length > 0) {
    throw new UserError('precondition', `the lab needs programs that are not installed: ${missing.join(', ')}`, [
      {
        severity: 'error',
        code: 'lab.missing-tools',
        summary: `missing programs: ${missing.join(', ')}`,
        suggestion:
          'install them with: sudo .ci/setup-host (Debian packages: debootstrap apt-cacher-ng openssh-client iproute2 util-linux ipmitool openipmi dnsmasq-base busybox-static ipxe nftables; QEMU machines: qemu-system-x86 ipxe-qemu)',
      },
    ]);
  }
}
