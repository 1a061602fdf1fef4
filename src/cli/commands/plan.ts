import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openDeployment } from '../../engine/deployment.js';
import { runPlan } from '../../engine/run.js';
import { intFlag, listFlag, usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { planText } from '../plan-text.js';
import { progressSink } from './progress.js';

export async function planCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usage('plan needs an inventory file: bootstrap plan INVENTORY');
  const json = args.flags.has('json');
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  // Progress goes to stderr so that stdout carries only the plan (text or JSON).
  const progress = progressSink(io, json, io.stderr, args.flags.has('verbose'));
  try {
    const { plan } = await runPlan(io.env, deployment, {
      limit: listFlag(args, 'limit'),
      parallel: intFlag(args, 'parallel', 16, 1, 1024),
      sink: json ? () => undefined : progress.sink,
      stop: io.stop,
      kill: io.kill,
    });
    const out = args.flags.get('out');
    if (typeof out === 'string')
      writeFileSync(resolve(io.env.cwd, out), `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
    progress.stop();
    io.stdout.write(json ? `${JSON.stringify(plan)}\n` : planText(plan, io.isTTY));
    return plan.unreachable.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    progress.stop();
  }
}
