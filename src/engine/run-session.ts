import { FailureRecorder } from '../failures/record.js';
import { type BootstrapEvent, type EventSink, fanOut } from '../run/events.js';
import { createRunDir, eventFileSink, type RunDir, runIdFor, writeJson } from '../run/run-dir.js';
import type { Deployment } from './deployment.js';
import type { Environment } from './environment.js';

/**
 * What every command that leaves a run behind shares (plan, apply, verify, recoveries, discover, power, boot):
 * its directory under `runs/`, one event stream written to `events.jsonl` and handed to the caller's sink, a
 * failure recorder that redacts the run's secrets, `run.start` first and `run.done` with `summary.json` last.
 */
export interface RunSession {
  run: RunDir;
  sink: EventSink;
  recorder: FailureRecorder;
  startedMs: number;
}

export interface RunOpening {
  command: string;
  nodes: readonly string[];
  /** The values no record may contain (read when a failure is recorded: secrets learnt later count too). */
  secrets: () => readonly string[];
  sink?: EventSink;
  maintenance?: readonly string[];
}

export type RunDone = Extract<BootstrapEvent, { type: 'run.done' }>;
export type RunOutcome = Omit<RunDone, 'type' | 'runId' | 'failures' | 'ms'>;

export function openRun(env: Environment, deployment: Deployment, opening: RunOpening): RunSession {
  const run = createRunDir(deployment.stateDir, runIdFor(env.now(), env.randomId()));
  const file = eventFileSink(run.events, env.now);
  const sink = opening.sink ? fanOut(file, opening.sink) : file;
  const recorder = new FailureRecorder({
    taxonomy: deployment.taxonomy,
    runId: run.id,
    release: deployment.inventory.release,
    toolVersion: env.toolVersion,
    file: run.failures,
    secrets: opening.secrets,
    now: env.now,
  });
  sink({
    type: 'run.start',
    schema: 'bootstrap-events/1',
    runId: run.id,
    command: opening.command,
    deployment: deployment.inventory.deployment,
    nodes: [...opening.nodes],
    runDir: run.dir,
    ...(opening.maintenance && opening.maintenance.length > 0 ? { maintenance: [...opening.maintenance] } : {}),
  });
  return { run, sink, recorder, startedMs: env.nowMs() };
}

/** Ends the run: `summary.json` (the outcome, its failure count and duration, plus `details`) and `run.done`. */
export function closeRun(
  env: Environment,
  session: RunSession,
  outcome: RunOutcome,
  details: Record<string, unknown> = {},
): RunDone {
  const done: RunDone = {
    type: 'run.done',
    runId: session.run.id,
    ...outcome,
    failures: session.recorder.records.length,
    ms: Math.round(env.nowMs() - session.startedMs),
  };
  const { type: _type, ...summary } = done;
  writeJson(session.run.summary, { ...summary, ...details });
  session.sink(done);
  return done;
}
