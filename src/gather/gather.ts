import type { EventSink } from '../run/events.js';
import type { FailureRecorder } from '../failures/record.js';
import { observationOfTransportError } from '../failures/observations.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { runPool } from '../util/pool.js';
import type { DesiredState } from '../plan/desired-types.js';
import type { NodeFacts } from '../plan/facts.js';
import { factRequestFor, gatherScript, parseGatherOutput } from '../plan/gather-script.js';
import type { Plan } from '../plan/plan-types.js';

export interface GatherResult {
  facts: Map<string, NodeFacts>;
  unreachable: Plan['unreachable'];
}

const GATHER_TIMEOUT_MS = 120_000;

/** Read-only probes on every node in parallel: one SSH round trip per node. */
export async function gatherFacts(
  desired: DesiredState,
  nodes: readonly string[],
  transports: ReadonlyMap<string, Transport>,
  deps: { sink: EventSink; recorder: FailureRecorder; parallel: number; signal: AbortSignal; nowMs: () => number },
): Promise<GatherResult> {
  const facts = new Map<string, NodeFacts>();
  const unreachable: Plan['unreachable'] = [];
  await runPool(nodes, deps.parallel, async (node) => {
    const started = deps.nowMs();
    deps.sink({ type: 'gather.start', node });
    const request = factRequestFor(desired, node);
    let problem: { observation: Parameters<FailureRecorder['record']>[1] } | undefined;
    try {
      const result = await transports
        .get(node)!
        .run(gatherScript(request), { timeoutMs: GATHER_TIMEOUT_MS, signal: deps.signal });
      const parsed = parseGatherOutput(node, request, result.stdout);
      if (result.code === 0 && parsed.ok) {
        // what guards printed goes into the plan: no secret value may ride along
        const reasons = parsed.facts.guardReasons;
        if (reasons)
          parsed.facts.guardReasons = Object.fromEntries(
            Object.entries(reasons).map(([id, said]) => [id, deps.recorder.redact(said)]),
          );
        facts.set(node, parsed.facts);
        deps.sink({ type: 'gather.ok', node, ms: Math.round(deps.nowMs() - started) });
        return;
      }
      problem = {
        observation: {
          source: 'remote-exec',
          kind: 'gather',
          message: parsed.ok ? `fact gathering exited ${result.code}` : parsed.problem,
          exitCode: result.code,
          stderr: result.stderr,
          timedOut: result.timedOut,
        },
      };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      problem = { observation: observationOfTransportError(error) };
    }
    const record = deps.recorder.record({ node, step: 'gather' }, problem.observation);
    deps.sink({ type: 'failure.recorded', record });
    deps.sink({ type: 'gather.fail', node, gene: record.gene, message: record.evidence.message });
    unreachable.push({ node, gene: record.gene, message: record.evidence.message });
  });
  unreachable.sort((a, b) => a.node.localeCompare(b.node));
  return { facts, unreachable };
}
