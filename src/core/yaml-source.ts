import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, SourceLocation } from './diagnostic.js';

/** Inputs above this size are refused before parsing: inventories and manifests are small. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;
/** Caps alias expansion so an "alias bomb" cannot exhaust memory. */
const MAX_ALIAS_COUNT = 1000;

/** A parsed YAML file that remembers where every value came from, for `file:line:col` messages. */
export interface YamlSource {
  file: string;
  value: unknown;
  locate(path: readonly (string | number)[], target?: 'key' | 'value'): SourceLocation;
}

export type YamlLoadResult = { ok: true; source: YamlSource } | { ok: false; diagnostics: Diagnostic[] };

export function parseYaml(file: string, bytes: Uint8Array, codePrefix: string): YamlLoadResult {
  const at = (line = 1, col = 1): SourceLocation => ({ file, line, col });
  if (bytes.byteLength > MAX_SOURCE_BYTES) {
    return fail(
      codePrefix,
      'too-large',
      at(),
      `file is ${bytes.byteLength} bytes; the limit is ${MAX_SOURCE_BYTES}`,
      'split the file or remove generated content',
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const { line, col } = lineColOfByte(bytes, offset);
    return fail(codePrefix, 'encoding', at(line, col), 'file is not valid UTF-8', 're-save the file as UTF-8');
  }
  if (text.includes('\u0000'))
    return fail(codePrefix, 'encoding', at(), 'file contains NUL bytes', 're-save the file as UTF-8 text');

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      diagnostics: problems.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          severity: 'error' as const,
          code: `${codePrefix}.yaml-syntax`,
          location: at(pos.line, pos.col),
          summary: firstLine(e.message),
          suggestion: 'fix the YAML syntax at this position (indentation, quotes, colons)',
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return fail(
      codePrefix,
      'yaml-aliases',
      at(),
      `YAML aliases expand too much: ${(error as Error).message}`,
      'write values out instead of nesting aliases',
    );
  }
  return {
    ok: true,
    source: { file, value, locate: (path, target = 'value') => locate(doc, lineCounter, file, path, target) },
  };
}

function locate(
  doc: Document,
  lines: LineCounter,
  file: string,
  path: readonly (string | number)[],
  target: 'key' | 'value',
): SourceLocation {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && target === 'key') {
        offset = rangeStart(pair.key) ?? offset;
        break;
      }
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) break;
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  const pos = lines.linePos(offset);
  return { file, line: pos.line, col: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

function fail(
  prefix: string,
  code: string,
  location: SourceLocation,
  summary: string,
  suggestion: string,
): YamlLoadResult {
  return { ok: false, diagnostics: [{ severity: 'error', code: `${prefix}.${code}`, location, summary, suggestion }] };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let low = 0;
  let high = bytes.byteLength;
  // Binary search for the shortest prefix that fails to decode (cheap, and files are small).
  while (low < high) {
    const mid = (low + high) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid + 1), { stream: true });
      decoder.decode();
      low = mid + 1;
    } catch {
      high = mid;
    }
  }
  return low;
}

function lineColOfByte(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < bytes.byteLength; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}
