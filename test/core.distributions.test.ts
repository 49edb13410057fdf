import { describe, expect, it } from 'vitest';
import {
  exponential,
  gamma,
  gammaCdf,
  lgamma,
  logGammaPdf,
  logNormalPdf,
  mvNormal,
  normalScaled,
  regularizedGammaP,
  uniformRange,
} from '../src/core/distributions.js';
import { foldIn, key, normal } from '../src/core/random.js';

/**
 * Sample mean, variance and third central moment, each with its Monte Carlo standard error
 * estimated from the sample itself: SE(mean) = sd/√n, SE(var) = sd((x−m)²)/√n,
 * SE(μ₃) = sd((x−m)³)/√n (delta method; the error from using m for μ is O(1/n)).
 */
function moments(x: Float64Array) {
  const n = x.length;
  let m = 0;
  for (const v of x) m += v;
  m /= n;
  const c2 = new Float64Array(n);
  const c3 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    c2[i] = d * d;
    c3[i] = d * d * d;
  }
  const meanOf = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const seOf = (a: Float64Array) => {
    const mu = meanOf(a);
    return Math.sqrt(a.reduce((s, v) => s + (v - mu) ** 2, 0) / (a.length - 1) / a.length);
  };
  const variance = meanOf(c2);
  return {
    mean: m,
    meanSE: Math.sqrt(variance / n),
    variance,
    varianceSE: seOf(c2),
    third: meanOf(c3),
    thirdSE: seOf(c3),
  };
}

/** Kolmogorov–Smirnov statistic D = sup |F_n − F|. */
function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const xs = Float64Array.from(sample).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** KS critical value at level 0.001: √(−½ log(0.0005)) / √n ≈ 1.95/√n (asymptotic Kolmogorov law). */
function ksCritical(n: number): number {
  return Math.sqrt(-0.5 * Math.log(0.0005)) / Math.sqrt(n);
}

// Tolerance in standard errors for moment checks: a correct sampler fails with probability < 1e-6.
const Z = 5;

describe('uniformRange', () => {
  it('stays in [lo, hi) with mean (lo+hi)/2 and variance (hi−lo)²/12 within MCSE', () => {
    const n = 100_000;
    const x = uniformRange(key(1), n, -2, 6);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...x)).toBeLessThan(6);
    const m = moments(x);
    expect(Math.abs(m.mean - 2)).toBeLessThan(Z * m.meanSE);
    expect(Math.abs(m.variance - 64 / 12)).toBeLessThan(Z * m.varianceSE);
  });
  it('rejects an empty interval', () => {
    expect(() => uniformRange(key(1), 3, 1, 1)).toThrow(/lo < hi/);
    expect(() => uniformRange(key(1), -1, 0, 1)).toThrow(/n must be a non-negative integer/);
  });
});

describe('exponential', () => {
  const rate = 2.5;
  const n = 40_000;
  const x = exponential(key(2), n, rate);
  it('has mean 1/rate, variance 1/rate², third moment 2/rate³ within MCSE', () => {
    const m = moments(x);
    expect(Math.abs(m.mean - 1 / rate)).toBeLessThan(Z * m.meanSE);
    expect(Math.abs(m.variance - 1 / rate ** 2)).toBeLessThan(Z * m.varianceSE);
    expect(Math.abs(m.third - 2 / rate ** 3)).toBeLessThan(Z * m.thirdSE);
  });
  it('passes a Kolmogorov–Smirnov test against 1 − e^{−rate x}', () => {
    expect(ksStatistic(x, (t) => 1 - Math.exp(-rate * t))).toBeLessThan(ksCritical(n));
    // The test has power: the wrong rate (5% off) is rejected.
    expect(ksStatistic(x, (t) => 1 - Math.exp(-1.05 * rate * t))).toBeGreaterThan(ksCritical(n));
  });
  it('rejects a non-positive rate', () => {
    expect(() => exponential(key(2), 3, 0)).toThrow(/rate must be positive/);
  });
});

describe('gamma', () => {
  const n = 20_000;
  it.each([0.3, 1, 2.5, 7])('shape %f: moments kθ, kθ², 2kθ³ within MCSE and KS against P(k, x/θ)', (shape) => {
    const scale = 1.7;
    const x = gamma(key(3), n, shape, scale);
    const m = moments(x);
    expect(Math.abs(m.mean - shape * scale)).toBeLessThan(Z * m.meanSE);
    expect(Math.abs(m.variance - shape * scale ** 2)).toBeLessThan(Z * m.varianceSE);
    expect(Math.abs(m.third - 2 * shape * scale ** 3)).toBeLessThan(Z * m.thirdSE);
    expect(ksStatistic(x, (t) => gammaCdf(t, shape, scale))).toBeLessThan(ksCritical(n));
  });
  it('the KS check has power: shape 2.5 draws are rejected against shape 2.65', () => {
    const x = gamma(key(3), n, 2.5);
    expect(ksStatistic(x, (t) => gammaCdf(t, 2.65))).toBeGreaterThan(ksCritical(n));
  });
  it('draw i depends only on (key, i); same key ⇒ same draws', () => {
    const long = gamma(key(4), 50, 0.7);
    const short = gamma(key(4), 10, 0.7);
    expect(Array.from(short)).toEqual(Array.from(long.subarray(0, 10)));
    expect(Array.from(gamma(key(4), 50, 0.7))).toEqual(Array.from(long));
    expect(gamma(key(5), 1, 0.7)[0]).not.toBe(long[0]);
  });
  it('tiny shapes give finite, non-negative draws', () => {
    const x = gamma(key(6), 1000, 0.01);
    for (const v of x) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
  });
  it('rejects bad parameters and a short out buffer', () => {
    expect(() => gamma(key(1), 2, 0)).toThrow(/gamma: shape must be positive/);
    expect(() => gamma(key(1), 2, 1, -1)).toThrow(/gamma: scale must be positive/);
    expect(() => gamma(key(1), 2, NaN)).toThrow(RangeError);
    expect(() => gamma(key(1), 3, 1, 1, new Float64Array(2))).toThrow(/out has length 2/);
  });
});

describe('normalScaled and mvNormal', () => {
  it('normalScaled has the requested mean and sd within MCSE', () => {
    const n = 50_000;
    const x = normalScaled(key(7), n, -3, 0.5);
    const m = moments(x);
    expect(Math.abs(m.mean + 3)).toBeLessThan(Z * m.meanSE);
    expect(Math.abs(m.variance - 0.25)).toBeLessThan(Z * m.varianceSE);
  });
  it('normalScaled with per-coordinate parameters is mean_i + sd_i z_i for the same key', () => {
    const z = normal(key(8), 3);
    const x = normalScaled(key(8), 3, [1, 2, 3], [0, 1, 10]);
    expect(Array.from(x)).toEqual([1, 2 + z[1], 3 + 10 * z[2]]);
    expect(() => normalScaled(key(8), 3, [1, 2], 1)).toThrow(/mean has length 2/);
    expect(() => normalScaled(key(8), 2, 0, [1, -1])).toThrow(/sd\[1\]/);
  });
  it('mvNormal has mean μ and covariance L Lᵀ within MCSE', () => {
    const L = Float64Array.of(1, 0, 0, 0.5, 2, 0, -1, 0.3, 0.7);
    const mu = [1, -2, 0.5];
    const d = 3;
    const draws = 20_000;
    const cov = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const mean = [0, 0, 0];
    const xs: Float64Array[] = [];
    const k = key(9);
    for (let t = 0; t < draws; t++) xs.push(mvNormal(foldIn(k, t), mu, L));
    for (const x of xs) for (let i = 0; i < d; i++) mean[i] += x[i] / draws;
    for (const x of xs) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i][j] += ((x[i] - mean[i]) * (x[j] - mean[j])) / draws;
    const exact = (i: number, j: number) => {
      let s = 0;
      for (let r = 0; r < d; r++) s += L[i * d + r] * L[j * d + r];
      return s;
    };
    for (let i = 0; i < d; i++) {
      expect(Math.abs(mean[i] - mu[i])).toBeLessThan(Z * Math.sqrt(exact(i, i) / draws));
      for (let j = 0; j < d; j++) {
        // Gaussian sample covariance: Var(S_ij) ≈ (Σ_ii Σ_jj + Σ_ij²)/n.
        const se = Math.sqrt((exact(i, i) * exact(j, j) + exact(i, j) ** 2) / draws);
        expect(Math.abs(cov[i][j] - exact(i, j))).toBeLessThan(Z * se);
      }
    }
  });
  it('mvNormal rejects a factor of the wrong size', () => {
    expect(() => mvNormal(key(1), [0, 0], new Float64Array(3))).toThrow(/expected 2×2 = 4/);
  });
});

describe('lgamma', () => {
  it('matches exact values', () => {
    expect(lgamma(1)).toBeCloseTo(0, 14);
    expect(lgamma(2)).toBeCloseTo(0, 14);
    expect(lgamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lgamma(10)).toBeCloseTo(Math.log(362880), 13);
    expect(lgamma(100)).toBeCloseTo(359.1342053695754, 10);
    expect(lgamma(-0.5)).toBeCloseTo(Math.log(2 * Math.sqrt(Math.PI)), 13);
    expect(lgamma(1e-8)).toBeCloseTo(-Math.log(1e-8) - 0.5772156649015329e-8, 12);
    expect(lgamma(0)).toBe(Infinity);
    expect(lgamma(-3)).toBe(Infinity);
  });
  it('satisfies the recurrence log Γ(x+1) = log Γ(x) + log x', () => {
    for (const x of [0.1, 0.7, 1.3, 4.2, 17.5, 123.4, -2.3]) {
      expect(lgamma(x + 1)).toBeCloseTo(lgamma(x) + Math.log(Math.abs(x)), 11);
    }
  });
});

describe('gammaCdf and densities', () => {
  it('integer shape: P(k, x) = 1 − e^{−x} Σ_{j<k} x^j/j!', () => {
    for (const k of [1, 2, 5, 12]) {
      for (const x of [0.1, 1, 3.7, 10, 25]) {
        let s = 0;
        let term = 1;
        for (let j = 0; j < k; j++) {
          s += term;
          term *= x / (j + 1);
        }
        expect(regularizedGammaP(k, x)).toBeCloseTo(1 - Math.exp(-x) * s, 13);
      }
    }
  });
  it('reproduces published χ² 95% quantiles (χ²_k CDF = P(k/2, x/2))', () => {
    expect(gammaCdf(3.841458820694124, 0.5, 2)).toBeCloseTo(0.95, 12);
    expect(gammaCdf(18.307038053275146, 5, 2)).toBeCloseTo(0.95, 12);
    expect(gammaCdf(124.34211340400407, 50, 2)).toBeCloseTo(0.95, 11);
  });
  it('its derivative is the density exp(logGammaPdf) (central finite differences)', () => {
    for (const [shape, scale] of [
      [0.4, 1],
      [2.5, 1.7],
      [30, 0.2],
    ]) {
      for (const x of [0.05, 0.9, 3, 8]) {
        const h = 1e-5 * Math.max(1, x);
        const fd = (gammaCdf(x + h, shape, scale) - gammaCdf(x - h, shape, scale)) / (2 * h);
        const pdf = Math.exp(logGammaPdf(x, shape, scale));
        expect(Math.abs(fd - pdf)).toBeLessThan(1e-7 * Math.max(1, pdf));
      }
    }
  });
  it('logNormalPdf matches the closed form and rejects sd ≤ 0', () => {
    expect(logNormalPdf(0)).toBeCloseTo(-0.5 * Math.log(2 * Math.PI), 15);
    expect(logNormalPdf(3, 1, 2)).toBeCloseTo(-0.5 - Math.log(2) - 0.5 * Math.log(2 * Math.PI), 15);
    expect(() => logNormalPdf(0, 0, 0)).toThrow(/sd must be positive/);
  });
  it('edge cases: P(a, 0) = 0, P(a, ∞) = 1, x < 0 has CDF 0 and density 0', () => {
    expect(regularizedGammaP(2, 0)).toBe(0);
    expect(regularizedGammaP(2, Infinity)).toBe(1);
    expect(gammaCdf(-1, 2)).toBe(0);
    expect(logGammaPdf(-1, 2)).toBe(-Infinity);
    expect(logGammaPdf(0, 1, 2)).toBeCloseTo(-Math.log(2), 15);
    expect(() => regularizedGammaP(0, 1)).toThrow(/a must be positive/);
    expect(() => regularizedGammaP(1, -1)).toThrow(/x must be ≥ 0/);
  });
});
