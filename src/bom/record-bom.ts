import { writeJson } from '../run/run-dir.js';
import type { EventSink } from '../run/events.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { runPool } from '../util/pool.js';
import { INSTALLED_PACKAGES_SCRIPT, parseInstalledPackages, type BillOfMaterials } from './bill-of-materials.js';

/**
 * At the end of an apply: every installed package and version on each node it reached, written to the run's
 * bom.json. Read-only on the nodes; a node that cannot be asked is left out (its failure is recorded already).
 */
export async function recordBillOfMaterials(
  run: { id: string; bom: string },
  nodes: readonly string[],
  transports: ReadonlyMap<string, Transport>,
  options: { parallel: number; signal: AbortSignal; sink: EventSink },
): Promise<BillOfMaterials> {
  const bill: BillOfMaterials = { format: 'bootstrap-bom/1', runId: run.id, nodes: {} };
  await runPool([...nodes], options.parallel, async (node) => {
    const transport = transports.get(node);
    if (!transport) return;
    try {
      const result = await transport.run(INSTALLED_PACKAGES_SCRIPT, { timeoutMs: 60_000, signal: options.signal });
      if (result.code === 0) bill.nodes[node] = parseInstalledPackages(result.stdout);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
    }
  });
  bill.nodes = Object.fromEntries(Object.entries(bill.nodes).sort(([a], [b]) => a.localeCompare(b)));
  writeJson(run.bom, bill);
  options.sink({
    type: 'bom.recorded',
    nodes: Object.keys(bill.nodes).length,
    packages: Object.values(bill.nodes).reduce((n, p) => n + Object.keys(p).length, 0),
  });
  return bill;
}
