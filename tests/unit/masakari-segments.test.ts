import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../barclamps/masakari/templates/masakari-segments.py');

/**
 * The registration decision of masakari's segments command (bootstrap-masakari-segments), its pure `plan`
 * function run by python3 with the node-side helper module stubbed out (it needs keystoneauth1 and a cloud).
 */
function plan(
  desired: unknown,
  segments: unknown,
  hosts: Record<string, string[]>,
  novaHosts: string[] | null,
): { actions: Record<string, string>[]; problems: string[] } {
  const program = `
import importlib.util, json, sys, types
sys.modules['bootstrap_openstack'] = types.SimpleNamespace(admin_session=None, run=None)
spec = importlib.util.spec_from_file_location('segments', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
args = json.loads(sys.stdin.read())
actions, problems = module.plan(args['desired'], args['segments'], lambda uuid: args['hosts'].get(uuid, []), args['nova'])
print(json.dumps({'actions': actions, 'problems': problems}))
`;
  return JSON.parse(
    execFileSync('python3', ['-c', program, SCRIPT], {
      input: JSON.stringify({ desired, segments, hosts, nova: novaHosts }),
      encoding: 'utf8',
    }),
  );
}

const desired = [{ name: 'compute', recovery_method: 'auto', description: 'all computes', hosts: ['cmp1', 'cmp2'] }];
const segment = {
  uuid: 'u1',
  name: 'compute',
  recovery_method: 'auto',
  service_type: 'COMPUTE',
  description: 'all computes',
};

describe("masakari's segments command", () => {
  it('creates a missing segment and adds every compute nova knows', () => {
    expect(plan(desired, [], {}, ['cmp1', 'cmp2'])).toEqual({
      actions: [
        { do: 'create-segment', segment: 'compute', recovery_method: 'auto', description: 'all computes' },
        { do: 'add-host', segment: 'compute', host: 'cmp1' },
        { do: 'add-host', segment: 'compute', host: 'cmp2' },
      ],
      problems: [],
    });
  });

  it('has nothing to do when masakari already holds the segment and its hosts (a re-apply is a no-op)', () => {
    expect(plan(desired, [segment], { u1: ['cmp1', 'cmp2'] }, ['cmp1', 'cmp2'])).toEqual({ actions: [], problems: [] });
    expect(plan(desired, [segment], { u1: ['cmp1', 'cmp2'] }, null)).toEqual({ actions: [], problems: [] });
  });

  it('updates a segment whose recovery method changed in the inventory, keeping its hosts', () => {
    expect(
      plan([{ ...desired[0], recovery_method: 'reserved_host' }], [segment], { u1: ['cmp1', 'cmp2'] }, ['cmp1', 'cmp2'])
        .actions,
    ).toEqual([
      { do: 'update-segment', segment: 'compute', recovery_method: 'reserved_host', description: 'all computes' },
    ]);
  });

  it('reports a host nova does not know instead of skipping it, naming the near miss; --check counts it as work left', () => {
    const result = plan(desired, [segment], { u1: ['cmp1'] }, ['cmp1', 'CMP2']);
    expect(result.actions).toEqual([]);
    expect(result.problems).toEqual([
      "segment compute: host 'cmp2' is not a nova-compute service — nova knows 'CMP2': masakari host names are case-sensitive and must equal nova's exactly",
    ]);
    expect(plan(desired, [segment], { u1: [] }, ['cmp1']).problems).toEqual([
      "segment compute: host 'cmp2' is not a nova-compute service (nova-compute hosts: cmp1)",
    ]);
    expect(plan(desired, [segment], { u1: ['cmp1'] }, null).actions).toEqual([
      { do: 'add-host', segment: 'compute', host: 'cmp2' },
    ]);
  });

  it("never deletes segments or hosts it did not ask for (they may be an operator's)", () => {
    const reserved = { ...segment, uuid: 'u2', name: 'reserved' };
    expect(
      plan(desired, [segment, reserved], { u1: ['cmp1', 'cmp2', 'spare'], u2: ['spare'] }, ['cmp1', 'cmp2', 'spare']),
    ).toEqual({ actions: [], problems: [] });
  });
});
