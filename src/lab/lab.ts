import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { netmaskOf } from '../util/ipv4.js';
import { ensureBaseImage, hostMirror } from './base-image.js';
import { mustRun, runCommand } from './exec.js';
import { deleteLink, deleteNamespace, ensureBridge, ensureNamespace } from './network.js';
import { bootCommand, nodeRunning, stopNode, waitForSsh, type ContainerNode } from './container-node.js';
import { startBmc, type BmcSim } from './bmc-sim.js';
import { randomSecret } from '../secrets/secret-store.js';
import { createHash } from 'node:crypto';
import { startPackageCache } from './package-cache.js';
import { portOpen } from '../util/tcp-probe.js';
import { labNames, type LabSpec } from './lab-spec.js';
import { LabError } from './lab-error.js';
import { fingerprintOf } from '../transport/known-hosts.js';

/** Recorded by `lab up` so that `lab down` removes exactly what was created, even after a crash. */
interface LabState {
  name: string;
  bridge: string;
  bmcBridge?: string;
  packageCachePid?: number;
  nodes: { name: string; namespace: string; hostVeth: string; address: string; bmcNamespace?: string; bmcVeth?: string; bmcPid?: number }[];
}

export interface LabDeps {
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  /** The BMC hook scripts (templates/lab/). */
  hooks: { chassisControl: string; lanConfig: string };
}

const REQUIRED_TOOLS = ['debootstrap', 'apt-cacher-ng', 'ssh-keygen', 'unshare', 'nsenter', 'ip', 'ipmi_sim', 'ipmitool'];

export function labKeyFile(spec: LabSpec): string {
  return join(spec.dir, 'id_ed25519');
}

/** The lab BMCs' admin password: generated once per lab, 0600; the lab inventory reads it from this file. */
export function labBmcPasswordFile(spec: LabSpec): string {
  return join(spec.dir, 'bmc-password');
}

function bmcPassword(spec: LabSpec): string {
  const file = labBmcPasswordFile(spec);
  if (!existsSync(file)) writeFileAtomic(file, `${randomSecret(16)}\n`, 0o600); // IPMI passwords are at most 16 bytes (v1.5 compatible)
  return readFileSync(file, 'utf8').trim();
}

/** Power on through the BMC with the real ipmitool (password in the environment, never on the command line). */
export async function bmcPower(address: string, password: string, action: 'on' | 'off' | 'status'): Promise<string> {
  const result = await runCommand('ipmitool', ['-I', 'lanplus', '-C', '3', '-N', '1', '-R', '3', '-H', address, '-U', 'admin', '-E', 'chassis', 'power', action], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', IPMI_PASSWORD: password } });
  if (result.code !== 0) throw new LabError(`ipmitool chassis power ${action} on BMC ${address} failed: ${result.stderr.trim()}`, 'see the BMC log under the lab directory (bmc/<node>/ipmi_sim.log); `bootstrap lab down` then `lab up` rebuilds it');
  return result.stdout.trim();
}

export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) if ((await runCommand('sh', ['-c', 'command -v "$1"', 'sh', tool])).code !== 0) missing.push(tool);
  return missing;
}

function containerNode(spec: LabSpec, image: string, key: string, index: number, node: { name: string; address: string }): ContainerNode {
  return { name: node.name, namespace: labNames(spec, index, node.name).namespace, address: node.address, dir: join(spec.dir, 'nodes', node.name), baseImage: image, authorizedKey: key };
}

/** A lab node's SSH endpoint and the fingerprint of the host key the lab generated for it. */
export interface LabHostKey {
  endpoint: string;
  fingerprint: string;
}

/**
 * Creates (or completes, after a crash) the lab: bridges, package cache, BMCs, machines powered on through
 * their BMCs; waits for SSH and returns the host keys of the nodes it made.
 */
export async function labUp(spec: LabSpec, deps: LabDeps): Promise<LabHostKey[]> {
  const started = deps.nowMs();
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  const image = await ensureBaseImage(spec.cacheDir, deps.log);
  const keyFile = labKeyFile(spec);
  if (!existsSync(keyFile)) await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bootstrap-lab-${spec.name}`, '-f', keyFile]);
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const { bridge, bmcBridge } = labNames(spec, 0, '');
  const state: LabState = readState(spec) ?? { name: spec.name, bridge, nodes: [] };
  state.bridge = bridge;
  state.bmcBridge = bmcBridge;
  saveState(spec, state);
  await ensureBridge(bridge, spec.adminBridgeAddress);
  await ensureBridge(bmcBridge, spec.bmcBridgeAddress);
  const password = bmcPassword(spec);
  const bridgeIp = spec.adminBridgeAddress.split('/')[0]!;
  if (state.packageCachePid === undefined || !deps.isAlive(state.packageCachePid)) {
    state.packageCachePid = startPackageCache({ bindAddress: bridgeIp, port: spec.packageCachePort, dir: join(spec.dir, 'package-cache'), cacheDir: join(spec.cacheDir, 'apt-cacher-ng'), mirror: hostMirror() });
    saveState(spec, state);
  }
  const nodes = spec.nodes.map((n, i) => containerNode(spec, image, publicKey, i, n));
  for (const [i, node] of nodes.entries()) {
    const names = labNames(spec, i, node.name);
    const nodeSpec = spec.nodes[i]!;
    let recorded = state.nodes.find((n) => n.name === node.name);
    if (!recorded) {
      recorded = { name: node.name, namespace: names.namespace, hostVeth: names.hostVeth, address: node.address, bmcNamespace: names.bmcNamespace, bmcVeth: names.bmcVeth };
      state.nodes.push(recorded);
      saveState(spec, state);
    }
    await ensureNamespace(names.namespace, bridge, names.hostVeth, `${node.address}/${spec.adminBridgeAddress.split('/')[1]}`);
    await ensureNamespace(names.bmcNamespace, bmcBridge, names.bmcVeth, `${nodeSpec.bmcAddress}/${spec.bmcBridgeAddress.split('/')[1]}`);
    if (recorded.bmcPid === undefined || !deps.isAlive(recorded.bmcPid)) {
      recorded.bmcPid = startBmc(bmcOf(spec, i, node, password), bootCommand(node), deps.hooks);
      saveState(spec, state);
    }
  }
  // Machines are powered on the way real ones are: through their BMCs (the real ipmitool, RMCP+).
  for (const [i, node] of nodes.entries()) {
    if (nodeRunning(node, deps.isAlive)) continue;
    const address = spec.nodes[i]!.bmcAddress;
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        await bmcPower(address, password, 'on');
        break;
      } catch (error) {
        if (attempt === 29) throw error;
        await deps.sleep(200); // ipmi_sim opens its socket a moment after start
      }
    }
  }
  for (const node of nodes) {
    if (!(await waitForSsh(node.address, 90_000, deps.sleep, deps.nowMs))) throw new LabError(`lab node ${node.name} did not bring up sshd within 90 s`, `see ${join(node.dir, 'console.log')}`);
  }
  for (let i = 0; i < 50 && !(await portOpen(bridgeIp, spec.packageCachePort)); i++) await deps.sleep(100);
  deps.log(`'${spec.name}' is up: ${nodes.length} node(s) reachable over SSH in ${((deps.nowMs() - started) / 1000).toFixed(1)} s`);
  // The lab made these keys itself: it can vouch for them, so a recreated lab is not a "changed host key".
  return nodes.map((node) => ({ endpoint: `${node.address}:22`, fingerprint: fingerprintOf(publicKeyBlob(readFileSync(join(node.dir, 'upper/etc/ssh/ssh_host_ed25519_key.pub'), 'utf8'))) }));
}

function bmcOf(spec: LabSpec, index: number, node: ContainerNode, password: string): BmcSim {
  const n = spec.nodes[index]!;
  const serial = `${spec.name}-${node.name}`.toUpperCase();
  return {
    node: node.name,
    namespace: labNames(spec, index, node.name).bmcNamespace,
    address: n.bmcAddress,
    netmask: netmaskOf(Number(spec.bmcBridgeAddress.split('/')[1])),
    mac: n.bmcMac,
    guid: createHash('md5').update(`bootstrap-lab/${spec.name}/${node.name}`).digest('hex'),
    username: 'admin',
    password,
    dir: join(spec.dir, 'bmc', node.name),
    machineDir: node.dir,
    fru: { manufacturer: 'BootstrapLab', product: `LabServer ${node.name}`, serial: `SRV-${serial}`, partNumber: 'LAB-1', boardSerial: `BRD-${serial}`, assetTag: `asset-${node.name}` },
  };
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
    if (n.bmcPid !== undefined && deps.isAlive(n.bmcPid)) deps.kill(n.bmcPid, 'SIGKILL');
    await stopNode({ name: n.name, namespace: n.namespace, address: n.address, dir: join(spec.dir, 'nodes', n.name), baseImage: '', authorizedKey: '' }, deps);
    await deleteNamespace(n.namespace, n.hostVeth ?? labNames(spec, i, n.name).hostVeth);
    if (n.bmcNamespace) await deleteNamespace(n.bmcNamespace, n.bmcVeth ?? labNames(spec, i, n.name).bmcVeth);
  }
  if (state.packageCachePid !== undefined && deps.isAlive(state.packageCachePid)) deps.kill(state.packageCachePid, 'SIGTERM');
  await deleteLink(state.bridge);
  if (state.bmcBridge) await deleteLink(state.bmcBridge);
  rmSync(spec.dir, { recursive: true, force: true });
  deps.log(`'${spec.name}' removed`);
}

export interface LabNodeStatus {
  name: string;
  address: string;
  bmcAddress: string;
  bmcRunning: boolean;
  running: boolean;
  sshReady: boolean;
}

export async function labStatus(spec: LabSpec, isAlive: (pid: number) => boolean): Promise<{ up: boolean; nodes: LabNodeStatus[] }> {
  const state = readState(spec);
  const nodes: LabNodeStatus[] = [];
  for (const n of spec.nodes) {
    const node: ContainerNode = { name: n.name, namespace: '', address: n.address, dir: join(spec.dir, 'nodes', n.name), baseImage: '', authorizedKey: '' };
    const running = state !== undefined && nodeRunning(node, isAlive);
    const bmcPid = state?.nodes.find((r) => r.name === n.name)?.bmcPid;
    nodes.push({ name: n.name, address: n.address, bmcAddress: n.bmcAddress, bmcRunning: bmcPid !== undefined && isAlive(bmcPid), running, sshReady: running && (await portOpen(n.address, 22)) });
  }
  return { up: state !== undefined && nodes.every((n) => n.sshReady && n.bmcRunning), nodes };
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
