import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-file.js';

/** Host keys pinned on first contact, by `host:port`. A different key later is refused, never accepted. */
export class KnownHosts {
  private readonly pins: Record<string, string>;

  constructor(private readonly file: string) {
    try {
      this.pins = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.pins = {};
    }
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

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the key blob's digest. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}
