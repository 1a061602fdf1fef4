import { processNamesDirectory } from '../util/process-identity.js';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCommand, spawnDetached } from '../util/exec.js';

/**
 * A container node: own network namespace (already set up), own mount/UTS/PID namespaces, an overlayfs
 * root (shared base image below, per-node upper dir = its "disk") and real systemd as PID 1.
 */
export interface ContainerNode {
  name: string;
  namespace: string;
  address: string;
  /** Per-node directory: disk/ (upper/ and work/ of the overlay), root/ (mount point), pid, console.log. */
  dir: string;
  baseImage: string;
  authorizedKey: string;
}

/**
 * The command that boots a node whose disk already holds a system (no firmware, no installer): enter its
 * network namespace, unshare the rest and run share/lab/disk-boot.sh, which ends in systemd.
 */
export function bootCommand(node: ContainerNode, templateDir: string): string[] {
  prepareDisk(node);
  return [
    ...machineNamespaces(node.namespace),
    'sh',
    join(templateDir, 'disk-boot.sh'),
    node.baseImage,
    join(node.dir, 'disk'),
    join(node.dir, 'root'),
    node.authorizedKey,
  ];
}

/** Own mount, UTS and PID namespaces inside the node's network namespace; the first child becomes PID 1. */
export function machineNamespaces(namespace: string): string[] {
  return [
    'ip',
    'netns',
    'exec',
    namespace,
    'unshare',
    '--mount',
    '--uts',
    '--pid',
    '--fork',
    '--kill-child',
    '--propagation',
    'private',
  ];
}

function prepareDisk(node: ContainerNode): void {
  const upperEtc = join(node.dir, 'disk', 'upper', 'etc');
  mkdirSync(upperEtc, { recursive: true });
  // systemd takes the host name from /etc/hostname; Debian packages want it resolvable.
  if (!existsSync(join(upperEtc, 'hostname'))) writeFileSync(join(upperEtc, 'hostname'), `${node.name}\n`);
  if (!existsSync(join(upperEtc, 'machine-id')))
    writeFileSync(join(upperEtc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
}

export function nodePidFile(node: Pick<ContainerNode, 'dir'>): string {
  return join(node.dir, 'pid');
}

/** Process control handed in by the caller (only the CLI entry touches `process`). */
export interface ProcessControl {
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  sleep: (ms: number) => Promise<void>;
}

export function nodeRunning(node: Pick<ContainerNode, 'dir'>, isAlive: (pid: number) => boolean): boolean {
  const pid = readPid(node);
  return pid !== undefined && isAlive(pid);
}

/** Power on: boot systemd in the node's namespaces. Idempotent: a running node is left alone. */
export function startNode(node: ContainerNode, templateDir: string, isAlive: (pid: number) => boolean): number {
  const running = readPid(node);
  if (running !== undefined && isAlive(running)) return running;
  ensureInotifyCapacity();
  const [file, ...args] = bootCommand(node, templateDir);
  const log = openSync(join(node.dir, 'console.log'), 'a');
  try {
    const pid = spawnDetached(file!, args, log);
    writeFileSync(nodePidFile(node), `${pid}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Each node's systemd takes several inotify instances, all of them root's: with the kernel's default of 128
 * per user, nodes past the limit stall for good after starting journald (measured: of 30 nodes, 3 never
 * brought up sshd; 153 instances were taken). Raised as container hosts (LXD, Incus) recommend; never lowered.
 */
function ensureInotifyCapacity(): void {
  for (const [setting, wanted] of [
    ['max_user_instances', 1024],
    ['max_user_watches', 1_048_576],
  ] as const) {
    const file = `/proc/sys/fs/inotify/${setting}`;
    if (Number(readFileSync(file, 'utf8').trim()) < wanted) writeFileSync(file, `${wanted}\n`);
  }
}

/**
 * Power off: kill the namespace holder; --kill-child takes systemd and everything below it along. Only while
 * the recorded pid is still this machine's (its command line names the machine's directory: the boot command
 * here, the power-on script when its BMC started it): a reused pid belongs to someone else.
 */
export async function stopNode(node: Pick<ContainerNode, 'dir'>, control: ProcessControl): Promise<void> {
  const pid = readPid(node);
  if (pid !== undefined && control.isAlive(pid) && processNamesDirectory(pid, node.dir)) {
    const children = (await runCommand('pgrep', ['--parent', String(pid)])).stdout
      .split('\n')
      .filter(Boolean)
      .map(Number);
    for (const p of [pid, ...children]) control.kill(p, 'SIGKILL');
    for (let i = 0; i < 100 && control.isAlive(pid); i++) await control.sleep(50);
  }
  rmSync(nodePidFile(node), { force: true });
}

/** Waits until sshd on the node answers with its banner (systemd has brought ssh.service up). */
export async function waitForSsh(
  address: string,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void>,
  nowMs: () => number,
): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline) {
    if (await sshBanner(address)) return true;
    await sleep(200);
  }
  return false;
}

function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, timeout: 1000 });
    const done = (answer: boolean) => {
      clearTimeout(limit);
      socket.destroy();
      resolve(answer);
    };
    // the idle timeout does not bound every way a connection can stall (an accepted connection that never
    // sends a banner while sshd starts): one probe never takes longer than this
    const limit = setTimeout(() => done(false), 3000);
    socket.once('data', (data) => done(data.toString().startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function readPid(node: Pick<ContainerNode, 'dir'>): number | undefined {
  try {
    const pid = Number(readFileSync(nodePidFile(node), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
