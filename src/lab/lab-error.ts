/** A lab could not be built or torn down (a host tool failed, a node did not boot): shown to the user without a stack. */
export class LabError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'LabError';
  }
}
