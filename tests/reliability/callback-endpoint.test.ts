import { mkdtempSync, rmSync } from 'node:fs';
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

async function serve(provisioningNetwork: { address: string; prefix: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-callback-'));
  dirs.push(dir);
  const config: ProvisionerConfig = { deployment: 't', ...provisioningNetwork, httpPort: 0, netmask: '', reservations: [], dir, tftpRoot: dir, imagesDir: dir, routerAdvertisement: false };
  const store = new MachineStore(join(dir, 'machines'), () => new Date('2026-01-01T00:00:00Z'));
  const server = createBootServer({ config, store, scripts: new BootScripts(join(REPO, 'templates/provisioner')), authorizedKey: () => undefined, aptProxy: '', log: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: string) => fetch(`${url}${path}`, { method: 'POST', body }).then(async (r) => ({ status: r.status, text: await r.text() }), (e: Error) => ({ status: 0, text: e.message }));
  const stillServing = async () => (await fetch(`${url}/boot.ipxe`)).status;
  return { store, post, stillServing, close: () => new Promise((r) => server.close(r)) };
}

async function agentReport(): Promise<string> {
  const out = await runCommand('sh', [join(REPO, 'templates/provisioner/discovery-agent.sh'), '--print']);
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
    expect(s.store.sightings(unknownMachineId(MAC))).toEqual([expect.objectContaining({ what: 'rejected', detail: 'inventory callback from 127.0.0.1, outside the provisioning network' })]);
    expect((await s.post(`/callback/${MAC}/installed`, 'ssh-ed25519 AAAA')).status).toBe(403);
    expect(await s.stillServing()).toBe(200);
    await s.close();
  });

  it('rejects malformed and oversized reports, says why, records them, and keeps serving', async () => {
    const s = await serve({ address: '127.0.0.1', prefix: 8 });
    const cases: [string, number, RegExp][] = [
      ['{"cpu": ', 400, /not JSON/],
      [JSON.stringify({ cpu: { count: 'two' }, nics: [{ name: 'eth0', mac: 'zz' }] }), 422, /cpu\.count: expected a non-negative integer/],
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
    expect(s.store.sightings(unknownMachineId(MAC)).filter((x) => x.what === 'rejected').length).toBeGreaterThanOrEqual(2);
    expect((await s.post('/callback/not-a-mac/inventory', '{}')).status).toBe(400);
    expect(await s.stillServing()).toBe(200);
    await s.close();
  });
});
