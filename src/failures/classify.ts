import type { Gene, Signal, Taxonomy } from './taxonomy.js';

/** A failure as the tool observed it, before classification. */
export interface Observation {
  source: 'ssh-connect' | 'remote-exec' | 'check' | 'deadline' | 'local' | 'bmc' | 'pxe' | 'recovery';
  /** Step kind for remote-exec (package, file, service, …) or check type. */
  kind?: string;
  message: string;
  exitCode?: number | null;
  stderr?: string;
  timedOut?: boolean;
  httpStatus?: number;
  errorCode?: string;
  /** Structured evidence (a Masakari notification with its recovery workflow), redacted like the text. */
  details?: Record<string, unknown>;
}

export function classify(taxonomy: Taxonomy, observation: Observation): Gene {
  for (const gene of taxonomy.genes) {
    if (gene.signals.some((signal) => matches(signal, observation))) return gene;
  }
  return taxonomy.byCode.get('UNCLASSIFIED')!;
}

function matches(signal: Signal, o: Observation): boolean {
  if (signal.source !== o.source) return false;
  if (signal.kind !== undefined && !(o.kind !== undefined && new RegExp(`^(${signal.kind})$`, 'i').test(o.kind)))
    return false;
  if (signal.timedOut !== undefined && signal.timedOut !== (o.timedOut ?? false)) return false;
  if (signal.timedOut === undefined && o.timedOut && o.source === 'remote-exec') return false;
  if (signal.exitCode !== undefined && signal.exitCode !== o.exitCode) return false;
  if (signal.httpStatus !== undefined && signal.httpStatus !== o.httpStatus) return false;
  if (signal.error !== undefined && !new RegExp(signal.error, 'i').test(`${o.errorCode ?? ''} ${o.message}`))
    return false;
  if (signal.stderr !== undefined && !new RegExp(signal.stderr, 'i').test(o.stderr ?? '')) return false;
  return true;
}
