import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BootScripts } from '../../src/provision/boot-scripts.js';
import { correlate, sameGuid } from '../../src/provision/correlate.js';
import { parseLeases, renderDnsmasqConfig } from '../../src/provision/dnsmasq-config.js';
import { parseHardwareReport } from '../../src/provision/hardware-report.js';
import { bootActionFor, IllegalTransition } from '../../src/provision/machine-state.js';
import { MachineStore } from '../../src/provision/machine-store.js';
import type { ProvisionerConfig } from '../../src/provision/provisioner-config.js';
import { runCommand } from '../../src/util/exec.js';
import { REPO } from '../integration/support/test-rack.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('machine life cycle', () => {
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-machines-'));
    dirs.push(dir);
    return new MachineStore(dir, () => new Date('2026-01-01T00:00:00Z'));
  };

  it('persists transitions with their reasons and refuses illegal ones without changing anything', () => {
    const s = store();
    s.enroll('n1', { node: 'n1', macs: ['52:54:00:AA:00:01'] }, 'allocated', 'in the inventory');
    s.transition('n1', 'installing', 'apply');
    expect(() => s.transition('n1', 'deployed', 'too early')).toThrow(IllegalTransition);
    expect(s.get('n1')).toMatchObject({ state: 'installing', macs: ['52:54:00:aa:00:01'] });
    expect(s.get('n1')!.history.map((h) => h.to)).toEqual(['allocated', 'installing']);
    expect(s.byMac('52:54:00:aa:00:01')?.id).toBe('n1');
  });

  it('hands out the boot script by state: unknown machines discover, installing ones install, the rest boot their disk', () => {
    expect(bootActionFor(undefined)).toBe('discover');
    expect(bootActionFor('inspected')).toBe('discover');
    expect(bootActionFor('installing')).toBe('install');
    expect(bootActionFor('deployed')).toBe('local');
    expect(bootActionFor('install-failed')).toBe('local');
  });
});

describe('dnsmasq configuration', () => {
  const config: ProvisionerConfig = {
    deployment: 'lab',
    address: '10.77.0.1',
    interface: 'bsa-lab',
    httpPort: 8067,
    netmask: '255.255.255.0',
    prefix: 24,
    dhcpRange: { start: '10.77.0.100', end: '10.77.0.199' },
    reservations: [],
    dir: '/s/provisioner',
    tftpRoot: '/run/bootstrap/lab-1/tftp',
    imagesDir: '/var/cache/bootstrap/images',
    routerAdvertisement: false,
  };

  it('serves DHCP and TFTP only, hands out no router and no DNS server, chains PXE ROMs to iPXE to the HTTP boot script', () => {
    const text = renderDnsmasqConfig(config);
    expect(text).toContain('port=0\n');
    expect(text).toContain('dhcp-option=option:router\n');
    expect(text).toContain('dhcp-option=option:dns-server\n');
    expect(text).toContain('dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe,,10.77.0.1');
    expect(text).toContain('dhcp-boot=tag:ipxe,http://10.77.0.1:8067/boot.ipxe');
    expect(text).toContain('interface=bsa-lab');
  });

  it("answers iPXE's router solicitation only when asked to (labs), never as a default router", () => {
    expect(renderDnsmasqConfig(config)).not.toContain('enable-ra');
    const lab = renderDnsmasqConfig({ ...config, routerAdvertisement: true });
    expect(lab).toContain('enable-ra\n');
    expect(lab).toContain('dhcp-range=::,constructor:bsa-lab,ra-only,1h\n');
    expect(lab).toContain('ra-param=bsa-lab,60,0\n');
  });

  it('reads dnsmasq lease files', () => {
    expect(
      parseLeases(
        '1795326548 52:54:00:AA:BB:01 10.77.0.11 n1 01:52:54:00:aa:bb:01\n1795326549 52:54:00:aa:bb:02 10.77.0.120 * *\n',
      ),
    ).toEqual([
      { expires: 1795326548, mac: '52:54:00:aa:bb:01', address: '10.77.0.11', hostname: 'n1' },
      { expires: 1795326549, mac: '52:54:00:aa:bb:02', address: '10.77.0.120', hostname: '' },
    ]);
  });
});

describe('discovery agent and correlation', () => {
  it("the agent's report on this machine (busybox and the host's own shell) is accepted by the provisioner", async () => {
    for (const shell of [['busybox', 'sh'], ['sh']]) {
      const out = await runCommand(shell[0]!, [
        ...shell.slice(1),
        join(REPO, 'share/provisioner/discovery-agent.sh'),
        '--print',
      ]);
      expect(out.code, out.stderr).toBe(0);
      const { report, problems } = parseHardwareReport(JSON.parse(out.stdout));
      expect(problems).toEqual([]);
      expect(report!.cpu.count).toBeGreaterThan(0);
      expect(report!.memoryMiB).toBeGreaterThan(0);
    }
  });

  it('refuses a malformed report and says what is wrong', () => {
    expect(parseHardwareReport({ cpu: { count: 'two' }, nics: [{ name: 'eth0', mac: 'zz' }] }).problems).toEqual(
      expect.arrayContaining(['cpu.count: expected a non-negative integer', 'nics[0].mac: not a MAC address']),
    );
  });

  const bmc = (serial: string, guid: string) => ({
    address: '10.78.0.11',
    mc: { deviceId: '', firmwareRevision: '', ipmiVersion: '2.0', manufacturerId: '', productId: '' },
    fru: {
      boardManufacturer: '',
      boardSerial: '',
      productManufacturer: '',
      productName: '',
      productSerial: serial,
      productPartNumber: '',
      productAssetTag: '',
    },
    lan: { ipAddress: '', macAddress: '', subnetMask: '', ipSource: '' },
    guid,
    power: 'on' as const,
  });
  const machine = (id: string, serial: string, uuid: string) => ({
    id,
    macs: [],
    state: 'inspected' as const,
    since: '',
    history: [],
    hardware: {
      cpu: { count: 1, model: '', flags: [] },
      memoryMiB: 1,
      disks: [],
      nics: [],
      dmi: { vendor: '', product: '', serial, uuid },
      bmcAddress: null,
    },
  });

  it('matches a BMC to the machine whose agent reported the same serial or GUID (either byte order), and reports ambiguity instead of guessing', () => {
    expect(sameGuid('11e044d2-21f2-4635-dd68-062f7b54d352', 'd244e011-f221-3546-dd68-062f7b54d352')).toBe(true);
    expect(
      correlate(bmc('SRV-1', '11e044d2-21f2-4635-dd68-062f7b54d352'), [
        machine('a', 'SRV-1', 'd244e011-f221-3546-dd68-062f7b54d352'),
        machine('b', 'SRV-2', ''),
      ]),
    ).toEqual({ kind: 'match', machine: 'a', by: ['GUID = SMBIOS UUID', 'FRU product serial = SMBIOS serial'] });
    expect(correlate(bmc('SRV-1', ''), [machine('a', 'SRV-1', ''), machine('b', 'SRV-1', '')])).toMatchObject({
      kind: 'ambiguous',
      machines: ['a', 'b'],
    });
    expect(correlate(bmc('SRV-9', ''), [machine('a', 'SRV-1', '')])).toEqual({ kind: 'none' });
  });
});

describe('boot scripts', () => {
  const scripts = new BootScripts(join(REPO, 'share', 'provisioner'));
  const machine = {
    server: 'http://10.77.0.1:8080',
    mac: '52:54:00:77:00:11',
    node: 'cmp1',
    deployment: 'lab',
    address: '10.77.0.12',
    netmask: '255.255.255.0',
    proxy: '',
    token: 'a1b2c3',
    image: 'http://10.77.0.1:8080/images/os/debian-12-v1.raw.gz',
    imageSha256: 'ab12',
    rootName: '',
    rootSerial: 'DISK-SRV-1',
    rootMinBytes: '10737418240',
    wipe: false,
  };

  it("puts the machine's values into the iPXE scripts and the preseed as they are, the install token in the late_command's callback only", () => {
    const preseed = scripts.preseed(machine);
    expect(preseed).toContain('d-i netcfg/get_ipaddress string 10.77.0.12\n');
    expect(preseed).toMatch(
      /late_command string .*'http:\/\/10\.77\.0\.1:8080\/callback\/52:54:00:77:00:11\/installed\?token=a1b2c3'$/m,
    );
    expect(scripts.forMachine('install', machine)).toContain('url=http://10.77.0.1:8080/preseed/52:54:00:77:00:11 ');
  });

  it("tells the install agent the OS image with its checksum, the inventory's root device hints and whether it may wipe", () => {
    const preseed = scripts.preseed(machine);
    expect(preseed).toContain('bootstrap bootstrap/image string http://10.77.0.1:8080/images/os/debian-12-v1.raw.gz\n');
    expect(preseed).toContain('bootstrap bootstrap/image-sha256 string ab12\n');
    expect(preseed).toContain('bootstrap bootstrap/root-name string \n');
    expect(preseed).toContain('bootstrap bootstrap/root-serial string DISK-SRV-1\n');
    expect(preseed).toContain('bootstrap bootstrap/root-min-bytes string 10737418240\n');
    expect(preseed).toContain('bootstrap bootstrap/wipe boolean false\n');
    expect(scripts.preseed({ ...machine, wipe: true })).toContain('bootstrap bootstrap/wipe boolean true\n');
    // the one-time token stays in the late command's callback: the agent reads it from there
    expect(preseed.match(/a1b2c3/g)).toHaveLength(1);
    expect(() => scripts.preseed({ ...machine, rootSerial: 'DISK 1; reboot' })).toThrow(/into a boot script/);
  });

  it("refuses any value that could end a line, a word or a quote in iPXE, debconf or the late_command's shell", () => {
    for (const node of [
      'n1; touch /tmp/pwned',
      "n1'",
      'n1\nd-i preseed/late_command string reboot',
      'n1$(id)',
      'n1 `id`',
      'a b',
      'n1&',
      'n1*',
    ]) {
      expect(() => scripts.preseed({ ...machine, node }), node).toThrow(/refusing to write .* into a boot script/);
      expect(() => scripts.forMachine('install', { ...machine, node }), node).toThrow(/into a boot script/);
    }
    expect(() => scripts.forMachine('discover', { ...machine, mac: '${mac}' })).toThrow(/into a boot script/);
  });

  it('no provisioner template writes a value raw (<%-), so every value passes the check', () => {
    for (const file of readdirSync(join(REPO, 'share', 'provisioner')).filter((f) => f.endsWith('.ejs'))) {
      expect(readFileSync(join(REPO, 'share', 'provisioner', file), 'utf8'), file).not.toContain('<%-');
    }
  });
});
