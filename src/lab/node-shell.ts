import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../util/exec.js';
import type { LabSpec } from './lab-spec.js';

/**
 * The PID 1 (systemd) of a running container machine, as the host sees it: the machine's pid file holds
 * the unshare process, whose child is the machine's init. Undefined when the machine is powered off.
 */
export async function machineInitPid(spec: LabSpec, node: string): Promise<string | undefined> {
  const pidFile = join(spec.dir, 'nodes', node, 'pid');
  const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (!pid) return undefined;
  return (await runCommand('pgrep', ['--parent', pid])).stdout.split('\n')[0]?.trim() || undefined;
}

/** nsenter arguments that enter every namespace of a running machine (root and cwd included). */
export function enterMachine(initPid: string): string[] {
  return ['--target', initPid, '--mount', '--uts', '--pid', '--net', '--root', '--wd'];
}

/** Runs a shell script inside a running machine (stdin, so nothing lands in an argument vector). */
export async function runInMachine(spec: LabSpec, node: string, script: string): Promise<CommandResult> {
  const init = await machineInitPid(spec, node);
  if (!init) return { code: 125, stdout: '', stderr: `${node} is powered off` };
  return runCommand('nsenter', [...enterMachine(init), '--', 'sh', '-s'], { input: script, timeoutMs: 120_000 });
}
