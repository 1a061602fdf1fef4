import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/transport/shell-quote.js';

describe('shell quoting', () => {
  it.each([
    'plain',
    'with space',
    "it's",
    '$(rm -rf /)',
    '`id`',
    'a;b|c&d',
    '"dq"',
    'new\nline',
    '',
    '--flag',
    '*?[x]',
    '\\back',
  ])('passes %j through sh as one literal word', (value) => {
    const echoed = execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`]).toString();
    expect(echoed).toBe(value);
  });
});
