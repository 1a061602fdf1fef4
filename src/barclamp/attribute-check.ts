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
export function attributeValueProblems(spec: AttributeSpec, value: unknown, path: (string | number)[]): AttributeProblem[] {
  const problem = (message: string, suggestion?: string): AttributeProblem[] => [{ path, message, ...(suggestion ? { suggestion } : {}) }];
  switch (spec.type) {
    case 'string':
    case 'ipv4':
    case 'cidr': {
      if (typeof value !== 'string') return problem(`expected a string, got ${describe(value)}`);
      if (spec.enum && !spec.enum.includes(value)) return problem(`'${value}' is not one of: ${spec.enum.join(', ')}`, didYouMean(value, spec.enum));
      if (spec.pattern !== undefined && !wholeMatch(spec.pattern, value)) return problem(`${JSON.stringify(value)} does not match ${spec.pattern}`, spec.description);
      const formatProblem = spec.type === 'ipv4' ? ipv4Problem(value) : spec.type === 'cidr' ? cidrProblem(value) : undefined;
      return formatProblem ? problem(formatProblem) : [];
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return problem(`expected an integer, got ${describe(value)}`);
      if (spec.min !== undefined && value < spec.min) return problem(`${value} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) return problem(`${value} is above the maximum ${spec.max}`);
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : problem(`expected true or false, got ${describe(value)}`);
    case 'list':
      if (!Array.isArray(value)) return problem(`expected a list, got ${describe(value)}`);
      return spec.items ? value.flatMap((item, i) => attributeValueProblems(spec.items!, item, [...path, i])) : [];
    case 'map':
      if (!isPlainObject(value)) return problem(`expected a mapping, got ${describe(value)}`);
      return [
        ...(spec.key_pattern !== undefined ? Object.keys(value).filter((k) => !wholeMatch(spec.key_pattern!, k)).flatMap((k) => problem(`key ${JSON.stringify(k)} does not match ${spec.key_pattern}`, spec.description)) : []),
        ...(spec.values ? Object.entries(value).flatMap(([k, v]) => attributeValueProblems(spec.values!, v, [...path, k])) : []),
      ];
  }
}

function wholeMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`, 'u').test(value);
}
