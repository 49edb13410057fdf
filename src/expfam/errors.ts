/** Errors raised by the exponential-family module. */

/** Bad input to an exponential-family function: wrong length, a parameter outside its domain, bad options. */
export class ExponentialFamilyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExponentialFamilyError';
  }
}
