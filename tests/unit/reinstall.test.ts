import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MachineStore } from '../../src/provision/machine-store.js';
import { KnownHosts } from '../../src/transport/known-hosts.js';

const REPO = join(import.meta.dirname, '../..');
const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(REPO, 'bin/bootstrap.js'), ...args], { cwd: REPO }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A deployment whose cmp1 was installed and deployed by bootstrap, its host key pinned. */
function deployed(wipe: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'reinstall-'));
  const doc = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as { nodes: Record<string, unknown>[] };
  if (wipe) doc.nodes.find((n) => n.name === 'cmp1')!.install = { wipe: true };
  writeFileSync(join(dir, 'inventory.yaml'), stringify(doc));
  const stateDir = join(dir, 'state');
  const store = new MachineStore(join(stateDir, 'machines'), () => new Date());
  store.enroll('cmp1', { node: 'cmp1', macs: ['52:54:00:77:00:12'] }, 'deployed', 'test');
  new KnownHosts(join(stateDir, 'known_hosts.json')).pin('10.77.0.12:22', 'SHA256:old');
  return { inventory: join(dir, 'inventory.yaml'), stateDir, store };
}

describe('bootstrap reinstall: an installed node installed again on purpose', () => {
  it('marks the node for the next apply: its record back to allocated (apply takes it through PXE, not adopting what answers SSH), its pinned key forgotten', async () => {
    const { inventory, stateDir, store } = deployed(true);
    const result = await cli(['reinstall', inventory, 'cmp1', '--state-dir', stateDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('cmp1 (deployed) will be reinstalled by the next apply');
    expect(store.get('cmp1')!.state).toBe('allocated');
    expect(store.get('cmp1')!.history.at(-1)).toMatchObject({
      from: 'deployed',
      to: 'allocated',
      reason: 'reinstall requested',
    });
    expect(new KnownHosts(join(stateDir, 'known_hosts.json')).pinned('10.77.0.12:22')).toBeUndefined();
  });

  it('is refused, changing nothing, unless the inventory allows wiping the disk', async () => {
    const { inventory, stateDir, store } = deployed(false);
    const result = await cli(['reinstall', inventory, 'cmp1', '--state-dir', stateDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the inventory does not allow wiping cmp1's disk (install.wipe)");
    expect(result.stderr).toContain('set install: { wipe: true } for cmp1');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(store.get('cmp1')!.state).toBe('deployed');
    expect(new KnownHosts(join(stateDir, 'known_hosts.json')).pinned('10.77.0.12:22')).toBe('SHA256:old');
  });

  it('is refused for a node the inventory does not have, and while an apply holds the lock', async () => {
    const { inventory, stateDir, store } = deployed(true);
    expect((await cli(['reinstall', inventory, 'cmp9', '--state-dir', stateDir])).code).toBe(2);
    writeFileSync(
      join(stateDir, 'apply.lock'),
      JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), runId: 'r1', since: 'now' }),
    );
    const locked = await cli(['reinstall', inventory, 'cmp1', '--state-dir', stateDir]);
    expect(locked.code).toBe(3);
    expect(store.get('cmp1')!.state).toBe('deployed');
  });
});
