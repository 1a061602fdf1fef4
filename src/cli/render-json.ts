import type { EventSink } from '../run/events.js';

/** `--json`: one JSON object per line on stdout, each with its time. */
export function jsonRenderer(write: (text: string) => void, now: () => Date): EventSink {
  return (event) => write(`${JSON.stringify({ time: now().toISOString(), ...event })}\n`);
}
