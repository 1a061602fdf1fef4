import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import type { IpmiTool } from '../../ipmi/ipmitool.js';
import { runCommand } from '../../util/exec.js';
import { labBmcPasswordFile, labBmcPid } from '../lab.js';
import { labNames, type LabSpec } from '../lab-spec.js';
import { machineInitPid, runInMachine } from '../node-shell.js';
import { FAULT_CATALOG } from './fault-catalog.js';
import type { FaultInjector, FaultTools } from './fault.js';

/** A fault injected and not yet healed; its memo may hold a secret (a rotated password): the file is 0600. */
export interface ActiveFault {
  gene: string;
  node: string;
  since: string;
  memo: Record<string, string>;
}

export interface FaultHost {
  kill: (pid: number, signal: NodeJS.Signals) => void;
  /** The provisioner's dnsmasq, if it runs. */
  dhcpPid: () => number | undefined;
  now: () => Date;
  /** The project's ipmitool wrapper (password via -E, pacing, retries). */
  ipmi: IpmiTool;
}

/** The row an injection of lab-wide scope is kept under. */
export const WHOLE_LAB = '(lab)';

export function injectorFor(gene: string): FaultInjector | undefined {
  return FAULT_CATALOG.find((f) => f.gene === gene.toUpperCase());
}

export function activeFaults(spec: LabSpec): ActiveFault[] {
  const file = faultsFile(spec);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ActiveFault[]) : [];
}

/** Injects one fault; recorded before anything else happens, so a crash mid-injection can still be healed. */
export async function injectFault(
  spec: LabSpec,
  injector: FaultInjector,
  node: string,
  host: FaultHost,
  options: { port?: number } = {},
): Promise<ActiveFault> {
  const active = activeFaults(spec);
  const already = active.find((f) => f.gene === injector.gene && f.node === node);
  if (already) return already;
  const fault: ActiveFault = { gene: injector.gene, node, since: host.now().toISOString(), memo: {} };
  save(spec, [...active, fault]);
  fault.memo = await injector.inject(toolsFor(spec, node, host, options.port));
  save(spec, [...active, fault]);
  return fault;
}

/** Heals the matching active faults (all of them without a filter), newest first. */
export async function healFaults(
  spec: LabSpec,
  filter: { gene?: string; node?: string },
  host: FaultHost,
): Promise<ActiveFault[]> {
  const healed: ActiveFault[] = [];
  for (const fault of [...activeFaults(spec)].reverse()) {
    if (filter.gene && fault.gene !== filter.gene.toUpperCase()) continue;
    if (filter.node && fault.node !== filter.node) continue;
    await injectorFor(fault.gene)!.heal(toolsFor(spec, fault.node, host), fault.memo);
    save(
      spec,
      activeFaults(spec).filter((f) => !(f.gene === fault.gene && f.node === fault.node)),
    );
    healed.push(fault);
  }
  return healed;
}

function toolsFor(spec: LabSpec, node: string, host: FaultHost, port?: number): FaultTools {
  const machine = spec.nodes.find((n) => n.name === node);
  return {
    node,
    inMachine: (script) => runInMachine(spec, node, script),
    inCloudController: async (script) => {
      for (const other of spec.nodes.filter((n) => n.name !== node)) {
        if ((await runInMachine(spec, other.name, 'test -r /root/admin-openrc')).code === 0)
          return runInMachine(spec, other.name, script);
      }
      return {
        code: 1,
        stdout: '',
        stderr:
          'no other running machine of the lab holds the cloud admin credentials (/root/admin-openrc): is the cloud deployed?',
      };
    },
    inMachineNetwork: async (file, args, input) => {
      const options = input !== undefined ? { input } : {};
      // only the network namespace: the host's program and files, the machine's interfaces. A container
      // machine's namespace outlives its power state (its firmware runs in it), so powered off is fine.
      const index = spec.nodes.findIndex((n) => n.name === node);
      if (machine?.kind === 'container')
        return runCommand('ip', ['netns', 'exec', labNames(spec, index, node).namespace, file, ...args], options);
      const init = await machineInitPid(spec, node);
      if (!init) return { code: 125, stdout: '', stderr: `${node} is powered off` };
      return runCommand('nsenter', ['--target', init, '--net', '--', file, ...args], options);
    },
    bmcCommands: async (password, commands) => {
      // `ipmitool exec FILE`: the new password travels in a 0600 file, never in an argument vector
      const dir = mkdtempSync(join(spec.dir, '.fault-'));
      try {
        const file = join(dir, 'commands');
        writeFileSync(file, commands, { mode: 0o600 });
        chmodSync(file, 0o600);
        await host.ipmi.run({ address: machine!.bmcAddress, username: 'admin', password, cipherSuites: [3] }, [
          'exec',
          file,
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    bmcPassword: () => readFileSync(labBmcPasswordFile(spec), 'utf8').trim(),
    signalBmc: (signal) => {
      const pid = labBmcPid(spec, node);
      if (pid === undefined) throw new Error(`${node} has no running BMC (is the lab up?)`);
      host.kill(pid, signal);
    },
    signalDhcp: (signal) => {
      const pid = host.dhcpPid();
      if (pid === undefined) throw new Error("the provisioner's dnsmasq is not running (is the lab up?)");
      host.kill(pid, signal);
    },
    randomSecret: () => randomBytes(6).toString('hex'),
    port,
  };
}

function faultsFile(spec: LabSpec): string {
  return join(spec.dir, 'faults.json');
}

function save(spec: LabSpec, faults: ActiveFault[]): void {
  writeFileAtomic(faultsFile(spec), `${JSON.stringify(faults, null, 2)}\n`, 0o600);
}
