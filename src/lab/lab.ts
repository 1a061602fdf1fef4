import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ensureBaseImage, hostMirror } from './base-image.js';
import { mustRun, runCommand } from './exec.js';
import { deleteLink, deleteNamespace, ensureBridge, ensureNamespace } from './network.js';
import { nodeRunning, startNode, stopNode, waitForSsh, type ContainerNode } from './container-node.js';
import { portOpen, startPackageCache } from './package-cache.js';
import { labNames, type LabSpec } from './lab-spec.js';
import { fingerprintOf } from '../transport/known-hosts.js';

/** Recorded by `lab up` so that `lab down` removes exactly what was created, even after a crash. */
interface LabState {
  name: string;
  bridge: string;
  packageCachePid?: number;
  nodes: { name: string; namespace: string; hostVeth: string; address: string }[];
}

export interface LabDeps {
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
}

const REQUIRED_TOOLS = ['debootstrap', 'apt-cacher-ng', 'ssh-keygen', 'unshare', 'nsenter', 'ip'];

export function labKeyFile(spec: LabSpec): string {
  return join(spec.dir, 'id_ed25519');
}

export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) if ((await runCommand('sh', ['-c', 'command -v "$1"', 'sh', tool])).code !== 0) missing.push(tool);
  return missing;
}

function containerNode(spec: LabSpec, image: string, key: string, index: number, node: { name: string; address: string }): ContainerNode {
  return { name: node.name, namespace: labNames(spec, index, node.name).namespace, address: node.address, dir: join(spec.dir, 'nodes', node.name), baseImage: image, authorizedKey: key };
}

/** Creates (or completes, after a crash) the lab: bridge, package cache, container nodes, and waits for SSH. */
/** A lab node's SSH endpoint and the fingerprint of the host key the lab generated for it. */
export interface LabHostKey {
  endpoint: string;
  fingerprint: string;
}

export async function labUp(spec: LabSpec, deps: LabDeps): Promise<LabHostKey[]> {
  const started = deps.nowMs();
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  const image = await ensureBaseImage(spec.cacheDir, deps.log);
  const keyFile = labKeyFile(spec);
  if (!existsSync(keyFile)) await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bootstrap-lab-${spec.name}`, '-f', keyFile]);
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const bridge = labNames(spec, 0, '').bridge;
  const state: LabState = readState(spec) ?? { name: spec.name, bridge, nodes: [] };
  state.bridge = bridge;
  saveState(spec, state);
  await ensureBridge(bridge, spec.adminBridgeAddress);
  const bridgeIp = spec.adminBridgeAddress.split('/')[0]!;
  if (state.packageCachePid === undefined || !deps.isAlive(state.packageCachePid)) {
    state.packageCachePid = startPackageCache({ bindAddress: bridgeIp, port: spec.packageCachePort, dir: join(spec.dir, 'package-cache'), cacheDir: join(spec.cacheDir, 'apt-cacher-ng'), mirror: hostMirror() });
    saveState(spec, state);
  }
  const nodes = spec.nodes.map((n, i) => containerNode(spec, image, publicKey, i, n));
  for (const [i, node] of nodes.entries()) {
    const names = labNames(spec, i, node.name);
    if (!state.nodes.some((n) => n.name === node.name)) {
      state.nodes.push({ name: node.name, namespace: names.namespace, hostVeth: names.hostVeth, address: node.address });
      saveState(spec, state);
    }
    await ensureNamespace(names.namespace, bridge, names.hostVeth, `${node.address}/${spec.adminBridgeAddress.split('/')[1]}`);
    if (!nodeRunning(node, deps.isAlive)) startNode(node, deps.isAlive);
  }
  for (const node of nodes) {
    if (!(await waitForSsh(node.address, 90_000, deps.sleep, deps.nowMs))) throw new Error(`lab node ${node.name} did not bring up sshd within 90 s; see ${join(node.dir, 'console.log')}`);
  }
  for (let i = 0; i < 50 && !(await portOpen(bridgeIp, spec.packageCachePort)); i++) await deps.sleep(100);
  deps.log(`'${spec.name}' is up: ${nodes.length} node(s) reachable over SSH in ${((deps.nowMs() - started) / 1000).toFixed(1)} s`);
  // The lab made these keys itself: it can vouch for them, so a recreated lab is not a "changed host key".
  return nodes.map((node) => ({ endpoint: `${node.address}:22`, fingerprint: fingerprintOf(publicKeyBlob(readFileSync(join(node.dir, 'upper/etc/ssh/ssh_host_ed25519_key.pub'), 'utf8'))) }));
}

function publicKeyBlob(line: string): Buffer {
  return Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
}

/** Removes exactly what `up` recorded: processes, namespaces, veths, the bridge, node disks. Idempotent. */
export async function labDown(spec: LabSpec, deps: LabDeps): Promise<void> {
  const state = readState(spec);
  if (!state) {
    deps.log(`'${spec.name}' is not up (nothing recorded in ${spec.dir})`);
    return;
  }
  for (const [i, n] of state.nodes.entries()) {
    await stopNode({ name: n.name, namespace: n.namespace, address: n.address, dir: join(spec.dir, 'nodes', n.name), baseImage: '', authorizedKey: '' }, deps);
    await deleteNamespace(n.namespace, n.hostVeth ?? labNames(spec, i, n.name).hostVeth);
  }
  if (state.packageCachePid !== undefined && deps.isAlive(state.packageCachePid)) deps.kill(state.packageCachePid, 'SIGTERM');
  await deleteLink(state.bridge);
  rmSync(spec.dir, { recursive: true, force: true });
  deps.log(`'${spec.name}' removed`);
}

export interface LabNodeStatus {
  name: string;
  address: string;
  running: boolean;
  sshReady: boolean;
}

export async function labStatus(spec: LabSpec, isAlive: (pid: number) => boolean): Promise<{ up: boolean; nodes: LabNodeStatus[] }> {
  const state = readState(spec);
  const nodes: LabNodeStatus[] = [];
  for (const n of spec.nodes) {
    const node: ContainerNode = { name: n.name, namespace: '', address: n.address, dir: join(spec.dir, 'nodes', n.name), baseImage: '', authorizedKey: '' };
    const running = state !== undefined && nodeRunning(node, isAlive);
    nodes.push({ name: n.name, address: n.address, running, sshReady: running && (await portOpen(n.address, 22)) });
  }
  return { up: state !== undefined && nodes.every((n) => n.sshReady), nodes };
}

function stateFile(spec: LabSpec): string {
  return join(spec.dir, 'lab.json');
}

function readState(spec: LabSpec): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(spec), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function saveState(spec: LabSpec, state: LabState): void {
  writeFileAtomic(stateFile(spec), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
