import { classifyIpmiOutput, IpmiError } from './ipmi-error.js';

/** One BMC as the inventory describes it. The password is resolved by the caller and never logged. */
export interface BmcTarget {
  address: string;
  username: string;
  password: string;
  /** Cipher suites to try, in order (default 17 then 3). */
  cipherSuites: readonly number[];
}

export interface CommandRunner {
  (
    file: string,
    args: readonly string[],
    options: { env: Record<string, string>; timeoutMs: number },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface IpmiToolOptions {
  run: CommandRunner;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  /** ipmitool -N (seconds per try) and -R (tries): a dead BMC costs about N×R seconds. */
  timeoutSeconds?: number;
  retries?: number;
  /** At most this many BMCs are talked to at once (whole rack power-ons stay bounded). */
  maxConcurrent?: number;
  /** Minimum gap between two commands to the same BMC: small BMCs fall over when hammered. */
  minIntervalMs?: number;
  /**
   * Whole-command attempts when the BMC does not answer (default 2): a BMC that is rebooting or out of
   * sessions often answers a few seconds later. Waits backoffMs, doubling, between attempts.
   */
  attempts?: number;
  backoffMs?: number;
}

/**
 * The real `ipmitool -I lanplus`, with what real BMCs need: one session at a time per BMC, a minimum gap
 * between commands to one BMC, bounded global concurrency, cipher suite fallback remembered per BMC, and
 * the password in the environment (`-E`), never on the command line.
 */
export class IpmiTool {
  private readonly cipherFor = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly lastCommandAt = new Map<string, number>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: IpmiToolOptions) {}

  /** The cipher suite that worked for this BMC, once one has. */
  cipherSuiteOf(address: string): number | undefined {
    return this.cipherFor.get(address);
  }

  /** Runs `ipmitool … <args>` against one BMC; resolves with stdout, throws a classified IpmiError. */
  run(bmc: BmcTarget, args: readonly string[]): Promise<string> {
    const previous = this.queues.get(bmc.address) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.withSlot(() => this.runWithFallback(bmc, args)));
    this.queues.set(bmc.address, next);
    return next;
  }

  private async runWithFallback(bmc: BmcTarget, args: readonly string[]): Promise<string> {
    const remembered = this.cipherFor.get(bmc.address);
    // only the suites asked for, never a weaker one as a fallback (the inventory refuses 0-2)
    const suites = remembered !== undefined ? [remembered] : bmc.cipherSuites.length > 0 ? bmc.cipherSuites : [17, 3];
    let lastError: IpmiError | undefined;
    for (const suite of suites) {
      const outcome = await this.runWithBackoff(bmc, suite, args);
      if (typeof outcome === 'string') {
        this.cipherFor.set(bmc.address, suite);
        return outcome;
      }
      lastError = outcome;
      // Only an unsupported cipher suite is worth another suite; a wrong password stays wrong.
      if (outcome.kind !== 'unsupported') break;
    }
    throw lastError ?? new IpmiError('fatal', bmc.address, `no cipher suite to try for BMC ${bmc.address}`, '');
  }

  /** One cipher suite: more attempts, with exponential backoff, only while the failure is "no answer". */
  private async runWithBackoff(bmc: BmcTarget, suite: number, args: readonly string[]): Promise<string | IpmiError> {
    const attempts = Math.max(1, this.options.attempts ?? 2);
    let outcome: string | IpmiError = new IpmiError('fatal', bmc.address, 'not attempted', '');
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.options.sleep((this.options.backoffMs ?? 1000) * 2 ** (attempt - 1));
      outcome = await this.runOnce(bmc, suite, args);
      if (typeof outcome === 'string' || outcome.kind !== 'connection') return outcome;
    }
    return outcome;
  }

  /** stdout, or the classified failure. */
  private async runOnce(bmc: BmcTarget, suite: number, args: readonly string[]): Promise<string | IpmiError> {
    await this.pace(bmc.address);
    const result = await this.options.run(
      'ipmitool',
      [
        '-v',
        '-I',
        'lanplus',
        '-C',
        String(suite),
        '-N',
        String(this.options.timeoutSeconds ?? 1),
        '-R',
        String(this.options.retries ?? 2),
        '-H',
        bmc.address,
        '-U',
        bmc.username,
        '-E',
        ...args,
      ],
      {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', IPMI_PASSWORD: bmc.password },
        timeoutMs: 60_000,
      },
    );
    this.lastCommandAt.set(bmc.address, this.options.nowMs());
    if (result.code === 0) return result.stdout;
    const stderr = result.stderr
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('Loading IANA'))
      .join('\n');
    return new IpmiError(
      classifyIpmiOutput(stderr),
      bmc.address,
      `ipmitool ${args.join(' ')} on BMC ${bmc.address} (cipher suite ${suite}): ${lastLine(stderr)}`,
      stderr,
    );
  }

  private async pace(address: string): Promise<void> {
    const last = this.lastCommandAt.get(address);
    const gap = this.options.minIntervalMs ?? 50;
    if (last !== undefined) {
      const wait = last + gap - this.options.nowMs();
      if (wait > 0) await this.options.sleep(wait);
    }
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.options.maxConcurrent ?? 16;
    if (this.active >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? 'failed';
}
