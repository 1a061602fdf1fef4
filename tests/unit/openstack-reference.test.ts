import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/types.js';
import { FENCE_SECRET_PREFIX } from '../../src/secrets/fence-secrets.js';
import { computeDesired, declaredSecrets } from '../../src/plan/desired.js';
import type { DesiredResource } from '../../src/plan/desired-types.js';
import type { NodeFacts } from '../../src/plan/facts.js';
import { computePlan, sha } from '../../src/plan/planner.js';

const REPO = join(import.meta.dirname, '../..');

/** The reference deployment (inventory/lab.yaml) rendered with recognisable secrets. */
function reference() {
  const loaded = loadInventory(join(REPO, 'inventory/lab.yaml'), {
    builtinBarclamps: join(REPO, 'barclamps'),
    home: '/root',
  });
  expect(loaded.diagnostics).toEqual([]);
  const secrets = Object.fromEntries(
    [
      ...declaredSecrets(loaded.inventory!, loaded.catalog.barclamps).map(({ key }) => key),
      ...fenceKeys(loaded.inventory!),
    ].map((key) => [key, `SECRET-${key}`]),
  );
  const result = computeDesired({
    inventory: loaded.inventory!,
    barclamps: loaded.catalog.barclamps,
    secrets,
    sharedTemplates: join(REPO, 'barclamps', '_shared'),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics, null, 2));
  const resources = (node: string): DesiredResource[] =>
    result.desired.nodes.find((n) => n.node === node)!.batches.flatMap((b) => b.resources);
  const file = (node: string, path: string): string => {
    const found = resources(node).find((r) => r.type === 'file' && r.path === path);
    if (!found || found.type !== 'file') throw new Error(`${node} has no ${path}`);
    return found.content;
  };
  return { desired: result.desired, resources, file };
}

/** The fencing passwords the inventory points at (read from its secret sources in a real run). */
function fenceKeys(inventory: Inventory): string[] {
  return inventory.nodes.map((n) => `${FENCE_SECRET_PREFIX}${n.name}`);
}

/** `[section] option = value` lines of an ini file, in order. */
function ini(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const option = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (option) out.set(`${section}.${option[1]}`, option[2]!);
  }
  return out;
}

describe('the OpenStack reference deployment (inventory/lab.yaml)', () => {
  const { desired, resources, file } = reference();

  it('deploys the barclamps in dependency order, identity before the services and HA last', () => {
    const order = [...new Set(desired.batches.map((b) => b.barclamp))];
    expect(order.indexOf('keystone')).toBeLessThan(order.indexOf('glance'));
    expect(order.indexOf('placement')).toBeLessThan(order.indexOf('nova'));
    expect(order.indexOf('neutron')).toBeLessThan(order.indexOf('nova'));
    expect(order.indexOf('nova')).toBeLessThan(order.indexOf('masakari'));
    expect(order.indexOf('pacemaker')).toBeLessThan(order.indexOf('masakari-monitors'));
    expect(desired.batches.filter((b) => b.barclamp === 'nova').map((b) => b.role)).toEqual(['controller', 'compute']);
  });

  it('names every compute identically for nova, pacemaker and the masakari monitors', () => {
    const corosync = file('cmp1', '/etc/corosync/corosync.conf');
    for (const node of ['ctl1', 'cmp1', 'cmp2']) expect(corosync).toContain(`name: ${node}\n`);
    for (const node of ['cmp1', 'cmp2']) {
      expect(ini(file(node, '/etc/masakarimonitors/masakarimonitors.conf')).get('DEFAULT.hostname')).toBe(node);
    }
    // nova-compute takes its host name from the node's hostname, which the base barclamp sets to the node name
    expect(ini(file('cmp1', '/etc/nova/nova.conf')).has('DEFAULT.host')).toBe(false);
  });

  it('configures masakari with its taskflow persistence, coordination and the privileged user', () => {
    const conf = ini(file('ctl1', '/etc/masakari/masakari.conf'));
    expect(conf.get('taskflow.connection')).toBe(conf.get('database.connection'));
    expect(conf.get('database.connection')).toBe(
      'mysql+pymysql://masakari:SECRET-database.masakari@10.77.0.11/masakari',
    );
    expect(conf.get('coordination.backend_url')).toBe('memcached://10.77.0.11:11211');
    expect(conf.get('DEFAULT.os_privileged_user_password')).toBe('SECRET-keystone.masakari');
    expect(conf.get('keystone_authtoken.username')).toBe('masakari');
  });

  it('points the monitors at the internal instance-ha endpoint and the cluster ring interface, with the IPMI check on (the lab fences)', () => {
    const conf = ini(file('cmp2', '/etc/masakarimonitors/masakarimonitors.conf'));
    expect(conf.get('api.api_interface')).toBe('internal');
    expect(conf.get('api.region')).toBe('RegionOne');
    expect(conf.get('host.corosync_multicast_interfaces')).toBe('eth0');
    expect(conf.get('host.corosync_multicast_ports')).toBe('5405');
    expect(conf.get('host.disable_ipmi_check')).toBe('false');
    for (const monitor of ['host', 'process', 'instance']) {
      expect(file('cmp2', `/etc/default/masakari-${monitor}-monitor`)).toContain(
        'DAEMON_ARGS="--config-file=/etc/masakarimonitors/masakarimonitors.conf"',
      );
    }
  });

  it("fences every cluster member through its BMC as the operator-level fencing user, in the group masakari's host monitor reads", () => {
    const { resources } = reference();
    const fencing = resources('cmp2').find((r) => r.type === 'file' && r.path === '/etc/bootstrap/fencing.json');
    expect(fencing).toMatchObject({ mode: '0600' });
    const desired = JSON.parse(file('cmp2', '/etc/bootstrap/fencing.json')) as {
      device: { interface: string };
      members: { name: string; ipaddr: string; userid: string; passwd: string }[];
    };
    expect(desired.device.interface).toBe('lanplus -C 3 -L ADMINISTRATOR');
    expect(desired.members).toEqual([
      { name: 'cmp1', ipaddr: '10.78.0.12', userid: 'fence', passwd: 'SECRET-bmc_fence.cmp1' },
      { name: 'cmp2', ipaddr: '10.78.0.13', userid: 'fence', passwd: 'SECRET-bmc_fence.cmp2' },
      { name: 'ctl1', ipaddr: '10.78.0.11', userid: 'fence', passwd: 'SECRET-bmc_fence.ctl1' },
    ]);
    const script = file('cmp2', '/usr/local/sbin/bootstrap-fencing');
    expect(script).toContain("'--xml-pipe'");
    expect(script).toContain("ET.Element('group', id=f'fence-{name}-group')");
    // the management NIC that reaches the BMCs: eth2 with the node's bmc address
    expect(file('cmp1', '/etc/network/interfaces.d/bootstrap')).toContain(
      'auto eth2\niface eth2 inet static\n    address 10.78.0.32/24\n',
    );
  });

  it('chooses the recovery timings together: masakari waits longer than nova needs to count a lost compute as down', () => {
    expect(ini(file('ctl1', '/etc/nova/nova.conf')).get('DEFAULT.service_down_time')).toBe('30');
    expect(ini(file('ctl1', '/etc/masakari/masakari.conf')).get('DEFAULT.wait_period_after_service_update')).toBe('35');
    const { desired } = reference();
    const timings = desired.nodes
      .find((n) => n.node === 'ctl1')!
      .batches.flatMap((b) => b.checks)
      .find((c) => c.name === 'recovery-timings')!;
    expect(timings).toBeDefined();
    expect(JSON.stringify(timings)).not.toContain('must exceed');
  });

  it("monitors Debian 12's real process names and restarts them through their real units", () => {
    const list = parse(file('cmp1', '/etc/masakarimonitors/process_list.yaml')) as {
      process_name: string;
      restart_command: string;
    }[];
    expect(list.map((p) => p.process_name)).toEqual([
      '/usr/sbin/libvirtd',
      '/usr/bin/nova-compute',
      '/usr/bin/masakari-instancemonitor',
      '/usr/bin/masakari-hostmonitor',
      '/usr/sbin/sshd',
    ]);
    expect(list.map((p) => p.restart_command)).toContain('systemctl restart ssh');
    expect(list.map((p) => p.restart_command)).toContain('systemctl restart libvirtd');
  });

  it("runs lab computes with TCG (virt_type qemu) and gives nova-compute the controller's services", () => {
    expect(ini(file('cmp1', '/etc/nova/nova-compute.conf')).get('libvirt.virt_type')).toBe('qemu');
    const nova = ini(file('cmp1', '/etc/nova/nova.conf'));
    expect(nova.get('DEFAULT.transport_url')).toBe('rabbit://openstack:SECRET-rabbitmq.password@10.77.0.11:5672/');
    expect(nova.get('placement.username')).toBe('placement');
    expect(nova.has('database.connection')).toBe(false); // computes reach the database only through the conductor
    expect(ini(file('ctl1', '/etc/nova/nova.conf')).get('api_database.connection')).toContain('/nova_api');
  });

  it("sizes every API's uWSGI workers from its attributes instead of Debian's 8×32", () => {
    for (const path of [
      '/etc/placement/placement-api-uwsgi.ini',
      '/etc/neutron/neutron-api-uwsgi.ini',
      '/etc/masakari/masakari-api-uwsgi.ini',
      '/etc/nova/nova-api-uwsgi.ini',
    ]) {
      expect(file('ctl1', path)).toMatch(/^processes = 2$/m);
    }
  });

  it("asks masakari for the inventory's segment with every node holding its members role as a host", () => {
    expect(JSON.parse(file('ctl1', '/etc/bootstrap/masakari-segments.json'))).toEqual({
      segments: [
        {
          name: 'compute',
          recovery_method: 'auto',
          description: 'Every compute host of the deployment',
          hosts: ['cmp1', 'cmp2'],
        },
      ],
    });
  });

  it("registers only the services the deployment runs, each at its role's node", () => {
    const registration = JSON.parse(file('ctl1', '/root/.bootstrap/keystone-services.json')) as {
      services: { user: string; url: string; service: { type: string } }[];
    };
    expect(registration.services.map((s) => [s.user, s.service.type, s.url])).toEqual([
      ['glance', 'image', 'http://10.77.0.11:9292'],
      ['placement', 'placement', 'http://10.77.0.11:8778'],
      ['nova', 'compute', 'http://10.77.0.11:8774/v2.1'],
      ['neutron', 'network', 'http://10.77.0.11:9696'],
      ['masakari', 'instance-ha', 'http://10.77.0.11:15868/v1/%(tenant_id)s'],
    ]);
  });

  it("checks every rendered OpenStack config with oslo-config-validator on its node (through the base barclamp's verdict memory)", () => {
    const validated = (node: string) =>
      desired.nodes
        .find((n) => n.node === node)!
        .batches.flatMap((b) => b.checks)
        .filter((c) => c.type === 'command' && c.run.startsWith('bootstrap-validate-config '));
    const inputs = (node: string) =>
      validated(node).flatMap((c) =>
        c.type === 'command' ? [...c.run.matchAll(/--input-file (\S+)/g)].map((m) => m[1]) : [],
      );
    expect(inputs('ctl1').sort()).toEqual([
      '/etc/glance/glance-api.conf',
      '/etc/keystone/keystone.conf',
      '/etc/masakari/masakari.conf',
      '/etc/neutron/neutron.conf',
      '/etc/neutron/plugins/ml2/ml2_conf.ini',
      '/etc/nova/nova.conf',
      '/etc/placement/placement.conf',
    ]);
    // the three neutron agents of a compute each read neutron.conf with their own file
    expect(inputs('cmp1').sort()).toEqual([
      '/etc/masakarimonitors/masakarimonitors.conf',
      '/etc/neutron/dhcp_agent.ini',
      '/etc/neutron/metadata_agent.ini',
      '/etc/neutron/neutron.conf',
      '/etc/neutron/neutron.conf',
      '/etc/neutron/neutron.conf',
      '/etc/neutron/plugins/ml2/linuxbridge_agent.ini',
      '/etc/nova/nova-compute.conf',
      '/etc/nova/nova.conf',
    ]);
    expect(resources('ctl1').some((r) => r.type === 'package' && r.names.includes('masakari-api'))).toBe(true);
    expect(file('cmp1', '/usr/local/sbin/bootstrap-validate-config')).toContain(
      'oslo-config-validator "$@" || exit $?',
    );
  });

  it("restarts a reconfigured API before the role's later steps call it (neutron-api before the provider network)", () => {
    const facts = convergedFacts('ctl1', (command) => command !== 'provider-network');
    const conf = '/etc/neutron/neutron.conf';
    facts.paths[conf] = {
      exists: true,
      kind: 'file',
      mode: '0640',
      owner: 'root',
      group: 'neutron',
      sha256: sha('old'),
      content: 'old',
    };
    const steps = computePlan(desired, new Map([['ctl1', facts]]), 'digest')
      .nodes[0]!.steps.filter((st) => st.action !== 'noop')
      .map((st) => st.summary);
    expect(steps).toEqual([
      'write /etc/neutron/neutron.conf',
      'restart neutron-api',
      'restart neutron-rpc-server',
      'run provider-network',
    ]);
  });

  /** ctl1 as apply left it; each command's guard as `guard` says (all pass by default). */
  const convergedFacts = (node: string, guard: (command: string) => boolean = () => true): NodeFacts => {
    const facts: NodeFacts = { node, paths: {}, packages: {}, services: {}, guards: {} };
    for (const r of resources(node)) {
      if (r.type === 'file')
        facts.paths[r.path] = {
          exists: true,
          kind: 'file',
          mode: r.mode,
          owner: r.owner,
          group: r.group,
          sha256: sha(r.content),
          content: r.content,
        };
      if (r.type === 'directory')
        facts.paths[r.path] = { exists: true, kind: 'directory', mode: r.mode, owner: r.owner, group: r.group };
      if (r.type === 'package') for (const name of r.names) facts.packages[name] = { installed: true };
      if (r.type === 'service') facts.services[r.name] = { enabled: true, active: true };
      if (r.type === 'command') facts.guards[r.id] = guard(r.name);
    }
    return facts;
  };

  it('runs a command in the same apply when a file it watches changes, although its guard passed before the change', () => {
    const facts = convergedFacts('ctl1');
    const script = '/usr/local/sbin/bootstrap-flavors';
    facts.paths[script] = {
      exists: true,
      kind: 'file',
      mode: '0700',
      owner: 'root',
      group: 'root',
      sha256: sha('old'),
      content: 'old',
    };
    const steps = computePlan(desired, new Map([['ctl1', facts]]), 'digest').nodes[0]!.steps.filter(
      (st) => st.action !== 'noop',
    );
    expect(steps.map((st) => [st.summary, st.changes])).toEqual([
      [`write ${script}`, ['content']],
      ['run flavors', [`${script} changed`]],
    ]);
  });

  it("gives guests their own network: a DHCP subnet on the provider NIC, DHCP and metadata agents on each compute sharing nova's metadata secret", () => {
    expect(
      ini(file('cmp1', '/etc/neutron/plugins/ml2/linuxbridge_agent.ini')).get(
        'linux_bridge.physical_interface_mappings',
      ),
    ).toBe('provider:eth1');
    expect(ini(file('cmp1', '/etc/neutron/dhcp_agent.ini'))).toEqual(
      new Map([
        ['DEFAULT.interface_driver', 'linuxbridge'],
        ['DEFAULT.dhcp_driver', 'neutron.agent.linux.dhcp.Dnsmasq'],
        ['DEFAULT.enable_isolated_metadata', 'true'],
        ['DEFAULT.force_metadata', 'false'],
      ]),
    );
    const metadata = ini(file('cmp2', '/etc/neutron/metadata_agent.ini'));
    expect(metadata.get('DEFAULT.nova_metadata_host')).toBe('10.77.0.11');
    expect(metadata.get('DEFAULT.metadata_proxy_shared_secret')).toBe('SECRET-neutron.metadata_secret');
    const nova = ini(file('ctl1', '/etc/nova/nova.conf'));
    expect([nova.get('neutron.service_metadata_proxy'), nova.get('neutron.metadata_proxy_shared_secret')]).toEqual([
      'true',
      'SECRET-neutron.metadata_secret',
    ]);
    expect(ini(file('ctl1', '/etc/neutron/neutron.conf')).get('DEFAULT.dhcp_agents_per_network')).toBe('2');
    const network = file('ctl1', '/usr/local/sbin/bootstrap-provider-network');
    expect(network).toContain('openstack subnet create --network "$net" --subnet-range "$want_subnet" "$@" "$subnet"');
    expect(network).toContain(
      'set -- --dhcp --gateway 10.80.0.1\nset -- "$@" --allocation-pool start=10.80.0.100,end=10.80.0.199\n',
    );
    expect(file('cmp1', '/etc/libvirt/qemu.conf')).toMatch(/^namespaces = \[\]$/m);
  });

  it('leaves the optional check suites out of apply and verify unless asked for', () => {
    const loaded = loadInventory(join(REPO, 'inventory/lab.yaml'), {
      builtinBarclamps: join(REPO, 'barclamps'),
      home: '/root',
    });
    const secrets = Object.fromEntries(
      [
        ...declaredSecrets(loaded.inventory!, loaded.catalog.barclamps).map(({ key }) => key),
        ...fenceKeys(loaded.inventory!),
      ].map((key) => [key, 'x']),
    );
    const checksWith = (checkSuites: string[]) => {
      const result = computeDesired({
        inventory: loaded.inventory!,
        barclamps: loaded.catalog.barclamps,
        secrets,
        sharedTemplates: join(REPO, 'barclamps', '_shared'),
        checkSuites,
      });
      if (!result.ok) throw new Error('render');
      return result.desired.nodes.find((n) => n.node === 'ctl1')!.batches.flatMap((b) => b.checks.map((c) => c.name));
    };
    expect(checksWith([])).not.toContain('server-boots-on-each-compute');
    expect(checksWith([])).not.toContain('tempest');
    expect(checksWith(['smoke'])).toContain('server-boots-on-each-compute');
    expect(checksWith(['smoke'])).not.toContain('tempest');
    expect(checksWith(['smoke', 'conformance'])).toEqual(
      expect.arrayContaining(['server-boots-on-each-compute', 'tempest']),
    );
  });

  it('writes no secret into the plan: not in diffs, not in the check scripts it lists', () => {
    const empty = (node: string): NodeFacts => ({ node, paths: {}, packages: {}, services: {}, guards: {} });
    const plan = computePlan(desired, new Map(['ctl1', 'cmp1', 'cmp2'].map((n) => [n, empty(n)])), 'digest');
    expect(JSON.stringify(plan)).not.toContain('SECRET-');
    const usersLogIn = plan.nodes.find((n) => n.name === 'ctl1')!.checks.find((c) => c.name === 'service-users-log-in');
    expect(usersLogIn).toMatchObject({ type: 'command', run: '(sensitive)' });
  });
});
