import { openRun } from './run-session.js';
import { writeJson } from '../run/run-dir.js';
import type { EventSink } from '../run/events.js';
import { type FailureRecord } from '../failures/record.js';
import { bmcObservation } from '../failures/observations.js';
import { IpmiDriver, type BmcInventory } from '../ipmi/ipmi-driver.js';
import { IpmiError } from '../ipmi/ipmi-error.js';
import { sweepBmcs, type SweepHit } from '../ipmi/sweep.js';
import { correlate, type Correlation } from '../provision/correlate.js';
import { limiter } from '../util/pool.js';
import { bmcTargetAt, ipmiToolFor } from './bmc-access.js';
import type { Deployment } from './deployment.js';
import type { Environment } from './environment.js';
import { machineStoreOf } from './provision-phase.js';

export interface DiscoveredBmc {
  address: string;
  ipmi20: boolean;
  /** The inventory node whose bmc.address this is. */
  node?: string;
  inventory?: BmcInventory;
  correlation?: Correlation;
  error?: { kind: string; gene: string; message: string };
}

export interface DiscoveryResult {
  runId: string;
  swept: number;
  silent: number;
  sweepMs: number;
  bmcs: DiscoveredBmc[];
  failures: FailureRecord[];
}

/**
 * `bootstrap discover`: a native UDP sweep finds every BMC in the ranges at once; each one that answered is
 * then read (mc info, FRU, LAN, GUID, power) through ipmitool with the inventory's credentials, and matched
 * with what machines' discovery agents reported. Failures are classified records, not exceptions.
 */
export async function discover(
  env: Environment,
  deployment: Deployment,
  addresses: readonly string[],
  options: { timeoutMs: number; parallel: number; sink: EventSink },
): Promise<DiscoveryResult> {
  const inventory = deployment.inventory;
  const passwords: string[] = [];
  const { run, sink, recorder } = openRun(env, deployment, {
    command: 'discover',
    nodes: [],
    secrets: () => passwords,
    sink: options.sink,
  });
  const tool = ipmiToolFor(env);
  const machines = machineStoreOf(deployment, env).all();
  const bmcs: DiscoveredBmc[] = [];
  const identify = async (hit: SweepHit) => {
    const node = inventory.nodes.find((n) => n.bmc?.address === hit.address);
    const entry: DiscoveredBmc = {
      address: hit.address,
      ipmi20: hit.capabilities.ipmi20,
      ...(node ? { node: node.name } : {}),
    };
    bmcs.push(entry);
    const target = bmcTargetAt(inventory, hit.address, env, node);
    passwords.push(target.password);
    const driver = new IpmiDriver(tool, target);
    try {
      entry.inventory = await driver.inspect();
      entry.correlation = correlate(entry.inventory, machines);
      sink({
        type: 'discover.bmc',
        address: hit.address,
        ...(node ? { node: node.name } : {}),
        serial: entry.inventory.fru.productSerial,
        power: entry.inventory.power,
      });
    } catch (error) {
      if (!(error instanceof IpmiError)) throw error;
      const record = recorder.record({ node: node?.name ?? hit.address, step: 'discover' }, bmcObservation(error));
      entry.error = { kind: error.kind, gene: record.gene, message: error.message };
      sink({ type: 'failure.recorded', record });
    }
  };
  // each BMC is read as soon as it answers, while the sweep still waits out the silent addresses
  const bounded = limiter(options.parallel);
  const reads: Promise<void>[] = [];
  let problem: unknown;
  // a read that throws (a user error: no password for that BMC) is kept, not left unhandled while the sweep waits
  const onHit = (hit: SweepHit) =>
    reads.push(bounded(() => identify(hit)).catch((error: unknown) => void (problem ??= error)));
  const sweep = await sweepBmcs(addresses, { timeoutMs: options.timeoutMs, nowMs: env.nowMs, onHit });
  sink({ type: 'discover.swept', addresses: addresses.length, found: sweep.found.map((h) => h.address), ms: sweep.ms });
  await Promise.all(reads);
  if (problem !== undefined) throw problem;
  bmcs.sort((a, b) => a.address.localeCompare(b.address, undefined, { numeric: true }));
  const result: DiscoveryResult = {
    runId: run.id,
    swept: addresses.length,
    silent: sweep.silent.length,
    sweepMs: sweep.ms,
    bmcs,
    failures: recorder.records,
  };
  writeJson(`${run.dir}/discovery.json`, result);
  return result;
}
