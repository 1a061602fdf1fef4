import { bool, int, list, map, obj, oneOf, str, type Schema } from '../core/schema.js';
import { cidrProblem, ipv4Problem, macProblem, rangeProblem } from '../util/ipv4.js';

/** Host-name-safe: usable in file names, DNS, pacemaker and nova without quoting. */
export const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NAME_HINT = 'lower-case letters, digits and dashes (a host name)';
const SIMPLE_NAME = /^[a-z][a-z0-9_-]{0,40}$/;
const ROLE_REF = /^[a-z][a-z0-9-]{0,40}\/[a-z][a-z0-9-]{0,40}$/;

/** Disk serials reach the install agent's preseed: the characters a boot script may carry. */
const DISK_SERIAL = /^[A-Za-z0-9._:\/=-]{1,64}$/;

/** BMC user names that reach the cluster configuration and shell commands: nothing that needs quoting. */
const BMC_USER = /^[A-Za-z0-9._-]{1,16}$/;

const ipv4 = () => str({ format: ipv4Problem });
const secretSource: Schema = oneOf(
  'a secret source: {env: VAR} or {file: path} (inline passwords are not accepted)',
  obj({ env: str({ pattern: /^[A-Z_][A-Z0-9_]*$/, patternHint: 'an environment variable name' }) }, ['env']),
  obj({ file: str({ maxLength: 4096 }) }, ['file']),
);
const sshFields = {
  user: str({ pattern: /^[a-z_][a-z0-9_-]{0,31}$/, patternHint: 'a user name' }),
  port: int({ min: 1, max: 65535 }),
  key: str({ maxLength: 4096 }),
  connect_timeout: int({ min: 1, max: 600 }),
};

const network = obj(
  {
    cidr: str({ format: cidrProblem }),
    gateway: ipv4(),
    vlan: int({ min: 1, max: 4094 }),
    mtu: int({ min: 576, max: 9216 }),
    dhcp: str({ format: rangeProblem }),
    static: str({ format: rangeProblem }),
  },
  ['cidr'],
);

const node = obj(
  {
    name: str({ pattern: NODE_NAME, patternHint: NAME_HINT }),
    macs: list(str({ format: macProblem })),
    addresses: map(ipv4(), SIMPLE_NAME, 'a network name'),
    bmc: obj({ address: ipv4(), username: str({ maxLength: 16 }), password: secretSource }, ['address']),
    ssh: obj({ address: ipv4(), ...sshFields }),
    roles: list(str({ pattern: SIMPLE_NAME, patternHint: 'a role name from the roles: section' })),
    attributes: map(map({ kind: 'any' }), SIMPLE_NAME, 'a barclamp name'),
    // taken out of service on purpose (repair, hardware swap): apply and verify leave it alone, the cloud's
    // health checks expect its services out of service, and nothing puts it back until this is removed
    maintenance: bool(),
    // how the install agent treats the machine's disks (Ironic's root device hints; wiping needs consent)
    install: obj({
      root_device: obj({
        name: str({ pattern: /^[a-z][a-z0-9]{1,30}$/, patternHint: 'a kernel disk name such as sda, vda or nvme0n1' }),
        serial: str({ pattern: DISK_SERIAL, patternHint: 'letters, digits and . _ : / = - (as the disk reports it)' }),
        min_size_gib: int({ min: 1, max: 1_000_000 }),
      }),
      wipe: bool(),
    }),
  },
  ['name', 'roles'],
);

export const inventorySchema: Schema = obj(
  {
    deployment: str({ pattern: NODE_NAME, patternHint: NAME_HINT }),
    release: str({ enum: ['zed'] }),
    os: str({ enum: ['debian-12'] }),
    barclamp_paths: list(str({ maxLength: 4096 })),
    networks: map(network, SIMPLE_NAME, 'a network name such as admin, bmc, public, storage'),
    bmc: obj({
      username: str({ maxLength: 16 }),
      password: secretSource,
      // suite 0 authenticates nothing, 1 and 2 encrypt nothing (the password's hash and every command in clear)
      cipher_suites: list(int({ min: 3, max: 17 }), { minItems: 1 }),
      // a least-privilege BMC user for fencing: its password lands in the cluster's CIB and on the host
      // monitor's ipmitool command line (upstream code), so it should not be the administrator's
      fence: obj(
        {
          username: str({
            pattern: BMC_USER,
            patternHint: 'a BMC user name: letters, digits, dot, dash, underscore (at most 16)',
          }),
          password: secretSource,
        },
        ['username', 'password'],
      ),
    }),
    ssh: obj(sshFields),
    nodes: list(node),
    roles: map(
      list(str({ pattern: ROLE_REF, patternHint: "'barclamp/role', e.g. ntp/server" })),
      SIMPLE_NAME,
      'a role name',
    ),
    attributes: map(map({ kind: 'any' }), SIMPLE_NAME, 'a barclamp name'),
    // a known-good bill of materials (a run's bom.json): the base barclamp pins its package versions
    bom: obj({ pin: str({ maxLength: 4096 }) }, ['pin']),
    lab: map({ kind: 'any' }),
  },
  ['deployment', 'release', 'os', 'networks', 'nodes', 'roles'],
);
