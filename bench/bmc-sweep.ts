import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBmc, type BmcSim } from '../src/lab/bmc-sim.js';
import { deleteLink, deleteNamespace, ensureBridge, ensureNamespace } from '../src/lab/network.js';
import { runCommand } from '../src/util/exec.js';

const REPO = join(import.meta.dirname, '../..');
/** A /24 of its own: the lab and the tests use other 10.79.x subnets. */
export const SUBNET = '10.79.213';
/** Live BMCs scattered over the /24; the last one is given a wrong password in the inventory. */
const HOSTS = [7, 19, 33, 48, 61, 77, 90, 104, 131, 166, 200, 237];

export interface SweepRack {
  dir: string;
  inventory: string;
  bmcs: BmcSim[];
  /** A password file (0600) with the first BMC's password: what single-credential tools get. */
  firstPasswordFile: string;
  destroy(): Promise<void>;
}

/**
 * Real ipmi_sim BMCs, each with its own credentials and FRU, in namespaces on a private bridge; the host
 * sweeps from the bridge address (.1). The machines behind them are not needed: only power state is read.
 */
export async function createSweepRack(): Promise<SweepRack> {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-bench-bmc-'));
  const bridge = 'bsbench';
  await ensureBridge(bridge, `${SUBNET}.1/24`);
  const bmcs: BmcSim[] = [];
  const pids: number[] = [];
  for (const [i, host] of HOSTS.entries()) {
    const bmc: BmcSim = {
      node: `n${i + 1}`,
      namespace: `bsbench-b${i + 1}`,
      address: `${SUBNET}.${host}`,
      netmask: '255.255.255.0',
      mac: `52:54:00:79:13:${host.toString(16).padStart(2, '0')}`,
      guid: randomBytes(16).toString('hex'),
      username: i % 3 === 0 ? 'admin' : `ops${i}`,
      password: randomBytes(9).toString('base64url'),
      dir: join(dir, `bmc${i + 1}`),
      machineDir: join(dir, `machine${i + 1}`),
      fru: {
        manufacturer: 'BenchVendor',
        product: `BenchServer n${i + 1}`,
        serial: `BENCH-${i + 1}`,
        partNumber: 'PN-1',
        boardSerial: `BRD-${i + 1}`,
        assetTag: `asset-${i + 1}`,
      },
    };
    await ensureNamespace(bmc.namespace, bridge, `bsvbb${i + 1}`, `${bmc.address}/24`);
    pids.push(startBmc(bmc, ['/bin/true'], join(REPO, 'share/lab')));
    bmcs.push(bmc);
  }
  const passwordFile = (name: string, value: string) => {
    const file = join(dir, name);
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return file;
  };
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    stringify({
      deployment: 'bench-bmc',
      release: 'zed',
      os: 'debian-12',
      networks: {
        admin: { cidr: '10.79.214.0/24', static: '10.79.214.10-10.79.214.250' },
        bmc: { cidr: `${SUBNET}.0/24`, gateway: `${SUBNET}.1`, static: `${SUBNET}.2-${SUBNET}.254` },
      },
      bmc: {
        username: 'admin',
        password: { file: passwordFile('default-password', 'not-the-password') },
        cipher_suites: [3],
      },
      ssh: { user: 'root' },
      nodes: bmcs.map((b, i) => ({
        name: b.node,
        addresses: { admin: `10.79.214.${11 + i}` },
        bmc: {
          address: b.address,
          username: b.username,
          password: { file: passwordFile(`${b.node}-password`, i === bmcs.length - 1 ? 'wrong-password' : b.password) },
        },
        roles: ['plain'],
      })),
      roles: { plain: ['base/node'] },
    }),
  );
  for (const b of bmcs) await waitForBmc(b);
  return {
    dir,
    inventory,
    bmcs,
    firstPasswordFile: passwordFile('first-password', bmcs[0]!.password),
    async destroy() {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await runCommand('pkill', ['-f', dir]);
      for (const [i, b] of bmcs.entries()) await deleteNamespace(b.namespace, `bsvbb${i + 1}`);
      await deleteLink(bridge);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForBmc(bmc: BmcSim): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = await runCommand(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        '3',
        '-N',
        '1',
        '-R',
        '1',
        '-H',
        bmc.address,
        '-U',
        bmc.username,
        '-E',
        'chassis',
        'power',
        'status',
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: bmc.password } },
    );
    if (probe.code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`BMC ${bmc.address} did not answer`);
}

export interface SweepOutcome {
  /** BMCs that answered. */
  found: number;
  /** BMCs read with their identity (serial, power, …). */
  identified: number;
  [key: string]: number | string;
}

/** `bootstrap discover` over the whole /24, as an operator runs it (the CLI, a state directory of its own). */
export async function bootstrapDiscover(rack: SweepRack, round: number): Promise<SweepOutcome> {
  const out = await runCommand('node', [
    join(REPO, 'bin/bootstrap.js'),
    'discover',
    rack.inventory,
    '--json',
    '--state-dir',
    join(rack.dir, `state-${round}`),
  ]);
  const result = out.stdout
    .split('\n')
    .filter((l) => l.includes('"discover.result"'))
    .map((l) => JSON.parse(l) as { bmcs: { inventory?: unknown; error?: { gene: string } }[]; sweepMs: number })[0];
  if (!result) throw new Error(`discover printed no result: ${out.stderr.slice(0, 500)}`);
  return {
    found: result.bmcs.length,
    identified: result.bmcs.filter((b) => b.inventory).length,
    authFailures: result.bmcs.filter((b) => b.error?.gene === 'BMC-AUTH-FAILED').length,
    sweepMs: Math.round(result.sweepMs),
  };
}

/** FreeIPMI's hostranged fan-out over the /24 with one credential set (its config file keeps it off the command line). */
export async function freeIpmiBmcInfo(rack: SweepRack, tuned: boolean): Promise<SweepOutcome> {
  const config = join(rack.dir, 'freeipmi.conf');
  // opensesspriv: ipmi_sim answers the session privilege the way FreeIPMI's workaround expects (-W opensesspriv)
  writeFileSync(
    config,
    `driver-type LAN_2_0\nusername ${rack.bmcs[0]!.username}\npassword ${rack.bmcs[0]!.password}\nprivilege-level ADMIN\nworkaround-flags opensesspriv\n`,
    { mode: 0o600 },
  );
  const tuning = tuned ? ['-F', '256', '--session-timeout=2000', '--retransmission-timeout=500'] : [];
  const out = await runCommand('bmc-info', ['--config-file', config, '-h', `${SUBNET}.[1-254]`, ...tuning]);
  const text = `${out.stdout}\n${out.stderr}`;
  const identified = new Set([...text.matchAll(/^(\S+): Device ID/gm)].map((m) => m[1]));
  const answered = new Set(
    [...text.matchAll(/^(\S+): (?:Device ID|.*(?:password|username|authentication|privilege))/gim)].map((m) => m[1]),
  );
  return { found: answered.size, identified: identified.size };
}

/** The loop people write: `ipmitool … mc info` per address, one after another, over the first 32 addresses. */
export async function ipmitoolLoop(rack: SweepRack, addresses: number): Promise<SweepOutcome> {
  let identified = 0;
  for (let host = 1; host <= addresses; host++) {
    const out = await runCommand(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        '3',
        '-N',
        '1',
        '-R',
        '1',
        '-H',
        `${SUBNET}.${host}`,
        '-U',
        rack.bmcs[0]!.username,
        '-E',
        'mc',
        'info',
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: rack.bmcs[0]!.password } },
    );
    if (out.code === 0) identified++;
  }
  return { found: identified, identified, addresses };
}
