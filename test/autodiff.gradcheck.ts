/**
 * Test helper: compare autodiff gradients with central finite differences.
 *
 * A tensor-valued f is reduced to the scalar Σ w ⊙ f(x) with fixed random weights w, so the check
 * covers the whole vector–Jacobian product, not just the gradient of a sum.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { key, uniform, foldIn } from '../src/core/random.js';
import { Tensor, mul, sum, tensor, valueAndGrad, type TensorLike } from '../src/autodiff/index.js';

/** Uniform values in [lo, hi) of a shape, from an integer seed. */
export function randomTensor(shape: readonly number[], seed: number, lo = -2, hi = 2): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const u = uniform(key(seed), n);
  for (let i = 0; i < n; i++) u[i] = lo + (hi - lo) * u[i];
  return tensor(u, shape);
}

/** Values with |x| in [lo, hi) and a random sign (keeps away from kinks at 0). */
export function randomSigned(shape: readonly number[], seed: number, lo = 0.2, hi = 2): Tensor {
  const t = randomTensor(shape, seed, lo, hi);
  const signs = uniform(foldIn(key(seed), 1), t.size);
  for (let i = 0; i < t.size; i++) if (signs[i] < 0.5) t.data[i] = -t.data[i];
  return t;
}

/**
 * Assert that valueAndGrad agrees with central differences for every input element. Step h is
 * relative to |x|; truncation error is O(h²) and rounding O(ε|f|/h), so with h = 1e-5 the
 * difference quotient is good to ~1e-8 relative for smooth f, and `tol` (default 1e-6) sits well
 * above that while far below any wrong-derivative error.
 */
export function expectGradMatchesFiniteDifferences(
  f: (...xs: Tensor[]) => TensorLike,
  inputs: readonly Tensor[],
  tol = 1e-6,
): void {
  let weights: Tensor | null = null;
  const scalarF = (...xs: Tensor[]): Tensor => {
    const out = f(...xs);
    const t = out instanceof Tensor ? out : tensor(out);
    if (t.size === 1) return sum(t);
    weights ??= randomTensor(t.shape, 987, -1, 1);
    return sum(mul(t, weights));
  };
  const { value, grads } = valueAndGrad(scalarF, inputs);
  expect(Number.isFinite(value)).toBe(true);
  inputs.forEach((input, k) => {
    for (let i = 0; i < input.size; i++) {
      const x0 = input.data[i];
      const h = 1e-5 * Math.max(1, Math.abs(x0));
      const shifted = (delta: number): number => {
        const copy = Float64Array.from(input.data);
        copy[i] = x0 + delta;
        const args = inputs.map((t, j) => (j === k ? tensor(copy, t.shape) : t));
        return scalarF(...args).item();
      };
      const fd = (shifted(h) - shifted(-h)) / (2 * h);
      const ad = grads[k][i];
      const scale = Math.max(1, Math.abs(fd), Math.abs(value));
      if (!(Math.abs(ad - fd) <= tol * scale)) {
        throw new Error(`input ${k} element ${i}: autodiff ${ad} vs finite difference ${fd} (x = ${x0})`);
      }
    }
  });
}

/** A random shape: rank 0..maxRank, extents 1..maxExtent. */
export const shapeArb = (maxRank = 3, maxExtent = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxExtent }), { minLength: 0, maxLength: maxRank });

/** A shape and a second shape that broadcasts against it (axes dropped from the left or set to 1). */
export const broadcastPairArb: fc.Arbitrary<[number[], number[]]> = shapeArb().chain((shape) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: shape.length }),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      fc.boolean(),
    )
    .map(([drop, ones, swap]) => {
      const other = shape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
      return swap ? ([other, shape] as [number[], number[]]) : ([shape, other] as [number[], number[]]);
    }),
);

/** fast-check settings shared by the property tests: fixed seed, modest run count. */
export const propertyRuns = { seed: 20240611, numRuns: 40 } as const;
