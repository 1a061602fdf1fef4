import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/apply/lock.js';
import { runIdFor } from '../../src/run/run-dir.js';
import { UserError } from '../../src/core/user-error.js';
import { ensureSecrets, readSecrets } from '../../src/secrets/secret-store.js';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { readSecretSource } from '../../src/secrets/secret-source.js';

const dir = () => mkdtempSync(join(tmpdir(), 'state-'));

describe('the apply lock', () => {
  it('lets one apply in and refuses a second while the first is alive', () => {
    const file = join(dir(), 'apply.lock');
    const first = acquireLock(file, 'run-1', 't0', { pid: 100, host: 'h', isAlive: () => true });
    expect(() => acquireLock(file, 'run-2', 't1', { pid: 200, host: 'h', isAlive: () => true })).toThrow(UserError);
    first.release();
    expect(existsSync(file)).toBe(false);
    acquireLock(file, 'run-2', 't1', { pid: 200, host: 'h', isAlive: () => true }).release();
  });

  it('takes over a stale lock whose owner died (crash, SIGKILL) and says from whom', () => {
    const file = join(dir(), 'apply.lock');
    acquireLock(file, 'run-1', 't0', { pid: 100, host: 'h', isAlive: () => true });
    const second = acquireLock(file, 'run-2', 't1', { pid: 200, host: 'h', isAlive: (pid) => pid !== 100 });
    expect(second.tookOverFrom).toMatchObject({ pid: 100, runId: 'run-1' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: 200, runId: 'run-2' });
  });

  it('ten processes starting at the same instant on one state directory: exactly one gets the lock, over a stale one too', async () => {
    // real processes racing for real: each takes the lock as apply does and holds it a moment; exit 3 = locked
    const lock = join(import.meta.dirname, '../../dist/apply/lock.js');
    const race = async (file: string) => {
      const child = `import { acquireLock } from ${JSON.stringify(lock)};
const start = Number(process.argv[1]);
while (Date.now() < start) {}
try {
  const held = acquireLock(${JSON.stringify(file)}, 'run-' + process.pid, new Date().toISOString(), { pid: process.pid, host: 'h', isAlive: (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } } });
  setTimeout(() => { held.release(); process.exit(0); }, 1500);
} catch (error) { process.exit(error.exitCode === 3 || /another apply/.test(error.message) ? 3 : 1); }`;
      const start = Date.now() + 1500;
      const codes = await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            new Promise<number>((resolve) =>
              spawn(process.execPath, ['--input-type=module', '-e', child, String(start)], { stdio: 'ignore' }).on(
                'exit',
                (code) => resolve(code ?? -1),
              ),
            ),
        ),
      );
      return codes.sort();
    };
    const fresh = join(dir(), 'apply.lock');
    expect(await race(fresh)).toEqual([0, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    const stale = join(dir(), 'apply.lock');
    writeFileSync(stale, JSON.stringify({ pid: 999_999_999, host: 'h', runId: 'crashed', since: 't0' }));
    expect(await race(stale)).toEqual([0, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(readdirSync(join(stale, '..'))).toEqual([]);
  }, 30_000);
});

describe('generated secrets', () => {
  it('are generated once, stored 0600 and reused', () => {
    const file = join(dir(), 'secrets.json');
    const first = ensureSecrets(file, [{ key: 'keystone.db_password', length: 32 }]);
    expect(first.generated).toEqual(['keystone.db_password']);
    expect(first.secrets['keystone.db_password']).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = ensureSecrets(file, [
      { key: 'keystone.db_password', length: 32 },
      { key: 'nova.db_password', length: 16 },
    ]);
    expect(second.generated).toEqual(['nova.db_password']);
    expect(second.secrets['keystone.db_password']).toBe(first.secrets['keystone.db_password']);
  });

  it('are refused when the file is readable by group or others', () => {
    const file = join(dir(), 'secrets.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o644);
    expect(() => readSecrets(file)).toThrow(/readable by group or others/);
  });
});

describe('run ids', () => {
  it('sort in the order the runs started, also within one second (the latest run is the last id)', () => {
    const at = (ms: number) => new Date(Date.parse('2026-11-22T18:02:00.000Z') + ms);
    const ids = [runIdFor(at(5), 'ffffff'), runIdFor(at(950), '000000'), runIdFor(at(1001), '888888')];
    expect([...ids].reverse().sort()).toEqual(ids);
    expect(ids[0]).toBe('20261122T180200.005Z-ffffff');
  });
});

describe('pinned SSH host keys', () => {
  it('a missing file means nothing pinned yet; a damaged one stops the run instead of trusting every key again', () => {
    const file = join(dir(), 'known_hosts.json');
    expect(new KnownHosts(file).verify('10.0.0.1:22', 'SHA256:abc')).toBe('new');
    new KnownHosts(file).pin('10.0.0.1:22', 'SHA256:abc');
    expect(new KnownHosts(file).verify('10.0.0.1:22', 'SHA256:other')).toBe('mismatch');
    for (const damaged of ['{"10.0.0.1:22": "SHA256:ab', '[]', '{"10.0.0.1:22": 7}', '']) {
      writeFileSync(file, damaged);
      expect(() => new KnownHosts(file), damaged).toThrow(/pinned SSH host keys cannot be read/);
    }
  });
});

describe('BMC password files', () => {
  it('are refused when group or others can read them, like secrets.json; 0600 is read', () => {
    const file = join(dir(), 'bmc-password');
    writeFileSync(file, 'S3cret-pw\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(() => readSecretSource({ file }, {})).toThrow(/readable by group or others \(mode 644\): chmod 600/);
    chmodSync(file, 0o600);
    expect(readSecretSource({ file }, {})).toBe('S3cret-pw');
  });
});
