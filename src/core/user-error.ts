import type { Diagnostic } from './diagnostic.js';

/**
 * The one error class for problems a user can fix (bad input, missing prerequisites, stale plan).
 * The CLI maps `kind` to an exit code and prints diagnostics without a stack trace.
 */
export type UserErrorKind = 'invalid-input' | 'precondition' | 'locked' | 'stale-plan';

export class UserError extends Error {
  readonly kind: UserErrorKind;
  readonly diagnostics: Diagnostic[];

  constructor(kind: UserErrorKind, message: string, diagnostics: Diagnostic[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.kind = kind;
    this.diagnostics = diagnostics;
  }
}
