import { describe, expect, it } from 'vitest';
import { cholesky, logDetSPD } from '../src/core/linalg.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { linearRegression } from '../src/models/linear.js';
import { logisticRegression } from '../src/models/logistic.js';
import {
  VariationalFamilyError,
  elboEstimate,
  elboGradient,
  fitAdamVi,
  fullRankGaussian,
  meanFieldGaussian,
  type FullRankParams,
  type GaussianFamily,
  type MeanFieldParams,
} from '../src/vi/gaussianFamilies.js';
import { classificationData, expectAllClose, finiteDifferenceGradient, regressionData } from './models.helpers.js';

const d = 3;
const mean = Float64Array.of(0.5, -1, 2);
// A full covariance with correlations, and its lower Cholesky factor as the full-rank scale.
const cov = Float64Array.of(1, 0.3, -0.2, 0.3, 0.5, 0.1, -0.2, 0.1, 0.8);
const families = [
  { name: 'mean-field', family: meanFieldGaussian(d) as GaussianFamily<MeanFieldParams | FullRankParams>, cov: Float64Array.of(1, 0, 0, 0, 0.5, 0, 0, 0, 0.8) },
  { name: 'full-rank', family: fullRankGaussian(d) as GaussianFamily<MeanFieldParams | FullRankParams>, cov },
];

function gaussianLogDensity(x: Float64Array, m: Float64Array, c: Float64Array): number {
  const n = m.length;
  const L = cholesky(c, n);
  const z = new Float64Array(n);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    let s = x[i] - m[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
    sq += z[i] * z[i];
  }
  return -0.5 * n * Math.log(2 * Math.PI) - 0.5 * logDetSPD(c, n) - 0.5 * sq;
}

describe.each(families)('$name Gaussian family', ({ family, cov: c }) => {
  const p = family.fromMoments(mean, c);

  it('round-trips moments and the unconstrained vector', () => {
    expectAllClose(family.covariance(p), c, 1e-12);
    const back = family.fromVector(family.toVector(p));
    expectAllClose(back.mean, mean, 1e-15);
    expectAllClose(family.covariance(back), c, 1e-12);
  });

  it('logQ is the Gaussian log density and entropy is ½ log det(2πeΣ)', () => {
    const x = Float64Array.of(0.1, 0.2, 1.5);
    expect(family.logQ(x, p)).toBeCloseTo(gaussianLogDensity(x, mean, c), 12);
    expect(family.entropy(p)).toBeCloseTo(0.5 * d * (1 + Math.log(2 * Math.PI)) + 0.5 * logDetSPD(c, d), 12);
  });

  it('samples have the family mean and covariance (4 MCSE)', () => {
    const n = 4000;
    const draws = Array.from({ length: n }, (_, i) => family.sample(foldIn(key(1), i), p));
    for (let i = 0; i < d; i++) {
      const m = draws.reduce((s, x) => s + x[i], 0) / n;
      // MCSE of a sample mean: sd/√n.
      expect(Math.abs(m - mean[i])).toBeLessThan((4 * Math.sqrt(c[i * d + i])) / Math.sqrt(n));
      for (let j = 0; j <= i; j++) {
        const cij = draws.reduce((s, x) => s + (x[i] - mean[i]) * (x[j] - mean[j]), 0) / n;
        // MCSE of a Gaussian sample covariance: √((Σ_ii Σ_jj + Σ_ij²)/n).
        const se = Math.sqrt((c[i * d + i] * c[j * d + j] + c[i * d + j] ** 2) / n);
        expect(Math.abs(cij - c[i * d + j])).toBeLessThan(4 * se);
      }
    }
  });

  it('klToPrior matches a Monte Carlo estimate of E_q[log q − log p₀] (4 MCSE)', () => {
    const n = 4000;
    const values = Array.from({ length: n }, (_, i) => {
      const x = family.sample(foldIn(key(2), i), p);
      let logPrior = -0.5 * d * Math.log(2 * Math.PI);
      for (let j = 0; j < d; j++) logPrior -= 0.5 * x[j] * x[j];
      return family.logQ(x, p) - logPrior;
    });
    const m = values.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
    expect(Math.abs((family.klToPrior as (q: typeof p) => number)(p) - m)).toBeLessThan((4 * sd) / Math.sqrt(n));
  });

  it('elboGradient equals central differences of the fixed-key ELBO objective', () => {
    const data = classificationData(5, 25, 2, 2);
    const model = logisticRegression(data, { priorPrecision: 1 });
    const k = key(3);
    const batch = model.fullBatch();
    const samples = 3;
    const objective = (phi: Float64Array): number => {
      const q = family.fromVector(phi);
      const eps = new Float64Array(d);
      const theta = new Float64Array(d);
      let value = 0;
      for (let s = 0; s < samples; s++) {
        normal(foldIn(k, s), d, eps);
        family.transform(eps, q, theta);
        value += (model.logPrior(theta).value + model.logLikelihood(theta, batch).value) / samples;
      }
      return value + family.entropy(q);
    };
    const phi = family.toVector(p);
    expectAllClose(elboGradient(model, family, p, k, batch, samples), finiteDifferenceGradient(objective, phi), 1e-6);
  });

  it('rejects parameters of the wrong length, naming the function', () => {
    expect(() => family.logQ(new Float64Array(2), p)).toThrow(VariationalFamilyError);
    expect(() => family.fromVector(new Float64Array(1))).toThrow(/fromVector: phi must be a Float64Array of length/);
  });
});

describe('elboEstimate', () => {
  it('is the exact log evidence, with zero MCSE, at the exact posterior of a linear regression', () => {
    const model = linearRegression(regressionData(4, 40, 2), { priorPrecision: 2, noisePrecision: 3 });
    const post = model.exactPosterior();
    const family = fullRankGaussian(model.dim);
    const estimate = elboEstimate(model, family, family.fromMoments(post.mean, post.cov), key(9), 16);
    expect(estimate.elbo).toBeCloseTo(model.logEvidence(), 9);
    expect(estimate.mcse).toBeLessThan(1e-9);
  });

  it('is below the log evidence by KL(q ‖ p) for another q (4 MCSE)', () => {
    const model = linearRegression(regressionData(4, 40, 2), { priorPrecision: 2, noisePrecision: 3 });
    const post = model.exactPosterior();
    const family = meanFieldGaussian(model.dim);
    const q = family.fromMoments(post.mean, post.cov);
    const n = model.dim;
    // KL(N(m, D) ‖ N(m, Σ)) = ½[tr(Σ⁻¹D) − n + log|Σ| − log|D|].
    const precision = model.hessianLogPosterior(post.mean).map((v) => -v);
    let trace = 0;
    let logDetD = 0;
    for (let i = 0; i < n; i++) {
      trace += precision[i * n + i] * post.cov[i * n + i];
      logDetD += Math.log(post.cov[i * n + i]);
    }
    const kl = 0.5 * (trace - n + logDetSPD(post.cov, n) - logDetD);
    const estimate = elboEstimate(model, family, q, key(10), 2000);
    expect(Math.abs(estimate.elbo - (model.logEvidence() - kl))).toBeLessThan(4 * estimate.mcse);
  });
});

describe('fitAdamVi', () => {
  it('reaches the mean-field optimum of a linear regression (mean m, precisions diag A)', () => {
    const model = linearRegression(regressionData(6, 50, 2), { priorPrecision: 1, noisePrecision: 2 });
    const post = model.exactPosterior();
    const A = model.hessianLogPosterior(post.mean).map((v) => -v);
    const family = meanFieldGaussian(model.dim);
    const { params } = fitAdamVi(model, family, { steps: 3000, samples: 4, learningRate: (t) => 0.05 / (1 + t / 100), seed: 1 });
    const n = model.dim;
    for (let i = 0; i < n; i++) {
      const sdOpt = 1 / Math.sqrt(A[i * n + i]);
      // Stochastic optimisation leaves residual noise: a tenth of the optimal sd is far below the
      // prior-to-posterior distance (several sds) the run had to cover.
      expect(Math.abs(params.mean[i] - post.mean[i])).toBeLessThan(0.1 * sdOpt);
      expect(Math.abs(Math.exp(params.logSd[i]) / sdOpt - 1)).toBeLessThan(0.1);
    }
  });

  it('rejects a batch size above N', () => {
    const model = linearRegression(regressionData(6, 10, 2));
    expect(() => fitAdamVi(model, meanFieldGaussian(model.dim), { steps: 1, batchSize: 11 })).toThrow(/batchSize must be an integer in \[1, 10\]/);
  });
});
