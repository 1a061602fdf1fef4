import { join } from 'node:path';
import { REPO, runCli } from '../tests/integration/support/test-rack.js';

/** One round of masakari's recovery paths on the default lab, as an operator would see it. */
export interface RecoveryRound {
  /** SIGKILL of the guest's QEMU → the server ACTIVE with a new QEMU process. */
  instanceS: number;
  /** Power-off through the BMC → the server ACTIVE on the other compute, and its phases as masakari reports them. */
  hostS: number;
  host: { notifiedAfterPowerOffS: number; phases: { task: string; seconds: number }[]; masakariS: number };
  /** Power-on → the apply that puts the host back into service (enable, off maintenance) finished. */
  backS: number;
}

const INVENTORY = join(REPO, 'inventory/lab.yaml');

/**
 * On the default lab (deployed first when it is not): per round an HA_Enabled server on cmp1, its QEMU killed
 * (lab inject CLOUD-INSTANCE-CRASHED), then cmp1 powered off through its BMC (lab inject CLOUD-HOST-LOST), the
 * phases read back with `bootstrap recoveries`, cmp1 powered on and returned to service by apply.
 */
export async function recoveryRounds(rounds: number): Promise<RecoveryRound[]> {
  const cli = (args: string[]) => runCli(args, { cwd: REPO, timeoutMs: 3_600_000 });
  const openstack = async (command: string) =>
    (
      await cli(['lab', 'exec', 'ctl1', INVENTORY, '--', 'sh', '-c', `. /root/admin-openrc && openstack ${command}`])
    ).stdout.trim();
  const must = async (args: string[]) => {
    const r = await cli(args);
    if (r.code !== 0)
      throw new Error(`bootstrap ${args.join(' ')} failed: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    return r;
  };
  const until = async (what: string, seconds: number, probe: () => Promise<boolean>) => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  await must(['apply', INVENTORY]);
  await must(['recoveries', INVENTORY]); // earlier recoveries are recorded before the rounds, not during them
  const out: RecoveryRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const id = await openstack(
      `server create -f value -c id --image bootstrap-guest --flavor bootstrap.tiny --network provider --availability-zone nova:cmp1 --property HA_Enabled=True bench-ha-${round} --wait`,
    );
    const state = async () =>
      JSON.parse(await openstack(`server show ${id} -f json -c status -c OS-EXT-SRV-ATTR:host`)) as {
        status: string;
        'OS-EXT-SRV-ATTR:host': string;
      };
    const qemu = async () =>
      (
        await cli(['lab', 'exec', 'cmp1', INVENTORY, '--', 'sh', '-c', "pgrep -f '^/usr/bin/qemu-system' || true"])
      ).stdout.trim();
    const before = await qemu();
    let started = Date.now();
    await must(['lab', 'inject', 'CLOUD-INSTANCE-CRASHED', INVENTORY, '--node', 'cmp1']);
    await until('instance recovered', 300, async () => {
      const pid = await qemu();
      return pid !== '' && pid !== before && (await state()).status === 'ACTIVE';
    });
    const instanceS = (Date.now() - started) / 1000;
    await must(['lab', 'heal', 'CLOUD-INSTANCE-CRASHED', INVENTORY, '--node', 'cmp1']);
    started = Date.now();
    await must(['lab', 'inject', 'CLOUD-HOST-LOST', INVENTORY, '--node', 'cmp1']);
    await until('host recovered', 600, async () => {
      const s = await state();
      return s.status === 'ACTIVE' && s['OS-EXT-SRV-ATTR:host'] === 'cmp2';
    });
    const hostS = (Date.now() - started) / 1000;
    const poweredOffAt = started;
    const seen = (await must(['recoveries', INVENTORY, '--json'])).stdout
      .split('\n')
      .filter((l) => l.includes('"recovery.seen"'))
      .map(
        (l) =>
          JSON.parse(l) as {
            kind: string;
            recordedNow: boolean;
            totalSeconds?: number;
            phases: { task: string; seconds: number }[];
            notification: string;
          },
      );
    const lost = seen.find((s) => s.kind === 'COMPUTE_HOST' && s.recordedNow);
    if (!lost) throw new Error('bootstrap recoveries recorded no host failure');
    const generated = JSON.parse(
      await openstack(`notification show ${lost.notification} -f json -c generated_time`),
    ) as { generated_time: string };
    started = Date.now();
    await must(['lab', 'heal', 'CLOUD-HOST-LOST', INVENTORY, '--node', 'cmp1']);
    await until('cmp1 back in the cluster', 300, async () =>
      /<node name="cmp1" id="\d+" online="true"/.test(
        (await cli(['lab', 'exec', 'ctl1', INVENTORY, '--', 'crm_mon', '-1', '-X'])).stdout,
      ),
    );
    await must(['apply', INVENTORY]);
    const backS = (Date.now() - started) / 1000;
    await openstack(`server delete --wait ${id}`);
    out.push({
      instanceS,
      hostS,
      host: {
        notifiedAfterPowerOffS: (Date.parse(`${generated.generated_time.replace(/Z$/, '')}Z`) - poweredOffAt) / 1000,
        phases: lost.phases,
        masakariS: lost.totalSeconds ?? -1,
      },
      backS,
    });
  }
  return out;
}
