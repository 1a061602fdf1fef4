import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCommand, type CommandResult } from '../../../src/util/exec.js';
import type { FailureRecord } from '../../../src/failures/record.js';
import type { CliResult } from './test-rack.js';

/** The real ipmitool against a lab BMC, with the lab's generated password in the environment (-E). */
export function labIpmitool(labDir: string): (address: string, ...args: string[]) => Promise<CommandResult> {
  return (address, ...args) =>
    runCommand('ipmitool', ['-I', 'lanplus', '-C', '3', '-N', '1', '-R', '2', '-H', address, '-U', 'admin', '-E', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: readFileSync(join(labDir, 'bmc-password'), 'utf8').trim() } });
}

/** Every value of the state directory's generated secrets: what must never appear anywhere else. */
export function generatedSecrets(stateDir: string): string[] {
  return Object.values(JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as Record<string, string>);
}

/** The failure records of the newest run in the state directory (none when it recorded none). */
export function latestFailures(stateDir: string): FailureRecord[] {
  const runs = readdirSync(join(stateDir, 'runs')).sort();
  const file = join(stateDir, 'runs', runs.at(-1)!, 'failures.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FailureRecord) : [];
}

/** The text of every file of every run in the state directory (events, plan, failure records, summary). */
export function runDirectoryText(stateDir: string): string {
  const runs = join(stateDir, 'runs');
  return readdirSync(runs).flatMap((run) => readdirSync(join(runs, run)).map((file) => readFileSync(join(runs, run, file), 'utf8'))).join('\n');
}

export interface LabInventoryOptions {
  deployment: string;
  /** First three octets of the private admin and BMC networks, e.g. 10.79.220 and 10.79.221. */
  admin: string;
  bmc: string;
  /** First three octets of a provider network (guests' traffic; every lab machine's eth1), if any. */
  provider?: string;
  labDir: string;
  /** Node `host` gets <admin>.<host> and BMC <bmc>.<host>. */
  nodes: { name: string; mac: string; host: number; roles: string[] }[];
  roles: Record<string, string[]>;
  attributes?: Record<string, unknown>;
  cipherSuites?: number[];
  /** Default: the password file `lab up` generates. */
  bmcPasswordFile?: string;
}

/** An inventory for a lab of its own on private subnets, so a test never meets the default lab. */
export function labInventory(o: LabInventoryOptions): Record<string, unknown> {
  return {
    deployment: o.deployment,
    release: 'zed',
    os: 'debian-12',
    networks: {
      admin: { cidr: `${o.admin}.0/24`, gateway: `${o.admin}.1`, static: `${o.admin}.10-${o.admin}.99`, dhcp: `${o.admin}.100-${o.admin}.199` },
      bmc: { cidr: `${o.bmc}.0/24`, gateway: `${o.bmc}.1`, static: `${o.bmc}.10-${o.bmc}.99` },
      ...(o.provider !== undefined ? { provider: { cidr: `${o.provider}.0/24`, gateway: `${o.provider}.1` } } : {}),
    },
    bmc: { username: 'admin', password: { file: o.bmcPasswordFile ?? join(o.labDir, 'bmc-password') }, cipher_suites: o.cipherSuites ?? [3] },
    ssh: { user: 'root', key: join(o.labDir, 'id_ed25519'), connect_timeout: 10 },
    nodes: o.nodes.map((n) => ({ name: n.name, macs: [n.mac], addresses: { admin: `${o.admin}.${n.host}` }, bmc: { address: `${o.bmc}.${n.host}` }, roles: n.roles })),
    roles: o.roles,
    attributes: { base: { apt_proxy: `http://${o.admin}.1:3142` }, ...o.attributes },
    lab: { name: o.deployment, dir: o.labDir },
  };
}

/**
 * The misspelt-option scenario both OpenStack tests run: applying `misspelt` (keystone [token] expiraton)
 * fails as CFG-UNKNOWN-OPTION with the validator's words, no generated secret reaches any run file or
 * stdout, and applying `inventory` again converges with the typo gone from keystone.conf.
 */
export async function expectMisspeltOptionCaughtThenFixed(o: { cli: (args: string[]) => Promise<CliResult>; onController: (script: string) => Promise<CliResult>; misspelt: string; inventory: string; stateDir: string }): Promise<void> {
  const bad = await o.cli(['apply', o.misspelt, '--json']);
  expect(bad.code).toBe(1);
  const failure = bad.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; record?: { gene: string; evidence: { stderrTail?: string } } }).find((e) => e.type === 'failure.recorded');
  expect(failure?.record?.gene).toBe('CFG-UNKNOWN-OPTION');
  expect(failure?.record?.evidence.stderrTail).toContain('token/expiraton is not part of the sample config');
  // no generated password in any file of any run (records, events, plan) or on stdout
  const runFiles = runDirectoryText(o.stateDir);
  for (const secret of generatedSecrets(o.stateDir)) {
    expect(runFiles).not.toContain(secret);
    expect(bad.stdout).not.toContain(secret);
  }
  const fixed = await o.cli(['apply', o.inventory]);
  expect(fixed.code, fixed.stdout).toBe(0);
  expect((await o.onController('grep -c expiraton /etc/keystone/keystone.conf || true')).stdout.trim()).toBe('0');
}
