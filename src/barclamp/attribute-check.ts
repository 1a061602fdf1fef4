import { describe, isPlainObject } from '../core/schema.js';
import { cidrProblem, ipv4Problem } from '../util/ipv4.js';
import { didYouMean } from '../util/suggest.js';
import type { AttributeSpec } from './types.js';

export interface AttributeProblem {
  path: (string | number)[];
  message: string;
  suggestion?: string;
}

/** Checks one attribute value against its declared spec; returns every problem with its relative path. */
export function attributeValueProblems(
  spec: AttributeSpec,
  value: unknown,
  path: (string | number)[],
): AttributeProblem[] {
  const problem = (message: string, suggestion?: string): AttributeProblem[] => [
    { path, message, ...(suggestion ? { suggestion } : {}) },
  ];
  switch (spec.type) {
    case 'string':
    case 'ipv4':
    case 'cidr': {
      if (typeof value !== 'string') return problem(`expected a string, got ${describe(value)}`);
      if (CONTROL.test(value)) return problem(controlMessage(value), CONTROL_HINT);
      if (spec.enum && !spec.enum.includes(value))
        return problem(`'${value}' is not one of: ${spec.enum.join(', ')}`, didYouMean(value, spec.enum));
      if (spec.pattern !== undefined && !wholeMatch(spec.pattern, value))
        return problem(`${JSON.stringify(value)} does not match ${spec.pattern}`, spec.description);
      const formatProblem =
        spec.type === 'ipv4' ? ipv4Problem(value) : spec.type === 'cidr' ? cidrProblem(value) : undefined;
      return formatProblem ? problem(formatProblem) : [];
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return problem(`expected an integer, got ${describe(value)}`);
      if (spec.min !== undefined && value < spec.min) return problem(`${value} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) return problem(`${value} is above the maximum ${spec.max}`);
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : problem(`expected true or false, got ${describe(value)}`);
    case 'list':
      if (!Array.isArray(value)) return problem(`expected a list, got ${describe(value)}`);
      return spec.items
        ? value.flatMap((item, i) => attributeValueProblems(spec.items!, item, [...path, i]))
        : anyValueProblems(value, path);
    case 'map':
      if (!isPlainObject(value)) return problem(`expected a mapping, got ${describe(value)}`);
      return [
        ...Object.keys(value)
          .filter((k) => CONTROL.test(k))
          .flatMap((k) => problem(`key ${controlMessage(k)}`, CONTROL_HINT)),
        ...(spec.values ? [] : anyValueProblems(value, path)),
        ...(spec.key_pattern !== undefined
          ? Object.keys(value)
              .filter((k) => !wholeMatch(spec.key_pattern!, k))
              .flatMap((k) => problem(`key ${JSON.stringify(k)} does not match ${spec.key_pattern}`, spec.description))
          : []),
        ...(spec.values
          ? Object.entries(value).flatMap(([k, v]) => attributeValueProblems(spec.values!, v, [...path, k]))
          : []),
      ];
  }
}

/**
 * No attribute carries a control character (newline, NUL, escape, …): a newline in a value would start a new
 * option in an INI file or a new command in a script. Other characters are fine: shell code quotes every value.
 */
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_HINT = 'attribute values are single lines of printable characters';

function controlMessage(value: string): string {
  const found = value.match(CONTROL)![0].charCodeAt(0);
  return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)} contains a control character (U+${found.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Values no schema describes (a map's or list's contents left open, e.g. config overrides): only control characters are refused. */
function anyValueProblems(value: unknown, path: (string | number)[]): AttributeProblem[] {
  if (typeof value === 'string')
    return CONTROL.test(value) ? [{ path, message: controlMessage(value), suggestion: CONTROL_HINT }] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => anyValueProblems(item, [...path, i]));
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([k, v]) => [
      ...(CONTROL.test(k)
        ? [{ path: [...path, k], message: `key ${controlMessage(k)}`, suggestion: CONTROL_HINT }]
        : []),
      ...anyValueProblems(v, [...path, k]),
    ]);
  return [];
}

function wholeMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`, 'u').test(value);
}
