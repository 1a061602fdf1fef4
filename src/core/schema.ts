import { formatPath, type Diagnostic } from './diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import type { YamlSource } from './yaml-source.js';

/**
 * A small declarative schema for YAML documents. It reports every problem at once, with the
 * source position of the offending key or value, instead of stopping at the first.
 */
export type Schema =
  | {
      kind: 'string';
      enum?: readonly string[];
      pattern?: RegExp;
      patternHint?: string;
      format?: Format;
      maxLength?: number;
    }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'list'; items: Schema; minItems?: number; maxItems?: number }
  | { kind: 'map'; values: Schema; keyPattern?: RegExp; keyHint?: string }
  | { kind: 'object'; fields: Record<string, Field>; description?: string }
  | { kind: 'oneOf'; options: readonly Schema[]; expected: string }
  | { kind: 'any' };

export interface Field {
  schema: Schema;
  required?: boolean;
}

/** Value formats checked beyond type: each returns a problem text or undefined. */
export type Format = (value: string) => string | undefined;

export interface SchemaContext {
  source: YamlSource;
  codePrefix: string;
  diagnostics: Diagnostic[];
}

export function checkSchema(ctx: SchemaContext, schema: Schema, value: unknown, path: (string | number)[]): void {
  const problem = (
    code: string,
    summary: string,
    suggestion?: string,
    target: 'key' | 'value' = 'value',
    at = path,
  ) => {
    ctx.diagnostics.push({
      severity: 'error',
      code: `${ctx.codePrefix}.${code}`,
      location: ctx.source.locate(at, target),
      path: formatPath(at),
      summary,
      ...(suggestion ? { suggestion } : {}),
    });
  };
  switch (schema.kind) {
    case 'any':
      return;
    case 'string': {
      if (typeof value !== 'string')
        return problem('type', `expected a string, got ${describe(value)}`, quoteHint(value));
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return problem('too-long', `value is ${value.length} characters; at most ${schema.maxLength} allowed`);
      }
      if (schema.enum && !schema.enum.includes(value)) {
        return problem('enum', `'${value}' is not one of: ${schema.enum.join(', ')}`, didYouMean(value, schema.enum));
      }
      if (schema.pattern && !schema.pattern.test(value)) {
        return problem('format', `'${value}' is not valid here${schema.patternHint ? `: ${schema.patternHint}` : ''}`);
      }
      const formatProblem = schema.format?.(value);
      if (formatProblem) problem('format', formatProblem);
      return;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value) || (schema.kind === 'integer' && !Number.isInteger(value))) {
        return problem(
          'type',
          `expected ${schema.kind === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}`,
        );
      }
      if (schema.min !== undefined && value < schema.min)
        return problem('range', `${value} is below the minimum ${schema.min}`);
      if (schema.max !== undefined && value > schema.max)
        return problem('range', `${value} is above the maximum ${schema.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problem('type', `expected true or false, got ${describe(value)}`);
      return;
    case 'list': {
      if (!Array.isArray(value)) return problem('type', `expected a list, got ${describe(value)}`);
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        return problem('too-few', `expected at least ${schema.minItems} item(s), got ${value.length}`);
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        return problem('too-many', `expected at most ${schema.maxItems} item(s), got ${value.length}`);
      }
      value.forEach((item, i) => checkSchema(ctx, schema.items, item, [...path, i]));
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) return problem('type', `expected a mapping, got ${describe(value)}`);
      for (const [key, item] of Object.entries(value)) {
        if (schema.keyPattern && !schema.keyPattern.test(key)) {
          problem(
            'key-format',
            `'${key}' is not a valid name${schema.keyHint ? `: ${schema.keyHint}` : ''}`,
            undefined,
            'key',
            [...path, key],
          );
          continue;
        }
        checkSchema(ctx, schema.values, item, [...path, key]);
      }
      return;
    }
    case 'object': {
      if (!isPlainObject(value))
        return problem(
          'type',
          `expected a mapping${schema.description ? ` (${schema.description})` : ''}, got ${describe(value)}`,
        );
      const known = Object.keys(schema.fields);
      for (const [key, item] of Object.entries(value)) {
        const field = schema.fields[key];
        if (!field) {
          problem(
            'unknown-key',
            `unknown key '${key}'`,
            didYouMean(key, known) ?? `allowed keys: ${known.join(', ')}`,
            'key',
            [...path, key],
          );
          continue;
        }
        checkSchema(ctx, field.schema, item, [...path, key]);
      }
      for (const [key, field] of Object.entries(schema.fields)) {
        if (field.required && !(key in value))
          problem('missing-key', `missing required key '${key}'`, `add '${key}:' here`);
      }
      return;
    }
    case 'oneOf': {
      for (const option of schema.options) {
        const probe: SchemaContext = { ...ctx, diagnostics: [] };
        checkSchema(probe, option, value, path);
        if (probe.diagnostics.length === 0) return;
      }
      // Report against the option the value was meant to be — same JS type and, for mappings, its required
      // keys present (`- file: {…}` is a file resource) — so the message is about the value, not the choice.
      const intended = schema.options.find((o) => shapeMatches(o, value) && requiredKeysPresent(o, value));
      if (intended) return checkSchema(ctx, intended, value, path);
      if (isPlainObject(value) && schema.options.every((o) => o.kind === 'object')) {
        // a mapping that is none of the choices (`- fil: …`): name the choices, and the closest one
        const keys = schema.options.flatMap((o) =>
          o.kind === 'object'
            ? Object.entries(o.fields)
                .filter(([, f]) => f.required)
                .map(([k]) => k)
            : [],
        );
        const given = Object.keys(value);
        problem(
          'type',
          `expected ${schema.expected}, got a mapping with ${given.length === 0 ? 'no keys' : given.map((k) => `'${k}'`).join(', ')}`,
          given.length > 0 ? didYouMean(given[0]!, keys) : undefined,
        );
        return;
      }
      const sameShape = schema.options.find((o) => shapeMatches(o, value));
      if (sameShape) return checkSchema(ctx, sameShape, value, path);
      problem('type', `expected ${schema.expected}, got ${describe(value)}`);
      return;
    }
  }
}

function shapeMatches(schema: Schema, value: unknown): boolean {
  switch (schema.kind) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value);
    case 'map':
    case 'object':
      return isPlainObject(value);
    default:
      return false;
  }
}

function requiredKeysPresent(schema: Schema, value: unknown): boolean {
  if (schema.kind !== 'object' || !isPlainObject(value)) return true;
  return Object.entries(schema.fields).every(([key, field]) => !field.required || key in value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return `${typeof value} ${String(value)}`;
}

function quoteHint(value: unknown): string | undefined {
  return typeof value === 'number' || typeof value === 'boolean' ? 'quote the value to make it a string' : undefined;
}

// Shorthands keep schema declarations readable.
export const str = (extra: Omit<Extract<Schema, { kind: 'string' }>, 'kind'> = {}): Schema => ({
  kind: 'string',
  ...extra,
});
export const int = (extra: Omit<Extract<Schema, { kind: 'integer' }>, 'kind'> = {}): Schema => ({
  kind: 'integer',
  ...extra,
});
export const bool = (): Schema => ({ kind: 'boolean' });
export const list = (items: Schema, extra: { minItems?: number; maxItems?: number } = {}): Schema => ({
  kind: 'list',
  items,
  ...extra,
});
export const map = (values: Schema, keyPattern?: RegExp, keyHint?: string): Schema => ({
  kind: 'map',
  values,
  ...(keyPattern ? { keyPattern } : {}),
  ...(keyHint ? { keyHint } : {}),
});
export const obj = (fields: Record<string, Schema | Field>, required: readonly string[] = []): Schema => ({
  kind: 'object',
  fields: Object.fromEntries(
    Object.entries(fields).map(([k, f]) => [k, 'schema' in f ? f : { schema: f, required: required.includes(k) }]),
  ),
});
export const oneOf = (expected: string, ...options: Schema[]): Schema => ({ kind: 'oneOf', options, expected });
