import { existsSync, readFileSync } from 'node:fs';
import { listRuns } from '../run/run-dir.js';
import { bmcDriverOf, bmcTargetOf, ipmiToolFor } from '../engine/bmc-access.js';
import type { Deployment } from '../engine/deployment.js';
import type { Environment } from '../engine/environment.js';
import { machineStoreOf } from '../engine/provision-phase.js';
import { IpmiError } from '../ipmi/ipmi-error.js';
import { recoveriesSnapshotFile } from '../engine/recoveries.js';
import type { RecoveriesSnapshot } from '../recoveries/notification.js';
import { readRunRecord, type RunRecord } from '../report/run-record.js';
import { buildTimeline, type RunTimeline } from '../report/timeline.js';
import { readSecrets } from '../secrets/secret-store.js';
import { limiter } from '../util/pool.js';
import { dashboardView, type DashboardView } from './view-model.js';

/** Runs shown as timelines (the newest is the current one). */
const RUNS_SHOWN = 5;
/** BMCs are fragile: power is asked at most this often, a few at a time. */
const POWER_INTERVAL_MS = 15_000;
const POWER_PARALLEL = 4;

export interface DashboardSource {
  view(): DashboardView;
  secrets(): readonly string[];
  stop(): void;
}

/**
 * The dashboard's view of a deployment, read from the state directory that apply writes (so `serve` in
 * another process shows a running apply), plus each node's power as its BMC last answered.
 */
export function dashboardSource(env: Environment, deployment: Deployment): DashboardSource {
  const inventory = deployment.inventory;
  const store = machineStoreOf(deployment, env);
  const power: Record<string, string> = {};
  const tool = ipmiToolFor(env);
  const bounded = limiter(POWER_PARALLEL);
  let stopped = false;
  const askPower = async () => {
    await Promise.all(
      inventory.nodes.map((node) =>
        bounded(async () => {
          if (stopped) return;
          const driver = bmcDriverOf(tool, inventory, node, env);
          if (!driver) return;
          try {
            power[node.name] = await driver.powerState();
          } catch (error) {
            if (!(error instanceof IpmiError)) throw error;
            power[node.name] = `? (${error.kind})`;
          }
        }),
      ),
    ).catch(() => undefined);
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    await askPower();
    if (!stopped) timer = setTimeout(() => void loop(), POWER_INTERVAL_MS);
  };
  if (inventory.nodes.some((n) => n.bmc)) void loop();
  const bmcPasswords = () =>
    inventory.nodes
      .map((n) => {
        try {
          return bmcTargetOf(inventory, n, env)?.password;
        } catch {
          return undefined;
        }
      })
      .filter((p): p is string => p !== undefined);
  // a finished run's files never change again: read and drawn once, not on every tick (a 1,000-node run's
  // timeline takes ~35 ms to build)
  const finished = new Map<string, { record: RunRecord; timeline: RunTimeline }>();
  const runRecord = (id: string): RunRecord => {
    const known = finished.get(id);
    if (known) return known.record;
    const record = readRunRecord(deployment.stateDir, id);
    if (record.events.some((e) => e.type === 'run.done'))
      finished.set(id, { record, timeline: buildTimeline(record.id, record.events) });
    return record;
  };
  const timelineOf = (run: RunRecord): RunTimeline => {
    const known = finished.get(run.id);
    return known?.record === run ? known.timeline : buildTimeline(run.id, run.events);
  };
  const newestRuns = () => {
    const ids = listRuns(deployment.stateDir).slice(-RUNS_SHOWN);
    for (const id of finished.keys()) if (!ids.includes(id)) finished.delete(id);
    return ids.map(runRecord);
  };
  return {
    view: () =>
      dashboardView(
        {
          deployment: inventory.deployment,
          nodes: inventory.nodes.map((n) => ({
            name: n.name,
            admin: n.ssh.address,
            ...(n.bmc ? { bmc: n.bmc.address } : {}),
            roles: n.roles,
          })),
          machines: store.all(),
          power,
          runs: newestRuns(),
          genes: deployment.taxonomy.genes,
          ...readRecoveries(deployment.stateDir),
        },
        timelineOf,
      ),
    secrets: () => [
      ...(existsSync(deployment.paths.secrets) ? Object.values(readSecrets(deployment.paths.secrets)) : []),
      ...bmcPasswords(),
    ],
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The last `bootstrap recoveries` snapshot; written atomically, so a file that exists is whole. */
function readRecoveries(stateDir: string): { recoveries?: RecoveriesSnapshot } {
  const file = recoveriesSnapshotFile(stateDir);
  return existsSync(file) ? { recoveries: JSON.parse(readFileSync(file, 'utf8')) as RecoveriesSnapshot } : {};
}
