import type { CommandResult } from '../../util/exec.js';

/** What an injector may touch: the machine it targets and the lab's own processes — never anything else. */
export interface FaultTools {
  node: string;
  /** A shell script inside the (running) machine. */
  inMachine(script: string): Promise<CommandResult>;
  /** A shell script inside the lab's machine that holds the cloud's admin credentials (/root/admin-openrc), to watch the cloud. */
  inCloudController(script: string): Promise<CommandResult>;
  /** A program of this host inside the machine's network namespace only (e.g. nft, which the image lacks). */
  inMachineNetwork(file: string, args: readonly string[], input?: string): Promise<CommandResult>;
  /** ipmitool commands against the machine's BMC, logged in with the given password; throws an IpmiError. */
  bmcCommands(password: string, commands: string): Promise<void>;
  /** The lab's BMC password (what the inventory reads). */
  bmcPassword(): string;
  /** Stop/continue a lab process: the machine's BMC or the provisioner's dnsmasq. */
  signalBmc(signal: 'SIGSTOP' | 'SIGCONT'): void;
  signalDhcp(signal: 'SIGSTOP' | 'SIGCONT'): void;
  randomSecret(): string;
  /** The TCP port given with --port (SVC-PORT-IN-USE), if any. */
  port: number | undefined;
}

/**
 * One failure mode the lab can re-create on demand ("bootstrap lab inject GENE"), and undo ("lab heal").
 * inject returns what heal needs later (kept 0600 in the lab directory).
 */
export interface FaultInjector {
  gene: string;
  /** node: done to one machine (--node); lab: done to the lab's shared services. */
  scope: 'node' | 'lab';
  /** What it does to the lab, for people. */
  does: string;
  /** What shows it: the command to run after injecting. */
  shownBy: string;
  inject(tools: FaultTools): Promise<Record<string, string>>;
  heal(tools: FaultTools, memo: Record<string, string>): Promise<void>;
}

/** A step of an injection or a heal that did not work inside the lab: the machine's state, not a bug of the tool. */
export class FaultStepError extends Error {}

/** Fails loudly when a step of an injection does not work: a half-injected fault would mislead a test. */
export function must(result: CommandResult, what: string): CommandResult {
  if (result.code !== 0)
    throw new FaultStepError(`${what} failed (${result.code}): ${(result.stderr || result.stdout).trim()}`);
  return result;
}
