import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/util/exec.js';
import { labInventory, labIpmitool } from './support/lab-harness.js';
import { runCli, sleep } from './support/test-rack.js';

/**
 * The one end-to-end test with real firmware: a QEMU/TCG machine whose SeaBIOS and iPXE ROM PXE-boot
 * from the provisioner's dnsmasq, chain the HTTP boot script, boot Debian's kernel with the discovery
 * ramdisk, and report through the agent. Powered on through its BMC (ipmi_sim + the real ipmitool).
 * Private subnets 10.79.230.0/24 (admin) and 10.79.231.0/24 (BMC).
 */
describe('lab: a QEMU machine really PXE-boots iPXE, the discovery kernel and the agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-qemu-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const spare = { name: 'spare1', mac: '52:54:00:77:01:01', bmc: '10.79.231.12' };
  const id = `unknown-${spare.mac.replace(/:/g, '')}`;

  const cli = (args: string[]) =>
    runCli(args, { cwd: dir, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 600_000 });
  const ipmitool = (...args: string[]) => labIpmitool(labDir)(spare.bmc, ...args);
  const consoleLog = () =>
    existsSync(join(labDir, 'nodes', spare.name, 'console.log'))
      ? readFileSync(join(labDir, 'nodes', spare.name, 'console.log'), 'utf8')
      : '';
  const record = () =>
    existsSync(join(stateDir, 'machines', `${id}.json`))
      ? (JSON.parse(readFileSync(join(stateDir, 'machines', `${id}.json`), 'utf8')) as {
          state: string;
          hardware?: {
            cpu: { model: string };
            dmi: { serial: string; uuid: string };
            disks: { name: string; serial: string; sizeBytes: number }[];
            nics: { mac: string; addresses: string[] }[];
          };
        })
      : undefined;

  beforeAll(async () => {
    writeFileSync(
      inventory,
      stringify(
        labInventory({
          deployment: 'tq',
          admin: '10.79.230',
          bmc: '10.79.231',
          labDir,
          nodes: [{ name: 'n1', mac: '52:54:00:79:30:11', host: 11, roles: ['plain'] }],
          roles: { plain: ['base/node'] },
        }),
      ),
    );
    const up = await cli(['lab', 'up', inventory, '--nodes', '2', '--qemu', '1']);
    expect(up.code, up.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('power-on through the BMC → DHCP, the NIC iPXE ROM straight to the HTTP boot script, kernel + ramdisk, agent report, power-off', async () => {
    expect((await ipmitool('chassis', 'power', 'on')).code).toBe(0);
    const started = Date.now();
    for (let i = 0; i < 300 && record()?.state !== 'inspected'; i++) await sleep(200);
    const seconds = (Date.now() - started) / 1000;
    const machine = record();
    expect(
      machine?.state,
      `${consoleLog()}\n${readFileSync(join(labDir, 'provisioner.log'), 'utf8').slice(-3000)}`,
    ).toBe('inspected');
    // the report is the virtual machine's own hardware, as its kernel sees it
    expect(machine!.hardware!.cpu.model).toMatch(/QEMU/);
    expect(machine!.hardware!.dmi.serial).toBe('SRV-TQ-SPARE1');
    expect(machine!.hardware!.disks).toEqual([
      expect.objectContaining({ name: 'vda', serial: 'DISK-SRV-TQ-SPARE1', sizeBytes: 4 * 1024 ** 3 }),
    ]);
    expect(machine!.hardware!.nics).toEqual([
      expect.objectContaining({ mac: spare.mac, addresses: [expect.stringMatching(/^10\.79\.230\.1\d\d\/24$/)] }),
    ]);
    // a real kernel ran the ramdisk's /init (not the container firmware)
    expect(consoleLog()).toContain('Run /init as init process');
    expect(readFileSync(join(stateDir, 'provisioner', 'dnsmasq.leases'), 'utf8')).toContain(spare.mac);
    expect(readFileSync(join(stateDir, 'machines', `${id}.sightings.jsonl`), 'utf8')).toMatch(
      /"boot-script","detail":"discover/,
    );
    for (let i = 0; i < 100 && !(await ipmitool('chassis', 'power', 'status')).stdout.includes('off'); i++)
      await sleep(200);
    expect((await ipmitool('chassis', 'power', 'status')).stdout).toContain('Chassis Power is off');
    // TCG, no KVM: measured 8 s; the router advertisement keeps iPXE from waiting ~15 s for IPv6
    expect(seconds).toBeLessThan(45);
  });

  it("discover matches the QEMU machine's BMC to its PXE report (FRU serial = SMBIOS serial, GUID = UUID)", async () => {
    const result = await cli(['discover', inventory, '--bmc', '10.79.231.11-10.79.231.12', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const final = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      bmcs: { address: string; correlation?: { kind: string; machine?: string } }[];
    };
    expect(final.bmcs.find((b) => b.address === spare.bmc)?.correlation).toMatchObject({ kind: 'match', machine: id });
  });

  it('discover --write-inventory writes the new machine into an inventory that validates, and a second run changes nothing', async () => {
    const out = join(dir, 'discovered.yaml');
    const first = await cli(['discover', inventory, '--bmc', '10.79.231.11-10.79.231.12', '--write-inventory', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('1 added (srv-tq-spare1)');
    const nodes = (parse(readFileSync(out, 'utf8')) as { nodes: unknown[] }).nodes;
    expect(nodes[1]).toEqual({
      name: 'srv-tq-spare1',
      macs: [spare.mac],
      addresses: { admin: '10.79.230.10' },
      bmc: { address: spare.bmc },
      roles: [],
    });
    expect((await cli(['validate', out])).code).toBe(0);
    const before = readFileSync(out, 'utf8');
    const second = await cli(['discover', inventory, '--bmc', '10.79.231.11-10.79.231.12', '--write-inventory', out]);
    expect(second.stdout).toContain('0 added, 0 updated, 1 unchanged');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('lab down removes the tap device, the namespace handle and the QEMU process', async () => {
    expect((await cli(['lab', 'down', inventory])).code).toBe(0);
    expect((await runCommand('ip', ['-o', 'link', 'show'])).stdout).not.toMatch(/bsq-tq/);
    expect((await runCommand('ip', ['netns', 'list'])).stdout).not.toMatch(/bs[hnb]-tq/);
    expect((await runCommand('pgrep', ['-af', 'qemu-system.*bsq-tq'])).stdout).toBe('');
  });
});
