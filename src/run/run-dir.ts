import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendLineDurable, writeFileAtomic } from '../util/atomic-file.js';
import type { BootstrapEvent, EventSink } from './events.js';

/** `<state>/runs/<id>/`: events.jsonl, failures.jsonl, plan.json, summary.json (and an apply's bom.json) of one run. */
export interface RunDir {
  id: string;
  dir: string;
  events: string;
  failures: string;
  plan: string;
  summary: string;
  bom: string;
}

/**
 * `20261122T180200.123Z-1a2b3c`: sorts by start time, to the millisecond — "the latest run" is the last id
 * (with whole seconds, two runs started within one second sorted by their random suffix).
 */
export function runIdFor(time: Date, suffix: string): string {
  return `${time.toISOString().replace(/[-:]/g, '')}-${suffix}`;
}

export function createRunDir(stateDir: string, id: string): RunDir {
  const dir = join(stateDir, 'runs', id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    id,
    dir,
    events: join(dir, 'events.jsonl'),
    failures: join(dir, 'failures.jsonl'),
    plan: join(dir, 'plan.json'),
    summary: join(dir, 'summary.json'),
    bom: join(dir, 'bom.json'),
  };
}

export function listRuns(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, 'runs')).sort();
  } catch {
    return [];
  }
}

/** Appends every event, with its time, durably: a killed run still has its history. */
export function eventFileSink(file: string, now: () => Date): EventSink {
  return (event: BootstrapEvent) => appendLineDurable(file, JSON.stringify({ time: now().toISOString(), ...event }));
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}
