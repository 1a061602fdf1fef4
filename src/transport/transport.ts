/** How the tool runs things on a node. The script runs under /bin/sh as root (via sudo when needed). */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Transport {
  readonly node: string;
  run(script: string, options: ExecOptions): Promise<ExecResult>;
  close(): void;
}

/** Connection-level failure (before a command could run). `reason` feeds the classifier. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'auth' | 'host-key-mismatch' | 'timeout' | 'key-unreadable',
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
