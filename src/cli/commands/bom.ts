import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listRuns } from '../../run/run-dir.js';
import { bomChanges, type BillOfMaterials } from '../../bom/bill-of-materials.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

/**
 * `bootstrap bom [INVENTORY] [--run ID] [--diff RUN_A,RUN_B] [--json]`: the packages and versions each node had at
 * the end of an apply (the latest that recorded them, by default), or what changed between two applies.
 */
export async function bomCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const withBom = listRuns(deployment.stateDir).filter((id) => existsSync(bomFile(deployment.stateDir, id)));
  const read = (id: string): BillOfMaterials => {
    if (!withBom.includes(id))
      throw usage(
        `run '${id}' recorded no bill of materials (only applies do); runs that did: ${withBom.slice(-5).join(', ') || 'none yet'}`,
      );
    return JSON.parse(readFileSync(bomFile(deployment.stateDir, id), 'utf8')) as BillOfMaterials;
  };
  const json = args.flags.has('json');
  const diff = args.flags.get('diff');
  if (typeof diff === 'string') {
    const [a, b] = diff.split(',');
    if (!a || !b) throw usage('--diff takes two runs: --diff RUN_A,RUN_B');
    const changes = bomChanges(read(a), read(b));
    if (json) io.stdout.write(`${JSON.stringify({ schema: 'bootstrap-bom-diff/1', from: a, to: b, changes })}\n`);
    else {
      io.stdout.write(`${changes.length} package change(s) from ${a} to ${b}\n`);
      for (const c of changes)
        io.stdout.write(
          `  ${c.node.padEnd(10)} ${c.package.padEnd(40)} ${c.before ?? '(absent)'} → ${c.after ?? '(removed)'}\n`,
        );
    }
    return EXIT.ok;
  }
  const id = (args.flags.get('run') as string | undefined) ?? withBom.at(-1);
  if (id === undefined) {
    io.stderr.write(`no bill of materials yet in ${deployment.stateDir} (every apply records one)\n`);
    return EXIT.ok;
  }
  const bill = read(id);
  if (json) {
    io.stdout.write(`${JSON.stringify({ schema: 'bootstrap-bom/1', ...bill })}\n`);
    return EXIT.ok;
  }
  io.stdout.write(
    `bill of materials of run ${bill.runId}: ${Object.entries(bill.nodes)
      .map(([node, packages]) => `${node} ${Object.keys(packages).length} packages`)
      .join(', ')}\n`,
  );
  for (const [node, packages] of Object.entries(bill.nodes))
    for (const [name, version] of Object.entries(packages))
      io.stdout.write(`${node.padEnd(10)} ${name.padEnd(40)} ${version}\n`);
  return EXIT.ok;
}

function bomFile(stateDir: string, runId: string): string {
  return join(stateDir, 'runs', runId, 'bom.json');
}
