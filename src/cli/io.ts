import type { Environment } from '../engine/environment.js';

/** What a command gets from the entry: the environment, output streams, signals and whether stdout is a TTY. */
export interface CommandIO {
  env: Environment;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  isTTY: boolean;
  stop: AbortSignal;
  kill: AbortSignal;
}

/** Exit codes (the table lives here and in the README, nowhere else). */
export const EXIT = { ok: 0, failed: 1, invalid: 2, locked: 3, interrupted: 130 } as const;
