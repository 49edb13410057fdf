/** Shared fixtures of the model tests: synthetic datasets and finite-difference checks. */
import { expect } from 'vitest';
import { key, normal, uniform } from '../src/core/random.js';
import type { Dataset, Vec } from '../src/core/types.js';

/** A dataset from raw arrays. */
export function makeDataset(x: Float64Array, y: Float64Array, rows: number, cols: number, source = 'synthetic'): Dataset {
  return {
    x,
    y,
    rows,
    cols,
    featureNames: Array.from({ length: cols }, (_, j) => `x${j + 1}`),
    targetName: 'y',
    source,
  };
}

/** y = xᵀw + 0.3 + noise/√τ with standard normal features. */
export function regressionData(seed: number, rows: number, cols: number, noiseSd = 0.5): Dataset {
  const x = normal(key(seed), rows * cols);
  const w = normal(key(seed + 1), cols);
  const noise = normal(key(seed + 2), rows);
  const y = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let z = 0.3;
    for (let j = 0; j < cols; j++) z += x[n * cols + j] * w[j];
    y[n] = z + noiseSd * noise[n];
  }
  return makeDataset(x, y, rows, cols);
}

/** Labels drawn from a softmax over K classes with random weights (K = 2 gives 0/1 labels). */
export function classificationData(seed: number, rows: number, cols: number, classes: number): Dataset {
  const x = normal(key(seed), rows * cols);
  const w = normal(key(seed + 1), classes * cols);
  const u = uniform(key(seed + 2), rows);
  const y = new Float64Array(rows);
  const logits = new Float64Array(classes);
  for (let n = 0; n < rows; n++) {
    let total = 0;
    for (let k = 0; k < classes; k++) {
      let z = 0;
      for (let j = 0; j < cols; j++) z += x[n * cols + j] * w[k * cols + j];
      logits[k] = Math.exp(z);
      total += logits[k];
    }
    let cumulative = 0;
    let label = classes - 1;
    for (let k = 0; k < classes; k++) {
      cumulative += logits[k] / total;
      if (u[n] < cumulative) {
        label = k;
        break;
      }
    }
    y[n] = label;
  }
  return makeDataset(x, y, rows, cols);
}

/** Central finite-difference gradient of f at θ with step h. */
export function finiteDifferenceGradient(f: (theta: Vec) => number, theta: Vec, h = 1e-5): Float64Array {
  const grad = new Float64Array(theta.length);
  const shifted = Float64Array.from(theta);
  for (let i = 0; i < theta.length; i++) {
    shifted[i] = theta[i] + h;
    const up = f(shifted);
    shifted[i] = theta[i] - h;
    const down = f(shifted);
    shifted[i] = theta[i];
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Central finite-difference Jacobian of a gradient (rows = coordinate of the gradient). */
export function finiteDifferenceHessian(g: (theta: Vec) => Vec, theta: Vec, h = 1e-5): Float64Array {
  const d = theta.length;
  const H = new Float64Array(d * d);
  const shifted = Float64Array.from(theta);
  for (let j = 0; j < d; j++) {
    shifted[j] = theta[j] + h;
    const up = Float64Array.from(g(shifted));
    shifted[j] = theta[j] - h;
    const down = g(shifted);
    shifted[j] = theta[j];
    for (let i = 0; i < d; i++) H[i * d + j] = (up[i] - down[i]) / (2 * h);
  }
  return H;
}

/**
 * Every entry of `actual` within `relative · max(1, max|expected|)` of `expected`. Central
 * differences have O(h²) truncation plus O(ε/h) rounding error, ~1e-9 relative at h = 1e-5.
 */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relative = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= relative * scale)) {
      expect.fail(`entry ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${relative * scale})`);
    }
  }
}

/** A random θ of length d with standard normal entries times `scale`. */
export function randomTheta(seed: number, d: number, scale = 0.5): Float64Array {
  const theta = normal(key(seed), d);
  for (let i = 0; i < d; i++) theta[i] *= scale;
  return theta;
}
