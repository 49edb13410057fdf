import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../src/core/linalg.js';
import { key } from '../src/core/random.js';
import { linearRegression } from '../src/models/linear.js';
import { logisticRegression } from '../src/models/logistic.js';
import { softmaxRegression } from '../src/models/softmax.js';
import { elboEstimate, fullRankGaussian } from '../src/vi/gaussianFamilies.js';
import {
  NgviError,
  fitNgvi,
  gaussHermite,
  gaussNewtonCurvature,
  gradientMagnitudeCurvature,
  logisticExactElbo,
  logisticReferenceVi,
  ngvi,
  ngviCovariance,
  runNgviComparison,
  squaredGradientCurvature,
} from '../src/vi/ngvi.js';
import { classificationData, expectAllClose, randomTheta, regressionData } from './models.helpers.js';

const negate = (a: Float64Array): Float64Array => a.map((v) => -v);

describe('curvature estimators', () => {
  const reg = linearRegression(regressionData(1, 30, 3), { priorPrecision: 2, noisePrecision: 3 });
  const logit = logisticRegression(classificationData(2, 30, 3, 2), { priorPrecision: 0.5 });
  const soft = softmaxRegression(classificationData(3, 30, 2, 3), { classes: 3, priorPrecision: 1.5 });
  const glms = [
    { name: 'linear', model: reg },
    { name: 'logistic', model: logit },
    { name: 'softmax', model: soft },
  ];

  it.each(glms)('Gauss–Newton of the $name model is the exact likelihood Hessian, full and diagonal', ({ model }) => {
    const theta = randomTheta(4, model.dim);
    const batch = model.fullBatch();
    const d = model.dim;
    const estimator = gaussNewtonCurvature(model);
    const grad = new Float64Array(d);
    const full = new Float64Array(d * d);
    estimator.estimate(theta, batch, 'full', grad, full);
    const hessian = negate(model.hessianLogPosterior(theta));
    for (let j = 0; j < d; j++) hessian[j * d + j] -= model.priorPrecision;
    expectAllClose(full, hessian, 1e-12);
    expectAllClose(grad, model.logLikelihood(theta, batch).grad, 1e-12);
    const diagonal = new Float64Array(d);
    estimator.estimate(theta, batch, 'diagonal', grad, diagonal);
    expectAllClose(diagonal, Float64Array.from({ length: d }, (_, j) => hessian[j * d + j]), 1e-12);
  });

  it('squared gradients sum per-example outer products; gradient magnitude is S ḡḡᵀ', () => {
    const theta = randomTheta(5, logit.dim);
    const batch = Int32Array.of(3, 7, 7, 20);
    const d = logit.dim;
    const rows = new Float64Array(batch.length * d);
    logit.perExampleGrads(theta, batch, rows);
    const expected = new Float64Array(d * d);
    for (let i = 0; i < batch.length; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expected[a * d + b] += rows[i * d + a] * rows[i * d + b];
    const grad = new Float64Array(d);
    const full = new Float64Array(d * d);
    squaredGradientCurvature(logit).estimate(theta, batch, 'full', grad, full);
    expectAllClose(full, expected, 1e-12);
    expectAllClose(grad, logit.logLikelihood(theta, batch).grad, 1e-12);
    const diag = new Float64Array(d);
    gradientMagnitudeCurvature(logit).estimate(theta, batch, 'diagonal', grad, diag);
    expectAllClose(diag, grad.map((g) => (g * g) / batch.length), 1e-12);
  });

  it('refuses a linear model that learns τ, and a target without per-example gradients', () => {
    const learned = linearRegression(regressionData(1, 10, 2), { learnNoise: { shape: 2, rate: 2 } });
    expect(() => gaussNewtonCurvature(learned)).toThrow(/learns its noise precision/);
    const bare = { ...logit, perExampleGrads: undefined };
    expect(() => squaredGradientCurvature(bare)).toThrow(NgviError);
  });
});

describe('ngvi on a linear regression (Gauss–Newton = exact Hessian)', () => {
  // Nearly uncorrelated features: the diagonal mean step's D⁻¹A has eigenvalues near 1.
  const model = linearRegression(regressionData(7, 64, 3), { priorPrecision: 1, noisePrecision: 2 });
  const post = model.exactPosterior();
  const d = model.dim;
  const A = negate(model.hessianLogPosterior(post.mean));
  const steps = 400;
  // α_t = β_t = c/(t + c): β₀ = 1 replaces the initial precision by the first estimate.
  const c = 2;
  const schedule = (t: number): number => c / (t + c);

  it('full covariance: precision is exactly A and the mean converges at the Robbins–Monro rate', () => {
    const state = fitNgvi(model, { covariance: 'full', curvature: gaussNewtonCurvature(model), learningRate: schedule, steps, seed: 3 });
    expectAllClose(state.precision, A, 1e-10);
    expectAllClose(ngviCovariance(state), post.cov, 1e-9);
    // μ_{t+1} − m = (1 − α_t)(μ_t − m) − α_t δ_t with δ_t ~ N(0, A⁻¹) the perturbation; for
    // α_t = c/(t+c) the error variance tends to c²/(2c − 1) · Σ_ii / T; 4.5 sd covers all d.
    for (let i = 0; i < d; i++) {
      const sd = Math.sqrt(((c * c) / (2 * c - 1)) * (post.cov[i * d + i] / steps));
      expect(Math.abs(state.position[i] - post.mean[i])).toBeLessThan(4.5 * sd);
    }
  });

  it('full covariance with minibatches: after whole epochs the precision averages to A', () => {
    const epochs = 20;
    const batchSize = 16;
    const state = fitNgvi(model, {
      covariance: 'full',
      curvature: gaussNewtonCurvature(model),
      learningRate: (t) => 1 / (t + 1),
      steps: (epochs * model.dataSize) / batchSize,
      batchSize,
      seed: 4,
    });
    // β_t = 1/(t+1) makes S the plain average of the (N/S)·batch Hessians, and each epoch's batches partition the data.
    expectAllClose(state.precision, A, 1e-10);
    // With α_t = 1/(t+1) the mean error has variance ≈ (Σ + A⁻¹CA⁻¹)/T, C the minibatch gradient
    // noise ≈ (N/S − 1)A for a well-specified model, so ≈ (N/S)Σ/T; 4.5 sd covers all d.
    const T = (epochs * model.dataSize) / batchSize;
    for (let i = 0; i < d; i++) {
      const sd = Math.sqrt(((model.dataSize / batchSize) * post.cov[i * d + i]) / T);
      expect(Math.abs(state.position[i] - post.mean[i])).toBeLessThan(4.5 * sd);
    }
  });

  it('diagonal covariance converges to the mean-field optimum: precision diag(A), mean m', () => {
    const state = fitNgvi(model, { covariance: 'diagonal', curvature: gaussNewtonCurvature(model), learningRate: schedule, steps, seed: 5 });
    expectAllClose(state.precision, Float64Array.from({ length: d }, (_, j) => A[j * d + j]), 1e-10);
    // The mean recursion is μ ← μ − α D⁻¹A(θ − m); its slowest mode has rate λ_min(D⁻¹A) ≤ 1,
    // so the asymptotic variance along it is c²/(2cλ_min − 1)/T times the perturbation variance.
    const scaled = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scaled[i * d + j] = A[i * d + j] / Math.sqrt(A[i * d + i] * A[j * d + j]);
    const lambdaMin = symmetricEigen(scaled, d).values[0];
    expect(2 * c * lambdaMin).toBeGreaterThan(1);
    for (let i = 0; i < d; i++) {
      const sd = Math.sqrt(((c * c) / (2 * c * lambdaMin - 1)) * (post.cov[i * d + i] / steps) * (1 / lambdaMin));
      expect(Math.abs(state.position[i] - post.mean[i])).toBeLessThan(4.5 * sd);
    }
  });

  it('one full-batch step with α = β = 1 is a Newton step: it lands on the posterior up to the perturbation', () => {
    const sampler = ngvi(model, { covariance: 'full', curvature: gaussNewtonCurvature(model), learningRate: 1 });
    const start = sampler.init(Float64Array.of(3, -2, 1, 0.5), key(0));
    const [next, info] = sampler.step(key(1), start, model.fullBatch());
    expectAllClose(next.precision, A, 1e-10);
    // μ₁ = μ₀ − A⁻¹A(θ − m) = m − (θ − μ₀): the distance to m is exactly the perturbation's norm.
    let sq = 0;
    for (let i = 0; i < d; i++) sq += (next.position[i] - post.mean[i]) ** 2;
    expect(Math.sqrt(sq)).toBeCloseTo(info.noiseNorm, 10);
  });
});

describe('ngvi sampler contract', () => {
  const model = logisticRegression(classificationData(8, 40, 2, 2));
  const sampler = ngvi(model, { covariance: 'full', curvature: gaussNewtonCurvature(model), learningRate: 0.5, momentum: 0.5 });

  it('same key, same step; inputs are not mutated; info reports step, gradient and noise norms', () => {
    const state = sampler.init(new Float64Array(model.dim), key(0));
    const [s1] = sampler.step(key(1), state, Int32Array.of(0, 1, 2, 3));
    const copy = { position: Float64Array.from(s1.position), precision: Float64Array.from(s1.precision), momentum: Float64Array.from(s1.momentum) };
    const [a, infoA] = sampler.step(key(2), s1, Int32Array.of(4, 5, 6, 7));
    const [b] = sampler.step(key(2), s1, Int32Array.of(4, 5, 6, 7));
    expect(Array.from(a.position)).toEqual(Array.from(b.position));
    expect(Array.from(a.precision)).toEqual(Array.from(b.precision));
    expect(Array.from(s1.position)).toEqual(Array.from(copy.position));
    expect(Array.from(s1.precision)).toEqual(Array.from(copy.precision));
    expect(Array.from(s1.momentum)).toEqual(Array.from(copy.momentum));
    expect(infoA.stepSize).toBe(0.5);
    expect(infoA.gradNorm).toBeGreaterThan(0);
    expect(infoA.noiseNorm).toBeGreaterThan(0);
    expect(a.step).toBe(2);
  });

  it('rejects bad options with messages naming them', () => {
    expect(() => ngvi(model, { covariance: 'full', curvature: gaussNewtonCurvature(model), precisionRate: 2 }).step(key(0), sampler.init(new Float64Array(model.dim), key(0)), Int32Array.of(0))).toThrow(/precision rate at step 0 must be in \(0, 1\]/);
    expect(() => ngvi({ ...model, priorPrecision: undefined } as never, { covariance: 'full', curvature: gaussNewtonCurvature(model) })).toThrow(/give priorPrecision/);
    const other = logisticRegression(classificationData(8, 40, 3, 2));
    expect(() => ngvi(model, { covariance: 'full', curvature: gaussNewtonCurvature(other) })).toThrow(/curvature estimator has dim 4 but the target has dim 3/);
    expect(() => ngvi(model, { covariance: 'banded' as never, curvature: gaussNewtonCurvature(model) })).toThrow(/covariance must be 'diagonal' or 'full'/);
  });
});

describe('logistic reference VI', () => {
  const model = logisticRegression(classificationData(9, 80, 3, 2), { priorPrecision: 1 });
  const d = model.dim;

  it('Gauss–Hermite integrates polynomials exactly', () => {
    const { nodes, weights } = gaussHermite(10);
    const moment = (k: number): number => nodes.reduce((s, z, i) => s + weights[i] * z ** k, 0);
    expect(moment(0)).toBeCloseTo(1, 13);
    expect(moment(2)).toBeCloseTo(1, 12);
    expect(moment(4)).toBeCloseTo(3, 11);
    expect(moment(6)).toBeCloseTo(15, 10);
  });

  it.each(['full', 'diagonal'] as const)('%s: the optimum is stationary — moving the mean or scaling the covariance lowers the exact ELBO', (covariance) => {
    const ref = logisticReferenceVi(model, { covariance });
    const cov = covariance === 'full' ? ref.covariance : Float64Array.from({ length: d }, (_, j) => ref.covariance[j * d + j]);
    expect(logisticExactElbo(model, ref.mean, cov)).toBeCloseTo(ref.elbo, 10);
    for (let j = 0; j < d; j++) {
      for (const h of [-1e-2, 1e-2]) {
        const moved = Float64Array.from(ref.mean);
        moved[j] += h;
        expect(logisticExactElbo(model, moved, cov)).toBeLessThan(ref.elbo);
      }
    }
    for (const s of [0.98, 1.02]) expect(logisticExactElbo(model, ref.mean, cov.map((v) => v * s))).toBeLessThan(ref.elbo);
  });

  it('the exact ELBO agrees with the fixed-key Monte Carlo estimate (4 MCSE)', () => {
    const ref = logisticReferenceVi(model, { covariance: 'full' });
    const family = fullRankGaussian(d);
    const estimate = elboEstimate(model, family, family.fromMoments(ref.mean, ref.covariance), key(11), 2000);
    expect(Math.abs(estimate.elbo - ref.elbo)).toBeLessThan(4 * estimate.mcse);
  });
});

describe('runNgviComparison', () => {
  it('natural-gradient VI reaches the reference ELBO in fewer passes than Adam (small logistic problem)', () => {
    const data = classificationData(12, 128, 4, 2);
    const { rows } = runNgviComparison({
      dataset: data,
      covariances: ['full'],
      methods: ['ngvi-gauss-newton', 'adam'],
      batchSize: 16,
      maxPasses: 25,
      elboSamples: 64,
      ngviSchedules: [{ initial: 1, decaySteps: 3, power: 1 }],
      adamSchedules: [{ initial: 0.03 }, { initial: 0.1, decaySteps: 100, power: 0.5 }],
    });
    const reference = rows.find((r) => r.method === 'reference');
    expect(reference?.tolerance).toBeGreaterThan(0);
    const passes = (method: string): number => Math.min(...rows.filter((r) => r.method === method).map((r) => r.passesToReference ?? Infinity));
    expect(passes('ngvi-gauss-newton')).toBeLessThan(passes('adam'));
    expect(rows.filter((r) => r.best)).toHaveLength(3);
  });
});
