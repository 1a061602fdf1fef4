import { cpus } from 'node:os';
import { runCommand } from '../src/util/exec.js';

/** One side of a comparison: a name and one run of its work, returning anything worth reporting. */
export interface Side {
  name: string;
  run: () => Promise<Record<string, number | string> | void>;
}

export interface SideResult {
  name: string;
  runsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** What the last run reported (addresses found, changes, peak RSS, …). */
  details: Record<string, number | string>;
}

/**
 * Runs the sides alternately (A B C A B C …) so a noisy machine slows them alike; the ratio of medians
 * is what a benchmark reports, never a single wall time.
 */
export async function compare(sides: readonly Side[], rounds: number): Promise<SideResult[]> {
  const runs = sides.map(() => [] as number[]);
  const details = sides.map(() => ({}) as Record<string, number | string>);
  for (let round = 0; round < rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const started = performance.now();
      const out = await side.run();
      runs[i]!.push(performance.now() - started);
      if (out) details[i] = out;
    }
  }
  return sides.map((side, i) => ({
    name: side.name,
    runsMs: runs[i]!,
    medianMs: median(runs[i]!),
    minMs: Math.min(...runs[i]!),
    maxMs: Math.max(...runs[i]!),
    details: details[i]!,
  }));
}

/** The middle value (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Cores, memory and the versions of the tools compared, printed with every result. */
export async function environment(): Promise<Record<string, string>> {
  const version = async (cmd: string, args: string[], pattern: RegExp) => {
    const out = await runCommand(cmd, args).catch(() => undefined);
    return (out && pattern.exec(`${out.stdout}${out.stderr}`)?.[1]) ?? 'not installed';
  };
  return {
    cores: String(cpus().length),
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    ipmitool: await version('ipmitool', ['-V'], /version (\S+)/),
    freeipmi: await version('bmc-info', ['--version'], /bmc-info - ([\d.]+)/),
    ansible: await version('ansible-playbook', ['--version'], /core ([\d.]+)/),
  };
}
