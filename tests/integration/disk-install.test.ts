import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/util/exec.js';
import { labInventory, labIpmitool, latestFailures } from './support/lab-harness.js';
import { runCli, sleep } from './support/test-rack.js';

/**
 * The real-metal path on a machine that runs real firmware, a real kernel and a real boot loader: a QEMU/TCG
 * machine in the inventory, powered off with a disk that is not empty. `bootstrap apply` refuses to wipe it
 * until the inventory allows it; then PXE → the install ramdisk → the OS image onto /dev/vda (checksum
 * verified) → power-off → boot from its own disk through GRUB → SSH with the host key the machine made →
 * base barclamp. A power-cycle boots the installed system again (no reinstall); a second apply changes nothing.
 * Private subnets 10.79.240.0/24 (admin) and 10.79.241.0/24 (BMC).
 */
describe('real install: a QEMU machine installed onto its own disk and booted from it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-disk-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const node = { name: 'd1', mac: '52:54:00:79:40:11', host: 11 };
  const address = `10.79.240.${node.host}`;
  const disk = join(labDir, 'nodes', node.name, 'disk.img');
  const consoleLog = () => readFileSync(join(labDir, 'nodes', node.name, 'console.log'), 'utf8');
  const diagnostics = () =>
    `${consoleLog().slice(-6000)}\nprovisioner:\n${readFileSync(join(labDir, 'provisioner.log'), 'utf8').slice(-3000)}`;
  const ipmitool = (...args: string[]) => labIpmitool(labDir)(`10.79.241.${node.host}`, ...args);
  const record = () =>
    JSON.parse(readFileSync(join(stateDir, 'machines', `${node.name}.json`), 'utf8')) as {
      state: string;
      hostKey?: string;
      lastFailure?: { gene: string };
    };
  const cli = (args: string[]) =>
    runCli(args, { cwd: dir, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 1_200_000 });
  const writeInventory = (install?: Record<string, unknown>) => {
    const base = labInventory({
      deployment: 'td',
      admin: '10.79.240',
      bmc: '10.79.241',
      labDir,
      nodes: [{ name: node.name, mac: node.mac, host: node.host, roles: ['plain'] }],
      roles: { plain: ['base/node'] },
    }) as { nodes: Record<string, unknown>[]; lab: Record<string, unknown> };
    if (install) base.nodes[0]!.install = install;
    base.lab.machines = { [node.name]: { kind: 'qemu' } };
    writeFileSync(inventory, stringify(base));
  };
  // over SSH with the host key the installer reported pinned: strict checking, no trust on first use here
  const onNode = async (command: string) => {
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${address} ${record().hostKey}\n`);
    return runCommand('ssh', [
      '-i',
      join(labDir, 'id_ed25519'),
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      `root@${address}`,
      command,
    ]);
  };
  const firstBytes = () => {
    const fd = openSync(disk, 'r');
    try {
      const buffer = Buffer.alloc(32);
      readSync(fd, buffer, 0, 32, 0);
      return buffer.toString('latin1');
    } finally {
      closeSync(fd);
    }
  };

  beforeAll(async () => {
    writeInventory();
    const up = await cli(['lab', 'up', inventory]);
    expect(up.code, up.stderr).toBe(0);
    // someone's data: the install must not touch it without the inventory's consent
    const fd = openSync(disk, 'r+');
    writeSync(fd, Buffer.from('precious data, keep me'), 0, 22, 0);
    closeSync(fd);
  }, 900_000);

  afterAll(async () => {
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a root device hint no disk matches stops the install at INSTALL-NO-ROOT-DISK, listing the disks it saw', async () => {
    writeInventory({ root_device: { serial: 'NO-SUCH-DISK' } });
    const stopped = await cli(['apply', inventory]);
    expect(stopped.code, `${stopped.stdout}\n${diagnostics()}`).toBe(1);
    const failure = latestFailures(stateDir).find((r) => r.node === node.name);
    expect(failure?.gene, diagnostics()).toBe('INSTALL-NO-ROOT-DISK');
    expect(failure?.evidence.message).toContain("serial 'NO-SUCH-DISK'");
    expect(failure?.evidence.message).toContain('vda(DISK-SRV-TD-D1, 4096 MiB)');
    expect(firstBytes()).toContain('precious data, keep me');
  }, 300_000);

  it('refuses to wipe a disk that is not empty without install.wipe, says so as INSTALL-DISK-NOT-ALLOWED, and leaves the disk as it was', async () => {
    writeInventory();
    const refused = await cli(['apply', inventory]);
    expect(refused.code, `${refused.stdout}\n${diagnostics()}`).toBe(1);
    const failure = latestFailures(stateDir).find((r) => r.node === node.name);
    expect(failure?.gene, diagnostics()).toBe('INSTALL-DISK-NOT-ALLOWED');
    expect(failure?.evidence.message).toContain("stopped at step 'wipe'");
    expect(failure?.evidence.message).toContain('/dev/vda is not empty');
    expect(failure?.evidence.stderrTail).toContain('root disk /dev/vda');
    expect(firstBytes()).toContain('precious data, keep me');
    expect(record()).toMatchObject({ state: 'install-failed', lastFailure: { gene: 'INSTALL-DISK-NOT-ALLOWED' } });
  }, 300_000);

  it('with install.wipe, installs the OS image onto the disk and boots it through its own GRUB to SSH and the base barclamp', async () => {
    writeInventory({ wipe: true, root_device: { serial: 'DISK-SRV-TD-D1' } });
    const started = Date.now();
    const applied = await cli(['apply', inventory]);
    expect(applied.code, `${applied.stdout}\n${applied.stderr}\n${diagnostics()}`).toBe(0);
    console.info(`disk install: apply from power-off to configured in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const log = consoleLog();
    expect(log).toContain('installer: image written and verified');
    expect(log).toContain('installer: finished');
    // after the install, the machine booted its disk: GRUB's menu, then the installed kernel on the root UUID
    expect(log.slice(log.lastIndexOf('installer: finished'))).toMatch(/GNU GRUB[\s\S]*Linux version/);
    expect(firstBytes()).not.toContain('precious data');
    const facts = await onNode(
      'hostname; findmnt -no SOURCE,FSTYPE /; ip -o link show admin0; systemctl is-active ssh; lsblk -bno SIZE /dev/vda3',
    );
    expect(facts.code, facts.stderr).toBe(0);
    const [hostname, root, link, ssh, rootBytes] = facts.stdout.trim().split('\n');
    expect(hostname).toBe(node.name);
    expect(root).toBe('/dev/vda3 ext4');
    expect(link).toContain(node.mac); // the admin NIC, named by its MAC
    expect(ssh).toBe('active');
    // the image's root partition grew to the disk on first boot (image 1 GiB, disk 4 GiB)
    expect(Number(rootBytes)).toBeGreaterThan(3.5 * 1024 ** 3);
    expect(record().state).toBe('deployed');
  }, 900_000);

  it('a second apply changes nothing', async () => {
    const again = await cli(['apply', inventory]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/ 0 change\(s\)/);
  }, 300_000);

  it('a power-cycle boots the installed system from its disk again: no reinstall, the same host key', async () => {
    const hostKey = record().hostKey;
    const installs = () => (consoleLog().match(/installer: finished/g) ?? []).length;
    const before = installs();
    const cycled = new Date().toISOString();
    expect((await ipmitool('chassis', 'power', 'off')).code).toBe(0);
    expect((await ipmitool('chassis', 'power', 'on')).code).toBe(0);
    let up = false;
    for (let i = 0; i < 120 && !up; i++) {
      up = (await onNode('true')).code === 0;
      if (!up) await sleep(2000);
    }
    expect(up, diagnostics()).toBe(true);
    expect(installs()).toBe(before);
    expect(record().hostKey).toBe(hostKey);
    // network first, as racks are set up: the boot server told the installed machine to boot its disk
    const sightings = readFileSync(join(stateDir, 'machines', `${node.name}.sightings.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: string; what: string; detail: string });
    const sinceCycle = sightings.filter((s) => s.at >= cycled);
    expect(sinceCycle.filter((s) => s.what === 'boot-script').map((s) => s.detail)).toEqual([
      expect.stringMatching(/^local/),
    ]);
    expect(consoleLog().slice(consoleLog().lastIndexOf('power-on:'))).toMatch(/GNU GRUB[\s\S]*Linux version/);
  }, 300_000);
});
