/** Errors raised by gradient transforms. */

/** Thrown when a transform gets an invalid option, a gradient of the wrong length or a non-finite value. */
export class TransformError extends RangeError {
  override name = 'TransformError';
}

/** Throw a `TransformError` unless `value` is finite and within the bound (`> 0`, `≥ 0` or `[0, 1)`). */
export function checkOption(where: string, option: string, value: number, bound: 'positive' | 'nonNegative' | 'unitInterval'): number {
  const ok =
    Number.isFinite(value) &&
    (bound === 'positive' ? value > 0 : bound === 'nonNegative' ? value >= 0 : value >= 0 && value < 1);
  if (!ok) {
    const wanted = bound === 'positive' ? 'a finite number > 0' : bound === 'nonNegative' ? 'a finite number ≥ 0' : 'in [0, 1)';
    throw new TransformError(`${where}: ${option} must be ${wanted}, got ${value}`);
  }
  return value;
}

/** Throw a `TransformError` unless `grad` has the length of the parameters the state was built for. */
export function checkLength(where: string, grad: Float64Array, dim: number): void {
  if (grad.length !== dim) {
    throw new TransformError(`${where}: gradient has length ${grad.length}, the transform state was built for ${dim} parameters`);
  }
}
