/** The error type of the Hilbert-space Langevin module (Suzuki 2020). */

/** Bad input to the two-layer network, its basis, the Hilbert-space Langevin sampler or the experiment. */
export class HilbertError extends RangeError {
  override name = 'HilbertError';
}

/** `value` if it is a finite number > 0, else a `HilbertError` naming where and what. */
export function positiveFinite(where: string, what: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new HilbertError(`${where}: ${what} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** `value` if it is an integer ≥ `min`, else a `HilbertError` naming where and what. */
export function integerAtLeast(where: string, what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new HilbertError(`${where}: ${what} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}
