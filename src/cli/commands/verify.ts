import { deployedBarclamps } from '../../plan/desired.js';
import { openDeployment, type Deployment } from '../../engine/deployment.js';
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
    const suites = listFlag(args, 'suite') ?? [];
    const known = suitesOf(deployment);
    const unknown = suites.filter((s) => !known.includes(s));
    if (unknown.length > 0)
      throw usage(
        `unknown check suite(s): ${unknown.join(', ')}; the deployed barclamps have: ${known.join(', ') || 'none'}`,
      );
    const outcome = await runVerify(io.env, deployment, {
      limit: listFlag(args, 'limit'),
      parallel,
      sink: progress.sink,
      stop: io.stop,
      kill: io.kill,
      checkSuites: suites,
    });
    progress.stop();
    if (!json && outcome.failures.length > 0) io.stdout.write(failureSummary(outcome.failures));
    if (outcome.interrupted) return EXIT.interrupted;
    return outcome.failures.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    progress.stop();
  }
}

/** The optional check suites of the barclamps this inventory deploys. */
function suitesOf(deployment: Deployment): string[] {
  const suites = new Set<string>();
  for (const name of deployedBarclamps(deployment.inventory, deployment.catalog.barclamps)) {
    for (const role of Object.values(deployment.catalog.barclamps.get(name)?.roles ?? {})) {
      for (const check of role.checks)
        if (check.type === 'command' && check.suite !== undefined) suites.add(check.suite);
    }
  }
  return [...suites].sort();
}
