import { describe, expect, it } from 'vitest';
import { logisticRegression, ModelError, softmaxRegression } from '../src/models/index.js';
import { fullGradient } from '../src/models/estimator.js';
import {
  classificationData,
  expectAllClose,
  finiteDifferenceGradient,
  finiteDifferenceHessian,
  makeDataset,
  randomTheta,
} from './models.helpers.js';

describe('softmaxRegression', () => {
  const data = classificationData(13, 50, 3, 4);
  const batch = Int32Array.of(0, 3, 3, 25, 49);

  for (const intercept of [true, false]) {
    it(`gradients match central differences (intercept ${intercept})`, () => {
      const model = softmaxRegression(data, { classes: 4, priorPrecision: 1.3, intercept });
      expect(model.dim).toBe(4 * (3 + (intercept ? 1 : 0)));
      const theta = randomTheta(2, model.dim, 1);
      expectAllClose(model.logPrior(theta).grad, finiteDifferenceGradient((t) => model.logPrior(t).value, theta));
      expectAllClose(
        model.logLikelihood(theta, batch).grad,
        finiteDifferenceGradient((t) => model.logLikelihood(t, batch).value, theta),
      );
      const rows = new Float64Array(batch.length * model.dim);
      model.perExampleGrads(theta, batch, rows);
      const sum = new Float64Array(model.dim);
      for (let i = 0; i < batch.length; i++) {
        const single = batch.subarray(i, i + 1);
        const row = rows.subarray(i * model.dim, (i + 1) * model.dim);
        expectAllClose(row, finiteDifferenceGradient((t) => model.logLikelihood(t, single).value, theta));
        for (let j = 0; j < model.dim; j++) sum[j] += row[j];
      }
      expectAllClose(sum, model.logLikelihood(theta, batch).grad, 1e-12);
      const hessian = finiteDifferenceHessian((t) => fullGradient(model, t).grad, theta);
      expectAllClose(model.hessianLogPosterior(theta), hessian, 1e-7);
    });
  }

  it('Newton and Böhning bound optimisation reach the same mode with zero gradient', () => {
    const model = softmaxRegression(data, { classes: 4 });
    const newton = model.mode({ method: 'newton' });
    const bound = model.mode({ method: 'bound', tolerance: 1e-9 });
    expect(newton.converged).toBe(true);
    expect(bound.converged).toBe(true);
    for (const g of fullGradient(model, newton.theta).grad) expect(Math.abs(g)).toBeLessThan(1e-8);
    for (const g of fullGradient(model, bound.theta).grad) expect(Math.abs(g)).toBeLessThan(1e-9 * 51);
    // Strong concavity (curvature ≥ λ = 1) bounds the distance to the mode by ‖∇‖/λ.
    expectAllClose(bound.theta, newton.theta, 1e-6);
  });

  it('with K = 2 the class-1 minus class-0 weights at the mode are the logistic mode at λ/2', () => {
    const binary = classificationData(17, 40, 2, 2);
    const softmax = softmaxRegression(binary, { classes: 2, priorPrecision: 1 }).mode();
    // At the mode w0 = −w1 (the prior breaks the tie), so v = w1 − w0 = 2 w1 has prior precision λ/2.
    const logistic = logisticRegression(binary, { priorPrecision: 0.5 }).mode();
    const difference = new Float64Array(3);
    for (let j = 0; j < 3; j++) difference[j] = softmax.theta[3 + j] - softmax.theta[j];
    expectAllClose(difference, logistic.theta, 1e-8);
  });

  it('predictProba gives rows on the simplex, stable for huge logits', () => {
    const model = softmaxRegression(data, { classes: 4 });
    const theta = randomTheta(5, model.dim, 300);
    const proba = model.predictProba(theta, data.x.subarray(0, 30));
    expect(proba.length).toBe(40);
    for (let n = 0; n < 10; n++) {
      let total = 0;
      for (let k = 0; k < 4; k++) {
        expect(proba[n * 4 + k]).toBeGreaterThanOrEqual(0);
        total += proba[n * 4 + k];
      }
      expect(total).toBeCloseTo(1, 14);
    }
    expect(Number.isFinite(model.logLikelihood(theta, batch).value)).toBe(true);
  });

  it('rejects labels outside 0..K−1, bad K and wrong θ, naming them', () => {
    const labels = makeDataset(Float64Array.of(1, 2, 3), Float64Array.of(0, 1.5, 2), 3, 1, 'digits.csv');
    expect(() => softmaxRegression(labels, { classes: 3 })).toThrow(/digits\.csv: row 2, target "y" is 1\.5 \(must be an integer class in 0\.\.2\)/);
    const tooBig = makeDataset(Float64Array.of(1, 2), Float64Array.of(0, 3), 2, 1);
    expect(() => softmaxRegression(tooBig, { classes: 3 })).toThrow(/row 2, target "y" is 3/);
    expect(() => softmaxRegression(data, { classes: 1 })).toThrow(/classes must be an integer ≥ 2/);
    const model = softmaxRegression(data, { classes: 4 });
    expect(() => model.logPrior(new Float64Array(12))).toThrow(ModelError);
    expect(() => model.logPrior(new Float64Array(12))).toThrow(/expected 16 \(4 classes × \(3 weights \+ intercept\)\)/);
  });
});
