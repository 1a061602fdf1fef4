/** POSIX single-quote a value so it reaches the remote shell as one literal word, whatever it contains. */
export function shellQuote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function shellWords(values: readonly string[]): string {
  return values.map(shellQuote).join(' ');
}
