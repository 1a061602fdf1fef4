import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBaseImage } from '../../src/lab/base-image.js';
import { startBmc, type BmcSim } from '../../src/lab/bmc-sim.js';
import { bootCommand, nodeRunning, waitForSsh, type ContainerNode } from '../../src/lab/container-node.js';
import { runCommand } from '../../src/util/exec.js';
import { deleteLink, deleteNamespace, ensureBridge, ensureNamespace } from '../../src/lab/network.js';
import { LAB_CACHE, REPO, isAlive, sleep } from './support/test-rack.js';

/** A lab BMC is real OpenIPMI ipmi_sim, driven by the real ipmitool over RMCP+, powering a real systemd node. */
describe('lab BMC powers its machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-bmc-'));
  const password = 'Lab7bmcPassw0rdXyz';
  let node: ContainerNode;
  let bmc: BmcSim;
  let bmcPid = 0;
  const ipmitool = (...args: string[]) =>
    runCommand(
      'ip',
      [
        'netns',
        'exec',
        'bstb1-host',
        'ipmitool',
        '-I',
        'lanplus',
        '-C',
        '3',
        '-N',
        '1',
        '-R',
        '2',
        '-H',
        bmc.address,
        '-U',
        bmc.username,
        '-E',
        ...args,
      ],
      { env: { ...(process.env as Record<string, string>), IPMI_PASSWORD: password } },
    );

  beforeAll(async () => {
    const image = await ensureBaseImage(LAB_CACHE, () => undefined);
    await ensureBridge('bstb1adm', '10.79.210.1/24');
    await ensureBridge('bstb1bmc', '10.79.211.1/24');
    node = {
      name: 'n1',
      namespace: 'bstb1-n1',
      address: '10.79.210.11',
      dir: join(dir, 'n1'),
      baseImage: image,
      authorizedKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTheBmcTestOnly0000000000000000 test',
    };
    await ensureNamespace(node.namespace, 'bstb1adm', 'bsvb1n1', `${node.address}/24`);
    await ensureNamespace('bstb1-bmc1', 'bstb1bmc', 'bsvb1b1', '10.79.211.11/24');
    // ipmitool runs from a namespace on the BMC network, like an admin node's management port.
    await ensureNamespace('bstb1-host', 'bstb1bmc', 'bsvb1h', '10.79.211.2/24');
    bmc = {
      node: 'n1',
      namespace: 'bstb1-bmc1',
      address: '10.79.211.11',
      netmask: '255.255.255.0',
      mac: '52:54:00:78:00:11',
      guid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      username: 'admin',
      password,
      dir: join(dir, 'bmc1'),
      machineDir: node.dir,
      fru: {
        manufacturer: 'LabVendor',
        product: 'LabServer n1',
        serial: 'SRV-N1',
        partNumber: 'PN-42',
        boardSerial: 'BRD-N1',
        assetTag: 'asset-n1',
      },
    };
    bmcPid = startBmc(bmc, bootCommand(node, join(REPO, 'share/lab')), join(REPO, 'share/lab'));
    for (let i = 0; i < 50 && (await ipmitool('chassis', 'power', 'status')).code !== 0; i++) await sleep(100);
  });

  afterAll(async () => {
    await ipmitool('chassis', 'power', 'off');
    if (bmcPid) process.kill(bmcPid, 'SIGKILL');
    await runCommand('pkill', ['-f', join(dir, 'bmc1')]);
    for (const [ns, veth] of [
      ['bstb1-n1', 'bsvb1n1'],
      ['bstb1-bmc1', 'bsvb1b1'],
      ['bstb1-host', 'bsvb1h'],
    ] as const)
      await deleteNamespace(ns, veth);
    await deleteLink('bstb1adm');
    await deleteLink('bstb1bmc');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers mc info, fru print and lan print with the generated identity', async () => {
    const fru = await ipmitool('fru', 'print', '0');
    expect(fru.stdout).toContain('SRV-N1');
    expect(fru.stdout).toContain('LabServer n1');
    const lan = await ipmitool('lan', 'print', '1');
    expect(lan.stdout).toMatch(/IP Address\s+:\s+10\.79\.211\.11/);
    expect(lan.stdout).toMatch(/MAC Address\s+:\s+52:54:00:78:00:11/);
    expect((await ipmitool('mc', 'info')).code).toBe(0);
  });

  it('power on boots the machine to SSH, power off stops it, both idempotent', async () => {
    expect((await ipmitool('chassis', 'power', 'status')).stdout).toContain('off');
    expect((await ipmitool('chassis', 'power', 'on')).code).toBe(0);
    expect((await ipmitool('chassis', 'power', 'on')).code).toBe(0);
    expect(await waitForSsh(node.address, 60_000, sleep, () => Date.now())).toBe(true);
    expect((await ipmitool('chassis', 'power', 'status')).stdout).toContain('on');
    expect(nodeRunning(node, isAlive)).toBe(true);
    expect((await ipmitool('chassis', 'power', 'off')).code).toBe(0);
    expect((await ipmitool('chassis', 'power', 'off')).code).toBe(0);
    for (let i = 0; i < 50 && nodeRunning(node, isAlive); i++) await sleep(100);
    expect(nodeRunning(node, isAlive)).toBe(false);
    expect((await ipmitool('chassis', 'power', 'status')).stdout).toContain('off');
  });

  it('remembers the boot device set through the BMC', async () => {
    expect((await ipmitool('chassis', 'bootdev', 'pxe')).code).toBe(0);
    expect(readFileSync(join(node.dir, 'state.boot'), 'utf8').trim()).toBe('pxe');
  });

  it('refuses a wrong password', async () => {
    const wrong = await runCommand(
      'ip',
      [
        'netns',
        'exec',
        'bstb1-host',
        'ipmitool',
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
        'admin',
        '-E',
        'chassis',
        'power',
        'status',
      ],
      { env: { ...(process.env as Record<string, string>), IPMI_PASSWORD: 'not-the-password' } },
    );
    expect(wrong.code).not.toBe(0);
  });
});
