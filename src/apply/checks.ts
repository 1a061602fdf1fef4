import type { EventSink } from '../run/events.js';
import type { Observation } from '../failures/classify.js';
import type { FailureContext, FailureRecorder } from '../failures/record.js';
import type { DesiredCheck } from '../plan/desired-types.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { tcpProbe } from '../util/tcp-probe.js';

export interface CheckOutcome {
  ok: boolean;
  /** What was last observed, for the failure record. */
  observed: string;
  exitCode?: number | null;
  stderr?: string;
  /** A command check's output: a health check's findings. */
  stdout?: string;
  httpStatus?: number;
}

const POLL_INTERVAL_MS = 500;

/** What a failed check is recorded as. */
export function checkObservation(check: DesiredCheck, result: CheckOutcome): Observation {
  // the check's own last word (e.g. "member n2 is not online") belongs on the line people read first
  const said = result.stderr?.trim().split('\n').at(-1)?.trim().slice(0, 200);
  return {
    source: 'check',
    kind: check.type,
    message: `check ${check.name} failed: ${result.observed}${said ? ` — ${said}` : ''}`,
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.stderr ? { stderr: result.stderr } : {}),
    ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
  };
}

/** A failed check, recorded and told: the record, then the check's failure naming its gene. */
export function recordCheckFailure(
  sink: EventSink,
  recorder: FailureRecorder,
  context: FailureContext & { step: string },
  observation: Observation,
): void {
  const record = recorder.record(context, observation);
  sink({ type: 'failure.recorded', record });
  sink({
    type: 'check.fail',
    node: context.node,
    check: context.step,
    gene: record.gene,
    message: record.evidence.message,
  });
}

/**
 * Runs a readiness check, polling until it passes or its timeout ends (services need a moment after start);
 * a command check with poll: false (a validator's verdict) runs once, its timeout bounding that one run.
 */
export async function runCheck(
  check: DesiredCheck,
  transport: Transport,
  signal: AbortSignal,
  sleep: (ms: number) => Promise<void>,
  now: () => number,
  mode: 'poll' | 'once' = 'poll',
): Promise<CheckOutcome> {
  // verify looks at a settled deployment: one attempt each, bounded by the check's timeout
  if (mode === 'once' || (check.type === 'command' && !check.poll))
    return attempt(check, transport, check.timeoutSeconds * 1000, signal);
  const deadline = now() + check.timeoutSeconds * 1000;
  let last: CheckOutcome = { ok: false, observed: 'not run' };
  while (!signal.aborted) {
    const remaining = deadline - now();
    last = await attempt(check, transport, Math.max(1000, Math.min(remaining, 10_000)), signal);
    if (last.ok || now() + POLL_INTERVAL_MS >= deadline) return last;
    await sleep(POLL_INTERVAL_MS);
  }
  return { ...last, observed: `${last.observed} (interrupted)` };
}

async function attempt(
  check: DesiredCheck,
  transport: Transport,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  switch (check.type) {
    case 'tcp':
      return tcpProbe(check.host, check.port, timeoutMs);
    case 'http':
      try {
        const response = await fetch(check.url, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          redirect: 'manual',
        });
        await response.body?.cancel();
        return {
          ok: response.status === check.status,
          observed: `HTTP ${response.status} from ${check.url} (expected ${check.status})`,
          httpStatus: response.status,
        };
      } catch (error) {
        return {
          ok: false,
          observed: `GET ${check.url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
        };
      }
    case 'command': {
      try {
        const result = await transport.run(check.run, { timeoutMs, signal });
        return {
          ok: result.code === 0,
          observed: result.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${result.code}`,
          exitCode: result.code,
          stderr: result.stderr,
          stdout: result.stdout,
        };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        return { ok: false, observed: error.message };
      }
    }
  }
}
