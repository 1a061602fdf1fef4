import type { RecoveryMethod, Segment, SegmentHost } from './masakari-client.js';

/** A failover segment as the inventory wants it. */
export interface DesiredSegment {
  name: string;
  recovery_method: RecoveryMethod;
  description: string;
  hosts: string[];
}

/** What the Masakari API holds now: segments and the hosts of each (by segment uuid). */
export interface RegisteredState {
  segments: Segment[];
  hosts: ReadonlyMap<string, SegmentHost[]>;
}

export type RegistrationAction =
  | { kind: 'create-segment'; segment: string; recovery_method: RecoveryMethod; description: string }
  | { kind: 'update-segment'; segment: string; recovery_method: RecoveryMethod; description: string }
  | { kind: 'add-host'; segment: string; host: string };

/** A host masakari would refuse (400) because nova has no nova-compute service of that name. */
export interface RegistrationProblem {
  segment: string;
  host: string;
  message: string;
}

export interface RegistrationPlan {
  actions: RegistrationAction[];
  problems: RegistrationProblem[];
}

/**
 * Pure: the calls that make the API hold the desired segments. Existing segments and hosts are kept
 * (never deleted: they may be an operator's), so a second run plans nothing. A host nova does not know
 * is a problem, not an action — masakari would refuse it, and the monitors would report into the void.
 */
export function planRegistration(desired: readonly DesiredSegment[], current: RegisteredState, novaComputeHosts: readonly string[]): RegistrationPlan {
  const actions: RegistrationAction[] = [];
  const problems: RegistrationProblem[] = [];
  const known = new Set(novaComputeHosts);
  for (const segment of desired) {
    const existing = current.segments.find((s) => s.name === segment.name);
    if (!existing) actions.push({ kind: 'create-segment', segment: segment.name, recovery_method: segment.recovery_method, description: segment.description });
    else if (existing.recovery_method !== segment.recovery_method || (existing.description ?? '') !== segment.description) {
      actions.push({ kind: 'update-segment', segment: segment.name, recovery_method: segment.recovery_method, description: segment.description });
    }
    const registered = new Set((existing ? current.hosts.get(existing.uuid) ?? [] : []).map((h) => h.name));
    for (const host of segment.hosts) {
      if (registered.has(host)) continue;
      if (!known.has(host)) {
        problems.push({ segment: segment.name, host, message: unknownHostMessage(host, novaComputeHosts) });
        continue;
      }
      actions.push({ kind: 'add-host', segment: segment.name, host });
    }
  }
  return { actions, problems };
}

function unknownHostMessage(host: string, novaHosts: readonly string[]): string {
  const similar = novaHosts.find((n) => n.toLowerCase() === host.toLowerCase() || n.split('.')[0] === host || host.split('.')[0] === n);
  const hint = similar ? ` — nova knows '${similar}': masakari host names are case-sensitive and must equal nova's exactly` : novaHosts.length > 0 ? ` (nova-compute hosts: ${novaHosts.join(', ')})` : ' (nova reports no nova-compute service at all)';
  return `host '${host}' is not a nova-compute service${hint}`;
}
