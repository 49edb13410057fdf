import { describe, expect, it } from 'vitest';
import { linearRegression, ModelError } from '../src/models/index.js';
import { fullGradient, scaledLogPosteriorOf, scaledLogPosteriorWithExamplesOf } from '../src/models/estimator.js';
import { cholesky, choleskySolve, matmul } from '../src/core/linalg.js';
import { key, normal } from '../src/core/random.js';
import type { Vec } from '../src/core/types.js';
import {
  expectAllClose,
  finiteDifferenceGradient,
  finiteDifferenceHessian,
  makeDataset,
  randomTheta,
  regressionData,
} from './models.helpers.js';

const variants = [
  { name: 'known τ, intercept', options: { priorPrecision: 2, noisePrecision: 3 } },
  { name: 'known τ, no intercept', options: { priorPrecision: 0.5, noisePrecision: 1, intercept: false } },
  { name: 'learned τ, intercept', options: { priorPrecision: 1.5, learnNoise: { shape: 2, rate: 3 } } },
];

describe('linearRegression one-pass per-example and minibatch kernel', () => {
  const sameBits = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  // 3 features take the JavaScript row gathers, 20 the WebAssembly ones (from 16 features).
  for (const cols of [3, 20]) {
    const data = regressionData(12, 40, cols);
    // Odd size and a repeated row: the four-row blocks and their remainder.
    const batch = Int32Array.of(0, 7, 7, 39, 12, 3, 21);
    for (const { name, options } of variants) {
      it(`${name}, ${cols} features: the bits of perExampleGrads and the fused kernel`, () => {
        const model = linearRegression(data, options);
        const theta = randomTheta(5, model.dim);
        const kernel = scaledLogPosteriorWithExamplesOf(model);
        const fused = scaledLogPosteriorOf(model);
        if (!kernel || !fused) throw new Error('linearRegression registers both kernels');
        const rows = new Float64Array(batch.length * model.dim + 2).fill(NaN);
        const grad = new Float64Array(model.dim);
        const value = kernel(theta, batch, 40 / 7, grad, rows);
        const wantRows = new Float64Array(batch.length * model.dim + 2).fill(NaN);
        model.perExampleGrads(theta, batch, wantRows);
        const wantGrad = new Float64Array(model.dim);
        const wantValue = fused(theta, batch, 40 / 7, wantGrad);
        expect(sameBits(rows, wantRows)).toBe(true);
        expect(sameBits(grad, wantGrad)).toBe(true);
        expect(Object.is(value, wantValue)).toBe(true);
      });
    }
  }

  it('names a row index outside the data and a short per-example buffer as perExampleGrads does', () => {
    const model = linearRegression(regressionData(13, 10, 2), {});
    const kernel = scaledLogPosteriorWithExamplesOf(model);
    if (!kernel) throw new Error('linearRegression registers the kernel');
    const theta = new Float64Array(model.dim);
    const out = new Float64Array(model.dim);
    expect(() => kernel(theta, Int32Array.of(1, 10), 5, out, new Float64Array(2 * model.dim))).toThrow(
      'linearRegression.perExampleGrads: batch[1] = 10 is not a row index in 0..9',
    );
    expect(() => kernel(theta, Int32Array.of(1, 2), 5, out, new Float64Array(5))).toThrow(/perExampleGrads: out must be a Float64Array of at least 6 entries/);
  });
});

describe('linearRegression gradients', () => {
  const data = regressionData(11, 30, 3);
  const batch = Int32Array.of(0, 5, 5, 17, 29);
  for (const { name, options } of variants) {
    it(`${name}: prior, likelihood and per-example rows match central differences`, () => {
      const model = linearRegression(data, options);
      const theta = randomTheta(3, model.dim);
      expectAllClose(model.logPrior(theta).grad, finiteDifferenceGradient((t) => model.logPrior(t).value, theta));
      expectAllClose(
        model.logLikelihood(theta, batch).grad,
        finiteDifferenceGradient((t) => model.logLikelihood(t, batch).value, theta),
      );
      const rows = new Float64Array(batch.length * model.dim);
      model.perExampleGrads(theta, batch, rows);
      for (let i = 0; i < batch.length; i++) {
        const single = batch.subarray(i, i + 1);
        expectAllClose(
          rows.subarray(i * model.dim, (i + 1) * model.dim),
          finiteDifferenceGradient((t) => model.logLikelihood(t, single).value, theta),
        );
      }
      // Rows sum to the batch gradient (up to summation-order rounding).
      const sum = new Float64Array(model.dim);
      for (let i = 0; i < batch.length; i++) for (let j = 0; j < model.dim; j++) sum[j] += rows[i * model.dim + j];
      expectAllClose(sum, model.logLikelihood(theta, batch).grad, 1e-12);
    });

    it(`${name}: the Hessian matches differences of the full gradient`, () => {
      const model = linearRegression(data, options);
      const theta = randomTheta(4, model.dim);
      const numeric = finiteDifferenceHessian((t) => fullGradient(model, t).grad, theta);
      expectAllClose(model.hessianLogPosterior(theta), numeric, 1e-7);
    });
  }

  it('the prior and likelihood are normalised densities (values against closed forms)', () => {
    const tiny = makeDataset(Float64Array.of(2), Float64Array.of(1), 1, 1);
    const model = linearRegression(tiny, { priorPrecision: 4, noisePrecision: 2 });
    const theta = Float64Array.of(0.5, -0.25);
    // log N(w; 0, 1/4) per coordinate and log N(1; 2·0.5 − 0.25, 1/2).
    const logNormal = (v: number, precision: number) => 0.5 * Math.log(precision / (2 * Math.PI)) - 0.5 * precision * v * v;
    expect(model.logPrior(theta).value).toBeCloseTo(logNormal(0.5, 4) + logNormal(-0.25, 4), 12);
    expect(model.logLikelihood(theta, model.fullBatch()).value).toBeCloseTo(logNormal(1 - 0.75, 2), 12);
  });
});

describe('linearRegression exact posterior and evidence', () => {
  const data = regressionData(21, 40, 3);
  const model = linearRegression(data, { priorPrecision: 2, noisePrecision: 4 });

  it('the posterior mean is a stationary point and the covariance is the inverse negative Hessian', () => {
    const { mean, cov } = model.exactPosterior();
    const { grad } = fullGradient(model, mean);
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-9);
    const H = model.hessianLogPosterior(mean);
    const product = matmul(cov, H, 4, 4, 4);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(product[i * 4 + j]).toBeCloseTo(i === j ? -1 : 0, 10);
  });

  it('logEvidence equals the Gaussian marginal N(y; 0, τ⁻¹I + λ⁻¹X̃X̃ᵀ) and the (exact) Laplace formula', () => {
    const N = data.rows;
    const lambda = 2;
    const tau = 4;
    const marginal = new Float64Array(N * N);
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < N; b++) {
        let s = 1; // the intercept column
        for (let j = 0; j < 3; j++) s += data.x[a * 3 + j] * data.x[b * 3 + j];
        marginal[a * N + b] = s / lambda + (a === b ? 1 / tau : 0);
      }
    }
    const L = cholesky(marginal, N);
    const alpha = choleskySolve(L, data.y, N);
    let quadratic = 0;
    let logDet = 0;
    for (let i = 0; i < N; i++) {
      quadratic += data.y[i] * alpha[i];
      logDet += 2 * Math.log(L[i * N + i]);
    }
    const direct = -0.5 * quadratic - 0.5 * logDet - 0.5 * N * Math.log(2 * Math.PI);
    expect(model.logEvidence()).toBeCloseTo(direct, 9);

    // Laplace is exact for a Gaussian posterior: log p(y) = log p(y|m) + log p(m) + (q/2) log 2π + ½ log|Σ|.
    const { mean, cov } = model.exactPosterior();
    const joint = fullGradient(model, mean).value;
    const Lc = cholesky(cov, 4);
    let logDetCov = 0;
    for (let i = 0; i < 4; i++) logDetCov += 2 * Math.log(Lc[i * 4 + i]);
    expect(model.logEvidence()).toBeCloseTo(joint + 2 * Math.log(2 * Math.PI) + 0.5 * logDetCov, 9);
  });

  it('logEvidence matches brute-force Monte Carlo over the prior on a tiny problem', () => {
    const tiny = makeDataset(Float64Array.of(0.5, -1, 1.5), Float64Array.of(0.2, -0.7, 1.1), 3, 1);
    const small = linearRegression(tiny, { priorPrecision: 1, noisePrecision: 2 });
    const draws = 100_000;
    const z = normal(key(5), 2 * draws);
    const likelihoods = new Float64Array(draws);
    const all = small.fullBatch();
    const theta = new Float64Array(2);
    for (let m = 0; m < draws; m++) {
      theta[0] = z[2 * m];
      theta[1] = z[2 * m + 1];
      likelihoods[m] = Math.exp(small.logLikelihood(theta, all).value);
    }
    let mean = 0;
    for (const v of likelihoods) mean += v;
    mean /= draws;
    let variance = 0;
    for (const v of likelihoods) variance += (v - mean) ** 2;
    variance /= draws - 1;
    // Delta method: sd(log Ẑ) ≈ sd(L) / (Ẑ √M); allow 4 standard errors.
    const standardError = Math.sqrt(variance / draws) / mean;
    expect(Math.abs(Math.log(mean) - small.logEvidence())).toBeLessThan(4 * standardError);
    expect(standardError).toBeLessThan(0.02); // the check has teeth
  });

  it('the evidence-optimal λ is a stationary maximum of logEvidence', () => {
    const lambdaStar = model.evidenceOptimalPriorPrecision();
    expect(lambdaStar).toBeGreaterThan(0);
    const h = 1e-4;
    const derivative = (model.logEvidence(lambdaStar * Math.exp(h)) - model.logEvidence(lambdaStar * Math.exp(-h))) / (2 * h);
    expect(Math.abs(derivative)).toBeLessThan(1e-6);
    const best = model.logEvidence(lambdaStar);
    expect(model.logEvidence(lambdaStar * 1.5)).toBeLessThan(best);
    expect(model.logEvidence(lambdaStar / 1.5)).toBeLessThan(best);
  });

  it('the evidence-optimal λ is refused, with a reason, when y shows no signal in X', () => {
    const x = normal(key(61), 200);
    const noise = normal(key(62), 100);
    for (let i = 0; i < 100; i++) noise[i] *= 0.3;
    // τ‖X̃ᵀy‖² ≈ 0.09 tr(X̃ᵀX̃) < tr(X̃ᵀX̃): the evidence increases all the way to λ = ∞.
    const pureNoise = linearRegression(makeDataset(x, noise, 100, 2), { noisePrecision: 1 });
    expect(() => pureNoise.evidenceOptimalPriorPrecision()).toThrow(/evidence keeps increasing as λ → ∞/);
    const zeros = linearRegression(makeDataset(x, new Float64Array(100), 100, 2));
    expect(() => zeros.evidenceOptimalPriorPrecision()).toThrow(ModelError);
  });

  it('with learned τ, the closed forms need τ and condition on it', () => {
    const learned = linearRegression(data, { priorPrecision: 2, learnNoise: { shape: 1, rate: 1 } });
    expect(() => learned.exactPosterior()).toThrow(/learns τ/);
    expect(learned.exactPosterior(4).mean).toEqual(model.exactPosterior().mean);
    expect(learned.logEvidence(2, 4)).toBeCloseTo(model.logEvidence(), 12);
  });

  it('predictMean is X̃w', () => {
    const theta = Float64Array.of(1, -2, 0.5, 3);
    const prediction = model.predictMean(theta, Float64Array.of(1, 1, 1, 0, 0, 2));
    expectAllClose(prediction, [1 - 2 + 0.5 + 3, 1 + 3], 1e-15);
  });
});

describe('linearRegression bad input', () => {
  const data = regressionData(31, 10, 2);
  const model = linearRegression(data);

  it('names the wrong θ length and the layout', () => {
    expect(() => model.logPrior(new Float64Array(2))).toThrow(ModelError);
    expect(() => model.logLikelihood(new Float64Array(4), model.fullBatch())).toThrow(
      /theta has length 4, expected 3 \(2 weights \+ intercept\)/,
    );
  });

  it('names a row index outside the data', () => {
    const theta = new Float64Array(3);
    expect(() => model.logLikelihood(theta, Int32Array.of(0, 10))).toThrow(/batch\[1\] = 10 is not a row index in 0\.\.9/);
    expect(() => model.perExampleGrads(theta, Int32Array.of(-1), new Float64Array(3))).toThrow(/batch\[0\] = -1/);
    expect(() => model.perExampleGrads(theta, Int32Array.of(0, 1), new Float64Array(3))).toThrow(/out must be/);
  });

  it('names the row and feature of a NaN in the data, and bad options', () => {
    const x = Float64Array.from(data.x);
    x[5] = NaN;
    expect(() => linearRegression(makeDataset(x, data.y, 10, 2, 'wine.csv'))).toThrow(/wine\.csv: row 3, feature "x2" is NaN/);
    const y = Float64Array.from(data.y);
    y[0] = Infinity;
    expect(() => linearRegression(makeDataset(data.x, y, 10, 2))).toThrow(/row 1, target "y" is Infinity/);
    expect(() => linearRegression(data, { priorPrecision: -1 })).toThrow(/priorPrecision must be a finite number > 0/);
    expect(() => linearRegression(data, { learnNoise: { shape: 0, rate: 1 } })).toThrow(/learnNoise\.shape/);
    expect(() => model.predictMean(new Float64Array(3), Float64Array.of(1, 2, 3))).toThrow(/not a multiple of the 2 features/);
  });
});

describe('linearRegression learned-noise prior', () => {
  it('integrates to one over log τ (Gamma density with the Jacobian)', () => {
    const model = linearRegression(regressionData(41, 5, 1), { learnNoise: { shape: 2.5, rate: 1.5 } });
    const theta: Vec = new Float64Array(model.dim);
    let integral = 0;
    const step = 0.001;
    for (let u = -15; u < 8; u += step) {
      theta[model.dim - 1] = u;
      // Subtract the (normalised) Gaussian part at w = 0 to leave the density of u.
      integral += Math.exp(model.logPrior(theta).value - (model.weightDim * -0.5 * Math.log(2 * Math.PI))) * step;
    }
    expect(integral).toBeCloseTo(1, 6);
  });
});
