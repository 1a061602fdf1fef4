import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-file.js';
import { UserError } from '../core/user-error.js';

/** Generated secrets (service and database passwords), keyed `barclamp.name`. Stored 0600, reused forever. */
export type Secrets = Record<string, string>;

export interface SecretRequest {
  key: string;
  length: number;
}

/** Alphabet without shell, URL, INI or SQL metacharacters, so generated values never need quoting. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export function readSecrets(file: string): Secrets {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return {};
  }
  assertPrivate(file, mode);
  return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
}

/** The stored secrets plus freshly generated ones for what is missing, in memory only (nothing is written). */
export function withMissingSecrets(
  file: string,
  wanted: readonly SecretRequest[],
): { secrets: Secrets; generated: string[] } {
  const secrets = readSecrets(file);
  const generated: string[] = [];
  for (const { key, length } of wanted) {
    if (secrets[key] !== undefined) continue;
    secrets[key] = randomSecret(length);
    generated.push(key);
  }
  return { secrets, generated };
}

/** Adds any missing secrets (crypto-random) and persists them atomically; returns the full set and the new names. */
export function ensureSecrets(
  file: string,
  wanted: readonly SecretRequest[],
): { secrets: Secrets; generated: string[] } {
  const result = withMissingSecrets(file, wanted);
  if (result.generated.length > 0)
    writeFileAtomic(file, `${JSON.stringify(sortKeys(result.secrets), null, 2)}\n`, 0o600);
  return result;
}

export function randomSecret(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const b = bytes[i]!;
    if (b < 256 - (256 % ALPHABET.length)) out += ALPHABET[b % ALPHABET.length];
  }
  return out.length === length ? out : out + randomSecret(length - out.length);
}

/** Secret files readable by group or others are refused: someone may already have read them. */
export function assertPrivate(file: string, mode: number): void {
  if ((mode & 0o077) !== 0) {
    throw new UserError(
      'precondition',
      `secret file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)})`,
      [
        {
          severity: 'error',
          code: 'secrets.permissions',
          location: { file, line: 1, col: 1 },
          summary: `secret file is mode ${(mode & 0o777).toString(8)}; it must not be group/world readable`,
          suggestion: `run: chmod 600 ${file} (and consider rotating what it holds)`,
        },
      ],
    );
  }
}

function sortKeys(record: Secrets): Secrets {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
