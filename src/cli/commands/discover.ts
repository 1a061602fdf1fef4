import { discover, type DiscoveryResult } from '../../engine/discover.js';
import { expandTargets } from '../../ipmi/sweep.js';
import { intFlag, usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

/** `bootstrap discover [INVENTORY] [--bmc RANGES] [--timeout MS]`: find BMCs, read them, match machines. */
export async function discoverCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const ranges = (args.flags.get('bmc') as string | undefined) ?? deployment.inventory.networks.bmc?.cidr;
  if (!ranges) throw usage('nothing to sweep: give --bmc RANGES (CIDR or a-b, comma-separated) or a bmc network in the inventory');
  const { addresses, problems } = expandTargets(ranges);
  if (problems.length > 0) throw usage(`--bmc: ${problems.join('; ')}`);
  const json = args.flags.has('json');
  const result = await discover(io.env, deployment, addresses, {
    timeoutMs: intFlag(args, 'timeout', 1500, 100, 60_000),
    parallel: intFlag(args, 'parallel', 16, 1, 256),
    sink: json ? (event) => io.stdout.write(`${JSON.stringify(event)}\n`) : () => undefined,
  });
  if (json) io.stdout.write(`${JSON.stringify({ type: 'discover.result', ...result })}\n`);
  else io.stdout.write(discoveryText(result));
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

function discoveryText(r: DiscoveryResult): string {
  const lines = [`swept ${r.swept} address(es) in ${(r.sweepMs / 1000).toFixed(1)} s: ${r.bmcs.length} BMC(s) answered, ${r.silent} silent (run ${r.runId})`];
  for (const b of r.bmcs) {
    const who = b.node ? `node ${b.node}` : 'not in the inventory';
    if (b.error) {
      lines.push(`  ✗ ${b.address.padEnd(15)} ${who}: [${b.error.gene}] ${b.error.message}`);
      continue;
    }
    const inv = b.inventory!;
    const corr = b.correlation?.kind === 'match' ? `= machine ${b.correlation.machine} (${b.correlation.by.join(', ')})` : b.correlation?.kind === 'ambiguous' ? `AMBIGUOUS: ${b.correlation.machines.join(', ')} (${b.correlation.by.join(', ')})` : 'no PXE report yet';
    lines.push(`  ✓ ${b.address.padEnd(15)} ${who}: ${inv.fru.productManufacturer} ${inv.fru.productName}, serial ${inv.fru.productSerial || '?'}, BMC MAC ${inv.lan.macAddress || '?'}, GUID ${inv.guid || '?'}, power ${inv.power}, cipher ${inv.cipherSuite ?? '?'}; ${corr}`);
  }
  return `${lines.join('\n')}\n`;
}
