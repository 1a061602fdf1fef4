import { openDeployment } from '../../engine/deployment.js';
import { runVerify } from '../../engine/verify.js';
import { intFlag, listFlag, usage, type ParsedArgs } from '../args.js';
import { failureSummary } from '../failure-summary.js';
import { EXIT, type CommandIO } from '../io.js';
import { progressSink } from './progress.js';

/** bootstrap verify INVENTORY: run every barclamp check once on every node; changes nothing. */
export async function verifyCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usage('verify needs an inventory file: bootstrap verify INVENTORY');
  const json = args.flags.has('json');
  const parallel = intFlag(args, 'parallel', 16, 1, 1024);
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  const progress = progressSink(io, json, io.stdout, args.flags.has('verbose'));
  try {
    const outcome = await runVerify(io.env, deployment, { limit: listFlag(args, 'limit'), parallel, sink: progress.sink, stop: io.stop, kill: io.kill });
    progress.stop();
    if (!json && outcome.failures.length > 0) io.stdout.write(failureSummary(outcome.failures));
    if (outcome.interrupted) return EXIT.interrupted;
    return outcome.failures.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    progress.stop();
  }
}
