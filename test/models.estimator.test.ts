import { describe, expect, it } from 'vitest';
import {
  fullGradient,
  linearRegression,
  logisticRegression,
  minibatchGradient,
  ModelError,
  softmaxRegression,
} from '../src/models/index.js';
import type { IndexBatch, Target } from '../src/core/types.js';
import { classificationData, expectAllClose, randomTheta, regressionData } from './models.helpers.js';

/** A fixed permutation of 0..n−1 (a multiplicative shuffle with a step coprime to n). */
function permutation(n: number, step: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * step + 3) % n;
  return out;
}

const targets: [string, Target<IndexBatch>][] = [
  ['linear, learned τ', linearRegression(regressionData(1, 60, 3), { learnNoise: { shape: 2, rate: 1 } })],
  ['logistic', logisticRegression(classificationData(2, 60, 3, 2))],
  ['softmax', softmaxRegression(classificationData(3, 60, 2, 3), { classes: 3 })],
];

describe('minibatchGradient', () => {
  for (const [name, target] of targets) {
    it(`${name}: the average over the batches of an epoch equals the full gradient exactly`, () => {
      const theta = randomTheta(9, target.dim);
      const order = permutation(60, 7);
      const batchSize = 12;
      const average = new Float64Array(target.dim);
      let averageValue = 0;
      const batches = 60 / batchSize;
      for (let b = 0; b < batches; b++) {
        const estimate = minibatchGradient(target, theta, order.subarray(b * batchSize, (b + 1) * batchSize));
        for (let i = 0; i < target.dim; i++) average[i] += estimate.grad[i] / batches;
        averageValue += estimate.value / batches;
      }
      const full = fullGradient(target, theta);
      expectAllClose(average, full.grad, 1e-12);
      expect(averageValue).toBeCloseTo(full.value, 9);
      // One batch alone is a noisy estimate: the test above is not vacuous.
      const single = minibatchGradient(target, theta, order.subarray(0, batchSize));
      let difference = 0;
      for (let i = 0; i < target.dim; i++) difference = Math.max(difference, Math.abs(single.grad[i] - full.grad[i]));
      expect(difference).toBeGreaterThan(1e-3);
    });
  }

  it('scales the likelihood by N/S and writes into out when given', () => {
    const target = targets[1][1];
    const theta = randomTheta(4, target.dim);
    const batch = Int32Array.of(5, 9, 11);
    const out = new Float64Array(target.dim);
    const estimate = minibatchGradient(target, theta, batch, out);
    expect(estimate.grad).toBe(out);
    const prior = target.logPrior(theta);
    const likelihood = target.logLikelihood(theta, batch);
    for (let i = 0; i < target.dim; i++) expect(out[i]).toBeCloseTo(prior.grad[i] + 20 * likelihood.grad[i], 12);
    expect(estimate.value).toBeCloseTo(prior.value + 20 * likelihood.value, 10);
  });

  it('rejects an empty batch and an out buffer of the wrong length', () => {
    const target = targets[1][1];
    const theta = new Float64Array(target.dim);
    expect(() => minibatchGradient(target, theta, new Int32Array(0))).toThrow(ModelError);
    expect(() => minibatchGradient(target, theta, new Int32Array(0))).toThrow(/batch is empty/);
    expect(() => minibatchGradient(target, theta, Int32Array.of(1), new Float64Array(2))).toThrow(/out must be a Float64Array of length target\.dim = 4/);
    expect(() => fullGradient(target, theta, new Float64Array(7))).toThrow(/fullGradient: out/);
  });
});
