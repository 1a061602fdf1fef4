import { openDeployment } from '../../engine/deployment.js';
import { runRecoveries } from '../../engine/recoveries.js';
import { usage, type ParsedArgs } from '../args.js';
import { failureSummary } from '../failure-summary.js';
import { EXIT, type CommandIO } from '../io.js';
import { progressSink } from './progress.js';

/**
 * bootstrap recoveries INVENTORY: masakari's notifications and what became of them; each failure masakari
 * handled is recorded once (gene by kind: host lost, instance crashed, process failed, recovery failed).
 * Exit 1 when a recovery failed that no earlier run recorded.
 */
export async function recoveriesCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usage('recoveries needs an inventory file: bootstrap recoveries INVENTORY');
  const json = args.flags.has('json');
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  const progress = progressSink(io, json, io.stdout, true);
  try {
    const outcome = await runRecoveries(io.env, deployment, {
      parallel: 1,
      sink: progress.sink,
      stop: io.stop,
      kill: io.kill,
    });
    progress.stop();
    if (!json && outcome.failures.length > 0) io.stdout.write(failureSummary(outcome.failures));
    if (io.stop.aborted) return EXIT.interrupted;
    const failedNow = outcome.seen.some((x) => x.verdict === 'failed' && x.recordedNow);
    const unreadable = outcome.failures.some((f) => f.evidence.source !== 'recovery');
    return failedNow || unreadable ? EXIT.failed : EXIT.ok;
  } finally {
    progress.stop();
  }
}
