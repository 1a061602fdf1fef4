import type { Gene, Signal } from './taxonomy.js';

const SOURCE_TEXT: Record<string, string> = {
  'ssh-connect': 'SSH connection error',
  'remote-exec': 'remote step exits non-zero',
  check: 'readiness check fails',
  deadline: 'overall deadline passes',
  local: 'bootstrap itself, before anything runs',
  http: 'OpenStack API answer',
  bmc: 'ipmitool error from the BMC',
  pxe: 'provisioner deadline',
};

/** The detection signals in words ("package step exits non-zero, stderr matches /Could not get lock/"). */
export function howDetected(gene: Gene): string {
  if (gene.signals.length === 0) return 'anything no other gene matches';
  return gene.signals.map(signalText).join('; or ');
}

function signalText(signal: Signal): string {
  const parts = [`${signal.kind ? `${signal.kind}: ` : ''}${SOURCE_TEXT[signal.source] ?? signal.source}`];
  if (signal.exitCode !== undefined) parts.push(`exit code ${signal.exitCode}`);
  if (signal.timedOut) parts.push('timed out');
  if (signal.httpStatus !== undefined) parts.push(`HTTP ${signal.httpStatus}`);
  if (signal.error !== undefined) parts.push(`error matches /${signal.error}/`);
  if (signal.stderr !== undefined) parts.push(`output matches /${signal.stderr}/`);
  return parts.join(', ');
}

/** How the failure reaches people — the Fault Genes sheet's "how reported" column. */
export function howReported(gene: Gene): string {
  const nature = gene.retryable ? 'often transient (a re-run may pass)' : 'persistent until fixed';
  return `severity ${gene.severity}, ${nature}: the failed step in apply's output and closing summary, a record in the run's failures.jsonl, a failing JUnit test case`;
}
