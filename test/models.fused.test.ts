/**
 * The built-in models' fused minibatch kernels (registered with registerScaledLogPosterior) must
 * give the bits of logPrior + (N/S)·logLikelihood, which is what minibatchGradient computed before.
 */
import { describe, expect, it } from 'vitest';
import { linearRegression, logisticRegression, minibatchGradient, fullGradient, ModelError } from '../src/models/index.js';
import { scaledLogPosteriorOf } from '../src/models/estimator.js';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';
import { classificationData, randomTheta, regressionData } from './models.helpers.js';

/** prior + scale · likelihood from the two public calls, combined as minibatchGradient used to. */
function unfused(target: Target<IndexBatch>, theta: Vec, batch: IndexBatch, scale: number): { value: number; grad: Vec } {
  const prior = target.logPrior(theta);
  const likelihood = target.logLikelihood(theta, batch);
  const grad = new Float64Array(target.dim);
  for (let i = 0; i < grad.length; i++) grad[i] = prior.grad[i] + scale * likelihood.grad[i];
  return { value: prior.value + scale * likelihood.value, grad };
}

function expectSameBits(actual: Vec, expected: Vec): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Object.is(actual[i], expected[i]), `entry ${i}: ${actual[i]} vs ${expected[i]}`).toBe(true);
}

const targets: [string, Target<IndexBatch>][] = [
  ['linear, known τ', linearRegression(regressionData(4, 57, 5), { noisePrecision: 3 })],
  ['linear, learned τ', linearRegression(regressionData(5, 57, 5), { learnNoise: { shape: 2, rate: 1 } })],
  ['linear, no intercept', linearRegression(regressionData(6, 57, 5), { intercept: false })],
  ['logistic', logisticRegression(classificationData(7, 57, 6, 2), { priorPrecision: 2 })],
  ['logistic, no intercept', logisticRegression(classificationData(8, 57, 6, 2), { intercept: false })],
];

describe('fused minibatch kernels of the built-in models', () => {
  for (const [name, target] of targets) {
    it(`${name}: minibatchGradient has the bits of logPrior + (N/S) logLikelihood, for batch sizes 1 to 11`, () => {
      expect(scaledLogPosteriorOf(target)).toBeTypeOf('function');
      const theta = randomTheta(3, target.dim);
      // Sizes not divisible by 4 exercise the row-blocked loops' remainders; repeated rows too.
      for (let size = 1; size <= 11; size++) {
        const batch = Int32Array.from({ length: size }, (_, i) => (i * 13 + size) % 57);
        batch[size - 1] = batch[0];
        const got = minibatchGradient(target, theta, batch);
        const want = unfused(target, theta, batch, 57 / size);
        expect(Object.is(got.value, want.value)).toBe(true);
        expectSameBits(got.grad, want.grad);
      }
    });

    it(`${name}: fullGradient and an out buffer aliasing θ give the same bits`, () => {
      const theta = randomTheta(4, target.dim);
      const all = target.fullBatch();
      expectSameBits(fullGradient(target, theta).grad, unfused(target, theta, all, 1).grad);
      const batch = Int32Array.of(3, 9, 27, 1, 56);
      const want = unfused(target, theta, batch, 57 / 5);
      const aliased = Float64Array.from(theta);
      const got = minibatchGradient(target, aliased, batch, aliased);
      expect(got.grad).toBe(aliased);
      expectSameBits(got.grad, want.grad);
    });

    it(`${name}: bad θ and bad row indices raise the errors of logPrior and logLikelihood`, () => {
      const short = new Float64Array(target.dim - 1);
      expect(() => minibatchGradient(target, short, Int32Array.of(0))).toThrow(/\.logPrior: theta has length/);
      const theta = randomTheta(5, target.dim);
      for (const index of [57, -1]) {
        const batch = Int32Array.of(0, 1, 2, 3, 4, index);
        expect(() => minibatchGradient(target, theta, batch)).toThrow(ModelError);
        expect(() => minibatchGradient(target, theta, batch)).toThrow(`.logLikelihood: batch[5] = ${index} is not a row index in 0..56`);
      }
      const early = Int32Array.of(0, 99, 2, 3, 4);
      expect(() => minibatchGradient(target, theta, early)).toThrow('batch[1] = 99');
    });
  }
});
