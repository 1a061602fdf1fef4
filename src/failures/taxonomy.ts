import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Classification =
  | 'config_error'
  | 'dependency_unavailable'
  | 'auth_failure'
  | 'resource_exhausted'
  | 'hardware_fault'
  | 'timeout'
  | 'software_bug'
  | 'environment_drift'
  | 'unclassified';

/** What the classifier matches on. Strings are regular expressions (case-insensitive). */
export interface Signal {
  source: string;
  kind?: string;
  error?: string;
  stderr?: string;
  exitCode?: number;
  timedOut?: boolean;
  httpStatus?: number;
}

export interface Gene {
  code: string;
  layer: string;
  title: string;
  classification: Classification;
  component: string;
  symptoms: string;
  /** Root cause(s) behind the symptoms — the Fault Genes sheet's "root cause" column. */
  cause: string;
  signals: Signal[];
  mitigation: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  retryable: boolean;
  releases: string[];
  recreate: string;
}

export interface Taxonomy {
  version: number;
  genes: Gene[];
  byCode: Map<string, Gene>;
}

const REQUIRED: (keyof Gene)[] = [
  'code',
  'layer',
  'title',
  'classification',
  'component',
  'symptoms',
  'cause',
  'signals',
  'mitigation',
  'severity',
  'retryable',
  'releases',
  'recreate',
];
const CLASSIFICATIONS = new Set<string>([
  'config_error',
  'dependency_unavailable',
  'auth_failure',
  'resource_exhausted',
  'hardware_fault',
  'timeout',
  'software_bug',
  'environment_drift',
  'unclassified',
]);

/** Loads the gene file and refuses it when codes repeat, fields are missing or patterns do not compile. */
export function loadTaxonomy(file: string): Taxonomy {
  const raw = parse(readFileSync(file, 'utf8')) as { version: number; genes: Gene[] };
  const problems: string[] = [];
  const byCode = new Map<string, Gene>();
  raw.genes.forEach((gene, i) => {
    for (const field of REQUIRED)
      if (gene[field] === undefined) problems.push(`genes[${i}] (${gene.code ?? '?'}) is missing '${field}'`);
    if (byCode.has(gene.code)) problems.push(`gene code ${gene.code} is used twice`);
    if (!CLASSIFICATIONS.has(gene.classification))
      problems.push(`gene ${gene.code} has unknown classification '${gene.classification}'`);
    for (const signal of gene.signals ?? []) {
      for (const pattern of [signal.error, signal.stderr, signal.kind]) {
        if (pattern === undefined) continue;
        try {
          new RegExp(pattern, 'i');
        } catch {
          problems.push(`gene ${gene.code} has an invalid pattern ${pattern}`);
        }
      }
    }
    byCode.set(gene.code, gene);
  });
  if (!byCode.has('UNCLASSIFIED')) problems.push('the taxonomy needs an UNCLASSIFIED gene');
  if (problems.length > 0) throw new Error(`invalid taxonomy ${file}:\n  ${problems.join('\n  ')}`);
  return { version: raw.version, genes: raw.genes, byCode };
}
