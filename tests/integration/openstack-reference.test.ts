import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMisspeltOptionCaughtThenFixed, labInventory, latestFailures as latestFailuresIn } from './support/lab-harness.js';
import { runCli } from './support/test-rack.js';

const REPO = join(import.meta.dirname, '../..');
/** The reference's roles and lab attributes, taken from the shipped lab inventory so they cannot drift apart. */
const reference = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as { roles: Record<string, string[]>; attributes: Record<string, Record<string, unknown>> };

interface Event {
  type: string;
  record?: { gene: string; node: string; evidence: { stderrTail?: string; message: string } };
  step?: string;
  action?: string;
  node?: string;
}

/**
 * The OpenStack reference end to end in a lab of its own (1 controller + 2 computes, installed over PXE
 * from powered-off machines): Debian 12's Zed packages, checked by OpenStack's own clients, APIs and
 * oslo-config-validator, Masakari segments registered, the monitors doing their job.
 * Private subnets 10.79.250.0/24 (admin) and 10.79.251.0/24 (BMC).
 * About 15 minutes on two cores with a warm package cache (the first apply ≈ 9 of them).
 */
describe('the OpenStack reference deployment in the lab, Masakari included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-ref-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const misspelt = join(dir, 'misspelt.yaml');
  const retuned = join(dir, 'retuned.yaml');

  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 3_000_000 });
  const on = async (node: string, script: string) => cli(['lab', 'exec', node, inventory, '--', 'sh', '-c', script]);
  const openstack = async (command: string) => on('ctl1', `. /root/admin-openrc && openstack ${command}`);
  const inventoryWith = (attributes: Record<string, Record<string, unknown>>) =>
    labInventory({
      deployment: 'tr',
      admin: '10.79.250',
      bmc: '10.79.251',
      labDir,
      nodes: [
        { name: 'ctl1', mac: '52:54:00:79:50:11', host: 11, roles: ['controller'] },
        { name: 'cmp1', mac: '52:54:00:79:50:12', host: 12, roles: ['compute'] },
        { name: 'cmp2', mac: '52:54:00:79:50:13', host: 13, roles: ['compute'] },
      ],
      roles: reference.roles,
      attributes: { ...Object.fromEntries(Object.entries(reference.attributes).filter(([name]) => name !== 'base')), ...attributes },
    });
  const events = (stdout: string): Event[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);

  beforeAll(() => {
    writeFileSync(inventory, stringify(inventoryWith({})));
    writeFileSync(misspelt, stringify(inventoryWith({ keystone: { config: { token: { expiraton: 7200 } } } })));
    writeFileSync(retuned, stringify(inventoryWith({ masakari: { wait_period_after_evacuation: 120 } })));
  });

  afterAll(async () => {
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply takes three powered-off machines to a converged cloud: every barclamp check passes and the segment is registered', async () => {
    const apply = await cli(['apply', inventory]);
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    for (const node of ['ctl1', 'cmp1', 'cmp2']) expect(apply.stdout).toMatch(new RegExp(`${node}: installed over PXE`));
    expect(apply.stdout).toMatch(/» masakari-monitors\/compute on cmp1, cmp2/);
    expect(apply.stdout).toMatch(/masakari: segment compute created/);
    expect(apply.stdout).toMatch(/masakari: host cmp1 added to segment compute/);
    expect(apply.stdout).toMatch(/masakari: host cmp2 added to segment compute/);
  }, 3_000_000);

  it('keystone issues tokens and the catalog holds every service at the controller', async () => {
    const token = await openstack('token issue -f value -c project_id >/dev/null && echo ok');
    expect(token.stdout.trim(), token.stderr).toBe('ok');
    const catalog = await openstack('endpoint list --interface internal -f value -c "Service Type" -c URL | sort');
    expect(catalog.stdout.trim().split('\n'), catalog.stderr).toEqual([
      'compute http://10.79.250.11:8774/v2.1',
      'identity http://10.79.250.11:5000/v3/',
      'image http://10.79.250.11:9292',
      'instance-ha http://10.79.250.11:15868/v1/%(tenant_id)s',
      'network http://10.79.250.11:9696',
      'placement http://10.79.250.11:8778',
    ]);
  });

  it('nova: conductor and scheduler up, both computes up; placement has their two resource providers', async () => {
    const services = await openstack('compute service list -f value -c Binary -c Host -c State | sort');
    expect(services.stdout.trim().split('\n'), services.stderr).toEqual(['nova-compute cmp1 up', 'nova-compute cmp2 up', 'nova-conductor ctl1 up', 'nova-scheduler ctl1 up']);
    const providers = await openstack('resource provider list -f value -c name | sort');
    expect(providers.stdout.trim().split('\n'), providers.stderr).toEqual(['cmp1', 'cmp2']);
    const network = await openstack('network show provider -f value -c provider:network_type -c shared');
    expect(network.stdout.trim().split('\n'), network.stderr).toEqual(['flat', 'True']);
  });

  it('masakari lists the segment with both computes, as the monitors will name them', async () => {
    const segment = await openstack('segment list -f value -c name -c recovery_method -c service_type');
    // the client prints the selected columns in its own order: name, service_type, recovery_method
    expect(segment.stdout.trim(), segment.stderr).toBe('compute COMPUTE auto');
    const hosts = await openstack('segment host list compute -f value -c name -c type -c on_maintenance | sort');
    expect(hosts.stdout.trim().split('\n'), hosts.stderr).toEqual(['cmp1 COMPUTE False', 'cmp2 COMPUTE False']);
  });

  it('every masakari monitor runs on each compute, the host monitor sees the pacemaker cluster', async () => {
    for (const node of ['cmp1', 'cmp2']) {
      const active = await on(node, 'systemctl is-active masakari-host-monitor masakari-process-monitor masakari-instance-monitor masakari-introspective-instance-monitor');
      expect(active.stdout.trim().split('\n'), `${node}: ${active.stderr}`).toEqual(['active', 'active', 'active', 'active']);
    }
    const cluster = await on('cmp1', 'crm_mon -1 -X');
    for (const node of ['ctl1', 'cmp1', 'cmp2']) expect(cluster.stdout).toMatch(new RegExp(`<node name="${node}" id="\\d+" online="true"`));
    // the host monitor runs the same checks (corosync/pacemaker active, crmadmin -S on this node) every interval
    const log = await on('cmp1', 'grep -c "ConfigFilesNotFoundError\\|Traceback" /var/log/masakari/masakari-host-monitor.log || true');
    expect(log.stdout.trim()).toBe('0');
    const hostCheck = await on('cmp1', 'crmadmin -S cmp1');
    expect(hostCheck.stdout, hostCheck.stderr).toMatch(/S_IDLE|S_NOT_DC/);
  });

  it('the process monitor restarts a monitored process that stopped', async () => {
    // systemctl stop, not kill -9: ssh.service has Restart=on-failure, so systemd would restart a killed sshd
    // itself, well before the monitor's next look. A stopped unit stays stopped unless the monitor acts, and
    // it may act within a second: count its restarts of ssh before and after instead of catching it down.
    const restarts = async () => Number((await on('cmp2', 'grep -c "Restart of process with executing command: systemctl restart ssh" /var/log/masakari/masakari-process-monitor.log || true')).stdout.trim() || '0');
    const before = await restarts();
    await on('cmp2', 'systemctl stop ssh.service ssh.socket 2>/dev/null; true');
    let after = before;
    let state = '';
    for (let i = 0; i < 30 && (after <= before || state !== 'active'); i++) {
      await new Promise((r) => setTimeout(r, 2000));
      after = await restarts();
      state = (await on('cmp2', 'systemctl is-active ssh.service || true')).stdout.trim();
    }
    expect(after).toBeGreaterThan(before);
    expect(state).toBe('active');
  }, 120_000);

  it('a second apply changes nothing, restarts nothing and makes no API calls', async () => {
    const again = await cli(['apply', inventory, '--json']);
    expect(again.code, again.stdout).toBe(0);
    const all = events(again.stdout);
    expect(all.filter((e) => e.type === 'step.ok')).toEqual([]);
    expect(all.filter((e) => e.type === 'registration.action')).toEqual([]);
    expect(all.find((e) => e.type === 'run.done')).toMatchObject({ status: 'ok', changed: 0 });
  }, 600_000);

  it('changing one masakari attribute re-renders masakari.conf and restarts exactly masakari-api and masakari-engine', async () => {
    const apply = await cli(['apply', retuned, '--json']);
    expect(apply.code, apply.stdout).toBe(0);
    const steps = events(apply.stdout).filter((e) => e.type === 'step.ok').map((e) => `${e.node} ${e.step}`);
    expect(steps.sort()).toEqual(['ctl1 masakari/server:file:/etc/masakari/masakari.conf', 'ctl1 masakari/server:service:masakari-api:restart', 'ctl1 masakari/server:service:masakari-engine:restart']);
    expect((await on('ctl1', 'grep ^wait_period_after_evacuation /etc/masakari/masakari.conf')).stdout.trim()).toBe('wait_period_after_evacuation = 120');
  }, 600_000);

  it('a misspelt option is caught by oslo-config-validator and recorded as CFG-UNKNOWN-OPTION, with no secret in any record; fixing it converges', async () => {
    await expectMisspeltOptionCaughtThenFixed({ cli, onController: (script: string) => on('ctl1', script), misspelt, inventory, stateDir });
  }, 900_000);

  const latestFailures = () => latestFailuresIn(stateDir);

  /**
   * lab inject GENE on ctl1 → `shownBy` (apply or verify) records exactly that gene on ctl1, with the evidence and
   * its mitigation on stdout → `repair` (lab heal, or apply when the mitigation is "re-run apply") → apply and
   * verify converge with no failure.
   */
  async function recreateOnController(gene: string, evidence: RegExp, o: { shownBy: 'apply' | 'verify'; repair: 'heal' | 'apply'; injectArgs?: string[] }): Promise<void> {
    const injected = await cli(['lab', 'inject', gene, inventory, '--node', 'ctl1', ...(o.injectArgs ?? [])]);
    expect(injected.code, injected.stderr).toBe(0);
    try {
      const shown = await cli([o.shownBy, inventory]);
      expect(shown.code, shown.stdout).toBe(1);
      const records = latestFailures();
      expect(records.map((r) => `${r.node} ${r.gene}`), shown.stdout).toEqual([`ctl1 ${gene}`]);
      expect(`${records[0]!.evidence.message}\n${records[0]!.evidence.stderrTail ?? ''}`).toMatch(evidence);
      expect(shown.stdout).toContain(`what to do: ${records[0]!.mitigation}`);
      if (o.repair === 'apply') {
        const repaired = await cli(['apply', inventory]);
        expect(repaired.code, repaired.stdout).toBe(0);
      }
    } finally {
      const healed = await cli(['lab', 'heal', gene, inventory, '--node', 'ctl1']);
      expect(healed.stdout).toContain(`healed ${gene} on ctl1`);
    }
    const again = await cli(['apply', inventory]);
    expect(again.code, again.stdout).toBe(0);
    expect(latestFailures()).toEqual([]);
    const verified = await cli(['verify', inventory]);
    expect(verified.code, verified.stdout).toBe(0);
  }

  it('verify runs every check of the converged cloud once, changes nothing and finds nothing wrong', async () => {
    const verified = await cli(['verify', inventory, '--json']);
    expect(verified.code, verified.stdout).toBe(0);
    const all = events(verified.stdout);
    expect(all.filter((e) => e.type.startsWith('step.'))).toEqual([]);
    expect(all.filter((e) => e.type === 'check.ok').length).toBeGreaterThanOrEqual(20);
    expect(all.find((e) => e.type === 'run.done')).toMatchObject({ status: 'ok', failures: 0 });
  }, 600_000);

  it('ID-SERVICE-PASSWORD-MISMATCH: nova\'s password changed in keystone alone; verify shows keystone\'s 401 for nova, apply sets it back', async () => {
    await recreateOnController('ID-SERVICE-PASSWORD-MISMATCH', /password of nova[\s\S]*HTTP 401/, { shownBy: 'verify', repair: 'apply' });
  }, 1_200_000);

  it('DB-ACCESS-DENIED: a more specific keystone@<address> entry shadows keystone@\'%\' in MariaDB', async () => {
    await recreateOnController('DB-ACCESS-DENIED', /Access denied for user 'keystone'/, { shownBy: 'apply', repair: 'heal' });
  }, 1_200_000);

  it('SVC-PORT-IN-USE: memcached stopped and its port taken; apply cannot start it again, and says why', async () => {
    await recreateOnController('SVC-PORT-IN-USE', /Address already in use|failed to listen/i, { shownBy: 'apply', repair: 'heal', injectArgs: ['--port', '11211'] });
  }, 1_200_000);

  it('a segment member nova knows under another name is recorded as MASAKARI-HOST-NOT-IN-NOVA, not skipped', async () => {
    // cmp2's nova-compute reports as "CMP2" from now on: masakari would refuse host "cmp2" (400)
    const renamed = inventoryWith({});
    (renamed.nodes as { name: string; attributes?: unknown }[])[2]!.attributes = { nova: { config: { DEFAULT: { host: 'CMP2' } } } };
    writeFileSync(join(dir, 'renamed.yaml'), stringify(renamed));
    await openstack('segment host delete compute cmp2');
    await openstack('compute service delete $(openstack compute service list --service nova-compute --host cmp2 -f value -c ID)');
    const apply = await cli(['apply', join(dir, 'renamed.yaml'), '--json']);
    expect(apply.code).toBe(1);
    const failure = events(apply.stdout).find((e) => e.type === 'failure.recorded');
    expect(failure?.record).toMatchObject({ gene: 'MASAKARI-HOST-NOT-IN-NOVA', node: 'cmp2' });
    expect(failure?.record?.evidence.message).toContain("host 'cmp2' is not a nova-compute service — nova knows 'CMP2'");
  }, 900_000);
});
