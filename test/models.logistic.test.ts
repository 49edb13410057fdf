import { describe, expect, it } from 'vitest';
import { logisticRegression, ModelError } from '../src/models/index.js';
import { fullGradient } from '../src/models/estimator.js';
import {
  classificationData,
  expectAllClose,
  finiteDifferenceGradient,
  finiteDifferenceHessian,
  makeDataset,
  randomTheta,
} from './models.helpers.js';

describe('logisticRegression', () => {
  const data = classificationData(7, 60, 3, 2);
  const batch = Int32Array.of(1, 2, 2, 40, 59);

  for (const intercept of [true, false]) {
    it(`gradients match central differences (intercept ${intercept})`, () => {
      const model = logisticRegression(data, { priorPrecision: 0.7, intercept });
      const theta = randomTheta(1, model.dim, 1);
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

  it('Newton finds the mode: zero gradient, and higher log posterior than nearby points', () => {
    const model = logisticRegression(data);
    const result = model.mode();
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(20);
    const { grad, value } = fullGradient(model, result.theta);
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-8);
    expect(result.logPosterior).toBeCloseTo(value, 12);
    const nearby = Float64Array.from(result.theta);
    nearby[0] += 1e-3;
    expect(fullGradient(model, nearby).value).toBeLessThan(value);
  });

  it('is numerically stable for huge logits (log σ never overflows or rounds to −∞)', () => {
    const tiny = makeDataset(Float64Array.of(1, -1), Float64Array.of(1, 1), 2, 1);
    const model = logisticRegression(tiny, { intercept: false });
    const { value, grad } = model.logLikelihood(Float64Array.of(800), model.fullBatch());
    // log σ(800) ≈ 0 and log σ(−800) = −800 exactly in floating point.
    expect(value).toBeCloseTo(-800, 9);
    expect(grad[0]).toBeCloseTo(-1, 12);
    const proba = model.predictProba(Float64Array.of(800), Float64Array.of(1, -1, 0));
    expectAllClose(proba, [1, 0, 0.5], 1e-15);
  });

  it('rejects labels outside {0, 1}, wrong θ and bad rows, naming them', () => {
    const bad = makeDataset(Float64Array.of(1, 2, 3), Float64Array.of(0, 1, 2), 3, 1, 'labels.csv');
    expect(() => logisticRegression(bad)).toThrow(/labels\.csv: row 3, target "y" is 2 \(must be 0 or 1\)/);
    const model = logisticRegression(data);
    expect(() => model.logLikelihood(new Float64Array(3), batch)).toThrow(ModelError);
    expect(() => model.hessianLogPosterior(new Float64Array(5))).toThrow(/expected 4 \(3 weights \+ intercept\)/);
    expect(() => model.logLikelihood(new Float64Array(4), Int32Array.of(60))).toThrow(/batch\[0\] = 60/);
    expect(() => model.predictProba(new Float64Array(4), Float64Array.of(NaN, 0, 0))).toThrow(/row 1, feature 1 is NaN/);
    expect(() => model.mode({ initial: new Float64Array(2) })).toThrow(/initial must be a Float64Array of length 4/);
  });
});
