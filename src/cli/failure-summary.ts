/** The few lines apply and verify end with: each gene met, how often, where, and what to do about it. */
export function failureSummary(records: { gene: string; title: string; mitigation: string; node: string }[]): string {
  const byGene = new Map<string, typeof records>();
  for (const r of records) byGene.set(r.gene, [...(byGene.get(r.gene) ?? []), r]);
  const lines = ['', 'Failures by gene:'];
  for (const [gene, list] of byGene) {
    lines.push(
      `  ${gene} — ${list[0]!.title} (${list.length}×: ${[...new Set(list.map((r) => r.node))].join(', ')})`,
      `    what to do: ${list[0]!.mitigation}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
