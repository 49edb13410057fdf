/** Shared fixtures of the sampler tests: small targets with known posteriors, i.i.d. minibatches, hand gradients. */
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import type { Dataset, IndexBatch, Target, Vec } from '../src/core/types.js';

/** Prior N(0, I), observations x_i ~ N(θ, Λ⁻¹): posterior precision P = I + NΛ, mean P⁻¹ΛΣx_i. */
export function gaussianTarget(n: number, seed: number) {
  const lambda = [1, 0.7, 0.7, 1];
  const z = normal(key(seed), 2 * n);
  const data = Float64Array.from(z, (v, i) => (i % 2 === 0 ? 1 + v : -0.5 + 0.6 * z[i - 1] + v));
  const target: Target<IndexBatch> = {
    dim: 2,
    dataSize: n,
    logPrior: (theta: Vec) => ({ value: -0.5 * (theta[0] ** 2 + theta[1] ** 2), grad: Float64Array.of(-theta[0], -theta[1]) }),
    logLikelihood(theta: Vec, batch: IndexBatch) {
      let value = 0;
      const grad = new Float64Array(2);
      for (const i of batch) {
        const r0 = data[2 * i] - theta[0];
        const r1 = data[2 * i + 1] - theta[1];
        const l0 = lambda[0] * r0 + lambda[1] * r1;
        const l1 = lambda[2] * r0 + lambda[3] * r1;
        value -= 0.5 * (r0 * l0 + r1 * l1);
        grad[0] += l0;
        grad[1] += l1;
      }
      return { value, grad };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: n }, (_, i) => i),
  };
  const P = [1 + n * lambda[0], n * lambda[1], n * lambda[2], 1 + n * lambda[3]];
  const det = P[0] * P[3] - P[1] * P[2];
  const cov = [P[3] / det, -P[1] / det, -P[2] / det, P[0] / det];
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    s0 += data[2 * i];
    s1 += data[2 * i + 1];
  }
  const b = [lambda[0] * s0 + lambda[1] * s1, lambda[2] * s0 + lambda[3] * s1];
  const mean = [cov[0] * b[0] + cov[1] * b[1], cov[2] * b[0] + cov[3] * b[1]];
  return { target, mean, cov, P };
}

/**
 * y = 0.3 + x₁ − 0.5 x₂ + noise/2 with correlated, unequally scaled features (x₁ = 3z₁,
 * x₂ = 0.9z₁ + 0.4z₂), so the posterior is far from isotropic and the preconditioners differ.
 */
export function correlatedRegression(seed: number, rows: number): Dataset {
  const z = normal(key(seed), 2 * rows);
  const e = normal(key(seed + 1), rows);
  const x = new Float64Array(2 * rows);
  const y = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    x[2 * n] = 3 * z[2 * n];
    x[2 * n + 1] = 0.9 * z[2 * n] + 0.4 * z[2 * n + 1];
    y[n] = 0.3 + x[2 * n] - 0.5 * x[2 * n + 1] + 0.5 * e[n];
  }
  return { x, y, rows, cols: 2, featureNames: ['x1', 'x2'], targetName: 'y', source: 'synthetic' };
}

/** S indices drawn uniformly with replacement (the i.i.d. minibatches of Mandt et al.'s A1). */
export function batchAt(seed: number, t: number, n: number, size: number): IndexBatch {
  return Int32Array.from(uniform(foldIn(key(seed), t), size), (v) => Math.floor(v * n));
}

/** ĝ_S = −(1/N)(∇log prior + (N/S)∇log lik), by hand. */
export function lossGradientByHand(target: Target<IndexBatch>, theta: Vec, batch: IndexBatch): Float64Array {
  const prior = target.logPrior(theta).grad;
  const lik = target.logLikelihood(theta, batch).grad;
  const n = target.dataSize;
  return Float64Array.from(prior, (g, i) => -(g + (n / batch.length) * lik[i]) / n);
}
