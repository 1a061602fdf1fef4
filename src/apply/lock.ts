import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
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
 *
 * Atomic: the owner is written and synced to a file of its own, then hard-linked to the lock's name
 * (link(2) fails when the name exists), so nobody ever reads a lock that is created but still empty and
 * mistakes it for a stale one. A stale lock is renamed away before the new one is linked, and the renamed
 * file is checked to be the stale owner: of two applies taking over at once, one wins.
 */
export function acquireLock(
  file: string,
  runId: string,
  since: string,
  deps: LockDeps,
): { release: () => void; tookOverFrom?: LockOwner } {
  mkdirSync(dirname(file), { recursive: true });
  const owner: LockOwner = { pid: deps.pid, host: deps.host, runId, since };
  const mine = `${file}.${deps.pid}.${runId}`;
  writeOwner(mine, owner);
  try {
    let tookOverFrom: LockOwner | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, file);
        return { release: () => releaseIfOwned(file, owner), ...(tookOverFrom ? { tookOverFrom } : {}) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = readOwner(file);
      const stale = current === undefined || (current.host === deps.host && !deps.isAlive(current.pid));
      if (!stale) throw lockedBy(file, current);
      if (!moveAwayIfStill(file, current, `${file}.stale.${deps.pid}.${runId}`)) break;
      tookOverFrom = current;
    }
    const holder = readOwner(file);
    throw holder ? lockedBy(file, holder) : new UserError('locked', `could not take the lock ${file}`);
  } finally {
    unlinkSync(mine);
  }
}

function lockedBy(file: string, current: LockOwner): UserError {
  return new UserError(
    'locked',
    `another apply is running on this deployment: pid ${current.pid} on ${current.host}, run ${current.runId}, since ${current.since}`,
    [
      {
        severity: 'error',
        code: 'apply.locked',
        summary: `state directory is locked by run ${current.runId} (pid ${current.pid} on ${current.host})`,
        suggestion: `wait for it to finish ('bootstrap plan' works meanwhile). If that process is gone on another host, remove ${file}`,
      },
    ],
  );
}

function writeOwner(file: string, owner: LockOwner): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(owner));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Renames the stale lock out of the way, unless someone replaced it meanwhile: then whatever was moved
 * is put back (a live lock is never removed) and false is returned. A lock without a readable owner (a
 * crash of the old non-atomic lock, a damaged file) counts as the same stale lock.
 */
function moveAwayIfStill(file: string, stale: LockOwner | undefined, aside: string): boolean {
  try {
    renameSync(file, aside);
  } catch {
    return true; // gone already: try the link again
  }
  const moved = readOwner(aside);
  const same =
    moved === undefined
      ? stale === undefined
      : stale !== undefined && moved.runId === stale.runId && moved.pid === stale.pid;
  if (same) {
    unlinkSync(aside);
    return true;
  }
  try {
    linkSync(aside, file);
  } catch {
    // a third apply holds the name now; the one moved keeps running and finds its lock gone only at release
  }
  unlinkSync(aside);
  return false;
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
