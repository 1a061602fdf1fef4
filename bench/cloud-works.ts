import { join } from 'node:path';
import { REPO, runCli } from '../tests/integration/support/test-rack.js';

export interface SmokeRound {
  /** Per compute: seconds from the create request to ACTIVE, and to the guest printing its instance id. */
  hosts: { host: string; activeS: number; instanceIdS: number }[];
}

export interface TempestSummary {
  ran: number;
  passed: number;
  skipped: number;
  failed: number;
  seconds: number;
  tempest: string;
}

export interface CloudWorks {
  /** The converging apply before the measurements (0 changes when the lab was already deployed). */
  applyChanged: number;
  smoke: SmokeRound[];
  tempest: TempestSummary;
}

const INVENTORY = join(REPO, 'inventory/lab.yaml');

/**
 * The reference cloud doing its job, on the default lab as `bootstrap apply inventory/lab.yaml` leaves it
 * (deployed first when it is not): `rounds` smoke runs (a server on each compute, request → ACTIVE → the
 * guest's DHCP address and instance id from the metadata service on its console), then the conformance suite
 * (Debian's tempest with the reference's include list) once, as `verify --suite …` runs them on the controller.
 */
export async function cloudWorks(rounds: number): Promise<CloudWorks> {
  const cli = (args: string[]) => runCli(args, { cwd: REPO, timeoutMs: 5_400_000 });
  const apply = await cli(['apply', INVENTORY, '--json']);
  if (apply.code !== 0) throw new Error(`the reference apply failed: ${apply.stdout.slice(-3000)}`);
  const done = apply.stdout
    .split('\n')
    .filter((l) => l.includes('"run.done"'))
    .map((l) => JSON.parse(l) as { changed: number })
    .at(-1);
  const smoke: SmokeRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await cli(['lab', 'exec', 'ctl1', INVENTORY, '--', 'bootstrap-smoke']);
    if (result.code !== 0) throw new Error(`smoke round ${round + 1} failed: ${result.stderr}`);
    smoke.push({
      hosts: [...result.stderr.matchAll(/^(\S+): ACTIVE after (\d+) s; .* after (\d+) s$/gm)].map((m) => ({
        host: m[1]!,
        activeS: Number(m[2]),
        instanceIdS: Number(m[3]),
      })),
    });
  }
  const tempest = await cli([
    'lab',
    'exec',
    'ctl1',
    INVENTORY,
    '--',
    'sh',
    '-c',
    'bootstrap-tempest >/dev/null 2>&1; cat /var/lib/bootstrap-tempest/summary.json',
  ]);
  return { applyChanged: done?.changed ?? -1, smoke, tempest: JSON.parse(tempest.stdout) as TempestSummary };
}
