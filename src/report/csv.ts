import { howReported } from '../failures/gene-text.js';
import type { FailureRecord } from '../failures/record.js';
import type { Taxonomy } from '../failures/taxonomy.js';

/** The Fault Genes sheet's columns first, then where and when it happened, so rows paste into the shared sheet. */
const COLUMNS = [
  'failure mode',
  'classification',
  'component',
  'symptom',
  'root cause',
  'mitigation',
  'how reported',
  'how to re-create',
  'openstack release',
  'gene',
  'layer',
  'severity',
  'run',
  'time',
  'node',
  'barclamp/role',
  'step',
  'attempt',
  'evidence',
  'tool version',
] as const;

export function failuresCsv(records: readonly FailureRecord[], taxonomy: Taxonomy): string {
  const rows = records.map((r) => {
    const gene = taxonomy.byCode.get(r.gene);
    return [
      r.title,
      r.classification,
      r.component,
      r.symptom,
      r.cause ?? gene?.cause ?? '',
      r.mitigation,
      gene ? howReported(gene) : '',
      r.recreate,
      r.release,
      r.gene,
      r.layer,
      r.severity,
      r.runId,
      r.time,
      r.node,
      r.barclamp ? `${r.barclamp}/${r.role ?? ''}` : '',
      r.step ?? '',
      String(r.attempt),
      r.evidence.message,
      r.toolVersion,
    ];
  });
  return [[...COLUMNS], ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180: quote fields with separators, quotes or line breaks; double the quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
