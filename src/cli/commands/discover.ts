import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { discover, type DiscoveryResult } from '../../engine/discover.js';
import { discoveredNodes } from '../../engine/discovered-nodes.js';
import type { Deployment } from '../../engine/deployment.js';
import { machineStoreOf } from '../../engine/provision-phase.js';
import { mergeDiscovered } from '../../inventory/merge-discovered.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { expandTargets } from '../../ipmi/sweep.js';
import { intFlag, usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

/** `bootstrap discover [INVENTORY] [--bmc RANGES] [--timeout MS] [--write-inventory FILE]`: find BMCs, read them, match machines. */
export async function discoverCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const ranges = (args.flags.get('bmc') as string | undefined) ?? deployment.inventory.networks.bmc?.cidr;
  if (!ranges)
    throw usage('nothing to sweep: give --bmc RANGES (CIDR or a-b, comma-separated) or a bmc network in the inventory');
  const { addresses, problems } = expandTargets(ranges);
  if (problems.length > 0) throw usage(`--bmc: ${problems.join('; ')}`);
  const json = args.flags.has('json');
  const result = await discover(io.env, deployment, addresses, {
    timeoutMs: intFlag(args, 'timeout', 1500, 100, 60_000),
    parallel: intFlag(args, 'parallel', 16, 1, 256),
    sink: json ? (event) => io.stdout.write(`${JSON.stringify(event)}\n`) : () => undefined,
  });
  const target = args.flags.get('write-inventory') as string | undefined;
  const written =
    target === undefined ? undefined : writeInventory(io, deployment, resolve(io.env.cwd, target), result);
  if (json)
    io.stdout.write(
      `${JSON.stringify({ type: 'discover.result', schema: 'bootstrap-discover/1', ...result, ...(written ? { inventoryWritten: written } : {}) })}\n`,
    );
  else io.stdout.write(discoveryText(result) + (written ? writtenText(written) : ''));
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

function discoveryText(r: DiscoveryResult): string {
  const lines = [
    `swept ${r.swept} address(es) in ${(r.sweepMs / 1000).toFixed(1)} s: ${r.bmcs.length} BMC(s) answered, ${r.silent} silent (run ${r.runId})`,
  ];
  for (const b of r.bmcs) {
    const who = b.node ? `node ${b.node}` : 'not in the inventory';
    if (b.error) {
      lines.push(`  ✗ ${b.address.padEnd(15)} ${who}: [${b.error.gene}] ${b.error.message}`);
      continue;
    }
    const inv = b.inventory!;
    const corr =
      b.correlation?.kind === 'match'
        ? `= machine ${b.correlation.machine} (${b.correlation.by.join(', ')})`
        : b.correlation?.kind === 'ambiguous'
          ? `AMBIGUOUS: ${b.correlation.machines.join(', ')} (${b.correlation.by.join(', ')})`
          : 'no PXE report yet';
    lines.push(
      `  ✓ ${b.address.padEnd(15)} ${who}: ${inv.fru.productManufacturer} ${inv.fru.productName}, serial ${inv.fru.productSerial || '?'}, BMC MAC ${inv.lan.macAddress || '?'}, GUID ${inv.guid || '?'}, power ${inv.power}, cipher ${inv.cipherSuite ?? '?'}; ${corr}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface WrittenInventory {
  file: string;
  added: string[];
  updated: string[];
  unchanged: string[];
  needsAddress: string[];
}

/**
 * `--write-inventory FILE`: the discovered machines merged into FILE (or, when FILE does not exist yet,
 * into a copy of the inventory in use), keeping every edit people made. Written atomically.
 */
function writeInventory(
  io: CommandIO,
  deployment: Deployment,
  file: string,
  result: DiscoveryResult,
): WrittenInventory {
  const nodes = discoveredNodes(result.bmcs, machineStoreOf(deployment, io.env).all());
  const source = existsSync(file) ? file : deployment.inventory.file;
  let merged;
  try {
    merged = mergeDiscovered(readFileSync(source, 'utf8'), nodes, io.env.now().toISOString().slice(0, 10));
  } catch (error) {
    throw usage(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  writeFileAtomic(file, merged.text);
  return {
    file,
    added: merged.added,
    updated: merged.updated,
    unchanged: merged.unchanged,
    needsAddress: merged.needsAddress,
  };
}

function writtenText(w: WrittenInventory): string {
  const list = (names: string[]) => (names.length > 0 ? ` (${names.join(', ')})` : '');
  const lines = [
    `wrote ${w.file}: ${w.added.length} added${list(w.added)}, ${w.updated.length} updated${list(w.updated)}, ${w.unchanged.length} unchanged`,
  ];
  if (w.added.length > 0) lines.push('  new nodes have no roles yet: give each its roles, then `bootstrap plan` it');
  if (w.needsAddress.length > 0)
    lines.push(
      `  no free address in networks.admin.static for: ${w.needsAddress.join(', ')} — add addresses.admin by hand`,
    );
  return `${lines.join('\n')}\n`;
}
