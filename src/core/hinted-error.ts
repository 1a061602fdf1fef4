/**
 * A runtime failure outside any run (a lab that could not be built, a host tool missing) that people see as
 * its message and a hint, without a stack: the CLI prints it as "<label> error: …" and exits 1.
 */
export class HintedError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly label: string,
  ) {
    super(message);
    this.name = 'HintedError';
  }
}
