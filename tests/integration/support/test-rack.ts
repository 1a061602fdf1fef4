import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ensureBaseImage } from '../../../src/lab/base-image.js';
import { hostMirror } from '../../../src/provision/host-mirror.js';
import { mustRun, runCommand } from '../../../src/util/exec.js';
import { deleteLink, deleteNamespace, ensureBridge, ensureNamespace } from '../../../src/lab/network.js';
import { startNode, stopNode, waitForSsh, type ContainerNode } from '../../../src/lab/container-node.js';
import { startPackageCache } from '../../../src/lab/package-cache.js';
import { portOpen } from '../../../src/util/tcp-probe.js';

/** The repository root: the nearest directory up with a package.json (also when compiled into dist-bench/). */
export const REPO = repositoryRoot(import.meta.dirname);
export const LAB_CACHE = '/var/cache/bootstrap-lab';
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const control = {
  sleep,
  isAlive,
  kill: (pid: number, signal: NodeJS.Signals) => {
    if (isAlive(pid)) process.kill(pid, signal);
  },
};

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI (bin/bootstrap.js) as a user runs it; never rejects, resolves with the exit code. */
export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [join(REPO, 'bin/bootstrap.js'), ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A few real container nodes (systemd + sshd) on a private bridge, plus a package cache on the bridge. */
export interface TestRack {
  dir: string;
  subnet: string;
  nodes: ContainerNode[];
  keyFile: string;
  stateDir: string;
  writeInventory(doc: Record<string, unknown>): string;
  baseInventory(): Record<string, any>;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Runs a shell command inside a node (nsenter into its namespaces and root). */
  exec(node: string, command: string): Promise<CliResult>;
  /** Reads a file from a node's disk (its overlay upper dir). */
  diskFile(node: string, path: string): string | undefined;
  restart(node: string): Promise<void>;
  /** The node is lost: its systemd (and with it every process of the node) is SIGKILLed from the host. */
  kill(node: string): Promise<void>;
  destroy(): Promise<void>;
}

export async function createTestRack(
  name: string,
  subnetIndex: number,
  nodeNames: string[],
  options: { sshWaitMs?: number } = {},
): Promise<TestRack> {
  const dir = mkdtempSync(join(tmpdir(), `bootstrap-${name}-`));
  const subnet = `10.79.${subnetIndex}`;
  const bridge = `bst${name}`;
  const image = await ensureBaseImage(LAB_CACHE, () => undefined);
  await ensureBridge(bridge, `${subnet}.1/24`);
  const keyFile = join(dir, 'id_ed25519');
  await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bootstrap-test', '-f', keyFile]);
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const cachePid = startPackageCache({
    bindAddress: `${subnet}.1`,
    port: 3142,
    dir: join(dir, 'acng'),
    cacheDir: join(LAB_CACHE, 'apt-cacher-ng'),
    mirror: hostMirror(),
  });
  const nodes: ContainerNode[] = [];
  for (const [i, nodeName] of nodeNames.entries()) {
    const node: ContainerNode = {
      name: nodeName,
      namespace: `bst${name}-${nodeName}`,
      address: `${subnet}.${11 + i}`,
      dir: join(dir, 'nodes', nodeName),
      baseImage: image,
      authorizedKey: publicKey,
    };
    await ensureNamespace(node.namespace, bridge, `bsv${name}${i}`, `${node.address}/24`);
    startNode(node, join(REPO, 'share/lab'), isAlive);
    nodes.push(node);
  }
  /** Leaves nothing behind on the host: nodes, namespaces, package cache, bridge. */
  const tearDown = async () => {
    for (const [i, node] of nodes.entries()) {
      await stopNode(node, control);
      await deleteNamespace(node.namespace, `bsv${name}${i}`);
    }
    try {
      process.kill(cachePid, 'SIGTERM');
    } catch {
      // already gone
    }
    await deleteLink(bridge);
  };
  for (const node of nodes) {
    // many nodes boot (and generate host keys) at once on two cores: the bench's 30 need more than a minute
    if (await waitForSsh(node.address, options.sshWaitMs ?? 60_000, sleep, () => Date.now())) continue;
    const console = readFileSync(join(node.dir, 'console.log'), 'utf8').slice(-2000);
    await tearDown();
    throw new Error(`node ${node.name} did not bring up sshd: ${console}`);
  }
  for (let i = 0; i < 50 && !(await portOpen(`${subnet}.1`, 3142)); i++) await sleep(100);
  const stateDir = join(dir, 'state');
  const byName = (n: string) => nodes.find((x) => x.name === n)!;
  const rack: TestRack = {
    dir,
    subnet,
    nodes,
    keyFile,
    stateDir,
    writeInventory(doc) {
      const file = join(dir, 'inventory.yaml');
      writeFileSync(file, stringify(doc));
      return file;
    },
    baseInventory() {
      return {
        deployment: `test-${name}`,
        release: 'zed',
        os: 'debian-12',
        networks: {
          admin: {
            cidr: `${subnet}.0/24`,
            gateway: `${subnet}.1`,
            static: `${subnet}.10-${subnet}.99`,
            dhcp: `${subnet}.100-${subnet}.199`,
          },
        },
        ssh: { user: 'root', key: keyFile, connect_timeout: 5 },
        nodes: nodes.map((n, i) => ({
          name: n.name,
          addresses: { admin: n.address },
          roles: [i === 0 ? 'controller' : 'compute'],
        })),
        roles: { controller: ['base/node', 'ntp/server'], compute: ['base/node', 'ntp/client'] },
        attributes: { base: { apt_proxy: `http://${subnet}.1:3142` }, ntp: { clock_control: false } },
      };
    },
    cli(args, env = {}) {
      return runCli([...args, '--state-dir', stateDir], { cwd: dir, env, timeoutMs: 900_000 });
    },
    async exec(nodeName, command) {
      const pid1 = await systemdPid(byName(nodeName));
      const result = await runCommand('nsenter', [
        '-t',
        String(pid1),
        '-m',
        '-u',
        '-p',
        '-n',
        '-i',
        '-r',
        '-w',
        '/bin/sh',
        '-c',
        command,
      ]);
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
    },
    diskFile(nodeName, path) {
      try {
        return readFileSync(join(byName(nodeName).dir, 'disk', 'upper', path), 'utf8');
      } catch {
        return undefined;
      }
    },
    async restart(nodeName) {
      const node = byName(nodeName);
      await stopNode(node, control);
      startNode(node, join(REPO, 'share/lab'), isAlive);
      if (!(await waitForSsh(node.address, 60_000, sleep, () => Date.now())))
        throw new Error(`node ${nodeName} did not come back`);
    },
    async kill(nodeName) {
      process.kill(await systemdPid(byName(nodeName)), 'SIGKILL');
    },
    async destroy() {
      await tearDown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rack;
}

function repositoryRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

async function systemdPid(node: ContainerNode): Promise<number> {
  const holder = readFileSync(join(node.dir, 'pid'), 'utf8').trim();
  // ip netns exec → unshare → (fork) systemd: walk down to the process whose command is systemd.
  let current = holder;
  for (let depth = 0; depth < 4; depth++) {
    const comm = readFileSync(`/proc/${current}/comm`, 'utf8').trim();
    if (comm === 'systemd') return Number(current);
    const children = (await runCommand('pgrep', ['--parent', current])).stdout.split('\n').filter(Boolean);
    if (children.length === 0) break;
    current = children[0]!;
  }
  throw new Error(`no systemd found under pid ${holder} for node ${node.name}`);
}
