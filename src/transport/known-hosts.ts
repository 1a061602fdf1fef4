import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../core/user-error.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** Host keys pinned on first contact, by `host:port`. A different key later is refused, never accepted. */
export class KnownHosts {
  private readonly pins: Record<string, string>;

  constructor(private readonly file: string) {
    this.pins = readPins(file);
  }

  verify(endpoint: string, fingerprint: string): 'match' | 'new' | 'mismatch' {
    const pinned = this.pins[endpoint];
    if (pinned === undefined) return 'new';
    return pinned === fingerprint ? 'match' : 'mismatch';
  }

  pinned(endpoint: string): string | undefined {
    return this.pins[endpoint];
  }

  pin(endpoint: string, fingerprint: string): void {
    this.pins[endpoint] = fingerprint;
    this.save();
  }

  forget(endpoint: string): boolean {
    if (!(endpoint in this.pins)) return false;
    delete this.pins[endpoint];
    this.save();
    return true;
  }

  private save(): void {
    const sorted = Object.fromEntries(Object.entries(this.pins).sort(([a], [b]) => a.localeCompare(b)));
    writeFileAtomic(this.file, `${JSON.stringify(sorted, null, 2)}\n`, 0o600);
  }
}

/**
 * The pinned keys. Only a file that does not exist means "nothing pinned yet": a damaged one (a torn write
 * from another tool, an edit gone wrong) stops the run — read as empty, it would accept every key again.
 */
function readPins(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw damaged(file, (error as Error).message);
  }
  let pins: unknown;
  try {
    pins = JSON.parse(text);
  } catch (error) {
    throw damaged(file, (error as Error).message);
  }
  if (pins === null || typeof pins !== 'object' || Array.isArray(pins))
    throw damaged(file, 'not a mapping of host:port to fingerprint');
  const bad = Object.entries(pins).find(
    ([, fingerprint]) => typeof fingerprint !== 'string' || !fingerprint.startsWith('SHA256:'),
  );
  if (bad) throw damaged(file, `the entry for ${bad[0]} is not a SHA256 fingerprint`);
  return pins as Record<string, string>;
}

function damaged(file: string, why: string): UserError {
  return new UserError('precondition', `the pinned SSH host keys cannot be read: ${file}`, [
    {
      severity: 'error',
      code: 'state.known-hosts-damaged',
      location: { file, line: 1, col: 1 },
      summary: `pinned host keys unreadable (${why}); nothing is trusted instead`,
      suggestion: `restore ${file} from a backup; removing it on purpose makes the next run pin every node's key anew (trust on first use)`,
    },
  ]);
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the key blob's digest. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}
