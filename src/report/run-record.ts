import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimedEvent } from '../run/events.js';
import type { FailureRecord } from '../failures/record.js';
import type { Plan } from '../plan/plan-types.js';

/** Everything one run left in its directory, as written (a killed run has no run.done and maybe no plan). */
export interface RunRecord {
  id: string;
  events: TimedEvent[];
  failures: FailureRecord[];
  plan?: Plan;
}

export function readRunRecord(stateDir: string, id: string): RunRecord {
  const dir = join(stateDir, 'runs', id);
  const planFile = join(dir, 'plan.json');
  return {
    id,
    events: readJsonLines<TimedEvent>(join(dir, 'events.jsonl')),
    failures: readJsonLines<FailureRecord>(join(dir, 'failures.jsonl')),
    ...(existsSync(planFile) ? { plan: JSON.parse(readFileSync(planFile, 'utf8')) as Plan } : {}),
  };
}

/** Lines are appended with fsync, so only the last one can be torn by a crash; it is skipped. */
export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn final line from a crash mid-append
    }
  }
  return out;
}
