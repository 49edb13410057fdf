import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gaussianKL, GaussianDiagnosticError, sampleMeanCov, symmetricGaussianKL } from '../src/diagnostics/gaussian.js';
import { key, normal } from '../src/core/random.js';

/** A random SPD matrix A Aᵀ + δI from a d×d normal matrix. */
function randomSpd(seed: number, d: number, ridge = 0.1): Float64Array {
  const a = normal(key(seed), d * d);
  const s = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += a[i * d + k] * a[j * d + k];
      s[i * d + j] = v + (i === j ? ridge : 0);
    }
  }
  return s;
}

describe('gaussianKL', () => {
  it('matches the 1-D closed form log(σ1/σ0) + (σ0² + (μ0 − μ1)²)/(2σ1²) − ½', () => {
    const [m0, v0, m1, v1] = [0.3, 2.5, -1.2, 0.7];
    const expected = 0.5 * Math.log(v1 / v0) + (v0 + (m0 - m1) ** 2) / (2 * v1) - 0.5;
    expect(gaussianKL(Float64Array.of(m0), Float64Array.of(v0), Float64Array.of(m1), Float64Array.of(v1), 1)).toBeCloseTo(expected, 14);
  });

  it('is the sum of 1-D divergences for diagonal covariances', () => {
    const m0 = Float64Array.of(0, 1, -2);
    const m1 = Float64Array.of(0.5, 1, 1);
    const v0 = [1, 0.2, 3];
    const v1 = [2, 0.2, 0.5];
    const S0 = new Float64Array(9);
    const S1 = new Float64Array(9);
    let expected = 0;
    for (let i = 0; i < 3; i++) {
      S0[i * 4] = v0[i];
      S1[i * 4] = v1[i];
      expected += 0.5 * Math.log(v1[i] / v0[i]) + (v0[i] + (m0[i] - m1[i]) ** 2) / (2 * v1[i]) - 0.5;
    }
    expect(gaussianKL(m0, S0, m1, S1, 3)).toBeCloseTo(expected, 13);
    expect(symmetricGaussianKL(m0, S0, m1, S1, 3)).toBeCloseTo(expected + gaussianKL(m1, S1, m0, S0, 3), 13);
  });

  it('is zero between identical Gaussians and positive otherwise, for random SPD covariances', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 6 }), (seed, d) => {
        const S0 = randomSpd(seed, d);
        const S1 = randomSpd(seed + 1, d);
        const m0 = normal(key(seed + 2), d);
        const m1 = normal(key(seed + 3), d);
        expect(gaussianKL(m0, S0, m0, S0, d)).toBeLessThan(1e-9);
        expect(gaussianKL(m0, S0, m1, S1, d)).toBeGreaterThan(0);
        // Jeffreys divergence: log-determinants cancel, ½[tr(S1⁻¹S0) + tr(S0⁻¹S1) + Δᵀ(S0⁻¹ + S1⁻¹)Δ] − d ≥ 0.
        expect(symmetricGaussianKL(m0, S0, m1, S1, d)).toBeGreaterThanOrEqual(gaussianKL(m0, S0, m1, S1, d));
      }),
      { numRuns: 50, seed: 42 },
    );
  });

  it('matches a Monte Carlo estimate of E_0[log N0 − log N1] in 2-D', () => {
    const m0 = Float64Array.of(0.2, -0.1);
    const S0 = Float64Array.of(1, 0.5, 0.5, 2);
    const m1 = Float64Array.of(0, 0.4);
    const S1 = Float64Array.of(1.5, -0.3, -0.3, 1);
    const logDensity = (x0: number, x1: number, m: Float64Array, S: Float64Array) => {
      const det = S[0] * S[3] - S[1] * S[2];
      const d0 = x0 - m[0];
      const d1 = x1 - m[1];
      const q = (S[3] * d0 * d0 - 2 * S[1] * d0 * d1 + S[0] * d1 * d1) / det;
      return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    };
    const draws = 100_000;
    const z = normal(key(8), 2 * draws);
    const l00 = 1;
    const l10 = 0.5;
    const l11 = Math.sqrt(2 - 0.25);
    let mean = 0;
    let squares = 0;
    for (let i = 0; i < draws; i++) {
      const x0 = m0[0] + l00 * z[2 * i];
      const x1 = m0[1] + l10 * z[2 * i] + l11 * z[2 * i + 1];
      const v = logDensity(x0, x1, m0, S0) - logDensity(x0, x1, m1, S1);
      mean += v;
      squares += v * v;
    }
    mean /= draws;
    const standardError = Math.sqrt((squares / draws - mean * mean) / draws);
    // Four Monte Carlo standard errors of the log-ratio mean.
    expect(Math.abs(gaussianKL(m0, S0, m1, S1, 2) - mean)).toBeLessThan(4 * standardError);
  });

  it('names bad shapes and covariances that are not positive definite', () => {
    const m = Float64Array.of(0, 0);
    const I = Float64Array.of(1, 0, 0, 1);
    expect(() => gaussianKL(Float64Array.of(0), I, m, I, 2)).toThrow(/first \(N0\) mean has length 1, expected d = 2/);
    expect(() => gaussianKL(m, I, m, Float64Array.of(1, 2, 2, 1), 2)).toThrow(GaussianDiagnosticError);
    expect(() => gaussianKL(m, I, m, Float64Array.of(1, 2, 2, 1), 2)).toThrow(/second \(N1\) covariance is not positive definite/);
    expect(() => gaussianKL(m, Float64Array.of(1, 0, 0, NaN), m, I, 2)).toThrow(/first \(N0\) covariance \(1, 1\) is NaN/);
  });
});

describe('sampleMeanCov', () => {
  it('gives the unbiased (n − 1) covariance of a small sample exactly', () => {
    const draws = Float64Array.of(1, 2, 3, 6, 5, 1);
    const { mean, cov, count } = sampleMeanCov(draws, 2);
    expect(count).toBe(3);
    expect(Array.from(mean)).toEqual([3, 3]);
    // Centred: (−2, −1), (0, 3), (2, −2); sums of products 8, −2, −2, 14, divided by 2.
    expect(Array.from(cov)).toEqual([4, -1, -1, 7]);
    const fromRows = sampleMeanCov([Float64Array.of(1, 2), Float64Array.of(3, 6), Float64Array.of(5, 1)], 2);
    expect(Array.from(fromRows.cov)).toEqual([4, -1, -1, 7]);
  });

  it('is not thrown off by a large common offset', () => {
    const draws = Float64Array.of(1e9 + 1, 1e9 + 2, 1e9 + 3);
    expect(sampleMeanCov(draws, 1).cov[0]).toBe(1);
  });

  it('recovers a known covariance within Monte Carlo error', () => {
    const n = 20_000;
    const z = normal(key(3), 2 * n);
    const draws = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      draws[2 * i] = 1 + 2 * z[2 * i];
      draws[2 * i + 1] = -1 + z[2 * i] + z[2 * i + 1];
    }
    const { mean, cov } = sampleMeanCov(draws, 2);
    // True mean (1, −1), covariance [[4, 2], [2, 2]]. SE of the mean √(σ²/n); SE of a covariance
    // entry √((σ_ii σ_jj + σ_ij²)/n) for Gaussians. Four standard errors each.
    expect(Math.abs(mean[0] - 1)).toBeLessThan(4 * Math.sqrt(4 / n));
    expect(Math.abs(mean[1] + 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(cov[0] - 4)).toBeLessThan(4 * Math.sqrt(32 / n));
    expect(Math.abs(cov[1] - 2)).toBeLessThan(4 * Math.sqrt(12 / n));
    expect(Math.abs(cov[3] - 2)).toBeLessThan(4 * Math.sqrt(8 / n));
    expect(cov[1]).toBe(cov[2]);
  });

  it('names too few draws, ragged draws and non-finite values', () => {
    expect(() => sampleMeanCov(Float64Array.of(1, 2), 2)).toThrow(/at least 2 draws/);
    expect(() => sampleMeanCov(Float64Array.of(1, 2, 3), 2)).toThrow(/not a multiple of d = 2/);
    expect(() => sampleMeanCov([Float64Array.of(1, 2), Float64Array.of(1)], 2)).toThrow(/draw 1 has length 1/);
    expect(() => sampleMeanCov(Float64Array.of(1, 2, NaN, 4), 2)).toThrow(/draw 1, coordinate 0 is NaN/);
  });
});
