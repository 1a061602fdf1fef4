import { randomBytes } from 'node:crypto';
import type { EventSink } from '../run/events.js';
import type { FailureRecorder } from '../failures/record.js';
import type { Observation } from '../failures/classify.js';
import { bmcObservation } from '../failures/observations.js';
import { IpmiError } from '../ipmi/ipmi-error.js';
import type { ManagementInterface, PowerInterface } from '../ipmi/ipmi-driver.js';
import type { NodeSpec } from '../inventory/types.js';
import { runPool } from '../util/pool.js';
import { hasOperatingSystem } from './machine-state.js';
import type { MachineSighting, MachineStore } from './machine-store.js';

export interface ProvisionDeps {
  store: MachineStore;
  /** The node's BMC driver, or undefined for a node without a BMC (never provisioned, assumed installed). */
  driverFor: (node: NodeSpec) => (PowerInterface & ManagementInterface) | undefined;
  /** True when something answers SSH on the node (an installed machine we have no record of). */
  sshAnswers: (node: NodeSpec) => Promise<boolean>;
  /**
   * Trust-on-install: the host key the installer reported becomes the pinned one — unless one is pinned already
   * and differs (conflict): an install never replaces a pin, only `bootstrap hostkey forget` does.
   */
  pinHostKey: (node: NodeSpec, publicKey: string) => 'pinned' | 'unchanged' | 'conflict';
  sink: EventSink;
  recorder: FailureRecorder;
  parallel: number;
  signal: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  /** From power-cycle to the installer's callback. */
  installDeadlineMs: number;
  /** From the callback to sshd answering. */
  sshDeadlineMs: number;
}

export interface ProvisionResult {
  ready: string[];
  failed: string[];
}

/**
 * Takes every node that has no operating system yet from power-off to installed and reachable: PXE as the
 * next boot device, power-cycle through the BMC, wait for the installer's callback (the boot server moves
 * the machine to `installed`), disk as boot device, pin the host key the installer reported, wait for SSH.
 */
export async function provisionNodes(nodes: readonly NodeSpec[], deps: ProvisionDeps): Promise<ProvisionResult> {
  const ready: string[] = [];
  const failed: string[] = [];
  await runPool(nodes, deps.parallel, async (node) => {
    if (deps.signal.aborted) return;
    const ok = await provisionOne(node, deps);
    (ok ? ready : failed).push(node.name);
  });
  return { ready: ready.sort(), failed: failed.sort() };
}

async function provisionOne(node: NodeSpec, deps: ProvisionDeps): Promise<boolean> {
  const started = deps.nowMs();
  const record = deps.store.get(node.name);
  const driver = deps.driverFor(node);
  if (!driver) return true;
  if (record && hasOperatingSystem(record.state)) return ensurePoweredOn(node, driver, deps, started);
  if (!record && (await deps.sshAnswers(node))) {
    deps.store.enroll(
      node.name,
      { node: node.name, macs: node.macs },
      'installed',
      'answers SSH: adopted as installed (no reinstall)',
    );
    deps.sink({ type: 'provision.ok', node: node.name, action: 'adopted', ms: 0 });
    return true;
  }
  const phase = phaseSink(node, deps);
  const fail = (observation: Observation) => failProvision(node, deps, observation);
  deps.store.enroll(node.name, { node: node.name, macs: node.macs }, 'allocated', 'in the inventory');
  const current = deps.store.get(node.name)!;
  if (current.state === 'discovered' || current.state === 'inspected' || current.state === 'inspect-failed')
    deps.store.transition(node.name, 'allocated', 'in the inventory');
  // Sightings from before this install (an earlier attempt) must not count as progress.
  const sinceInstall = deps.store.transition(node.name, 'installing', 'apply: node has no operating system', (r) => {
    r.installToken = randomBytes(24).toString('hex');
    delete r.installFailure;
    if (node.install) r.install = node.install;
    else delete r.install;
  }).since;
  try {
    phase('power', 'boot device PXE, power-cycling through the BMC');
    await driver.setBootDevice('pxe', false);
    await driver.reboot();
  } catch (error) {
    if (!(error instanceof IpmiError)) throw error;
    return fail(bmcObservation(error));
  }
  phase('install', 'waiting for DHCP, boot script and the installer callback');
  const deadline = deps.nowMs() + deps.installDeadlineMs;
  let reported = '';
  while (!deps.signal.aborted) {
    const now = deps.store.get(node.name);
    if (now?.state === 'installed') break;
    if (now?.state === 'install-failed' && now.installFailure) return fail(stepFailed(node, now.installFailure));
    const seen = deps.store.sightings(node.name).filter((s) => s.at >= sinceInstall);
    const latest = describeLatest(seen);
    if (latest !== reported) {
      reported = latest;
      if (latest) phase('install', latest);
    }
    if (deps.nowMs() > deadline) return fail(installTimeout(node, seen, deps.installDeadlineMs));
    await deps.sleep(250);
  }
  if (deps.signal.aborted) return false;
  const installed = deps.store.get(node.name)!;
  recordRefusedRequests(node, deps, sinceInstall);
  if (installed.hostKey && deps.pinHostKey(node, installed.hostKey) === 'conflict') {
    return fail({
      source: 'ssh-connect',
      kind: 'install',
      message: `host key mismatch: the installer of ${node.name} reported a host key other than the one pinned for ${node.ssh.address}:${node.ssh.port}; an install never replaces a pinned key — if you reinstalled ${node.name} on purpose: bootstrap hostkey forget INVENTORY ${node.name}, then apply`,
    });
  }
  try {
    await driver.setBootDevice('disk', true);
  } catch (error) {
    if (!(error instanceof IpmiError)) throw error;
    return fail(bmcObservation(error));
  }
  phase('boot', 'installed; waiting for sshd on the installed system');
  const sshDeadline = deps.nowMs() + deps.sshDeadlineMs;
  let powerAsked = deps.nowMs();
  while (!(await deps.sshAnswers(node))) {
    if (deps.signal.aborted) return false;
    // an install agent powers the machine off when it is done (a container machine boots its disk at once)
    if (deps.nowMs() - powerAsked >= 2_000) {
      powerAsked = deps.nowMs();
      try {
        if ((await driver.powerState()) === 'off') {
          phase('boot', 'installed and powered off: powering on from its disk');
          await driver.powerOn();
        }
      } catch (error) {
        if (!(error instanceof IpmiError)) throw error;
        return fail(bmcObservation(error));
      }
    }
    if (deps.nowMs() > sshDeadline)
      return fail({
        source: 'pxe',
        kind: 'ssh-timeout',
        message: `${node.name} reported installed but sshd on ${node.ssh.address}:${node.ssh.port} did not answer within ${Math.round(deps.sshDeadlineMs / 1000)} s`,
      });
    await deps.sleep(250);
  }
  deps.sink({ type: 'provision.ok', node: node.name, action: 'installed', ms: Math.round(deps.nowMs() - started) });
  return true;
}

/**
 * An installed node that does not answer SSH is asked for its power state; when it is off (a power cut, an
 * operator, a test) it is powered on and given the SSH deadline, instead of failing later as unreachable.
 */
async function ensurePoweredOn(
  node: NodeSpec,
  driver: PowerInterface,
  deps: ProvisionDeps,
  started: number,
): Promise<boolean> {
  if (await deps.sshAnswers(node)) return true;
  try {
    if ((await driver.powerState()) === 'on') return true; // booting or hung: gathering facts will say which
    phaseSink(node, deps)('power', 'installed but powered off: powering on through the BMC');
    await driver.powerOn();
  } catch (error) {
    if (!(error instanceof IpmiError)) throw error;
    return failProvision(node, deps, bmcObservation(error));
  }
  const deadline = deps.nowMs() + deps.sshDeadlineMs;
  while (!(await deps.sshAnswers(node))) {
    if (deps.signal.aborted) return false;
    if (deps.nowMs() > deadline)
      return failProvision(node, deps, {
        source: 'pxe',
        kind: 'ssh-timeout',
        message: `${node.name} was powered on but sshd on ${node.ssh.address}:${node.ssh.port} did not answer within ${Math.round(deps.sshDeadlineMs / 1000)} s`,
      });
    await deps.sleep(250);
  }
  deps.sink({ type: 'provision.ok', node: node.name, action: 'powered-on', ms: Math.round(deps.nowMs() - started) });
  return true;
}

/**
 * Requests for this machine the boot server refused during its install (a preseed asked for from another
 * address, a callback without the install's token, a second callback): the install went on, but someone on the
 * provisioning network tried something, and the operator has to know.
 */
function recordRefusedRequests(node: NodeSpec, deps: ProvisionDeps, sinceInstall: string): void {
  const refused = deps.store.sightings(node.name).filter((s) => s.at >= sinceInstall && s.what === 'rejected');
  if (refused.length === 0) return;
  const record = deps.recorder.record(
    { node: node.name, step: 'provision' },
    {
      source: 'pxe',
      kind: 'request-refused',
      message: `while ${node.name} was installed, the boot server refused ${refused.length} request(s) for it: ${refused.map((s) => `${s.at.slice(11, 19)} ${s.detail}`).join('; ')}`,
    },
  );
  deps.sink({ type: 'failure.recorded', record });
}

function phaseSink(node: NodeSpec, deps: ProvisionDeps): (name: string, message: string) => void {
  return (name, message) => deps.sink({ type: 'provision.phase', node: node.name, phase: name, message });
}

function failProvision(node: NodeSpec, deps: ProvisionDeps, observation: Observation): false {
  const record = deps.recorder.record({ node: node.name, step: 'provision' }, observation);
  deps.sink({ type: 'provision.fail', node: node.name, gene: record.gene, message: observation.message });
  const lastFailure = { gene: record.gene, message: observation.message, at: record.time };
  const state = deps.store.get(node.name)?.state;
  if (state === 'installing')
    deps.store.transition(node.name, 'install-failed', observation.message, (r) => (r.lastFailure = lastFailure));
  // the install agent's failure callback moved it there already: status shows what apply made of it
  else if (state === 'install-failed') deps.store.update(node.name, (r) => (r.lastFailure = lastFailure));
  return false;
}

/** The install agent's own report of the step that failed, with its log: where the install stopped. */
function stepFailed(node: NodeSpec, failure: { step: string; report: string }): Observation {
  const [summary, ...log] = failure.report.split('\n');
  return {
    source: 'pxe',
    kind: `install-${failure.step}`,
    message: `the install of ${node.name} stopped at step '${failure.step}': ${summary ?? ''}`,
    stderr: log.join('\n'),
  };
}

function describeLatest(seen: readonly MachineSighting[]): string {
  const last = seen.at(-1);
  return last ? `${last.what}: ${last.detail}` : '';
}

/** Says how far the machine got, so "install timed out" points at DHCP, the boot script or the installer. */
function installTimeout(node: NodeSpec, seen: readonly MachineSighting[], deadlineMs: number): Observation {
  const lease = seen.find((s) => s.what === 'dhcp');
  const script = seen.find((s) => s.what === 'boot-script');
  const limit = `${Math.round(deadlineMs / 1000)} s`;
  const trail =
    seen.length > 0 ? ` Seen: ${seen.map((s) => `${s.at.slice(11, 19)} ${s.what} (${s.detail})`).join('; ')}.` : '';
  if (!lease)
    return {
      source: 'pxe',
      kind: 'no-dhcp',
      message: `${node.name} (${node.macs[0] ?? 'no MAC'}) asked for no DHCP lease within ${limit} of the power-cycle.${trail}`,
    };
  if (!script)
    return {
      source: 'pxe',
      kind: 'no-boot-script',
      message: `${node.name} got ${lease.detail} but never fetched its boot script within ${limit}.${trail}`,
    };
  return {
    source: 'pxe',
    kind: 'install-timeout',
    message: `${node.name} fetched its boot script but the installer did not report completion within ${limit}.${trail}`,
  };
}
