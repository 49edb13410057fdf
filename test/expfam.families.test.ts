import { describe, expect, it } from 'vitest';
import { key, split } from '../src/core/random.js';
import {
  bernoulli,
  categorical,
  gaussian,
  multivariateGaussian,
  poisson,
} from '../src/expfam/index.js';
import { ExponentialFamilyError } from '../src/expfam/errors.js';
import { dualPotential, klDivergence, logDensity, meanSufficientStatistic, type ExponentialFamily } from '../src/expfam/family.js';
import { matMul } from '../src/expfam/linalg.js';

const cat = categorical(4);
const mvn = multivariateGaussian(2);
const cases: [string, ExponentialFamily, Float64Array, Float64Array][] = [
  ['bernoulli', bernoulli(), bernoulli().fromProbability(0.3), bernoulli().fromProbability(0.6)],
  ['categorical(4)', cat, cat.fromProbabilities([0.1, 0.2, 0.3, 0.4]), cat.fromProbabilities([0.25, 0.25, 0.4, 0.1])],
  ['poisson', poisson(), poisson().fromRate(3), poisson().fromRate(4.5)],
  ['gaussian', gaussian(), gaussian().fromMeanVariance(1, 0.25), gaussian().fromMeanVariance(0.5, 0.6)],
  [
    'multivariateGaussian(2)',
    mvn,
    mvn.fromMeanCovariance([0.5, -1], [1, 0.3, 0.3, 0.5]),
    mvn.fromMeanCovariance([0.2, -0.5], [0.8, -0.1, -0.1, 0.7]),
  ],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function shifted(v: Float64Array, i: number, h: number): Float64Array {
  const out = Float64Array.from(v);
  out[i] += h;
  return out;
}

describe.each(cases)('%s', (_name, family, theta, thetaOther) => {
  const k = family.dim;

  it('θ → η → θ and η → θ → η invert each other', () => {
    const eta = family.meanFromNatural(theta);
    expect(maxAbsDiff(family.naturalFromMean(eta), theta)).toBeLessThan(1e-10);
    const eta2 = family.meanFromNatural(thetaOther);
    expect(maxAbsDiff(family.meanFromNatural(family.naturalFromMean(eta2)), eta2)).toBeLessThan(1e-12);
  });

  it('η = ∇A(θ) by central differences', () => {
    const eta = family.meanFromNatural(theta);
    const h = 1e-6;
    for (let i = 0; i < k; i++) {
      const fd = (family.logPartition(shifted(theta, i, h)) - family.logPartition(shifted(theta, i, -h))) / (2 * h);
      expect(Math.abs(fd - eta[i])).toBeLessThan(1e-7 * (1 + Math.abs(eta[i])));
    }
  });

  it('Fisher in θ equals the Hessian of the log-partition (second differences)', () => {
    const f = family.fisherNatural(theta);
    const h = 1e-4;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const a = (si: number, sj: number): number => family.logPartition(shifted(shifted(theta, i, si * h), j, sj * h));
        const fd = (a(1, 1) - a(1, -1) - a(-1, 1) + a(-1, -1)) / (4 * h * h);
        // Second differences: O(h²) truncation plus O(ε/h²) ≈ 1e-8 rounding.
        expect(Math.abs(fd - f[i * k + j])).toBeLessThan(2e-6 * (1 + Math.abs(f[i * k + j])));
      }
    }
  });

  it('Fisher in η equals the Jacobian of θ(η) and the inverse of the Fisher in θ', () => {
    const eta = family.meanFromNatural(theta);
    const g = family.fisherMean(eta);
    const h = 1e-6 * Math.max(...Array.from(eta, Math.abs), 1e-3);
    for (let j = 0; j < k; j++) {
      const plus = family.naturalFromMean(shifted(eta, j, h));
      const minus = family.naturalFromMean(shifted(eta, j, -h));
      for (let i = 0; i < k; i++) {
        const fd = (plus[i] - minus[i]) / (2 * h);
        expect(Math.abs(fd - g[i * k + j])).toBeLessThan(1e-5 * (1 + Math.abs(g[i * k + j])));
      }
    }
    const product = matMul(g, family.fisherNatural(theta), k);
    const identity = new Float64Array(k * k);
    for (let i = 0; i < k; i++) identity[i * k + i] = 1;
    expect(maxAbsDiff(product, identity)).toBeLessThan(1e-9);
  });

  it('KL between members matches a Monte Carlo estimate within 4 MCSE', () => {
    const n = 20000;
    const x = family.sample(key(11), theta, n);
    const d = family.sampleDim;
    let sum = 0;
    let sumSq = 0;
    for (let s = 0; s < n; s++) {
      const xs = x.subarray(s * d, (s + 1) * d);
      const r = logDensity(family, xs, theta) - logDensity(family, xs, thetaOther);
      sum += r;
      sumSq += r * r;
    }
    const mean = sum / n;
    // MCSE of a mean of n independent log-ratios: sd / √n.
    const mcse = Math.sqrt((sumSq / n - mean * mean) / n);
    const kl = klDivergence(family, theta, thetaOther);
    expect(kl).toBeGreaterThan(0);
    expect(Math.abs(mean - kl)).toBeLessThan(4 * mcse);
    expect(klDivergence(family, theta, theta)).toBeLessThan(1e-14);
  });

  it('sample means of T(x) match η within 4 MCSE (√(F_ii / n))', () => {
    const n = 20000;
    const tbar = meanSufficientStatistic(family, family.sample(key(12), theta, n));
    const eta = family.meanFromNatural(theta);
    const f = family.fisherNatural(theta);
    for (let i = 0; i < k; i++) expect(Math.abs(tbar[i] - eta[i])).toBeLessThan(4 * Math.sqrt(f[i * k + i] / n));
  });

  it('the dual potential is ⟨θ, η⟩ − A(θ) and its gradient is θ', () => {
    const eta = family.meanFromNatural(theta);
    const h = 1e-6 * Math.max(...Array.from(eta, Math.abs), 1e-3);
    for (let i = 0; i < k; i++) {
      const fd = (dualPotential(family, shifted(eta, i, h)) - dualPotential(family, shifted(eta, i, -h))) / (2 * h);
      expect(Math.abs(fd - theta[i])).toBeLessThan(1e-5 * (1 + Math.abs(theta[i])));
    }
  });

  it('same key, same samples; different keys differ', () => {
    const [a, b] = split(key(5), 2);
    expect(Array.from(family.sample(a, theta, 8))).toEqual(Array.from(family.sample(a, theta, 8)));
    expect(Array.from(family.sample(a, theta, 8))).not.toEqual(Array.from(family.sample(b, theta, 8)));
  });
});

describe('densities normalise', () => {
  it('discrete families sum to 1 over the support', () => {
    const b = bernoulli();
    const tb = b.fromProbability(0.3);
    expect(Math.exp(logDensity(b, [0], tb)) + Math.exp(logDensity(b, [1], tb))).toBeCloseTo(1, 14);
    const c = categorical(5);
    const tc = c.fromProbabilities([0.1, 0.2, 0.3, 0.15, 0.25]);
    let s = 0;
    for (let x = 0; x < 5; x++) s += Math.exp(logDensity(c, [x], tc));
    expect(s).toBeCloseTo(1, 14);
    expect(Math.exp(logDensity(c, [4], tc))).toBeCloseTo(0.25, 14);
    const p = poisson();
    const tp = p.fromRate(7.5);
    s = 0;
    for (let x = 0; x < 200; x++) s += Math.exp(logDensity(p, [x], tp));
    expect(s).toBeCloseTo(1, 12);
  });

  it('the univariate Gaussian integrates to 1 (trapezoid rule)', () => {
    const g = gaussian();
    const t = g.fromMeanVariance(1, 0.25);
    let s = 0;
    const h = 1e-3;
    for (let x = -6; x <= 8; x += h) s += Math.exp(logDensity(g, [x], t)) * h;
    expect(s).toBeCloseTo(1, 6);
  });

  it('the multivariate Gaussian with diagonal covariance factorises into univariate ones', () => {
    const g = gaussian();
    const m = multivariateGaussian(2);
    const t = m.fromMeanCovariance([0.5, -1], [2, 0, 0, 0.5]);
    const x = [0.3, -0.2];
    const expected = logDensity(g, [x[0]], g.fromMeanVariance(0.5, 2)) + logDensity(g, [x[1]], g.fromMeanVariance(-1, 0.5));
    expect(logDensity(m, x, t)).toBeCloseTo(expected, 12);
    const { mean, covariance } = m.toMeanCovariance(t);
    expect(Array.from(mean)).toEqual([0.5, -1].map((v) => expect.closeTo(v, 12)));
    expect(maxAbsDiff(covariance, [2, 0, 0, 0.5])).toBeLessThan(1e-12);
  });
});

describe('Poisson sampler for large rates (transformed rejection)', () => {
  it('mean and variance of Poisson(50) draws match λ within 4 MCSE', () => {
    const p = poisson();
    const n = 10000;
    const x = p.sample(key(3), p.fromRate(50), n);
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      expect(Number.isInteger(v) && v >= 0).toBe(true);
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 50)).toBeLessThan(4 * Math.sqrt(50 / n));
    // Var of the sample variance ≈ (μ4 − σ⁴)/n with μ4 = λ(1 + 3λ) for the Poisson.
    expect(Math.abs(variance - 50)).toBeLessThan(4 * Math.sqrt((50 * (1 + 150) - 2500) / n));
  });
});

describe('bad input', () => {
  it('names the family, function and problem', () => {
    expect(() => categorical(1)).toThrow(ExponentialFamilyError);
    expect(() => categorical(3).fromProbabilities([0.5, 0.4, 0.2])).toThrow(/sum to 1.1/);
    expect(() => categorical(3).naturalFromMean(Float64Array.of(0.7, 0.6))).toThrow(/categorical\(3\).naturalFromMean.*outside the domain/);
    expect(() => bernoulli().logPartition(Float64Array.of(1, 2))).toThrow(/bernoulli.logPartition.*expected length 1, got 2/);
    expect(() => gaussian().fromMeanVariance(0, -1)).toThrow(/variance must be > 0/);
    expect(() => gaussian().meanFromNatural(Float64Array.of(0, 1))).toThrow(/outside the domain of gaussian/);
    expect(() => multivariateGaussian(2).fromMeanCovariance([0, 0], [1, 2, 2, 1])).toThrow(/not positive definite/);
    expect(() => logDensity(poisson(), [1, 2], poisson().fromRate(1))).toThrow(/observation.*expected length 1/);
    expect(() => klDivergence(poisson(), Float64Array.of(NaN), Float64Array.of(0))).toThrow(/entry 0 is not finite/);
  });
});
