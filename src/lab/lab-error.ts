import { HintedError } from '../core/hinted-error.js';

/** A lab could not be built or torn down (a host tool failed, a node did not boot): shown to the user without a stack. */
export class LabError extends HintedError {
  constructor(message: string, hint: string) {
    super(message, hint, 'lab');
    this.name = 'LabError';
  }
}
