import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMisspeltOptionCaughtThenFixed, labInventory } from './support/lab-harness.js';
import { runCli } from './support/test-rack.js';

/**
 * The OpenStack reference, barclamp by barclamp, on a lab controller installed over PXE: MariaDB, RabbitMQ,
 * memcached and keystone from Debian 12's Zed packages, checked by their own clients and by
 * oslo-config-validator. Private subnets 10.79.240.0/24 (admin) and 10.79.241.0/24 (BMC).
 */
describe('OpenStack barclamps in the lab: identity and its infrastructure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-os-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const misspelt = join(dir, 'misspelt.yaml');

  const cli = (args: string[]) =>
    runCli(args, { cwd: dir, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 1_200_000 });
  const onCtl = async (script: string) => cli(['lab', 'exec', 'ctl1', inventory, '--', 'sh', '-c', script]);
  const inventoryWith = (keystone: Record<string, unknown>) =>
    labInventory({
      deployment: 'to',
      admin: '10.79.240',
      bmc: '10.79.241',
      labDir,
      nodes: [{ name: 'ctl1', mac: '52:54:00:79:40:11', host: 11, roles: ['controller'] }],
      roles: { controller: ['base/node', 'database/server', 'rabbitmq/server', 'memcached/server', 'keystone/server'] },
      attributes: { keystone },
    });

  beforeAll(() => {
    writeFileSync(inventory, stringify(inventoryWith({})));
    writeFileSync(misspelt, stringify(inventoryWith({ config: { token: { expiraton: 7200 } } })));
  });

  afterAll(async () => {
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply installs the controller over PXE and deploys MariaDB, RabbitMQ, memcached and keystone; every check passes', async () => {
    const apply = await cli(['apply', inventory]);
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    expect(apply.stdout).toMatch(/ctl1: installed over PXE/);
    expect(apply.stdout).toMatch(/» keystone\/server on ctl1/);
  }, 1_200_000);

  it('the admin gets a token; the catalog has the identity endpoints (public, internal, admin) in the region', async () => {
    const token = await onCtl(
      '. /root/admin-openrc && openstack token issue -f value -c project_id >/dev/null && echo ok',
    );
    expect(token.stdout.trim(), token.stderr).toBe('ok');
    const endpoints = await onCtl(
      '. /root/admin-openrc && openstack endpoint list --service identity -f value -c Region -c Interface -c URL | sort',
    );
    expect(endpoints.stdout.trim().split('\n'), endpoints.stderr).toEqual([
      'RegionOne admin http://10.79.240.11:5000/v3/',
      'RegionOne internal http://10.79.240.11:5000/v3/',
      'RegionOne public http://10.79.240.11:5000/v3/',
    ]);
  });

  it('services listen on the admin address, with the users and passwords the barclamps generated', async () => {
    const listening = await onCtl("ss -Hltn | awk '{print $4}' | sort");
    for (const port of ['10.79.240.11:3306', '10.79.240.11:11211', '10.79.240.11:5672'])
      expect(listening.stdout).toContain(port);
    const db = await onCtl(
      `MYSQL_PWD=$(sed -n 's/.*keystone:\\([^@]*\\)@.*/\\1/p' /etc/keystone/keystone.conf) mysql -h 10.79.240.11 -u keystone -N -e 'select count(*) from keystone.endpoint'`,
    );
    expect(db.stdout.trim(), db.stderr).toBe('3');
    // uWSGI sized for a small node, not Debian's 8×32
    expect((await onCtl('grep -E "^(processes|threads)" /etc/keystone/keystone-uwsgi.ini')).stdout).toBe(
      'processes = 2\nthreads = 8\n',
    );
  });

  it('a second apply changes nothing', async () => {
    const again = await cli(['apply', inventory]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/ 0 change\(s\)/);
  });

  it('a misspelt keystone option is caught by oslo-config-validator and recorded as CFG-UNKNOWN-OPTION; fixing it converges', async () => {
    await expectMisspeltOptionCaughtThenFixed({ cli, onController: onCtl, misspelt, inventory, stateDir });
  }, 600_000);
});
