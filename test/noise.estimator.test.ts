import { describe, expect, it } from 'vitest';
import { key, normal, randomBits } from '../src/core/random.js';
import { symmetricEigen } from '../src/core/linalg.js';
import { linearRegression } from '../src/models/linear.js';
import { logisticRegression } from '../src/models/logistic.js';
import {
  createNoiseEstimator,
  exactNoiseCovariance,
  noiseCovarianceFromMatrix,
  noiseCovarianceMatrix,
} from '../src/noise/estimator.js';
import { NoiseError } from '../src/noise/types.js';
import { classificationData, regressionData } from './models.helpers.js';

const data = regressionData(11, 60, 3, 0.7);
const model = linearRegression(data, { priorPrecision: 2, noisePrecision: 1.5 });
const theta = Float64Array.from([0.3, -0.2, 0.5, 0.1]);
const d = model.dim;

/** The population covariance of the per-example gradients computed one row at a time through logLikelihood. */
function bruteForceCovariance(): Float64Array {
  const N = data.rows;
  const grads: Float64Array[] = [];
  for (let n = 0; n < N; n++) {
    // ∇ℓ_n = −∇ log p(x_n|θ) − (1/N)∇ log p(θ): the prior term is included to check it cancels.
    const lik = model.logLikelihood(theta, Int32Array.of(n)).grad;
    const prior = model.logPrior(theta).grad;
    grads.push(lik.map((g, k) => -g - prior[k] / N));
  }
  const mean = new Float64Array(d);
  for (const g of grads) for (let k = 0; k < d; k++) mean[k] += g[k] / N;
  const C = new Float64Array(d * d);
  for (const g of grads) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C[a * d + b] += ((g[a] - mean[a]) * (g[b] - mean[b])) / N;
  return C;
}

/** Random index batches with replacement (so each batch's sample covariance is unbiased for C). */
function batchWithReplacement(seed: number, t: number, S: number, N: number): Int32Array {
  const bits = randomBits(key(seed + t * 7919), S);
  return Int32Array.from(bits, (b) => b % N);
}

describe('exactNoiseCovariance', () => {
  it('equals the covariance of the per-example gradients of ℓ_n, computed row by row', () => {
    const exact = exactNoiseCovariance(model, theta, { chunkSize: 7 });
    const brute = bruteForceCovariance();
    expect(exact.kind).toBe('full');
    expect(exact.count).toBe(60);
    for (let i = 0; i < d * d; i++) expect(exact.full![i]).toBeCloseTo(brute[i], 12);
    let trace = 0;
    for (let k = 0; k < d; k++) trace += brute[k * d + k];
    expect(exact.trace).toBeCloseTo(trace, 12);
  });

  it('returns the trace, diagonal or low-rank form of the same matrix', () => {
    const brute = bruteForceCovariance();
    const scalar = exactNoiseCovariance(model, theta, { kind: 'scalar' });
    const diagonal = exactNoiseCovariance(model, theta, { kind: 'diagonal' });
    const lowrank = exactNoiseCovariance(model, theta, { kind: 'lowrank', rank: d });
    for (let k = 0; k < d; k++) expect(diagonal.diag![k]).toBeCloseTo(brute[k * d + k], 12);
    expect(scalar.trace).toBeCloseTo(diagonal.trace, 12);
    // A full-rank "low-rank" form reproduces C.
    const rebuilt = noiseCovarianceMatrix(lowrank);
    for (let i = 0; i < d * d; i++) expect(rebuilt[i]).toBeCloseTo(brute[i], 10);
  });

  it('works for logistic regression too and names a target without per-example gradients', () => {
    const logistic = logisticRegression(classificationData(3, 40, 2, 2));
    const C = exactNoiseCovariance(logistic, new Float64Array(3));
    // At θ = 0 every σ(z) = ½, so ∇ log p(y|x) = (y − ½)x̃ and C_bias,bias = Var(y − ½) = p(1 − p).
    const p = logistic.data.y.reduce((s, y) => s + y, 0) / 40;
    expect(C.full![2 * 3 + 2]).toBeCloseTo(p * (1 - p), 12);
    const { perExampleGrads: _drop, ...withoutGrads } = model;
    expect(() => exactNoiseCovariance(withoutGrads, theta)).toThrow(/no perExampleGrads/);
  });
});

describe('createNoiseEstimator', () => {
  const exact = exactNoiseCovariance(model, theta).full!;
  const S = 8;
  const T = 400;
  const N = data.rows;

  function feed(kind: 'scalar' | 'diagonal' | 'full' | 'lowrank', rank?: number, decay?: number) {
    const estimator = createNoiseEstimator(kind, d, { rank, decay: decay === undefined ? (t: number) => 1 / t : decay });
    const buffer = new Float64Array(S * d);
    const perBatch: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      model.perExampleGrads(theta, batchWithReplacement(5, t, S, N), buffer);
      estimator.update(buffer, S);
      if (kind === 'full') perBatch.push(createSingle(buffer));
    }
    return { estimator, perBatch };
  }

  /** One batch's sample covariance (a κ = 1 estimator). */
  function createSingle(buffer: Float64Array): Float64Array {
    const single = createNoiseEstimator('full', d, { decay: 1 });
    single.update(buffer, S);
    return single.snapshot().full!;
  }

  it("with κ_t = 1/t is the mean of the batches' sample covariances, unbiased for C", () => {
    const { estimator, perBatch } = feed('full');
    const estimate = estimator.snapshot().full!;
    expect(estimator.count).toBe(T);
    for (let i = 0; i < d * d; i++) {
      // Tolerance: 4.5 Monte Carlo standard errors of the mean of T independent batch estimates.
      const values = perBatch.map((c) => c[i]);
      const mean = values.reduce((s, v) => s + v, 0) / T;
      expect(estimate[i]).toBeCloseTo(mean, 10);
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (T - 1));
      expect(Math.abs(estimate[i] - exact[i])).toBeLessThan((4.5 * sd) / Math.sqrt(T));
    }
  });

  it('scalar, diagonal and full-rank low-rank estimators track the same numbers as the full one', () => {
    const full = feed('full').estimator.snapshot();
    const diagonal = feed('diagonal').estimator.snapshot();
    const scalar = feed('scalar').estimator.snapshot();
    const lowrank = feed('lowrank', d).estimator.snapshot();
    expect(scalar.trace).toBeCloseTo(full.trace, 10);
    expect(diagonal.trace).toBeCloseTo(full.trace, 10);
    for (let k = 0; k < d; k++) expect(diagonal.diag![k]).toBeCloseTo(full.full![k * d + k], 10);
    const rebuilt = noiseCovarianceMatrix(lowrank);
    for (let i = 0; i < d * d; i++) expect(rebuilt[i]).toBeCloseTo(full.full![i], 9);
    expect(lowrank.trace).toBeCloseTo(full.trace, 10);
  });

  it('a rank-k estimate keeps the top eigenpairs of a spiked covariance and the exact trace', () => {
    // Gradients g = 3·z₁u₁ + 2·z₂u₂ + 0.5·ε in d = 12: C = 9u₁u₁ᵀ + 4u₂u₂ᵀ + 0.25 I.
    const dim = 12;
    const u1 = new Float64Array(dim).fill(1 / Math.sqrt(dim));
    const u2 = new Float64Array(dim).map((_, i) => (i % 2 === 0 ? 1 : -1) / Math.sqrt(dim));
    const estimator = createNoiseEstimator('lowrank', dim, { rank: 2, decay: (t) => 1 / t });
    const full = createNoiseEstimator('full', dim, { decay: (t) => 1 / t });
    const rows = 20;
    for (let t = 0; t < 300; t++) {
      const z = normal(key(1000 + t), rows * (dim + 2));
      const g = new Float64Array(rows * dim);
      for (let i = 0; i < rows; i++) {
        const base = i * (dim + 2);
        for (let a = 0; a < dim; a++) g[i * dim + a] = 3 * z[base] * u1[a] + 2 * z[base + 1] * u2[a] + 0.5 * z[base + 2 + a];
      }
      estimator.update(g, rows);
      full.update(g, rows);
    }
    const low = estimator.snapshot();
    const reference = full.snapshot();
    expect(low.rank).toBe(2);
    expect(low.trace).toBeCloseTo(reference.trace, 9);
    // The leading eigenvalues of the low-rank estimate equal those of the full running estimate up to
    // the discarded mass folded into σ²I, and sit near 9.25 and 4.25 (MC error ~ 9·√(2/6000) ≈ 0.16).
    const { values } = symmetricEigen(reference.full!, dim);
    const sorted = Array.from(values).sort((a, b) => b - a);
    expect(low.eigenvalues![0] + low.isotropic!).toBeCloseTo(sorted[0], 0);
    expect(Math.abs(low.eigenvalues![0] + low.isotropic! - 9.25)).toBeLessThan(0.8);
    expect(Math.abs(low.eigenvalues![1] + low.isotropic! - 4.25)).toBeLessThan(0.5);
    expect(Math.abs(low.isotropic! - 0.25)).toBeLessThan(0.08);
    // The kept direction is u₁ (up to sign).
    let overlap = 0;
    for (let a = 0; a < dim; a++) overlap += low.factor![a * 2] * u1[a];
    expect(Math.abs(overlap)).toBeGreaterThan(0.98);
  });

  it('updateSingle (Eq. 21 with the S/(S−1) bias correction) is unbiased for C', () => {
    const estimator = createNoiseEstimator('full', d, { decay: (t) => 1 / t });
    const buffer = new Float64Array(S * d);
    const steps = 4000;
    const traces: number[] = [];
    for (let t = 0; t < steps; t++) {
      model.perExampleGrads(theta, batchWithReplacement(9, t, S, N), buffer);
      const mean = new Float64Array(d);
      for (let i = 0; i < S; i++) for (let k = 0; k < d; k++) mean[k] += buffer[i * d + k] / S;
      const first = buffer.subarray(0, d);
      estimator.updateSingle(Float64Array.from(first), mean, S);
      let tr = 0;
      for (let k = 0; k < d; k++) tr += ((first[k] - mean[k]) ** 2 * S) / (S - 1);
      traces.push(tr);
    }
    // Tolerance: 4 MC standard errors of the mean of the single-pair trace estimates.
    const mean = traces.reduce((s, v) => s + v, 0) / steps;
    const sd = Math.sqrt(traces.reduce((s, v) => s + (v - mean) ** 2, 0) / (steps - 1));
    let exactTrace = 0;
    for (let k = 0; k < d; k++) exactTrace += exact[k * d + k];
    expect(estimator.snapshot().trace).toBeCloseTo(mean, 9);
    expect(Math.abs(mean - exactTrace)).toBeLessThan((4 * sd) / Math.sqrt(steps));
  });

  it('with the default decay forgets old batches once 1/t falls below the floor', () => {
    const estimator = createNoiseEstimator('scalar', 1);
    // 2000 batches of variance 1, then 5000 of variance 4: κ = 10⁻³ forgets the first regime as e^{−5}.
    for (let t = 0; t < 7000; t++) {
      const scale = t < 2000 ? 1 : 2;
      estimator.update(normal(key(t), 50).map((v) => scale * v), 50);
    }
    const estimate = estimator.snapshot().trace;
    // The EMA's weight on the first regime is e^{−5} ≈ 0.007, so ≈ 4 − 3·0.007; MC error ~ 0.02.
    expect(estimate).toBeGreaterThan(3.85);
    expect(estimate).toBeLessThan(4.1);
  });

  it('rejects bad input with a message that names it', () => {
    expect(() => createNoiseEstimator('dense' as never, 3)).toThrow(NoiseError);
    expect(() => createNoiseEstimator('full', 0)).toThrow(/dim must be a positive integer/);
    expect(() => createNoiseEstimator('lowrank', 3, { rank: 4 })).toThrow(/rank must be an integer in \[1, 3\]/);
    const estimator = createNoiseEstimator('full', 2);
    expect(() => estimator.update(new Float64Array(2), 1)).toThrow(/batch size must be an integer ≥ 2/);
    expect(() => estimator.update(new Float64Array(3), 2)).toThrow(/2 × 2 = 4 entries/);
    expect(() => estimator.update(Float64Array.of(1, 2, NaN, 0), 2)).toThrow(/row 1, coordinate 0 is NaN/);
    const bad = createNoiseEstimator('full', 2, { decay: 2 });
    expect(() => bad.update(Float64Array.of(1, 2, 3, 4), 2)).toThrow(/decay κ_1 must be in \(0, 1\]/);
    expect(() => noiseCovarianceFromMatrix(new Float64Array(3), 2)).toThrow(/2×2 entries/);
  });
});
