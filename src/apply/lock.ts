import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/user-error.js';

export interface LockOwner {
  pid: number;
  host: string;
  runId: string;
  since: string;
}

export interface LockDeps {
  pid: number;
  host: string;
  isAlive: (pid: number) => boolean;
}

/**
 * One apply per state directory. The lock file names its owner; a lock whose owner process is gone
 * (crash, SIGKILL) on this host is stale and taken over, with a note to the caller.
 */
export function acquireLock(file: string, runId: string, since: string, deps: LockDeps): { release: () => void; tookOverFrom?: LockOwner } {
  mkdirSync(dirname(file), { recursive: true });
  const owner: LockOwner = { pid: deps.pid, host: deps.host, runId, since };
  let tookOverFrom: LockOwner | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(owner));
      fsyncSync(fd);
      closeSync(fd);
      return { release: () => releaseIfOwned(file, owner), ...(tookOverFrom ? { tookOverFrom } : {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readOwner(file);
    const stale = current === undefined || (current.host === deps.host && !deps.isAlive(current.pid));
    if (!stale) {
      throw new UserError('locked', `another apply is running on this deployment: pid ${current.pid} on ${current.host}, run ${current.runId}, since ${current.since}`, [
        { severity: 'error', code: 'apply.locked', summary: `state directory is locked by run ${current.runId} (pid ${current.pid} on ${current.host})`, suggestion: `wait for it to finish ('bootstrap plan' works meanwhile). If that process is gone on another host, remove ${file}` },
      ]);
    }
    tookOverFrom = current;
    try {
      unlinkSync(file);
    } catch {
      // someone else removed it first; retry the exclusive create
    }
  }
  throw new UserError('locked', `could not take the lock ${file}`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function releaseIfOwned(file: string, owner: LockOwner): void {
  const current = readOwner(file);
  if (current && current.pid === owner.pid && current.runId === owner.runId) unlinkSync(file);
}
