import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailureRecord } from '../../src/failures/record.js';
import { labInventory, latestFailures as latestFailuresIn } from './support/lab-harness.js';
import { REPO, runCli, type CliResult } from './support/test-rack.js';

/**
 * Failure modes re-created in a lab of its own (`bootstrap lab inject`), each through the real CLI: inject,
 * run what shows it, assert exactly that gene with its evidence and mitigation is recorded, heal, re-run,
 * assert it converges with no new failure. Private subnets 10.79.236.0/24 (admin), 10.79.237.0/24 (BMC).
 */
describe('lab inject / heal: each failure mode is re-created, recorded as its gene, and healed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-faults-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const cli = (args: string[]) =>
    runCli(args, {
      cwd: dir,
      env: { BOOTSTRAP_STATE_DIR: stateDir, BOOTSTRAP_INSTALL_DEADLINE_MS: '180000' },
      timeoutMs: 900_000,
    });

  beforeAll(async () => {
    const doc = labInventory({
      deployment: 'tf',
      admin: '10.79.236',
      bmc: '10.79.237',
      labDir,
      roles: {
        first: ['base/node', 'ntp/server', 'pacemaker/node'],
        second: ['base/node', 'ntp/client', 'pacemaker/node', 'bystander/tool'],
      },
      nodes: [
        { name: 'n1', mac: '52:54:00:79:36:11', host: 11, roles: ['first'] },
        { name: 'n2', mac: '52:54:00:79:36:12', host: 12, roles: ['second'] },
      ],
      attributes: { pacemaker: { stonith: false } },
    });
    writeFileSync(inventory, stringify({ ...doc, barclamp_paths: [join(REPO, 'tests/fixtures/barclamps')] }));
    const first = await cli(['apply', inventory]);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
  }, 1_200_000);

  afterAll(async () => {
    await cli(['lab', 'heal', inventory]);
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  const latestFailures = () => latestFailuresIn(stateDir);

  /** inject on n2 → apply records exactly the gene (on n2, or on every node it shows on) → heal → apply converges without a failure. */
  async function recreate(
    gene: string,
    expectEvidence: RegExp,
    options: { before?: () => Promise<void>; seenOn?: string[]; onlyN2?: boolean } = {},
  ): Promise<FailureRecord> {
    await options.before?.();
    const injected = await cli(['lab', 'inject', gene, inventory, '--node', 'n2']);
    expect(injected.code, injected.stderr).toBe(0);
    let healed: CliResult | undefined;
    try {
      const broken = await cli(['apply', inventory, ...(options.onlyN2 ? ['--limit', 'n2'] : [])]);
      expect(broken.code, broken.stdout).toBe(1);
      const records = latestFailures();
      expect(records.map((r) => `${r.node} ${r.gene}`).sort(), broken.stdout).toEqual(
        (options.seenOn ?? ['n2']).map((n) => `${n} ${gene}`),
      );
      const record = records[0]!;
      expect(`${record.evidence.message}\n${record.evidence.stderrTail ?? ''}`).toMatch(expectEvidence);
      expect(broken.stdout).toContain(`what to do: ${record.mitigation}`);
      healed = await cli(['lab', 'heal', gene, inventory, '--node', 'n2']);
      expect(healed.stdout).toContain(`healed ${gene} on n2`);
      const again = await cli(['apply', inventory]);
      expect(again.code, again.stdout).toBe(0);
      expect(latestFailures()).toEqual([]);
      return record;
    } finally {
      // a failed expectation must not leave the fault behind for the next test
      if (!healed) await cli(['lab', 'heal', gene, inventory, '--node', 'n2']);
    }
  }

  it('lists what it re-creates, refuses an unknown gene with a hint and a node-scoped fault without --node', async () => {
    const list = await cli(['lab', 'faults', inventory]);
    for (const gene of [
      'BMC-UNREACHABLE',
      'BMC-AUTH-FAILED',
      'SSH-UNREACHABLE',
      'SSH-HOSTKEY-CHANGED',
      'PKG-REPO-UNREACHABLE',
      'PKG-DPKG-LOCK',
      'SVC-START-FAILED',
      'SVC-PORT-IN-USE',
      'DB-ACCESS-DENIED',
      'ID-SERVICE-PASSWORD-MISMATCH',
      'HA-RING-NOT-FORMED',
      'PXE-NO-DHCP',
      'PXE-NO-BOOT-SCRIPT',
    ])
      expect(list.stdout).toContain(gene);
    const typo = await cli(['lab', 'inject', 'SSH-UNREACHBLE', inventory, '--node', 'n2']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean 'SSH-UNREACHABLE'");
    expect((await cli(['lab', 'inject', 'SSH-UNREACHABLE', inventory])).code).toBe(2);
  });

  it('SSH-UNREACHABLE: sshd stopped', async () => {
    await recreate('SSH-UNREACHABLE', /ECONNREFUSED|refused|Timed out/);
  }, 900_000);

  it('SSH-HOSTKEY-CHANGED: new host keys are refused, never accepted', async () => {
    await recreate('SSH-HOSTKEY-CHANGED', /host key/i);
  }, 900_000);

  it('SVC-START-FAILED: the journal excerpt says why', async () => {
    await recreate('SVC-START-FAILED', /journal chrony[\s\S]*(ExecStartPre|control process exited)/i);
  }, 900_000);

  it('PKG-REPO-UNREACHABLE: a package that has to be downloaded', async () => {
    const remove = await cli(['lab', 'exec', 'n2', inventory, '--', 'apt-get', 'purge', '-y', '-q', 'ed']);
    expect(remove.code, remove.stderr).toBe(0);
    await recreate('PKG-REPO-UNREACHABLE', /127\.0\.0\.1|Failed to fetch|Could not connect|Unable to connect/);
  }, 900_000);

  it('PKG-DPKG-LOCK: another package operation holds the lock; apt waits its 120 s once, and apply gives up saying who holds it', async () => {
    const remove = await cli(['lab', 'exec', 'n2', inventory, '--', 'apt-get', 'purge', '-y', '-q', 'ed']);
    expect(remove.code, remove.stderr).toBe(0);
    const record = await recreate(
      'PKG-DPKG-LOCK',
      /dpkg lock \/var\/lib\/dpkg\/lock-frontend is held by process \d+ \(python3\)/,
    );
    // not repeated: the one attempt already waited out apt's lock timeout
    expect(record.attempt).toBe(1);
  }, 900_000);

  it('HA-RING-NOT-FORMED: corosync traffic dropped', async () => {
    // with its traffic dropped, n2 and n1 each see the other offline: both checks fail
    await recreate('HA-RING-NOT-FORMED', /is not online|no quorum/, { seenOn: ['n1', 'n2'] });
  }, 900_000);

  it('power and boot commands record a BMC that fails them, classified, in a run of their own', async () => {
    const injected = await cli(['lab', 'inject', 'BMC-UNREACHABLE', inventory, '--node', 'n2']);
    expect(injected.code, injected.stderr).toBe(0);
    try {
      const status = await cli(['power', 'status', 'n1', 'n2', '--inventory', inventory]);
      expect(status.code, status.stdout).toBe(1);
      expect(status.stdout).toMatch(/^n1: power on$/m);
      const records = latestFailures();
      expect(records.map((r) => `${r.node} ${r.gene} ${r.step}`)).toEqual(['n2 BMC-UNREACHABLE power']);
      expect(status.stdout).toContain(`n2: ✗ [BMC-UNREACHABLE]`);
      expect(status.stdout).toContain(`what to do: ${records[0]!.mitigation}`);
    } finally {
      await cli(['lab', 'heal', 'BMC-UNREACHABLE', inventory, '--node', 'n2']);
    }
    expect((await cli(['power', 'status', 'n2', '--inventory', inventory])).code).toBe(0);
  }, 300_000);

  // --limit n2: with n2 down, n1's cluster check would (rightly) also fail, after waiting out its 180 s
  it('BMC-UNREACHABLE and BMC-AUTH-FAILED: a powered-off node cannot be powered on through its BMC', async () => {
    const powerOff = async () => {
      const off = await cli(['power', 'off', 'n2', '--inventory', inventory]);
      expect(off.code, off.stdout).toBe(0);
    };
    await recreate('BMC-UNREACHABLE', /10\.79\.237\.12/, { before: powerOff, onlyN2: true });
    await recreate('BMC-AUTH-FAILED', /password|authenticat|RAKP|session/i, { before: powerOff, onlyN2: true });
  }, 900_000);
});
