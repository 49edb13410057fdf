import { foldIn, key, normal, uniform } from '../src/core/random.js';

/**
 * y = sin(2x₁) + ½x₂ + 0.03ε on x ~ U(−1.5, 1.5)², n rows (x row-major, 2 columns): a smooth
 * function with little noise, for tests of the noise precision.
 */
export function lowNoise(n: number, seed: number): { x: Float64Array; y: Float64Array } {
  const x = Float64Array.from(uniform(key(seed), 2 * n), (u) => 3 * u - 1.5);
  const eps = normal(foldIn(key(seed), 1), n);
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(2 * x[2 * i]) + 0.5 * x[2 * i + 1] + 0.03 * eps[i]);
  return { x, y };
}
