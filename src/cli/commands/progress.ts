import type { EventSink } from '../../run/events.js';
import type { CommandIO } from '../io.js';
import { humanRenderer } from '../render-human.js';
import { jsonRenderer } from '../render-json.js';

export function progressSink(
  io: CommandIO,
  json: boolean,
  stream: NodeJS.WriteStream,
  verbose: boolean,
): { sink: EventSink; stop: () => void } {
  if (json) return { sink: jsonRenderer((t) => io.stdout.write(t), io.env.now), stop: () => undefined };
  return humanRenderer(stream, io.isTTY && stream.isTTY === true, verbose);
}
