import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify, parse } from 'yaml';
import { classify, type Observation } from '../../src/failures/classify.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';

const FILE = join(import.meta.dirname, '../../share/taxonomy.yaml');
const taxonomy = loadTaxonomy(FILE);

describe('the shipped failure taxonomy', () => {
  it('has at least 35 genes across every deployment layer, each with cause, mitigation and a re-creation recipe', () => {
    expect(taxonomy.genes.length).toBeGreaterThanOrEqual(35);
    const layers = new Set(taxonomy.genes.map((g) => g.layer));
    for (const layer of [
      'hardware-management',
      'provisioning',
      'os',
      'ssh',
      'packages',
      'configuration',
      'services',
      'database',
      'messaging',
      'identity',
      'ha',
      'timing',
    ])
      expect(layers, layer).toContain(layer);
    for (const gene of taxonomy.genes) {
      expect(gene.code, 'codes are stable identifiers').toMatch(/^[A-Z][A-Z0-9-]+$/);
      for (const text of [gene.cause, gene.mitigation, gene.recreate, gene.symptoms])
        expect(text.length, gene.code).toBeGreaterThan(10);
      expect(gene.releases).toContain('zed');
    }
  });

  it('refuses a gene file with a repeated code, a missing field or a broken pattern, naming each', () => {
    const raw = parse(readFileSync(FILE, 'utf8')) as { genes: Record<string, unknown>[] };
    raw.genes.push({ ...raw.genes[0]!, signals: [{ source: 'remote-exec', stderr: '(' }] });
    delete raw.genes[1]!.mitigation;
    const file = join(mkdtempSync(join(tmpdir(), 'taxonomy-')), 'genes.yaml');
    writeFileSync(file, stringify(raw));
    let message = '';
    try {
      loadTaxonomy(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`gene code ${raw.genes[0]!.code} is used twice`);
    expect(message).toContain(`(${raw.genes[1]!.code}) is missing 'mitigation'`);
    expect(message).toContain('invalid pattern (');
  });

  // What the tool observes → the gene an operator sees. Specific genes must win over the general ones.
  const cases: [string, Observation][] = [
    [
      'DB-ACCESS-DENIED',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run glance-db-sync: exit code 1',
        exitCode: 1,
        stderr:
          "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (1045, \"Access denied for user 'glance'@'10.77.0.11' (using password: YES)\")",
      },
    ],
    [
      'DB-UNREACHABLE',
      {
        source: 'check',
        kind: 'command',
        message: 'check failed',
        stderr: "ERROR 2002 (HY000): Can't connect to local MySQL server through socket '/run/mysqld/mysqld.sock' (2)",
      },
    ],
    [
      'DB-MIGRATION-FAILED',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run nova-db-sync: exit code 1',
        exitCode: 1,
        stderr: "alembic.util.exc.CommandError: Can't locate revision identified by 'abc'",
      },
    ],
    [
      'MQ-AUTH-FAILED',
      {
        source: 'remote-exec',
        kind: 'handler',
        message: 'restart nova-conductor: exit code 1',
        exitCode: 1,
        stderr: 'ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN',
      },
    ],
    [
      'ID-SERVICE-PASSWORD-MISMATCH',
      {
        source: 'check',
        kind: 'command',
        message: 'check failed',
        stderr: 'The request you have made requires authentication. (HTTP 401) (Request-ID: req-1)',
      },
    ],
    [
      'HA-RING-NOT-FORMED',
      {
        source: 'check',
        kind: 'command',
        message: 'check members-online failed: exit code 1',
        stderr: 'member cmp2 is not online',
      },
    ],
    [
      'PKG-SIGNATURE',
      {
        source: 'remote-exec',
        kind: 'package',
        message: 'install x: exit code 100',
        exitCode: 100,
        stderr: 'W: GPG error: http://deb.debian.org bookworm InRelease: NO_PUBKEY 6ED0E7B82643E131',
      },
    ],
    [
      'PKG-MISSING-DEPENDENCY',
      {
        source: 'remote-exec',
        kind: 'package',
        message: 'install x: exit code 100',
        exitCode: 100,
        stderr:
          'The following packages have unmet dependencies:\n nova-compute : Depends: x but it is not going to be installed',
      },
    ],
    [
      'PKG-DPKG-LOCK',
      {
        source: 'remote-exec',
        kind: 'package',
        message: 'install x',
        exitCode: 100,
        stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 123 (apt-get)',
      },
    ],
    [
      'SVC-CRASH-LOOP',
      {
        source: 'remote-exec',
        kind: 'service',
        message: 'service x',
        exitCode: 1,
        stderr: "x.service: Start request repeated too quickly.\nx.service: Failed with result 'start-limit-hit'.",
      },
    ],
    [
      'SVC-CRASH-LOOP',
      {
        source: 'remote-exec',
        kind: 'service',
        message: 'service flaky: exit code 3',
        exitCode: 3,
        stderr:
          'flaky is crash-looping: it exited right after its start (ActiveState=activating SubState=auto-restart NRestarts=0 )\n--- journal flaky\nflaky: fatal',
      },
    ],
    [
      'SVC-PORT-IN-USE',
      {
        source: 'remote-exec',
        kind: 'handler',
        message: 'restart x',
        exitCode: 1,
        stderr: 'OSError: [Errno 98] Address already in use',
      },
    ],
    [
      'SVC-START-FAILED',
      {
        source: 'remote-exec',
        kind: 'service',
        message: 'service x',
        exitCode: 1,
        stderr: 'Job for x.service failed because the control process exited with error code.',
      },
    ],
    [
      'OS-API-SERVICE-UNAVAILABLE',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run segments: exit code 1',
        exitCode: 1,
        stderr: 'masakari answered 503 to GET /segments: The server is currently unavailable',
      },
    ],
    [
      'OS-API-SERVICE-UNAVAILABLE',
      {
        source: 'check',
        kind: 'command',
        message: 'check computes-in-service failed: exit code 1',
        exitCode: 1,
        stderr: 'the API answered 503: Service Unavailable',
      },
    ],
    [
      'OS-API-ENDPOINT-WRONG',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run return-to-service: exit code 1',
        exitCode: 1,
        stderr: 'the API answered 404: Not Found',
      },
    ],
    [
      'OS-API-AUTH-FAILED',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run segments: exit code 1',
        exitCode: 1,
        stderr: 'keystone refused the admin credentials (401): The request you have made requires authentication.',
      },
    ],
    [
      'OS-API-UNREACHABLE',
      {
        source: 'check',
        kind: 'command',
        message: 'check segments-in-service failed: exit code 1',
        exitCode: 1,
        stderr: 'cannot reach the API: Unable to establish connection to http://10.77.0.11:5000/v3/auth/tokens',
      },
    ],
    [
      'MASAKARI-API-ERROR',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run segments: exit code 1',
        exitCode: 1,
        stderr: 'masakari answered 409 to POST /segments/x/hosts: Host with name cmp1 already exists',
      },
    ],
    [
      'MASAKARI-HOST-NOT-IN-NOVA',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run segments: exit code 1',
        exitCode: 1,
        stderr: "segment compute: host 'cmp2' is not a nova-compute service — nova knows 'CMP2'",
      },
    ],
    [
      'CFG-UNKNOWN-OPTION',
      {
        source: 'check',
        kind: 'command',
        message: 'check validate failed',
        stderr: 'ERROR:root:token/expiraton is not part of the sample config',
      },
    ],
    [
      'CFG-TEMPLATE-RENDER',
      { source: 'local', kind: 'template', message: "cannot render keystone.conf.ejs: unknown attribute 'nope'" },
    ],
    [
      'TIME-STEP-DEADLINE',
      { source: 'remote-exec', kind: 'command', message: 'no result within 120 s', timedOut: true },
    ],
    [
      'CMD-FAILED',
      {
        source: 'remote-exec',
        kind: 'command',
        message: 'run provider-network: exit code 1',
        exitCode: 1,
        stderr: 'Conflict',
      },
    ],
    [
      'CLOUD-SERVER-BOOT-FAILED',
      {
        source: 'check',
        kind: 'command',
        message:
          'check server-boots-on-each-compute failed: exit code 1 — bootstrap-guest: address 10.80.0.150/24 on eth0',
        exitCode: 1,
        stderr: 'cmp1: server 5e… is ACTIVE (ACTIVE after 11 s), and printed no instance id within 300 s',
      },
    ],
    [
      'CLOUD-CONFORMANCE-FAILED',
      {
        source: 'check',
        kind: 'command',
        message: 'check tempest failed: exit code 1 — failed: tempest.api.compute…',
        exitCode: 1,
        stderr: 'tempest: ran 186 tests in 480 s — passed 150, skipped 31, failed 5',
      },
    ],
    ['CHECK-FAILED', { source: 'check', kind: 'port', message: 'port 5000 closed' }],
    ['UNCLASSIFIED', { source: 'remote-exec', kind: 'mystery', message: 'something new', exitCode: 7 }],
  ];
  it.each(cases)('classifies as %s', (gene, observation) => {
    expect(classify(taxonomy, observation).code).toBe(gene);
  });
});
