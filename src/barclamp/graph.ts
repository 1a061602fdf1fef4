import type { Diagnostic } from '../core/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import type { Barclamp } from './types.js';

export type OrderResult = { ok: true; order: string[] } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Deterministic topological order of the wanted barclamps and everything they require
 * (Kahn's algorithm, ties broken by name). Missing barclamps and cycles are reported by name.
 */
export function dependencyOrder(wanted: Iterable<string>, barclamps: ReadonlyMap<string, Barclamp>): OrderResult {
  const diagnostics: Diagnostic[] = [];
  const closure = new Set<string>();
  const visit = (name: string, requiredBy?: string) => {
    if (closure.has(name)) return;
    const barclamp = barclamps.get(name);
    if (!barclamp) {
      diagnostics.push({
        severity: 'error',
        code: 'barclamp.missing',
        ...(requiredBy ? { location: { file: barclamps.get(requiredBy)!.manifestFile, line: 1, col: 1 } } : {}),
        summary: requiredBy
          ? `barclamp '${requiredBy}' requires '${name}', which does not exist`
          : `barclamp '${name}' does not exist`,
        suggestion: didYouMean(name, barclamps.keys()) ?? `available: ${[...barclamps.keys()].sort().join(', ')}`,
      });
      return;
    }
    closure.add(name);
    for (const dependency of barclamp.requires) visit(dependency, name);
  };
  for (const name of wanted) visit(name);
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const remaining = new Map([...closure].map((name) => [name, new Set(barclamps.get(name)!.requires)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining]
      .filter(([, deps]) => deps.size === 0)
      .map(([name]) => name)
      .sort();
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      return {
        ok: false,
        diagnostics: [
          {
            severity: 'error',
            code: 'barclamp.cycle',
            location: { file: barclamps.get(cycle[0]!)!.manifestFile, line: 1, col: 1 },
            summary: `barclamp dependency cycle: ${cycle.join(' → ')}`,
            suggestion: 'remove one of these requires so the barclamps can be ordered',
          },
        ],
      };
    }
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
      for (const deps of remaining.values()) deps.delete(name);
    }
  }
  return { ok: true, order };
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()].sort()[0]!;
  const path: string[] = [];
  const onPath = new Set<string>();
  let current = start;
  // Every node left has an unresolved dependency, so walking first dependencies must revisit a node.
  while (!onPath.has(current)) {
    path.push(current);
    onPath.add(current);
    current = [...graph.get(current)!].sort()[0]!;
  }
  return [...path.slice(path.indexOf(current)), current];
}
