import { UserError } from '../core/user-error.js';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** `--name value`, `--name=value` and boolean `--name`; which flags take values is declared per command. */
export function parseArgs(
  argv: readonly string[],
  valueFlags: ReadonlySet<string>,
  booleanFlags: ReadonlySet<string>,
): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (valueFlags.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw usage(`--${name} needs a value`);
      flags.set(name, value);
    } else if (booleanFlags.has(name)) {
      if (inline !== undefined) throw usage(`--${name} takes no value`);
      flags.set(name, true);
    } else {
      throw usage(`unknown option --${name}`);
    }
  }
  return { positionals, flags };
}

export function usage(message: string): UserError {
  return new UserError('invalid-input', message, [
    {
      severity: 'error',
      code: 'cli.usage',
      summary: message,
      suggestion: "run 'bootstrap help' for the commands and options",
    },
  ]);
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isInteger(value) || value < min || value > max)
    throw usage(`--${name} must be an integer between ${min} and ${max}`);
  return value;
}

export function listFlag(args: ParsedArgs, name: string): string[] | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined || raw === true) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A duration: "90s", "30m", "1h30m", or plain seconds. */
export function durationFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) return undefined;
  const text = raw === true ? '' : raw.trim();
  if (/^\d+$/.test(text) && Number(text) > 0) return Number(text) * 1000;
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  const ms = parts ? (Number(parts[1] ?? 0) * 3600 + Number(parts[2] ?? 0) * 60 + Number(parts[3] ?? 0)) * 1000 : 0;
  if (ms <= 0) throw usage(`--${name} must be a duration like 90s, 30m or 1h30m (got '${raw === true ? '' : raw}')`);
  return ms;
}

/** A failure budget: a node count ("2") or a percentage of the selected nodes ("25%"). */
export function failureLimitFlag(args: ParsedArgs, name: string): { nodes: number } | { percent: number } | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) return undefined;
  const text = raw === true ? '' : raw.trim();
  const percent = /^(\d{1,3})%$/.exec(text);
  if (percent && Number(percent[1]) <= 100) return { percent: Number(percent[1]) };
  if (/^\d{1,6}$/.test(text)) return { nodes: Number(text) };
  throw usage(`--${name} must be a number of nodes (e.g. 2) or a percentage of the nodes (e.g. 25%)`);
}
