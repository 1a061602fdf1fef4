import type { EventSink } from '../core/events.js';
import type { FailureRecorder } from '../failures/record.js';
import { OpenStackApiError } from '../openstack/api-error.js';
import { authenticate, type KeystoneCredentials } from '../openstack/keystone-session.js';
import { MasakariClient, type RecoveryMethod } from '../openstack/masakari-client.js';
import { computeServices } from '../openstack/nova-client.js';
import { planRegistration, type DesiredSegment, type RegistrationPlan } from '../openstack/segment-registration.js';
import { barclampRolesOf, effectiveAttributes } from '../plan/desired.js';
import type { Secrets } from '../secrets/secret-store.js';
import type { Deployment } from './deployment.js';

/** Everything registration needs, derived from the inventory: where keystone is, as whom, which segments. */
export interface RegistrationTarget {
  credentials: KeystoneCredentials;
  segments: DesiredSegment[];
}

/** Pure. Undefined when the inventory deploys no masakari server. */
export function registrationTarget(deployment: Deployment, secrets: Secrets): RegistrationTarget | undefined {
  const { inventory, catalog } = deployment;
  const holding = (ref: string) => inventory.nodes.filter((n) => barclampRolesOf(inventory, n).has(ref)).sort((a, b) => a.name.localeCompare(b.name));
  const keystoneNode = holding('keystone/server')[0];
  const masakari = catalog.barclamps.get('masakari');
  const keystone = catalog.barclamps.get('keystone');
  if (!keystoneNode || holding('masakari/server').length === 0 || !masakari || !keystone) return undefined;
  const keystoneAttributes = effectiveAttributes(keystone, inventory);
  const network = String(keystoneAttributes.endpoint_network);
  const segmentSpecs = effectiveAttributes(masakari, inventory).segments as Record<string, { recovery_method?: string; members?: string; description?: string }>;
  return {
    credentials: {
      authUrl: `http://${keystoneNode.addresses[network] ?? keystoneNode.ssh.address}:5000`,
      username: 'admin',
      password: secrets['keystone.admin_password'] ?? '',
      project: 'admin',
      region: String(keystoneAttributes.region),
      interface: 'internal',
    },
    segments: Object.entries(segmentSpecs).map(([name, spec]) => ({
      name,
      recovery_method: (spec.recovery_method ?? 'auto') as RecoveryMethod,
      description: spec.description ?? '',
      hosts: holding(spec.members ?? 'nova/compute').map((n) => n.name),
    })),
  };
}

export interface RegistrationDeps {
  sink: EventSink;
  recorder: FailureRecorder;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  /** How long nova-compute services get to appear before a missing one is a failure. */
  novaWaitMs?: number;
}

/**
 * Gathers what the Masakari API holds, plans the difference (pure) and makes only those calls. Returns
 * false when anything failed; every failure is a classified record.
 */
/** Step id of registration failures (not a barclamp step; reports show it on the deployment's row). */
export const REGISTRATION_STEP = 'masakari:register:segments';

export async function registerSegments(target: RegistrationTarget, deps: RegistrationDeps): Promise<boolean> {
  const where = { node: 'masakari-api', barclamp: 'masakari', role: 'server', step: REGISTRATION_STEP };
  try {
    const session = await authenticate(target.credentials);
    const masakari = new MasakariClient(session);
    const wanted = new Set(target.segments.flatMap((s) => s.hosts));
    // nova-compute registers itself a few seconds after it starts: wait for every wanted host, then judge
    const deadline = deps.nowMs() + (deps.novaWaitMs ?? 120_000);
    let novaHosts: string[] = [];
    for (;;) {
      novaHosts = (await computeServices(session)).map((s) => s.host);
      if ([...wanted].every((h) => novaHosts.includes(h)) || deps.nowMs() >= deadline) break;
      await deps.sleep(5_000);
    }
    const segments = await masakari.segments();
    const hosts = new Map(await Promise.all(segments.map(async (s) => [s.uuid, await masakari.hosts(s.uuid)] as const)));
    const plan: RegistrationPlan = planRegistration(target.segments, { segments, hosts }, novaHosts);
    deps.sink({ type: 'registration.plan', actions: plan.actions.length, problems: plan.problems.length });
    const uuids = new Map(segments.map((s) => [s.name, s.uuid]));
    for (const action of plan.actions) {
      if (action.kind === 'create-segment') uuids.set(action.segment, (await masakari.createSegment({ name: action.segment, recovery_method: action.recovery_method, description: action.description })).uuid);
      else if (action.kind === 'update-segment') await masakari.updateSegment(uuids.get(action.segment)!, { recovery_method: action.recovery_method, description: action.description });
      else await masakari.addHost(uuids.get(action.segment)!, action.host);
      deps.sink({ type: 'registration.action', action: action.kind, segment: action.segment, ...(action.kind === 'add-host' ? { host: action.host } : {}) });
    }
    for (const problem of plan.problems) {
      const record = deps.recorder.record({ ...where, node: problem.host }, { source: 'http', kind: 'masakari-host', message: `segment ${problem.segment}: ${problem.message}`, errorCode: 'host-not-in-nova' });
      deps.sink({ type: 'failure.recorded', record });
    }
    return plan.problems.length === 0;
  } catch (error) {
    if (!(error instanceof OpenStackApiError)) throw error;
    const record = deps.recorder.record(where, { source: 'http', kind: error.service, message: error.message, ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}), ...(error.httpStatus === undefined ? { errorCode: 'no-answer' } : {}), stderr: error.body.slice(0, 2000) });
    deps.sink({ type: 'failure.recorded', record });
    return false;
  }
}
