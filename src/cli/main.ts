import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/user-error.js';
import { HintedError } from '../core/hinted-error.js';
import type { Environment } from '../engine/environment.js';
import { parseArgs, usage, type ParsedArgs } from './args.js';
import { applyCommand } from './commands/apply.js';
import { barclampsCommand } from './commands/barclamps.js';
import { hostkeyCommand } from './commands/hostkey.js';
import { reinstallCommand } from './commands/reinstall.js';
import { labCommand } from './commands/lab.js';
import { planCommand } from './commands/plan.js';
import { provisionerCommand } from './commands/provisioner.js';
import { failuresCommand } from './commands/failures.js';
import { discoverCommand } from './commands/discover.js';
import { bootCommand, powerCommand } from './commands/power.js';
import { statusCommand } from './commands/status.js';
import { taxonomyCommand } from './commands/taxonomy.js';
import { validateCommand } from './commands/validate.js';
import { verifyCommand } from './commands/verify.js';
import { recoveriesCommand } from './commands/recoveries.js';
import { serveCommand } from './commands/serve.js';
import { completeCommand, completionCommand } from './commands/completion.js';
import { bomCommand } from './commands/bom.js';
import { HELP } from './help.js';
import { COMMAND_HELP, commandHelpText } from './command-help.js';
import { EXIT, type CommandIO } from './io.js';

type Command = (args: ParsedArgs, io: CommandIO) => Promise<number>;

const COMMON_VALUES = ['state-dir', 'limit', 'parallel'];
export const COMMANDS: Record<string, { run: Command; values: string[]; booleans: string[] }> = {
  validate: { run: validateCommand, values: ['state-dir'], booleans: ['json'] },
  plan: { run: planCommand, values: [...COMMON_VALUES, 'out'], booleans: ['json', 'verbose'] },
  apply: {
    run: applyCommand,
    values: [...COMMON_VALUES, 'plan', 'deadline', 'max-failures', 'listen', 'token', 'token-file'],
    booleans: ['json', 'verbose', 'ui'],
  },
  serve: { run: serveCommand, values: ['state-dir', 'inventory', 'listen', 'token', 'token-file'], booleans: [] },
  verify: { run: verifyCommand, values: [...COMMON_VALUES, 'suite'], booleans: ['json', 'verbose'] },
  recoveries: { run: recoveriesCommand, values: ['state-dir'], booleans: ['json'] },
  barclamps: { run: barclampsCommand, values: [], booleans: ['json'] },
  taxonomy: { run: taxonomyCommand, values: [], booleans: ['json'] },
  hostkey: { run: hostkeyCommand, values: ['state-dir'], booleans: [] },
  reinstall: { run: reinstallCommand, values: ['state-dir'], booleans: [] },
  lab: { run: labCommand, values: ['state-dir', 'nodes', 'qemu', 'name', 'node', 'port'], booleans: ['json'] },
  provisioner: { run: provisionerCommand, values: ['state-dir'], booleans: [] },
  discover: {
    run: discoverCommand,
    values: ['state-dir', 'inventory', 'bmc', 'timeout', 'parallel', 'write-inventory'],
    booleans: ['json'],
  },
  power: { run: powerCommand, values: ['state-dir', 'inventory'], booleans: [] },
  boot: { run: bootCommand, values: ['state-dir', 'inventory'], booleans: ['persistent'] },
  failures: { run: failuresCommand, values: ['state-dir', 'inventory', 'run', 'format', 'out'], booleans: ['all'] },
  status: { run: statusCommand, values: ['state-dir', 'inventory'], booleans: ['json'] },
  bom: { run: bomCommand, values: ['state-dir', 'inventory', 'run', 'diff'], booleans: ['json'] },
  completion: { run: (args, io) => completionCommand(args, io, COMMANDS), values: [], booleans: [] },
  complete: { run: completeCommand, values: [], booleans: [] },
};

/** The only place that touches `process`: argv, env, streams, signals and the exit code. */
export async function main(proc: NodeJS.Process): Promise<number> {
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  const toolVersion = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const [name, ...rest] = proc.argv.slice(2);
  // bootstrap help COMMAND, bootstrap COMMAND --help (not an argument after --: that is lab exec's command)
  const helpFor =
    name === 'help'
      ? rest[0]
      : name !== undefined &&
          rest
            .slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length)
            .some((a) => a === '--help' || a === '-h')
        ? name
        : undefined;
  if (helpFor !== undefined) {
    const help = COMMAND_HELP[helpFor];
    if (!help) {
      proc.stderr.write(`unknown command '${helpFor}'; the commands: ${Object.keys(COMMAND_HELP).join(', ')}\n`);
      return EXIT.invalid;
    }
    proc.stdout.write(commandHelpText(helpFor, help));
    return EXIT.ok;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    proc.stdout.write(HELP);
    return name === undefined ? EXIT.invalid : EXIT.ok;
  }
  if (name === 'version' || name === '--version') {
    proc.stdout.write(`bootstrap ${toolVersion}\n`);
    return EXIT.ok;
  }
  const stopController = new AbortController();
  const killController = new AbortController();
  const onSigint = () => {
    if (!stopController.signal.aborted) {
      proc.stderr.write('\ninterrupt: finishing running steps, starting no new ones (Ctrl-C again to abort them)\n');
      stopController.abort();
    } else {
      killController.abort();
    }
  };
  const onSigterm = () => {
    stopController.abort();
    killController.abort();
  };
  proc.on('SIGINT', onSigint);
  proc.on('SIGTERM', onSigterm);
  const env: Environment = {
    cwd: proc.cwd(),
    home: homedir(),
    env: proc.env,
    packageRoot,
    toolVersion,
    pid: proc.pid,
    hostname: hostname(),
    now: () => new Date(),
    nowMs: () => performance.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    isAlive: (pid) => {
      try {
        proc.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
    randomId: () => randomBytes(3).toString('hex'),
    isRoot: proc.getuid?.() === 0,
    execPath: proc.execPath,
    kill: (pid, signal) => {
      try {
        proc.kill(pid, signal);
      } catch {
        // already gone
      }
    },
  };
  const io: CommandIO = {
    env,
    stdout: proc.stdout,
    stderr: proc.stderr,
    isTTY: proc.stdout.isTTY === true,
    stop: stopController.signal,
    kill: killController.signal,
  };
  try {
    const command = COMMANDS[name];
    if (!command) throw usage(`unknown command '${name}'`);
    // complete gets the words of a command line being typed, options and all: they are data, not its options
    const args =
      name === 'complete'
        ? { positionals: rest, flags: new Map<string, string | true>() }
        : parseArgs(rest, new Set(command.values), new Set(command.booleans));
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UserError) {
      for (const d of error.diagnostics) proc.stderr.write(`${formatDiagnostic(d, env.cwd)}\n`);
      if (error.diagnostics.length === 0) proc.stderr.write(`error: ${error.message}\n`);
      else if (error.kind === 'invalid-input') proc.stderr.write(`${error.message}; nothing was changed\n`);
      return error.kind === 'locked' ? EXIT.locked : EXIT.invalid;
    }
    if (error instanceof HintedError) {
      proc.stderr.write(`${error.label} error: ${error.message}\n  hint: ${error.hint}\n`);
      return EXIT.failed;
    }
    proc.stderr.write(
      `internal error (a bug in bootstrap, please report it): ${(error as Error).stack ?? String(error)}\n`,
    );
    return EXIT.failed;
  } finally {
    proc.off('SIGINT', onSigint);
    proc.off('SIGTERM', onSigterm);
  }
}
