import { readFileSync, statSync } from 'node:fs';
import type { SecretSource } from '../inventory/types.js';

export class SecretSourceError extends Error {}

/** Reads a secret the inventory points at ({file:} or {env:}); the value is never part of an error. */
export function readSecretSource(source: SecretSource, env: Readonly<Record<string, string | undefined>>): string {
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined || value === '')
      throw new SecretSourceError(`environment variable ${source.env} is not set`);
    return value;
  }
  try {
    // like secrets.json: a password file others can read is refused, not used
    const mode = statSync(source.file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new SecretSourceError(
        `${source.file} is readable by group or others (mode ${mode.toString(8)}): chmod 600 it (and consider changing the password it holds)`,
      );
    const value = readFileSync(source.file, 'utf8').trim();
    if (value === '') throw new SecretSourceError(`${source.file} is empty`);
    return value;
  } catch (error) {
    if (error instanceof SecretSourceError) throw error;
    throw new SecretSourceError(`cannot read ${source.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
