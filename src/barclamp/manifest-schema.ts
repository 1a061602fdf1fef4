import { bool, int, list, map, obj, oneOf, str, type Schema } from '../core/schema.js';

const NAME = /^[a-z][a-z0-9-]{0,40}$/;
const NAME_HINT = 'lower-case letters, digits and dashes, starting with a letter';
/** Absolute, normalised path without traversal: values from manifests never escape their target. */
export const SAFE_PATH = /^(\/[A-Za-z0-9._@+-]+)+\/?$/;
const SAFE_PATH_HINT = 'an absolute path of plain segments (letters, digits, . _ @ + -), no ".." and no spaces';
const UNIX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const MODE = /^0?[0-7]{3,4}$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const SERVICE = /^[A-Za-z0-9@._-]+$/;

function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (error) {
    return `not a regular expression: ${(error as Error).message}`;
  }
}

const name = () => str({ pattern: NAME, patternHint: NAME_HINT });
const path = () =>
  str({
    pattern: SAFE_PATH,
    patternHint: SAFE_PATH_HINT,
    format: (p) =>
      p.split('/').some((s) => s === '..' || s === '.') ? `'${p}' contains '.' or '..' segments` : undefined,
  });
const packageName = () => str({ pattern: PACKAGE, patternHint: 'a Debian package name' });
const serviceName = () => str({ pattern: SERVICE, patternHint: 'a systemd unit name' });
const ownership = {
  mode: str({ pattern: MODE, patternHint: 'an octal mode such as "0644" (quote it)' }),
  owner: str({ pattern: UNIX_NAME, patternHint: 'a user name' }),
  group: str({ pattern: UNIX_NAME, patternHint: 'a group name' }),
};

const attributeSpec = (depth: number): Schema =>
  obj(
    {
      type: str({ enum: ['string', 'integer', 'boolean', 'list', 'map', 'ipv4', 'cidr'] }),
      description: str(),
      default: { kind: 'any' },
      required: bool(),
      enum: list(str()),
      pattern: str({ format: regexProblem }),
      key_pattern: str({ format: regexProblem }),
      min: int(),
      max: int(),
      ...(depth > 0 ? { items: attributeSpec(depth - 1), values: attributeSpec(depth - 1) } : {}),
    },
    ['type', 'description'],
  );

const resource: Schema = oneOf(
  'one resource: a mapping with exactly one of package, file, directory, service, command',
  obj({ package: oneOf('a package name or a list of them', packageName(), list(packageName(), { minItems: 1 })) }, [
    'package',
  ]),
  obj(
    {
      file: obj(
        {
          path: path(),
          template: str({ pattern: /^[A-Za-z0-9._-]+$/, patternHint: 'a file name in templates/' }),
          content: str(),
          ...ownership,
          notify: list(serviceName()),
          sensitive: bool(),
        },
        ['path'],
      ),
    },
    ['file'],
  ),
  obj({ directory: obj({ path: path(), ...ownership }, ['path']) }, ['directory']),
  obj({ service: obj({ name: serviceName(), enabled: bool(), started: bool() }, ['name']) }, ['service']),
  obj(
    {
      command: obj(
        {
          name: name(),
          run: str(),
          creates: path(),
          unless: str(),
          timeout: int({ min: 1, max: 7200 }),
          retries: int({ min: 0, max: 10 }),
          notify: list(serviceName()),
          watch: list(path()),
        },
        ['name', 'run'],
      ),
    },
    ['command'],
  ),
);

const check: Schema = oneOf(
  'one check: a mapping with exactly one of tcp, http, command',
  obj(
    {
      tcp: obj({ name: name(), port: int({ min: 1, max: 65535 }), host: str(), timeout: int({ min: 1, max: 3600 }) }, [
        'port',
      ]),
    },
    ['tcp'],
  ),
  obj(
    {
      http: obj(
        {
          name: name(),
          url: str({ pattern: /^https?:\/\//, patternHint: 'an http(s) URL' }),
          status: int({ min: 100, max: 599 }),
          timeout: int({ min: 1, max: 3600 }),
        },
        ['url'],
      ),
    },
    ['http'],
  ),
  // suite: an optional check (e.g. smoke: boot a server) that only `verify --suite NAME` runs, never apply;
  // health: a cloud health check, run once every node converged, whose findings name the nodes they are about
  obj(
    {
      command: obj(
        { name: name(), run: str(), timeout: int({ min: 1, max: 7200 }), poll: bool(), suite: name(), health: bool() },
        ['name', 'run'],
      ),
    },
    ['command'],
  ),
);

const role = obj(
  {
    description: str(),
    order: int({ min: 0, max: 1000 }),
    min: int({ min: 0 }),
    max: int({ min: 1 }),
    cluster_attribute: str(),
    cluster_max: int({ min: 1 }),
    resources: list(resource),
    checks: list(check),
    reports: map(
      obj({ run: str(), description: str() }, ['run', 'description']),
      /^[a-z][a-z0-9-]*$/,
      'lowercase report names',
    ),
  },
  ['description'],
);

export const manifestSchema: Schema = obj(
  {
    name: name(),
    description: str(),
    version: str({ pattern: /^\d+\.\d+\.\d+$/, patternHint: 'semantic version x.y.z' }),
    requires: list(name()),
    attributes: map(attributeSpec(2), /^[a-z][a-z0-9_]*$/, 'snake_case attribute names'),
    secrets: map(
      obj({ description: str(), length: int({ min: 16, max: 128 }) }, ['description']),
      /^[a-z][a-z0-9_]*$/,
      'snake_case secret names',
    ),
    roles: map(role, NAME, NAME_HINT),
  },
  ['name', 'description', 'version', 'roles'],
);
