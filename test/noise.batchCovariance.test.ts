/**
 * batchNoiseCovariance is the fast path of adaptive constant SGD: it must give the bits of a
 * one-off estimator with κ = 1, and updateNoiseEstimate must still mix exactly as Eq. 21 says.
 */
import { describe, expect, it } from 'vitest';
import { key, normal } from '../src/core/random.js';
import { batchNoiseCovariance, createNoiseEstimator } from '../src/noise/estimator.js';
import { NoiseError } from '../src/noise/types.js';
import { updateNoiseEstimate } from '../src/samplers/constantSgd.js';

function expectSameBits(actual: Float64Array | undefined, expected: Float64Array | undefined): void {
  expect(actual).toBeInstanceOf(Float64Array);
  expect(actual?.length).toBe(expected?.length);
  for (let i = 0; i < (expected?.length ?? 0); i++) expect(Object.is(actual?.[i], expected?.[i]), `entry ${i}`).toBe(true);
}

describe('batchNoiseCovariance', () => {
  // Sizes around the 2×4-entry blocks of the product (odd and even d = 1…9) and odd batch sizes.
  for (const [dim, rows] of [[1, 2], [2, 3], [3, 5], [4, 7], [5, 4], [6, 3], [8, 6], [9, 13], [12, 32]] as const) {
    it(`d = ${dim}, S = ${rows}: the bits of createNoiseEstimator(kind, d, { decay: 1 }) after one update`, () => {
      const grads = normal(key(dim * 100 + rows), rows * dim + 3);
      for (let i = 0; i < grads.length; i++) grads[i] = 2 * grads[i] + (i % dim);
      for (const kind of ['scalar', 'diagonal', 'full'] as const) {
        const estimator = createNoiseEstimator(kind, dim, { decay: 1 });
        estimator.update(grads, rows);
        const want = estimator.snapshot();
        const got = batchNoiseCovariance(kind, dim, grads, rows);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(Object.is(got.trace, want.trace)).toBe(true);
        expect(got.count).toBe(1);
        if (kind !== 'scalar') expectSameBits(got.diag, want.diag);
        if (kind === 'full') expectSameBits(got.full, want.full);
      }
    });
  }

  it('does not touch its input and rejects bad batches with the estimator’s messages', () => {
    const grads = normal(key(1), 3 * 4);
    const copy = Float64Array.from(grads);
    batchNoiseCovariance('full', 4, grads, 3);
    expect(grads).toEqual(copy);
    expect(() => batchNoiseCovariance('full', 4, grads, 1)).toThrow(NoiseError);
    expect(() => batchNoiseCovariance('full', 4, grads, 4)).toThrow(/4 × 4 = 16 entries, got length 12/);
    grads[5] = NaN;
    expect(() => batchNoiseCovariance('diagonal', 4, grads, 3)).toThrow('per-example gradient row 1, coordinate 1 is NaN');
    grads[5] = 0;
    grads[10] = -Infinity;
    for (const kind of ['scalar', 'full'] as const) {
      expect(() => batchNoiseCovariance(kind, 4, grads, 3)).toThrow('per-example gradient row 2, coordinate 2 is -Infinity');
    }
  });

  it('returns fresh arrays every call (results cut from shared buffers never share entries)', () => {
    const dim = 7;
    const results = Array.from({ length: 20 }, (_, i) => batchNoiseCovariance('full', dim, normal(key(40 + i), 5 * dim), 5));
    const copies = results.map((r) => [Float64Array.from(r.diag as Float64Array), Float64Array.from(r.full as Float64Array)]);
    for (const r of results) {
      (r.diag as Float64Array).fill(-1);
      (r.full as Float64Array).fill(-1);
    }
    const again = Array.from({ length: 20 }, (_, i) => batchNoiseCovariance('full', dim, normal(key(40 + i), 5 * dim), 5));
    again.forEach((r, i) => {
      expectSameBits(r.diag, copies[i][0]);
      expectSameBits(r.full, copies[i][1]);
    });
    expect(results.every((r) => (r.full as Float64Array)[0] === -1 && (r.diag as Float64Array)[dim - 1] === -1)).toBe(true);
  });

  it('updateNoiseEstimate mixes as (1 − κ) C_{t−1} + κ Ĉ_t and leaves the previous estimate alone', () => {
    const dim = 5;
    const first = normal(key(7), 6 * dim);
    const second = normal(key(8), 6 * dim);
    const c1 = updateNoiseEstimate(null, 'full', dim, first, 6);
    const before = Float64Array.from(c1.full as Float64Array);
    const kappa = 0.3;
    const c2 = updateNoiseEstimate(c1, 'full', dim, second, 6, kappa);
    expectSameBits(c1.full, before);
    const batch = batchNoiseCovariance('full', dim, second, 6);
    const want = (before as Float64Array).map((v, i) => (1 - kappa) * v + kappa * (batch.full as Float64Array)[i]);
    expectSameBits(c2.full, want);
    expect(c2.count).toBe(2);
    expect(c2.trace).toBe((1 - kappa) * c1.trace + kappa * batch.trace);
  });
});
