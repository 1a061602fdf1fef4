import { resolve } from 'node:path';
import { openDeployment, preflight } from '../../engine/deployment.js';
import { runApply } from '../../engine/run.js';
import { durationFlag, failureLimitFlag, intFlag, listFlag, usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { failureSummary } from '../failure-summary.js';
import { progressSink } from './progress.js';
import { startDashboardFor } from './serve.js';
import { ensureEmbeddedLab } from './embedded-lab.js';

export async function applyCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usage('apply needs an inventory file: bootstrap apply INVENTORY');
  const json = args.flags.has('json');
  // options are checked before anything starts (a lab coming up, a lock taken)
  const deadlineMs = durationFlag(args, 'deadline');
  const maxFailures = failureLimitFlag(args, 'max-failures');
  const parallel = intFlag(args, 'parallel', 16, 1, 1024);
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  preflight(io.env, deployment, listFlag(args, 'limit'));
  // --ui: the live dashboard from before the lab comes up to the end (bootstrap serve keeps one up beyond it)
  const dashboard = args.flags.has('ui') ? await startDashboardFor(io, deployment, args) : undefined;
  const progress = progressSink(io, json, io.stdout, args.flags.has('verbose'));
  try {
    await ensureEmbeddedLab(io, deployment);
    const planFile = args.flags.get('plan');
    const outcome = await runApply(io.env, deployment, {
      limit: listFlag(args, 'limit'),
      parallel,
      sink: progress.sink,
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
      ...(maxFailures !== undefined ? { maxFailures } : {}),
      stop: io.stop,
      kill: io.kill,
      ...(typeof planFile === 'string' ? { planFile: resolve(io.env.cwd, planFile) } : {}),
    });
    progress.stop();
    if (!json && outcome.failures.length > 0) io.stdout.write(failureSummary(outcome.failures));
    if (outcome.execution.interrupted) return EXIT.interrupted;
    return outcome.failures.length > 0 || [...outcome.execution.nodes.values()].some((n) => n.status !== 'ok')
      ? EXIT.failed
      : EXIT.ok;
  } finally {
    progress.stop();
    await dashboard?.close();
  }
}
