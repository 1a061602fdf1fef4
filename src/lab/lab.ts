import { processStartTime } from '../util/process-identity.js';
import { UserError } from '../core/user-error.js';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { netmaskOf } from '../util/ipv4.js';
import { ensureBaseImage } from './base-image.js';
import { hostMirror } from '../provision/host-mirror.js';
import { mustRun, runCommand, spawnDetached } from '../util/exec.js';
import {
  deleteLink,
  deleteNamespace,
  ensureBridge,
  ensureBridgeIPv6,
  ensureBridgeNetfilter,
  ensureHostNamespaceHandle,
  ensureNamespace,
  ensureNamespaceLink,
  ensureTap,
} from './network.js';
import { OVMF_CODE, prepareQemuMachine, QEMU } from './qemu-machine.js';
import { ensureDiscoveryImage } from '../provision/discovery-image.js';
import { ensureOsImage, OS_IMAGE_TOOLS } from '../provision/os-image.js';
import { stopNode } from './container-node.js';
import { startBmc, type BmcSim } from './bmc-sim.js';
import { randomSecret } from '../secrets/secret-store.js';
import { createHash } from 'node:crypto';
import { startPackageCache } from './package-cache.js';
import { portOpen } from '../util/tcp-probe.js';
import { labNames, MANAGEMENT_NIC, PROVIDER_NIC, type LabSpec } from './lab-spec.js';
import { LabError } from './lab-error.js';
import { prepareMachine, uuidOfGuid } from './machine.js';
import { IpmiDriver } from '../ipmi/ipmi-driver.js';
import { IpmiError } from '../ipmi/ipmi-error.js';
import { IpmiTool } from '../ipmi/ipmitool.js';

/** Recorded by `lab up` so that `lab down` removes exactly what was created, even after a crash. */
interface LabState {
  name: string;
  bridge: string;
  bmcBridge?: string;
  providerBridge?: string;
  /** Name for the namespace the lab bridges live in (QEMU machines are started from BMC namespaces). */
  hostNamespace?: string;
  packageCachePid?: number;
  provisionerPid?: number;
  /** Start times of the recorded processes (processStartTime): a pid is only signalled while it is still ours. */
  packageCacheStart?: string;
  provisionerStart?: string;
  /** A QEMU machine has no namespace of its own: its NIC is a tap device (`hostVeth` names it). */
  nodes: {
    name: string;
    kind?: 'container' | 'qemu';
    namespace?: string;
    hostVeth: string;
    providerVeth?: string;
    managementVeth?: string;
    bmcNamespace?: string;
    bmcVeth?: string;
    bmcPid?: number;
    bmcStart?: string;
  }[];
}

export interface LabDeps {
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  isAlive: (pid: number) => boolean;
  kill: (pid: number, signal: NodeJS.Signals) => void;
  /** share/lab/: BMC hooks and machine firmware. */
  templateDir: string;
  /** share/provisioner/: the discovery ramdisk's init (QEMU machines boot the real image). */
  provisionerTemplateDir: string;
  /** The admin node's provisioning services (DHCP/TFTP/HTTP boot): argument vector, run detached. */
  provisionerCommand: string[];
}

const REQUIRED_TOOLS = [
  'debootstrap',
  'apt-cacher-ng',
  'ssh-keygen',
  'unshare',
  'nsenter',
  'ip',
  'ipmi_sim',
  'ipmitool',
  'dnsmasq',
  'busybox',
];

export function labKeyFile(spec: LabSpec): string {
  return join(spec.dir, 'id_ed25519');
}

/** The lab BMCs' admin password: generated once per lab, 0600; the lab inventory reads it from this file. */
export function labBmcPasswordFile(spec: LabSpec): string {
  return join(spec.dir, 'bmc-password');
}

/** A password file of the lab's BMCs, generated once (0600); IPMI passwords are at most 16 bytes (v1.5 compatible). */
function ensurePasswordFile(file: string): string {
  if (!existsSync(file)) writeFileAtomic(file, `${randomSecret(16)}\n`, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** Where the lab keeps the fencing user's password (what a lab inventory's bmc.fence.password names). */
export function labFencePasswordFile(spec: LabSpec): string {
  return join(spec.dir, 'bmc-fence-password');
}

function readBmcPassword(spec: LabSpec): string | undefined {
  return existsSync(labBmcPasswordFile(spec)) ? readFileSync(labBmcPasswordFile(spec), 'utf8').trim() : undefined;
}

/** The lab talks to its BMCs like the product does (src/ipmi); ipmi_sim knows cipher suite 3, not 17. */
function labBmcs(
  password: string,
  control: { sleep: (ms: number) => Promise<void>; nowMs: () => number },
): (address: string) => IpmiDriver {
  const tool = new IpmiTool({ run: runCommand, sleep: control.sleep, nowMs: control.nowMs, attempts: 1 }); // the lab polls on its own
  return (address) => new IpmiDriver(tool, { address, username: 'admin', password, cipherSuites: [3] });
}

export async function missingTools(spec?: LabSpec): Promise<string[]> {
  const missing: string[] = [];
  const tools = spec?.nodes.some((n) => n.kind === 'qemu') ? [...REQUIRED_TOOLS, QEMU] : [...REQUIRED_TOOLS];
  // a machine installed onto its disk needs the OS image, made without loop devices or mounts
  if (spec?.nodes.some((n) => n.kind === 'qemu' && !n.spare)) tools.push(...OS_IMAGE_TOOLS);
  for (const tool of tools)
    if ((await runCommand('sh', ['-c', 'command -v "$1"', 'sh', tool])).code !== 0) missing.push(tool);
  if (spec?.nodes.some((n) => n.firmware === 'uefi') && !existsSync(OVMF_CODE)) missing.push(`${OVMF_CODE} (ovmf)`);
  return missing;
}

function machineDir(spec: LabSpec, name: string): string {
  return join(spec.dir, 'nodes', name);
}

export interface LabUpResult {
  /** Machines created by this call (new, empty disks): anything known about them before is void. */
  created: string[];
}

/**
 * Creates (or completes, after a crash) the lab: bridges, package cache, the admin node's provisioning
 * services, and per machine a BMC and the machine's hardware, powered off with an empty disk.
 */
export async function labUp(spec: LabSpec, deps: LabDeps): Promise<LabUpResult> {
  const started = deps.nowMs();
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  const image = await ensureBaseImage(spec.cacheDir, deps.log);
  const keyFile = labKeyFile(spec);
  if (!existsSync(keyFile))
    await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bootstrap-lab-${spec.name}`, '-f', keyFile]);
  const { bridge, bmcBridge, providerBridge, hostNamespace } = labNames(spec, 0, '');
  const hasQemu = spec.nodes.some((n) => n.kind === 'qemu');
  const state: LabState = readState(spec) ?? { name: spec.name, bridge, nodes: [] };
  state.bridge = bridge;
  state.bmcBridge = bmcBridge;
  if (spec.providerBridgeAddress) state.providerBridge = providerBridge;
  if (hasQemu) state.hostNamespace = hostNamespace;
  saveState(spec, state);
  await ensureBridge(bridge, spec.adminBridgeAddress);
  await ensureBridgeIPv6(bridge, labUniqueLocalAddress(spec));
  await ensureBridge(bmcBridge, spec.bmcBridgeAddress);
  if (spec.providerBridgeAddress) {
    if (!(await ensureBridgeNetfilter()))
      throw new LabError(
        "the kernel has no bridge netfilter (br_netfilter): guests' security groups cannot work on the provider network",
        'load it on this machine (`modprobe br_netfilter`; the kernel must have CONFIG_BRIDGE_NETFILTER), or drop the provider network from the lab inventory',
      );
    await ensureBridge(providerBridge, spec.providerBridgeAddress);
  }
  // QEMU machines boot the real discovery kernel: have it ready before anything can power them on
  if (hasQemu) {
    await ensureDiscoveryImage(spec.imagesDir, {
      run: runCommand,
      log: deps.log,
      nowMs: deps.nowMs,
      templateDir: deps.provisionerTemplateDir,
    });
    await ensureHostNamespaceHandle(hostNamespace);
  }
  // an inventory node on a QEMU machine is installed onto its disk: the OS image must be ready to serve
  if (spec.nodes.some((n) => n.kind === 'qemu' && !n.spare))
    await ensureOsImage(spec.imagesDir, { run: runCommand, log: deps.log, nowMs: deps.nowMs, mirror: hostMirror() });
  const password = ensurePasswordFile(labBmcPasswordFile(spec));
  const fence =
    spec.fenceUser !== undefined
      ? { username: spec.fenceUser, password: ensurePasswordFile(labFencePasswordFile(spec)) }
      : undefined;
  const bridgeIp = spec.adminBridgeAddress.split('/')[0]!;
  if (!ours(deps, state.packageCachePid, state.packageCacheStart)) {
    state.packageCachePid = startPackageCache({
      bindAddress: bridgeIp,
      port: spec.packageCachePort,
      dir: join(spec.dir, 'package-cache'),
      cacheDir: join(spec.cacheDir, 'apt-cacher-ng'),
      mirror: hostMirror(),
    });
    state.packageCacheStart = processStartTime(state.packageCachePid);
    saveState(spec, state);
  }
  if (!ours(deps, state.provisionerPid, state.provisionerStart)) {
    const log = openSync(join(spec.dir, 'provisioner.log'), 'a');
    try {
      state.provisionerPid = spawnDetached(deps.provisionerCommand[0]!, deps.provisionerCommand.slice(1), log);
      state.provisionerStart = processStartTime(state.provisionerPid);
    } finally {
      closeSync(log);
    }
    saveState(spec, state);
  }
  const created: string[] = [];
  for (const [i, machine] of spec.nodes.entries()) {
    const names = labNames(spec, i, machine.name);
    let recorded = state.nodes.find((n) => n.name === machine.name);
    if (!recorded) {
      recorded =
        machine.kind === 'qemu'
          ? {
              name: machine.name,
              kind: 'qemu',
              hostVeth: names.tap,
              bmcNamespace: names.bmcNamespace,
              bmcVeth: names.bmcVeth,
            }
          : {
              name: machine.name,
              kind: 'container',
              namespace: names.namespace,
              hostVeth: names.hostVeth,
              ...(spec.providerBridgeAddress ? { providerVeth: names.providerVeth } : {}),
              managementVeth: names.managementVeth,
              bmcNamespace: names.bmcNamespace,
              bmcVeth: names.bmcVeth,
            };
      state.nodes.push(recorded);
      saveState(spec, state);
      created.push(machine.name);
    }
    if (machine.kind === 'qemu') await ensureTap(names.tap, bridge);
    else {
      await ensureNamespace(names.namespace, bridge, names.hostVeth, undefined, machine.mac);
      if (spec.providerBridgeAddress)
        await ensureNamespaceLink(names.namespace, PROVIDER_NIC, providerBridge, names.providerVeth);
      // recorded first: a lab that came up before machines had this NIC gets it now, and `down` removes it
      if (recorded.managementVeth === undefined) {
        recorded.managementVeth = names.managementVeth;
        saveState(spec, state);
      }
      await ensureNamespaceLink(
        names.namespace,
        MANAGEMENT_NIC,
        bmcBridge,
        names.managementVeth,
        machine.managementMac,
      );
    }
    await ensureNamespace(
      names.bmcNamespace,
      bmcBridge,
      names.bmcVeth,
      `${machine.bmcAddress}/${spec.bmcBridgeAddress.split('/')[1]}`,
    );
    if (!ours(deps, recorded.bmcPid, recorded.bmcStart)) {
      const bmc = bmcOf(spec, i, password, fence);
      const identity = {
        vendor: bmc.fru.manufacturer,
        product: bmc.fru.product,
        serial: bmc.fru.serial,
        uuid: uuidOfGuid(bmc.guid),
      };
      const dir = machineDir(spec, machine.name);
      const powerOn =
        machine.kind === 'qemu'
          ? prepareQemuMachine({
              dir,
              tap: names.tap,
              hostNamespace,
              mac: machine.mac,
              identity,
              firmware: machine.firmware ?? 'bios',
              templateDir: deps.templateDir,
            })
          : prepareMachine({ namespace: names.namespace, dir, baseImage: image, identity }, deps.templateDir);
      recorded.bmcPid = startBmc(bmc, powerOn, deps.templateDir);
      recorded.bmcStart = processStartTime(recorded.bmcPid);
      saveState(spec, state);
    }
  }
  // BMCs and the boot server answer a moment after they start: the lab is up when they do.
  const bmcAt = labBmcs(password, deps);
  for (const machine of spec.nodes) {
    for (let attempt = 0; ; attempt++) {
      try {
        await bmcAt(machine.bmcAddress).powerState();
        break;
      } catch (error) {
        if (!(error instanceof IpmiError)) throw error;
        if (attempt === 50)
          throw new LabError(
            `the BMC of ${machine.name} (${machine.bmcAddress}) does not answer: ${error.message}`,
            `see ${join(spec.dir, 'bmc', machine.name, 'ipmi_sim.log')}; \`bootstrap lab down\` then \`lab up\` rebuilds it`,
          );
        await deps.sleep(100);
      }
    }
  }
  for (let i = 0; i < 50 && !(await portOpen(bridgeIp, spec.packageCachePort)); i++) await deps.sleep(100);
  for (let i = 0; !(await portOpen(bridgeIp, spec.provisionerPort)); i++) {
    if (i === 100 || !ours(deps, state.provisionerPid, state.provisionerStart))
      throw new LabError(
        `the provisioner (DHCP/TFTP/HTTP boot) did not start on ${bridgeIp}:${spec.provisionerPort}`,
        `see ${join(spec.dir, 'provisioner.log')}`,
      );
    await deps.sleep(100);
  }
  deps.log(
    `'${spec.name}' is up: ${spec.nodes.length} machine(s) with BMCs, powered off, in ${((deps.nowMs() - started) / 1000).toFixed(1)} s`,
  );
  return { created };
}

function bmcOf(spec: LabSpec, index: number, password: string, fence: BmcSim['fence']): BmcSim {
  const n = spec.nodes[index]!;
  const serial = `${spec.name}-${n.name}`.toUpperCase();
  return {
    node: n.name,
    namespace: labNames(spec, index, n.name).bmcNamespace,
    address: n.bmcAddress,
    netmask: netmaskOf(Number(spec.bmcBridgeAddress.split('/')[1])),
    mac: n.bmcMac,
    guid: createHash('md5').update(`bootstrap-lab/${spec.name}/${n.name}`).digest('hex'),
    username: 'admin',
    password,
    ...(fence ? { fence } : {}),
    dir: join(spec.dir, 'bmc', n.name),
    machineDir: machineDir(spec, n.name),
    fru: {
      manufacturer: 'BootstrapLab',
      product: 'LabServer 1U',
      serial: `SRV-${serial}`,
      partNumber: 'LAB-1',
      boardSerial: `BRD-${serial}`,
      assetTag: `asset-${n.name}`,
    },
  };
}

/** Removes exactly what `up` recorded: processes, namespaces, veths, bridges, machine disks. Idempotent. */
export async function labDown(spec: LabSpec, deps: LabDeps): Promise<void> {
  const state = readState(spec);
  if (!state) {
    deps.log(`'${spec.name}' is not up (nothing recorded in ${spec.dir})`);
    return;
  }
  // the directory is removed recursively below: only one this lab's own state names
  if (state.name !== spec.name)
    throw new UserError(
      'precondition',
      `${spec.dir} holds the lab '${state.name}', not '${spec.name}': nothing removed`,
    );
  for (const [i, n] of state.nodes.entries()) {
    if (ours(deps, n.bmcPid, n.bmcStart)) deps.kill(n.bmcPid!, 'SIGKILL');
    await stopNode({ dir: machineDir(spec, n.name) }, deps);
    if (n.providerVeth !== undefined) await deleteLink(n.providerVeth);
    if (n.managementVeth !== undefined) await deleteLink(n.managementVeth);
    if (n.namespace !== undefined) await deleteNamespace(n.namespace, n.hostVeth ?? labNames(spec, i, n.name).hostVeth);
    else await deleteLink(n.hostVeth);
    if (n.bmcNamespace) await deleteNamespace(n.bmcNamespace, n.bmcVeth ?? labNames(spec, i, n.name).bmcVeth);
  }
  // The provisioner leads its own process group (dnsmasq is its child): stop the group, politely first.
  if (ours(deps, state.provisionerPid, state.provisionerStart)) {
    const group = state.provisionerPid!;
    deps.kill(-group, 'SIGTERM');
    for (let i = 0; i < 50 && deps.isAlive(group); i++) await deps.sleep(100);
    deps.kill(-group, 'SIGKILL');
  }
  if (ours(deps, state.packageCachePid, state.packageCacheStart)) deps.kill(state.packageCachePid!, 'SIGTERM');
  await deleteLink(state.bridge);
  if (state.bmcBridge) await deleteLink(state.bmcBridge);
  if (state.providerBridge) await deleteLink(state.providerBridge);
  // only the name goes: the namespace itself is the one this process runs in
  if (state.hostNamespace) await runCommand('ip', ['netns', 'del', state.hostNamespace]);
  rmSync(spec.dir, { recursive: true, force: true });
  deps.log(`'${spec.name}' removed`);
}

/**
 * A recorded pid that still names the process the lab started: alive, and started when recorded (pids are
 * reused: after a reboot or a long time, the same number can be anyone's, and the lab signals as root).
 */
function ours(deps: Pick<LabDeps, 'isAlive'>, pid: number | undefined, start: string | undefined): boolean {
  if (pid === undefined || !deps.isAlive(pid)) return false;
  return start === undefined || processStartTime(pid) === start;
}

export interface LabMachineStatus {
  name: string;
  spare: boolean;
  mac: string;
  address?: string;
  bmcAddress: string;
  bmc: 'up' | 'down';
  /** As the BMC reports it (the real ipmitool), or unknown when the BMC does not answer. */
  power: 'on' | 'off' | 'unknown';
  sshReady: boolean;
  /** The machine's last console line from its firmware, RAM disk or installer. */
  lastConsole?: string;
}

export interface LabStatus {
  up: boolean;
  provisioner: boolean;
  machines: LabMachineStatus[];
}

export async function labStatus(
  spec: LabSpec,
  control: { isAlive: (pid: number) => boolean; sleep: (ms: number) => Promise<void>; nowMs: () => number },
): Promise<LabStatus> {
  const { isAlive } = control;
  const state = readState(spec);
  const password = state ? readBmcPassword(spec) : undefined;
  const bmcAt = password !== undefined ? labBmcs(password, control) : undefined;
  const machines = await Promise.all(
    spec.nodes.map(async (n): Promise<LabMachineStatus> => {
      const bmcPid = state?.nodes.find((r) => r.name === n.name)?.bmcPid;
      const bmcUp = bmcPid !== undefined && isAlive(bmcPid);
      let power: LabMachineStatus['power'] = 'unknown';
      if (bmcUp && bmcAt) {
        try {
          power = await bmcAt(n.bmcAddress).powerState();
        } catch (error) {
          if (!(error instanceof IpmiError)) throw error;
        }
      }
      const last = lastConsoleLine(join(machineDir(spec, n.name), 'console.log'));
      return {
        name: n.name,
        spare: n.spare,
        mac: n.mac,
        ...(n.address !== undefined ? { address: n.address } : {}),
        bmcAddress: n.bmcAddress,
        bmc: bmcUp ? 'up' : 'down',
        power,
        sshReady: power === 'on' && n.address !== undefined && (await portOpen(n.address, 22)),
        ...(last !== undefined ? { lastConsole: last } : {}),
      };
    }),
  );
  const provisioner = state?.provisionerPid !== undefined && isAlive(state.provisionerPid);
  return { up: state !== undefined && provisioner && machines.every((m) => m.bmc === 'up'), provisioner, machines };
}

function lastConsoleLine(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^(firmware|PXE|iPXE|ramdisk|installer)/.test(l));
    return lines.at(-1);
  } catch {
    return undefined;
  }
}

/** The pid of a lab machine's BMC (its ipmi_sim), if the lab is up. */
export function labBmcPid(spec: LabSpec, node: string): number | undefined {
  return readState(spec)?.nodes.find((n) => n.name === node)?.bmcPid;
}

/** How many machines (and QEMU spares) the lab was brought up with (`lab up --nodes N --qemu M`), if it is up. */
export function recordedLayout(spec: LabSpec): { machines: number; qemuSpares: number } | undefined {
  const state = readState(spec);
  return state && { machines: state.nodes.length, qemuSpares: state.nodes.filter((n) => n.kind === 'qemu').length };
}

/** A unique-local /64 per lab on the admin bridge (only for router advertisements to iPXE). */
export function labUniqueLocalAddress(spec: LabSpec): string {
  const h = createHash('sha256').update(`bootstrap-lab/${spec.name}`).digest('hex');
  return `fd${h.slice(0, 2)}:${h.slice(2, 6)}:${h.slice(6, 10)}::1/64`;
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
