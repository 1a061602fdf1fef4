import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { runCommand } from '../../src/util/exec.js';
import { labInventory, labIpmitool, latestFailures } from './support/lab-harness.js';
import { runCli, sleep } from './support/test-rack.js';

/**
 * The lab as deploy-day users get it, driven through the real CLI: machines with BMCs (ipmi_sim), firmware
 * that PXE-boots from the provisioner's dnsmasq and boot server, the discovery agent, the preseeded
 * installer, and `bootstrap apply` taking nodes from powered-off to installed and configured.
 * Private subnets (10.79.220.0/24 admin, 10.79.221.0/24 BMC) so it never meets the default lab.
 */
describe('lab: PXE discovery and provisioning through BMCs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-pxe-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const wrongPasswordInventory = join(dir, 'wrong-password.yaml');
  // eth0 on the admin network, eth2 (the lab's management NIC) on the BMC network
  const spare = { mac: '52:54:00:77:01:02', managementMac: '52:54:00:7b:00:02', bmc: '10.79.221.13' };

  const cli = (args: string[]) =>
    runCli(args, {
      cwd: dir,
      env: { BOOTSTRAP_STATE_DIR: stateDir, BOOTSTRAP_INSTALL_DEADLINE_MS: '120000' },
      timeoutMs: 900_000,
    });
  const ipmitool = labIpmitool(labDir);
  const consoleOf = (name: string) => {
    try {
      return `console of ${name}:\n${readFileSync(join(labDir, 'nodes', name, 'console.log'), 'utf8')}\nprovisioner:\n${readFileSync(join(labDir, 'provisioner.log'), 'utf8').slice(-3000)}`;
    } catch {
      return `${name} has no console log`;
    }
  };
  const machine = (id: string) =>
    JSON.parse(readFileSync(join(stateDir, 'machines', `${id}.json`), 'utf8')) as {
      state: string;
      hardware?: { dmi: { serial: string }; nics: { mac: string }[] };
    };

  // cipher suites 17 then 3: the BMCs (ipmi_sim) only do 3, so every session exercises the fallback
  const inventoryFor = (bmcPasswordFile: string) =>
    labInventory({
      deployment: 'tp',
      admin: '10.79.220',
      bmc: '10.79.221',
      labDir,
      bmcPasswordFile,
      cipherSuites: [17, 3],
      roles: { plain: ['base/node'] },
      nodes: [
        { name: 'n1', mac: '52:54:00:79:20:11', host: 11, roles: ['plain'] },
        { name: 'n2', mac: '52:54:00:79:20:12', host: 12, roles: ['plain'] },
      ],
    });

  beforeAll(async () => {
    writeFileSync(inventory, stringify(inventoryFor(join(labDir, 'bmc-password'))));
    writeFileSync(join(dir, 'wrong'), 'NotTheBmcPasswd\n', { mode: 0o600 });
    writeFileSync(wrongPasswordInventory, stringify(inventoryFor(join(dir, 'wrong'))));
    const up = await cli(['lab', 'up', inventory, '--nodes', '3']);
    expect(up.code, up.stderr).toBe(0);
  });

  afterAll(async () => {
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates machines powered off, each with a BMC that answers the real ipmitool', async () => {
    const status = await cli(['lab', 'status', inventory, '--json']);
    const parsed = JSON.parse(status.stdout) as {
      provisioner: boolean;
      machines: { name: string; power: string; bmc: string; spare: boolean }[];
    };
    expect(parsed.provisioner).toBe(true);
    expect(parsed.machines.map((m) => [m.name, m.power, m.bmc, m.spare])).toEqual([
      ['n1', 'off', 'up', false],
      ['n2', 'off', 'up', false],
      ['spare1', 'off', 'up', true],
    ]);
  });

  it('a machine nobody told us about PXE-boots the discovery image and is enlisted with what its agent reported', async () => {
    expect((await ipmitool(spare.bmc, 'chassis', 'power', 'on')).code).toBe(0);
    const id = `unknown-${spare.mac.replace(/:/g, '')}`;
    for (
      let i = 0;
      i < 100 && !(existsSync(join(stateDir, 'machines', `${id}.json`)) && machine(id).state === 'inspected');
      i++
    )
      await sleep(200);
    expect(existsSync(join(stateDir, 'machines', `${id}.json`)), consoleOf('spare1')).toBe(true);
    const record = machine(id);
    expect(record.state).toBe('inspected');
    expect(record.hardware?.nics.map((n) => n.mac)).toEqual([spare.mac, spare.managementMac]);
    expect(record.hardware?.dmi.serial).toBe('SRV-TP-SPARE1');
    // the PXE exchange is in the DHCP server's own lease file
    expect(readFileSync(join(stateDir, 'provisioner', 'dnsmasq.leases'), 'utf8')).toContain(spare.mac);
    // the discovery image powers the machine off when it has reported, as inspection ramdisks do
    for (let i = 0; i < 50 && !(await ipmitool(spare.bmc, 'chassis', 'power', 'status')).stdout.includes('off'); i++)
      await sleep(100);
    expect((await ipmitool(spare.bmc, 'chassis', 'power', 'status')).stdout).toContain('Chassis Power is off');
  });

  it('discover finds the live BMCs, reads them, matches the spare to its agent report; dead addresses cost one timeout', async () => {
    const result = await cli([
      'discover',
      inventory,
      '--bmc',
      '10.79.221.11-10.79.221.13,10.79.221.50-10.79.221.69',
      '--timeout',
      '1000',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const final = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      silent: number;
      sweepMs: number;
      bmcs: {
        address: string;
        node?: string;
        inventory?: { fru: { productSerial: string }; lan: { ipAddress: string } };
        correlation?: { kind: string; machine?: string };
      }[];
    };
    expect(
      final.bmcs.map((b) => [b.address, b.node ?? null, b.inventory?.fru.productSerial, b.inventory?.lan.ipAddress]),
    ).toEqual([
      ['10.79.221.11', 'n1', 'SRV-TP-N1', '10.79.221.11'],
      ['10.79.221.12', 'n2', 'SRV-TP-N2', '10.79.221.12'],
      ['10.79.221.13', null, 'SRV-TP-SPARE1', '10.79.221.13'],
    ]);
    expect(final.bmcs[2]!.correlation).toMatchObject({
      kind: 'match',
      machine: `unknown-${spare.mac.replace(/:/g, '')}`,
    });
    // the inventory asks for cipher suite 17 first; ipmi_sim only does 3: every BMC fell back and says so
    expect(final.bmcs.map((b) => (b.inventory as { cipherSuite?: number } | undefined)?.cipherSuite)).toEqual([
      3, 3, 3,
    ]);
    expect(final.silent).toBe(20);
    // 20 dead addresses are waited for together: about one timeout, not twenty
    expect(final.sweepMs).toBeLessThan(3000);
  });

  it('a wrong BMC password is a classified failure record (BMC-AUTH-FAILED), and the password is in no record', async () => {
    const result = await cli(['discover', wrongPasswordInventory, '--bmc', '10.79.221.11', '--json']);
    expect(result.code).toBe(1);
    const runId = (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { runId: string }).runId;
    const failures = readFileSync(join(stateDir, 'runs', runId, 'failures.jsonl'), 'utf8');
    expect(JSON.parse(failures.split('\n')[0]!)).toMatchObject({ gene: 'BMC-AUTH-FAILED', node: 'n1' });
    expect(failures).not.toContain('NotTheBmcPasswd');
    expect(result.stdout).not.toContain('NotTheBmcPasswd');
  });

  /** lab inject GENE → apply of n1 (to be installed, short install deadline) records exactly GENE on n1, with its mitigation → heal. */
  async function installFailsWith(gene: string, injectArgs: string[], evidence: RegExp): Promise<void> {
    const injected = await cli(['lab', 'inject', gene, inventory, ...injectArgs]);
    expect(injected.code, injected.stderr).toBe(0);
    try {
      // a short install deadline: what is blocked cannot arrive late
      const apply = await runCli(['apply', inventory, '--limit', 'n1'], {
        cwd: dir,
        env: { BOOTSTRAP_STATE_DIR: stateDir, BOOTSTRAP_INSTALL_DEADLINE_MS: '40000' },
        timeoutMs: 300_000,
      });
      expect(apply.code, apply.stdout).toBe(1);
      const records = latestFailures(stateDir);
      expect(records.map((r) => `${r.node} ${r.gene}`)).toEqual([`n1 ${gene}`]);
      expect(records[0]!.evidence.message).toMatch(evidence);
      expect(apply.stdout).toContain(`what to do: ${records[0]!.mitigation}`);
      expect(machine('n1').state).toBe('install-failed');
    } finally {
      const healed = await cli(['lab', 'heal', gene, inventory]);
      expect(healed.stdout).toContain(`healed ${gene}`);
    }
  }

  it('PXE-NO-DHCP: with the provisioner frozen (lab inject), the machine gets no lease and apply records exactly that', async () => {
    await installFailsWith('PXE-NO-DHCP', [], /asked for no DHCP lease/);
  }, 300_000);

  it('PXE-NO-BOOT-SCRIPT: a machine that cannot open TCP connections gets its lease but never its boot script', async () => {
    await installFailsWith('PXE-NO-BOOT-SCRIPT', ['--node', 'n1'], /got .* but never fetched its boot script/);
  }, 300_000);

  it('apply takes powered-off nodes to installed (PXE, preseed, callback), reachable over SSH, and configured — while the provisioning network forges, claims and floods', async () => {
    const applying = cli(['apply', inventory]);
    // n1's install window: a forged "installed" callback, its preseed asked for, a discovery report claiming
    // its MAC and a flood, all from another address of the provisioning network (the lab host's bridge)
    const provisioner = 'http://10.79.220.1:8067';
    const n1Mac = '52:54:00:79:20:11';
    for (
      let i = 0;
      i < 600 && !(existsSync(join(stateDir, 'machines', 'n1.json')) && machine('n1').state === 'installing');
      i++
    )
      await sleep(100);
    expect(machine('n1').state).toBe('installing');
    expect((await fetch(`${provisioner}/preseed/${n1Mac}`)).status).toBe(403);
    expect(
      (
        await fetch(`${provisioner}/callback/${n1Mac}/installed`, {
          method: 'POST',
          body: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIForgedForgedForgedForgedForgedForgedForged00',
        })
      ).status,
    ).toBe(403);
    const claim = JSON.parse(
      (await runCommand('sh', [join(import.meta.dirname, '../../share/provisioner/discovery-agent.sh'), '--print']))
        .stdout,
    ) as { nics: { name: string; mac: string }[] };
    claim.nics = [
      { ...claim.nics[0]!, mac: spare.mac },
      { ...claim.nics[0]!, name: 'eth9', mac: n1Mac },
    ];
    expect(
      (await fetch(`${provisioner}/callback/${spare.mac}/inventory`, { method: 'POST', body: JSON.stringify(claim) }))
        .status,
    ).toBe(200);
    const flood = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${provisioner}/callback/${spare.mac}/inventory`, { method: 'POST', body: '{' }).then((r) => r.status),
      ),
    );
    expect(flood.filter((s) => s === 429).length).toBeGreaterThan(0);
    const apply = await applying;
    // the install completed with n1's own host key; the forgery is the run's one failure record
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(1);
    const records = latestFailures(stateDir);
    expect(records.map((r) => `${r.node} ${r.gene}`)).toEqual(['n1 PXE-REQUEST-REFUSED']);
    expect(records[0]!.evidence.message).toMatch(
      /preseed asked for by 10\.79\.220\.1, not by the machine \(its lease [^,]+, its reservation 10\.79\.220\.11\).*install callback from 10\.79\.220\.1 instead of the machine/,
    );
    expect(JSON.parse(readFileSync(join(stateDir, 'machines', 'n1.json'), 'utf8')).macs).toEqual([n1Mac]);
    expect(apply.stdout).toMatch(/n1: installed over PXE/);
    expect(machine('n1').state).toBe('deployed');
    expect(machine('n2').state).toBe('deployed');
    const ssh = await cli(['lab', 'exec', 'n1', inventory, '--', 'systemctl', 'is-active', 'ssh']);
    expect(ssh.stdout.trim()).toBe('active');
    // installed from the preseed: its own host name and static address
    const hostname = await cli(['lab', 'exec', 'n2', inventory, '--', 'cat', '/etc/hostname']);
    expect(hostname.stdout.trim()).toBe('n2');
    // a second apply changes nothing and reinstalls nothing
    const again = await cli(['apply', inventory]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 change\(s\)/);
    expect(again.stdout).not.toMatch(/installed over PXE/);
  });

  it('a file written on one node is not on another (each disk is its own)', async () => {
    expect((await cli(['lab', 'exec', 'n1', inventory, '--', 'sh', '-c', 'echo n1 > /root/only-on-n1'])).code).toBe(0);
    expect((await cli(['lab', 'exec', 'n1', inventory, '--', 'test', '-e', '/root/only-on-n1'])).code).toBe(0);
    expect((await cli(['lab', 'exec', 'n2', inventory, '--', 'test', '-e', '/root/only-on-n1'])).code).toBe(1);
  });

  it("an installed machine sees only the devices it needs, never the host's disks, kernel log or KVM, and its console is its console log", async () => {
    const devices = await cli([
      'lab',
      'exec',
      'n2',
      inventory,
      '--',
      'sh',
      '-c',
      'cd /dev && find . -mindepth 1 \\( -type c -o -type b \\) | sort',
    ]);
    expect(devices.code).toBe(0);
    expect(devices.stdout.trim().split('\n')).toEqual([
      './full',
      './net/tun',
      './null',
      './pts/ptmx',
      './random',
      './tty',
      './urandom',
      './zero',
    ]);
    const write = await cli([
      'lab',
      'exec',
      'n2',
      inventory,
      '--',
      'sh',
      '-c',
      'echo console-of-n2 > /dev/console && head -c 8 /dev/urandom | wc -c',
    ]);
    expect(write.stdout.trim()).toBe('8');
    expect(readFileSync(join(labDir, 'nodes', 'n2', 'console.log'), 'utf8')).toContain('console-of-n2');
  });

  it('power off/on through the BMC stops and boots the installed machine', async () => {
    expect((await cli(['power', 'off', 'n2', '--inventory', inventory])).code).toBe(0);
    expect((await cli(['power', 'status', 'n2', '--inventory', inventory])).stdout).toContain('power off');
    expect((await cli(['lab', 'exec', 'n2', inventory, '--', 'true'])).code).toBe(2);
    expect((await cli(['power', 'on', 'n2', '--inventory', inventory])).code).toBe(0);
    let active = '';
    for (let i = 0; i < 100 && active !== 'active'; i++) {
      await sleep(200);
      active = (await cli(['lab', 'exec', 'n2', inventory, '--', 'systemctl', 'is-active', 'ssh'])).stdout.trim();
    }
    expect(active).toBe('active');
  });

  it("bootstrap reinstall, with the inventory's consent to wipe: the next apply installs n1 again from PXE onto an empty disk, and pins its new host key", async () => {
    const pinned = () => new KnownHosts(join(stateDir, 'known_hosts.json')).pinned('10.79.220.11:22');
    const before = pinned();
    expect(before).toBeDefined();
    // without consent nothing happens
    expect((await cli(['reinstall', inventory, 'n1'])).code).toBe(2);
    expect(pinned()).toBe(before);
    const consenting = inventoryFor(join(labDir, 'bmc-password')) as { nodes: Record<string, unknown>[] };
    consenting.nodes[0]!.install = { wipe: true };
    const file = join(dir, 'reinstall.yaml');
    writeFileSync(file, stringify(consenting));
    const marked = await cli(['reinstall', file, 'n1']);
    expect(marked.code, marked.stderr).toBe(0);
    expect(marked.stdout).toContain('n1 (deployed) will be reinstalled by the next apply');
    const applied = await cli(['apply', file, '--limit', 'n1']);
    expect(applied.code, `${applied.stdout}\n${consoleOf('n1')}`).toBe(0);
    expect(applied.stdout).toContain('n1: installed over PXE');
    expect((await cli(['lab', 'exec', 'n1', file, '--', 'test', '-e', '/root/only-on-n1'])).code).toBe(1);
    expect(pinned()).toBeDefined();
    expect(pinned()).not.toBe(before);
  });

  it('lab down leaves nothing behind: no namespace, bridge, mount, process or directory of the lab', async () => {
    expect((await cli(['lab', 'down', inventory])).code).toBe(0);
    const namespaces = (await runCommand('ip', ['netns', 'list'])).stdout;
    expect(namespaces).not.toMatch(/bs[nb]-tp-/);
    const links = (await runCommand('ip', ['-o', 'link', 'show'])).stdout;
    expect(links).not.toMatch(/bs[amvw]-tp/);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(labDir);
    const processes = (await runCommand('pgrep', ['-af', dir])).stdout;
    expect(processes).toBe('');
    expect(existsSync(labDir)).toBe(false);
    expect(
      existsSync('/run/bootstrap') ? readdirSync('/run/bootstrap').filter((d) => d.startsWith('tp-')) : [],
    ).toEqual([]);
    expect(readdirSync(dir)).not.toContain('lab');
  });
});
