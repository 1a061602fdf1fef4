import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BootScripts } from '../../src/provision/boot-scripts.js';
import { createBootServer } from '../../src/provision/boot-server.js';
import { MachineStore, unknownMachineId } from '../../src/provision/machine-store.js';
import type { ProvisionerConfig } from '../../src/provision/provisioner-config.js';
import { runCommand } from '../../src/util/exec.js';
import { REPO } from '../integration/support/test-rack.js';

/**
 * The provisioner's callback endpoint is the one place a machine tells the tool what it is; it must take
 * enlistment only from the provisioning network, refuse malformed or oversized reports, record that it did,
 * and keep serving. A real HTTP server on loopback, the real discovery agent's report.
 */
const MAC = '52:54:00:12:34:56';
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function serve(
  provisioningNetwork: { address: string; prefix: number },
  reservations: ProvisionerConfig['reservations'] = [],
  leases: Record<string, string> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-callback-'));
  dirs.push(dir);
  const config: ProvisionerConfig = {
    deployment: 't',
    ...provisioningNetwork,
    httpPort: 0,
    netmask: '255.0.0.0',
    reservations,
    dir,
    tftpRoot: dir,
    imagesDir: dir,
    routerAdvertisement: false,
  };
  const store = new MachineStore(join(dir, 'machines'), () => new Date('2026-01-01T00:00:00Z'));
  const server = createBootServer({
    config,
    store,
    scripts: new BootScripts(join(REPO, 'share/provisioner')),
    authorizedKey: () => undefined,
    aptProxy: '',
    log: () => undefined,
    leaseOf: (mac) => leases[mac],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: string) =>
    fetch(`${url}${path}`, { method: 'POST', body }).then(
      async (r) => ({ status: r.status, text: await r.text() }),
      (e: Error) => ({ status: 0, text: e.message }),
    );
  const stillServing = async () => (await fetch(`${url}/boot.ipxe`)).status;
  const get = (path: string) => fetch(`${url}${path}`).then(async (r) => ({ status: r.status, text: await r.text() }));
  return { store, post, get, stillServing, close: () => new Promise((r) => server.close(r)) };
}

async function agentReport(): Promise<string> {
  const out = await runCommand('sh', [join(REPO, 'share/provisioner/discovery-agent.sh'), '--print']);
  expect(out.code, out.stderr).toBe(0);
  return out.stdout;
}

describe('the discovery callback endpoint', () => {
  it('enlists a machine whose agent reports from the provisioning network', async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 });
    expect(await s.post(`/callback/${MAC}/inventory`, await agentReport())).toEqual({ status: 200, text: 'ok\n' });
    expect(s.store.byMac(MAC)?.state).toBe('inspected');
    await s.close();
  });

  it('refuses enlistment from outside the provisioning network, records the attempt and enlists nothing', async () => {
    const s = await serve({ address: '10.79.203.1', prefix: 24 });
    const answer = await s.post(`/callback/${MAC}/inventory`, await agentReport());
    expect(answer.status).toBe(403);
    expect(s.store.all()).toEqual([]);
    expect(s.store.sightings(unknownMachineId(MAC))).toEqual([
      expect.objectContaining({
        what: 'rejected',
        detail: 'inventory callback from 127.0.0.1, outside the provisioning network',
      }),
    ]);
    expect((await s.post(`/callback/${MAC}/installed`, 'ssh-ed25519 AAAA')).status).toBe(403);
    expect(await s.stillServing()).toBe(200);
    await s.close();
  });

  it('rejects malformed and oversized reports, says why, records them, and keeps serving', async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 });
    const cases: [string, number, RegExp][] = [
      ['{"cpu": ', 400, /not JSON/],
      [
        JSON.stringify({ cpu: { count: 'two' }, nics: [{ name: 'eth0', mac: 'zz' }] }),
        422,
        /cpu\.count: expected a non-negative integer/,
      ],
      [JSON.stringify([1, 2, 3]), 422, /invalid report/],
      ['x'.repeat(2 * 1024 * 1024), 413, /larger than/],
    ];
    for (const [body, status, why] of cases) {
      const answer = await s.post(`/callback/${MAC}/inventory`, body);
      expect(answer.status, body.slice(0, 40)).toBe(status);
      expect(answer.text).toMatch(why);
      expect(await s.stillServing()).toBe(200);
    }
    expect(s.store.all()).toEqual([]);
    expect(s.store.sightings(unknownMachineId(MAC)).filter((x) => x.what === 'rejected').length).toBeGreaterThanOrEqual(
      2,
    );
    expect((await s.post('/callback/not-a-mac/inventory', '{}')).status).toBe(400);
    expect(await s.stillServing()).toBe(200);
    await s.close();
  });
});

describe('the install callback', () => {
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBootstrapTestKeyOnlyForThisSpec0000000000000';
  const installing = (store: MachineStore, token: string) => {
    store.enroll('n1', { node: 'n1', macs: [MAC] }, 'allocated', 'in the inventory');
    store.transition('n1', 'installing', 'apply', (r) => (r.installToken = token));
  };

  it("counts only this install's own callback: from the machine's address, with the token only its preseed carried; forgeries are rejected and recorded", async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 }, [{ mac: MAC, name: 'n1', address: '127.0.0.1' }]);
    const token = 'f'.repeat(48);
    installing(s.store, token);
    const preseed = await s.get(`/preseed/${MAC}`);
    expect(preseed.status).toBe(200);
    expect(preseed.text).toContain(`/callback/${MAC}/installed?token=${token}'`);
    expect((await s.post(`/callback/${MAC}/installed`, 'ssh-ed25519 AAAAforged')).status).toBe(403);
    expect((await s.post(`/callback/${MAC}/installed?token=${'0'.repeat(48)}`, 'ssh-ed25519 AAAAforged')).status).toBe(
      403,
    );
    expect(s.store.get('n1')).toMatchObject({ state: 'installing', installToken: token });
    expect(s.store.get('n1')!.hostKey).toBeUndefined();
    expect(await s.post(`/callback/${MAC}/installed?token=${token}`, `${KEY} root@n1\n`)).toEqual({
      status: 200,
      text: 'ok\n',
    });
    expect(s.store.get('n1')).toMatchObject({ state: 'installed', hostKey: KEY });
    expect(s.store.get('n1')!.installToken).toBeUndefined();
    // a second callback, even with the token, pins nothing
    expect((await s.post(`/callback/${MAC}/installed?token=${token}`, 'ssh-ed25519 AAAAsecond')).status).toBe(409);
    expect(s.store.get('n1')!.hostKey).toBe(KEY);
    expect(
      s.store
        .sightings('n1')
        .filter((x) => x.what === 'rejected')
        .map((x) => x.detail),
    ).toEqual([
      "install callback from 127.0.0.1 without this install's token",
      "install callback from 127.0.0.1 without this install's token",
      'install callback from 127.0.0.1 in state installed',
    ]);
    await s.close();
  });

  it('takes the installer at the address DHCP leased to the machine (before it has its reserved one)', async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 }, [{ mac: MAC, name: 'n1', address: '10.9.9.9' }], {
      [MAC]: '127.0.0.1',
    });
    const token = 'd'.repeat(48);
    installing(s.store, token);
    expect((await s.get(`/preseed/${MAC}`)).status).toBe(200);
    expect((await s.post(`/callback/${MAC}/installed?token=${token}`, KEY)).status).toBe(200);
    expect(s.store.get('n1')).toMatchObject({ state: 'installed', hostKey: KEY });
    await s.close();
  });

  it("serves the preseed (and takes the callback) only at the machine's own addresses", async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 }, [{ mac: MAC, name: 'n1', address: '127.0.0.2' }]);
    const token = 'e'.repeat(48);
    installing(s.store, token);
    expect((await s.get(`/preseed/${MAC}`)).status).toBe(403);
    expect((await s.post(`/callback/${MAC}/installed?token=${token}`, KEY)).status).toBe(403);
    expect(s.store.get('n1')!.state).toBe('installing');
    expect(s.store.sightings('n1').map((x) => x.detail)).toEqual([
      'preseed asked for by 127.0.0.1, not by the machine (its lease none, its reservation 127.0.0.2)',
      'install callback from 127.0.0.1 instead of the machine (its lease none, its reservation 127.0.0.2)',
    ]);
    await s.close();
  });
});

describe('the provisioning network cannot take over records or fill the disk', () => {
  it("a report's MACs that another machine owns are not taken over, and the claim is recorded", async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 });
    s.store.enroll('n1', { node: 'n1', macs: ['52:54:00:aa:bb:01'] }, 'deployed', 'in the inventory');
    const report = JSON.parse(await agentReport()) as { nics: { name: string; mac: string }[] };
    report.nics = [
      { ...report.nics[0]!, mac: MAC },
      { ...report.nics[0]!, name: 'eth9', mac: '52:54:00:aa:bb:01' },
    ];
    expect((await s.post(`/callback/${MAC}/inventory`, JSON.stringify(report))).status).toBe(200);
    expect(s.store.byMac('52:54:00:aa:bb:01')?.id).toBe('n1');
    expect(s.store.byMac(MAC)?.macs).toEqual([MAC]);
    expect(s.store.sightings(unknownMachineId(MAC)).map((x) => x.detail)).toContain(
      'agent report claims MACs of other machines, not taken: 52:54:00:aa:bb:01 (n1)',
    );
    await s.close();
  });

  it('a flood of callbacks from one address is refused (429) and the server keeps serving', async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push((await s.post('/callback/52:54:00:00:00:01/inventory', '{')).status);
    expect(answers.filter((a) => a === 400)).toHaveLength(20);
    expect(answers.filter((a) => a === 429)).toHaveLength(10);
    expect(await s.stillServing()).toBe(200);
    await s.close();
  });

  it("sightings are bounded: a machine's file keeps its newest part, unknown machines get files only up to a limit", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-sightings-'));
    dirs.push(dir);
    const store = new MachineStore(join(dir, 'machines'), () => new Date('2026-01-01T00:00:00Z'));
    for (let i = 0; i < 1500; i++) store.sight('n1', 'dhcp', `${i} ${'x'.repeat(1000)}`);
    expect(statSync(join(dir, 'machines', 'n1.sightings.jsonl')).size).toBeLessThan(300 * 1024);
    expect(store.sightings('n1').at(-1)!.detail).toMatch(/^1499 /);
    expect(store.sightings('n1')[0]!.detail.length).toBe(500);
    for (let i = 0; i < 1100; i++)
      store.sight(
        unknownMachineId(
          `52:54:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        ),
        'dhcp',
        'lease',
      );
    expect(store.unknownCount()).toBe(1024);
  });
});
