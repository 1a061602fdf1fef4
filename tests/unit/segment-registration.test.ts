import { describe, expect, it } from 'vitest';
import type { Segment, SegmentHost } from '../../src/openstack/masakari-client.js';
import { planRegistration, type DesiredSegment } from '../../src/openstack/segment-registration.js';

const desired: DesiredSegment[] = [{ name: 'compute', recovery_method: 'auto', description: 'all computes', hosts: ['cmp1', 'cmp2'] }];
const segment = (over: Partial<Segment> = {}): Segment => ({ uuid: 'u1', name: 'compute', recovery_method: 'auto', service_type: 'COMPUTE', description: 'all computes', ...over });
const host = (name: string): SegmentHost => ({ uuid: `h-${name}`, name, type: 'COMPUTE', control_attributes: 'SSH', on_maintenance: false, reserved: false });

describe('masakari segment registration plan', () => {
  it('creates a missing segment and adds every compute nova knows', () => {
    const plan = planRegistration(desired, { segments: [], hosts: new Map() }, ['cmp1', 'cmp2']);
    expect(plan.actions).toEqual([
      { kind: 'create-segment', segment: 'compute', recovery_method: 'auto', description: 'all computes' },
      { kind: 'add-host', segment: 'compute', host: 'cmp1' },
      { kind: 'add-host', segment: 'compute', host: 'cmp2' },
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('plans nothing when the API already holds the segment and its hosts (re-apply is a no-op)', () => {
    const plan = planRegistration(desired, { segments: [segment()], hosts: new Map([['u1', [host('cmp1'), host('cmp2')]]]) }, ['cmp1', 'cmp2']);
    expect(plan).toEqual({ actions: [], problems: [] });
  });

  it('updates a segment whose recovery method changed in the inventory, keeping its hosts', () => {
    const plan = planRegistration([{ ...desired[0]!, recovery_method: 'reserved_host' }], { segments: [segment()], hosts: new Map([['u1', [host('cmp1'), host('cmp2')]]]) }, ['cmp1', 'cmp2']);
    expect(plan.actions).toEqual([{ kind: 'update-segment', segment: 'compute', recovery_method: 'reserved_host', description: 'all computes' }]);
  });

  it('reports a host nova does not know instead of skipping it, naming the near miss', () => {
    const plan = planRegistration(desired, { segments: [segment()], hosts: new Map([['u1', [host('cmp1')]]]) }, ['cmp1', 'CMP2']);
    expect(plan.actions).toEqual([]);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatchObject({ segment: 'compute', host: 'cmp2' });
    expect(plan.problems[0]!.message).toContain("nova knows 'CMP2'");
  });

  it('never deletes segments or hosts it did not ask for (they may be an operator\'s)', () => {
    const plan = planRegistration(desired, { segments: [segment(), segment({ uuid: 'u2', name: 'reserved' })], hosts: new Map([['u1', [host('cmp1'), host('cmp2'), host('spare')]]]) }, ['cmp1', 'cmp2', 'spare']);
    expect(plan.actions).toEqual([]);
  });
});
