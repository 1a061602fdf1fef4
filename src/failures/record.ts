import { shellQuote } from '../transport/shell-quote.js';
import { appendLineDurable } from '../util/atomic-file.js';
import { classify, type Observation } from './classify.js';
import type { Classification, Gene, Taxonomy } from './taxonomy.js';

/** One deployment-time failure, classified against the taxonomy. Secrets are redacted before it exists. */
export interface FailureRecord {
  runId: string;
  time: string;
  node: string;
  barclamp?: string;
  role?: string;
  step?: string;
  attempt: number;
  gene: string;
  title: string;
  layer: string;
  classification: Classification;
  component: string;
  severity: string;
  release: string;
  toolVersion: string;
  symptom: string;
  cause: string;
  mitigation: string;
  retryable: boolean;
  recreate: string;
  evidence: {
    message: string;
    source: string;
    exitCode?: number | null;
    stderrTail?: string;
    timedOut?: boolean;
    httpStatus?: number;
    details?: Record<string, unknown>;
  };
}

export interface FailureContext {
  node: string;
  barclamp?: string;
  role?: string;
  step?: string;
  attempt?: number;
}

export interface RecorderOptions {
  taxonomy: Taxonomy;
  runId: string;
  release: string;
  toolVersion: string;
  /** failures.jsonl of the run; every record is appended with fsync before `record` returns. Undefined: kept in memory (status looks, it does not run). */
  file: string | undefined;
  /** Values that must never appear in a record. */
  secrets: () => readonly string[];
  now: () => Date;
}

export const REDACTED = '«redacted»';
const STDERR_TAIL_LINES = 30;

export class FailureRecorder {
  readonly records: FailureRecord[] = [];

  constructor(private readonly options: RecorderOptions) {}

  /** A text with every secret value of the deployment replaced (for what is shown or saved outside a record). */
  redact(text: string): string {
    return redactSecrets(text, this.options.secrets());
  }

  classify(observation: Observation): Gene {
    return classify(this.options.taxonomy, observation);
  }

  record(context: FailureContext, observation: Observation): FailureRecord {
    const gene = this.classify(observation);
    const redact = (text: string) => redactSecrets(text, this.options.secrets());
    const stderrTail = observation.stderr
      ? redact(observation.stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n'))
      : undefined;
    const record: FailureRecord = {
      runId: this.options.runId,
      time: this.options.now().toISOString(),
      node: context.node,
      ...(context.barclamp !== undefined ? { barclamp: context.barclamp } : {}),
      ...(context.role !== undefined ? { role: context.role } : {}),
      ...(context.step !== undefined ? { step: context.step } : {}),
      attempt: context.attempt ?? 1,
      gene: gene.code,
      title: gene.title,
      layer: gene.layer,
      classification: gene.classification,
      component: gene.component,
      severity: gene.severity,
      release: this.options.release,
      toolVersion: this.options.toolVersion,
      symptom: gene.symptoms,
      cause: gene.cause,
      mitigation: gene.mitigation,
      retryable: gene.retryable,
      recreate: gene.recreate,
      evidence: {
        source: observation.source,
        message: redact(observation.message),
        ...(observation.exitCode !== undefined ? { exitCode: observation.exitCode } : {}),
        ...(stderrTail ? { stderrTail } : {}),
        ...(observation.timedOut ? { timedOut: true } : {}),
        ...(observation.httpStatus !== undefined ? { httpStatus: observation.httpStatus } : {}),
        ...(observation.details !== undefined
          ? { details: JSON.parse(redact(JSON.stringify(observation.details))) as Record<string, unknown> }
          : {}),
      },
    };
    if (this.options.file !== undefined) appendLineDurable(this.options.file, JSON.stringify(record));
    this.records.push(record);
    return record;
  }
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets)
    if (secret.length >= 4) for (const spelling of secretSpellings(secret)) out = out.split(spelling).join(REDACTED);
  return out;
}

/**
 * How a secret can appear in what the tool renders: as it is, shell-quoted (commands and shell templates quote
 * every value) and JSON-escaped (fencing.json). The quoted forms first: redacting them leaves no quote behind.
 */
export function secretSpellings(secret: string): string[] {
  return [...new Set([shellQuote(secret), JSON.stringify(secret).slice(1, -1), secret])];
}
