import { isAbsolute, relative } from 'node:path';
/** A problem found in user input. Loaders and validators return these; the CLI prints them all and fails once. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine code, e.g. `inventory.unknown-key`. */
  code: string;
  location?: SourceLocation;
  /** JSON-ish path inside the document, e.g. `nodes[2].bmc.address`. */
  path?: string;
  summary: string;
  detail?: string;
  suggestion?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * One diagnostic as people read it. With `cwd`, a file below it is named relative to it (as the person typed
 * it, and as editors and terminals link it); files elsewhere keep their absolute path.
 */
export function formatDiagnostic(d: Diagnostic, cwd?: string): string {
  const file =
    d.location && cwd !== undefined && isAbsolute(d.location.file) && !relative(cwd, d.location.file).startsWith('..')
      ? relative(cwd, d.location.file) || d.location.file
      : d.location?.file;
  const where = d.location ? `${file}:${d.location.line}:${d.location.col}: ` : '';
  const path = d.path ? ` (${d.path})` : '';
  const lines = [`${where}${d.severity}: ${d.summary}${path} [${d.code}]`];
  if (d.detail) lines.push(`  ${d.detail}`);
  if (d.suggestion) lines.push(`  hint: ${d.suggestion}`);
  return lines.join('\n');
}

/** Orders diagnostics by file, then position, so output is stable and reads top to bottom. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.location?.file ?? '';
    const fb = b.location?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.location?.line ?? 0;
    const lb = b.location?.line ?? 0;
    if (la !== lb) return la - lb;
    return (a.location?.col ?? 0) - (b.location?.col ?? 0);
  });
}
