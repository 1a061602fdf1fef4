import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCommand, spawnDetached } from './exec.js';

/**
 * A container node: own network namespace (already set up), own mount/UTS/PID namespaces, an overlayfs
 * root (shared base image below, per-node upper dir = its "disk") and real systemd as PID 1.
 */
export interface ContainerNode {
  name: string;
  namespace: string;
  address: string;
  /** Per-node directory: upper/ (the disk), work/, root/ (mount point), pid, console.log. */
  dir: string;
  baseImage: string;
  authorizedKey: string;
}

/** Runs inside the new namespaces. Values arrive as positional arguments, never spliced into the script. */
const BOOT_SCRIPT = `
set -e
lower=$1; upper=$2; work=$3; root=$4; name=$5; key=$6
mount -t overlay "bs-$name" -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
hostname "$name"
[ -s "$root/etc/machine-id" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > "$root/etc/machine-id"
mkdir -p "$root/root/.ssh"; chmod 700 "$root/root/.ssh"
printf '%s\\n' "$key" > "$root/root/.ssh/authorized_keys"; chmod 600 "$root/root/.ssh/authorized_keys"
[ -f "$root/etc/ssh/ssh_host_ed25519_key" ] || chroot "$root" ssh-keygen -q -A
exec chroot "$root" /lib/systemd/systemd --system
`;

/** The command that boots a node: enter its network namespace, unshare the rest, run systemd. */
export function bootCommand(node: ContainerNode): string[] {
  prepareDisk(node);
  return ['ip', 'netns', 'exec', node.namespace, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', BOOT_SCRIPT, 'boot', node.baseImage, join(node.dir, 'upper'), join(node.dir, 'work'), join(node.dir, 'root'), node.name, node.authorizedKey];
}

function prepareDisk(node: ContainerNode): void {
  for (const sub of ['upper', 'work', 'root']) mkdirSync(join(node.dir, sub), { recursive: true });
  const upperEtc = join(node.dir, 'upper', 'etc');
  mkdirSync(upperEtc, { recursive: true });
  // systemd takes the host name from /etc/hostname; Debian packages want it resolvable.
  if (!existsSync(join(upperEtc, 'hostname'))) writeFileSync(join(upperEtc, 'hostname'), `${node.name}\n`);
  if (!existsSync(join(upperEtc, 'machine-id'))) writeFileSync(join(upperEtc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
}

export function nodePidFile(node: ContainerNode): string {
  return join(node.dir, 'pid');
}

/** Process control handed in by the caller (only the CLI entry touches `process`). */
export interface ProcessControl {
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  sleep: (ms: number) => Promise<void>;
}

export function nodeRunning(node: ContainerNode, isAlive: (pid: number) => boolean): boolean {
  const pid = readPid(node);
  return pid !== undefined && isAlive(pid);
}

/** Power on: boot systemd in the node's namespaces. Idempotent: a running node is left alone. */
export function startNode(node: ContainerNode, isAlive: (pid: number) => boolean): number {
  const running = readPid(node);
  if (running !== undefined && isAlive(running)) return running;
  const [file, ...args] = bootCommand(node);
  const log = openSync(join(node.dir, 'console.log'), 'a');
  try {
    const pid = spawnDetached(file!, args, log);
    writeFileSync(nodePidFile(node), `${pid}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

/** Power off: kill the namespace holder; --kill-child takes systemd and everything below it along. */
export async function stopNode(node: ContainerNode, control: ProcessControl): Promise<void> {
  const pid = readPid(node);
  if (pid !== undefined && control.isAlive(pid)) {
    const children = (await runCommand('pgrep', ['--parent', String(pid)])).stdout.split('\n').filter(Boolean).map(Number);
    for (const p of [pid, ...children]) control.kill(p, 'SIGKILL');
    for (let i = 0; i < 100 && control.isAlive(pid); i++) await control.sleep(50);
  }
  rmSync(nodePidFile(node), { force: true });
}

/** Waits until sshd on the node answers with its banner (systemd has brought ssh.service up). */
export async function waitForSsh(address: string, timeoutMs: number, sleep: (ms: number) => Promise<void>, nowMs: () => number): Promise<boolean> {
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
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function readPid(node: ContainerNode): number | undefined {
  try {
    const pid = Number(readFileSync(nodePidFile(node), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

