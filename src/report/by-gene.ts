import type { FailureRecord } from '../failures/record.js';

export interface GeneGroup {
  gene: string;
  title: string;
  mitigation: string;
  count: number;
  nodes: string[];
}

/** Failures grouped by gene, most frequent first: what the operator fixes, not every repetition. */
export function groupByGene(records: readonly FailureRecord[]): GeneGroup[] {
  const groups = new Map<string, GeneGroup>();
  for (const r of records) {
    const group = groups.get(r.gene) ?? { gene: r.gene, title: r.title, mitigation: r.mitigation, count: 0, nodes: [] };
    group.count++;
    if (!group.nodes.includes(r.node)) group.nodes.push(r.node);
    groups.set(r.gene, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.gene.localeCompare(b.gene));
}
