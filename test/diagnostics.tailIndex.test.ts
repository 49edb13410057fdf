import { describe, expect, it } from 'vitest';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import { coordinatewiseStable, isotropicStable, symmetricStable } from '../src/core/stable.js';
import {
  TailIndexError,
  blockSumTailIndex,
  blockSumTailIndexVectors,
  defaultBlockSize,
  gradientNoiseSamples,
  gradientNoiseTailIndex,
  hillTailIndex,
  orderStatisticTailIndex,
} from '../src/diagnostics/tailIndex.js';

/*
 * Sampling error of the block-sum estimator: 1/α̂ is dominated by the mean of K₂ values log|Y_i|, and
 * Var log|X| = (π²/12)(1 + 2/α²) for a symmetric α-stable X, so
 *   sd(α̂) ≈ α² · √((π²/12)(1 + 2/α²) / K₂) / log K₁.
 * At K = 10⁶ (K₁ = K₂ = 1000) this is 0.009, 0.013, 0.017 for α = 1.2, 1.5, 1.8 (10 replicate
 * seeds measured 0.012, 0.014, 0.019): the 0.1 tolerance of the issue is more than 5 sd.
 */
function blockSumSd(alpha: number, k2: number, k1: number): number {
  return (alpha * alpha * Math.sqrt(((Math.PI ** 2) / 12) * (1 + 2 / alpha ** 2) / k2)) / Math.log(k1);
}

describe('block-sum tail-index estimator (Mohammadi et al. 2015, Cor. 2.4)', () => {
  it.each([1.2, 1.5, 1.8])('α = %s: estimate within 0.1 of α on 10⁶ symmetric α-stable draws', (alpha) => {
    const n = 1_000_000;
    expect(5 * blockSumSd(alpha, 1000, 1000)).toBeLessThan(0.1);
    const x = symmetricStable(foldIn(key(40), Math.round(alpha * 10)), n, alpha, 3);
    expect(Math.abs(blockSumTailIndex(x) - alpha)).toBeLessThan(0.1);
    // The order-statistic (median) variant is a cross-check of the same identity.
    expect(Math.abs(orderStatisticTailIndex(x) - alpha)).toBeLessThan(0.1);
  });

  it('Gaussian samples give α̂ ≈ 2 and Cauchy samples α̂ ≈ 1', () => {
    const n = 250_000;
    const sd2 = blockSumSd(2, 500, 500);
    expect(Math.abs(blockSumTailIndex(normal(key(41), n)) - 2)).toBeLessThan(5 * sd2);
    expect(Math.abs(blockSumTailIndex(symmetricStable(key(42), n, 1)) - 1)).toBeLessThan(5 * blockSumSd(1, 500, 500));
  });

  it('the default block length is the largest divisor not above √K, or ⌊√K⌋ when that divisor is small', () => {
    expect(defaultBlockSize(1_000_000)).toBe(1000);
    expect(defaultBlockSize(12)).toBe(3);
    expect(defaultBlockSize(10_007)).toBe(100); // prime
    expect(defaultBlockSize(2 * 4999)).toBe(99); // divisors 1, 2: fall back to ⌊√K⌋
  });

  it('blocks along draws, pooled over coordinates or on norms, recover α for isotropic and coordinate-wise vectors', () => {
    const count = 20_000;
    const dim = 10;
    for (const alpha of [1.3, 1.7]) {
      const iso = new Float64Array(count * dim);
      for (let k = 0; k < count; k++) isotropicStable(foldIn(key(43), k), dim, alpha, iso.subarray(k * dim, (k + 1) * dim));
      const coord = coordinatewiseStable(key(44), count * dim, alpha);
      // The norm estimator uses K₂ = 140 blocks: sd ≈ blockSumSd(α, 140, 141) ≤ 0.05 here.
      for (const samples of [iso, coord]) {
        expect(Math.abs(blockSumTailIndexVectors(samples, dim) - alpha)).toBeLessThan(0.1);
        expect(Math.abs(blockSumTailIndexVectors(samples, dim, { mode: 'norm' }) - alpha)).toBeLessThan(0.15);
      }
    }
  });

  it('centring: samples located away from 0 need centre: median', () => {
    const count = 40_000;
    const x = symmetricStable(key(45), count, 1.5);
    for (let i = 0; i < count; i++) x[i] += 20;
    // Uncentred, block sums grow like K₁·20 and the estimate collapses to ≈ 1.
    expect(Math.abs(blockSumTailIndexVectors(x, 1) - 1)).toBeLessThan(0.1);
    expect(Math.abs(blockSumTailIndexVectors(x, 1, { centre: 'median' }) - 1.5)).toBeLessThan(0.15);
  });

  it('rejects too few samples, bad block sizes and non-finite samples, naming the function', () => {
    expect(() => blockSumTailIndex([1, 2, 3])).toThrow(/blockSumTailIndex: need at least 4 samples, got 3/);
    expect(() => blockSumTailIndex(new Float64Array(100), { blockSize: 1 })).toThrow(TailIndexError);
    expect(() => blockSumTailIndex(new Float64Array(100), { blockSize: 51 })).toThrow(/blockSize/);
    expect(() => blockSumTailIndex([1, 2, Number.NaN, 4, 5])).toThrow(/sample 2 is not finite/);
    expect(() => blockSumTailIndexVectors(new Float64Array(10), 3)).toThrow(/not a multiple of dim 3/);
    expect(() => hillTailIndex([1, 2, 3, 4], { k: 4 })).toThrow(/k must be/);
    expect(() => hillTailIndex([0, 0, 0, 0, 1], { k: 1 })).toThrow(/is 0/);
  });
});

describe('Hill estimator', () => {
  function pareto(alpha: number, n: number, seed: number): Float64Array {
    const u = uniform(key(seed), n);
    return u.map((v) => (1 - v) ** (-1 / alpha));
  }

  it.each([0.8, 1.5, 3])('Pareto(α = %s): within 4.5 sd of α, sd = α/√k (Hill is Gamma(k) exact)', (alpha) => {
    const n = 400_000;
    const x = pareto(alpha, n, 50 + Math.round(alpha * 10));
    const kDefault = Math.floor(Math.sqrt(n));
    expect(Math.abs(hillTailIndex(x) - alpha)).toBeLessThan((4.5 * alpha) / Math.sqrt(kDefault));
    const k = 40_000;
    expect(Math.abs(hillTailIndex(x, { k }) - alpha)).toBeLessThan((4.5 * alpha) / Math.sqrt(k));
  });

  it('separates heavy from light tails: α-stable 1.3 gives ≈ 1.3, Gaussian gives ≫ 2', () => {
    expect(Math.abs(hillTailIndex(symmetricStable(key(51), 250_000, 1.3)) - 1.3)).toBeLessThan(0.15);
    expect(hillTailIndex(normal(key(52), 250_000))).toBeGreaterThan(4);
  });
});

/** A location model: log p(x_i | θ) = −‖θ − x_i‖²/2, so ∇F̂_B(θ) = θ − mean_B x and the noise is x̄ − x̄_B. */
function locationTarget(data: Float64Array, dim: number): Target<IndexBatch> {
  const rows = data.length / dim;
  return {
    dim,
    dataSize: rows,
    logPrior: (theta: Vec) => ({ value: 0, grad: new Float64Array(theta.length) }),
    logLikelihood(theta: Vec, batch: IndexBatch) {
      const grad = new Float64Array(dim);
      let value = 0;
      for (const i of batch) {
        for (let c = 0; c < dim; c++) {
          const r = data[i * dim + c] - theta[c];
          value -= 0.5 * r * r;
          grad[c] += r;
        }
      }
      return { value, grad };
    },
    batchSize: (batch: IndexBatch) => batch.length,
    fullBatch: () => Int32Array.from({ length: rows }, (_, i) => i),
  };
}

describe('gradient-noise tail index (Şimşekli et al. 2019)', () => {
  it('noise of a location model on α-stable data has α̂ ≈ α; on Gaussian data α̂ ≈ 2', () => {
    const dim = 4;
    const rows = 200_000;
    const theta = Float64Array.from([0.5, -1, 0, 2]);
    const options = { batchSize: 4, samples: 10_000 };
    // Pooled over 4 coordinates with K₂ = 100 blocks: sd ≈ blockSumSd(α, 400, 100) ≈ 0.05 at α = 1.5.
    const heavy = gradientNoiseTailIndex(locationTarget(coordinatewiseStable(key(60), rows * dim, 1.5), dim), theta, key(61), options);
    expect(Math.abs(heavy.alpha - 1.5)).toBeLessThan(0.2);
    expect(Math.abs(heavy.alphaNorm - 1.5)).toBeLessThan(0.3);
    expect(heavy.alphaHill).toBeLessThan(1.8);
    const light = gradientNoiseTailIndex(locationTarget(normal(key(62), rows * dim), dim), theta, key(61), options);
    expect(light.alpha).toBeGreaterThan(1.8);
    expect(light.alphaHill).toBeGreaterThan(3);
    expect(heavy).toMatchObject({ batchSize: 4, samples: 10_000, dim });
  });

  it('minibatches are uniform without replacement; the full batch has zero noise; same key, same noise', () => {
    const rows = 5;
    const data = Float64Array.from({ length: rows }, (_, i) => i);
    const target = locationTarget(data, 1);
    const theta = Float64Array.of(0.3);
    const samples = 20_000;
    const noise = gradientNoiseSamples(target, theta, key(63), { batchSize: 1, samples });
    // Noise = x̄ − x_i = 2 − i identifies the drawn row.
    const counts = new Array(rows).fill(0);
    for (const v of noise) counts[Math.round(2 - v)]++;
    const p = 1 / rows;
    for (const c of counts) expect(Math.abs(c / samples - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / samples));
    const all = gradientNoiseSamples(target, theta, key(64), { batchSize: rows, samples: 10 });
    for (const v of all) expect(Math.abs(v)).toBeLessThan(1e-12);
    // Pairs without replacement: x̄_B = (i + j)/2 with i ≠ j, so noise = 0 needs {1,3} or {0,4}, never {2,2}.
    const pairs = gradientNoiseSamples(target, theta, key(65), { batchSize: 2, samples: 2000 });
    let zero = 0;
    for (const v of pairs) if (Math.abs(v) < 1e-12) zero++;
    expect(Math.abs(zero / 2000 - 0.2)).toBeLessThan(4.5 * Math.sqrt((0.2 * 0.8) / 2000));
    expect(Array.from(gradientNoiseSamples(target, theta, key(63), { batchSize: 1, samples: 50 }))).toEqual(
      Array.from(noise.subarray(0, 50)),
    );
  });

  it('rejects bad options', () => {
    const target = locationTarget(new Float64Array(10), 2);
    expect(() => gradientNoiseSamples(target, new Float64Array(3), key(0), { batchSize: 1, samples: 5 })).toThrow(/theta has length 3/);
    expect(() => gradientNoiseSamples(target, new Float64Array(2), key(0), { batchSize: 6, samples: 5 })).toThrow(/batchSize/);
    expect(() => gradientNoiseSamples(target, new Float64Array(2), key(0), { batchSize: 1, samples: 0 })).toThrow(/samples/);
  });
});
