import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ad from '../src/autodiff/index.js';
import { Tensor } from '../src/autodiff/index.js';
import { broadcastPairArb, expectGradMatchesFiniteDifferences, propertyRuns, randomTensor } from './autodiff.gradcheck.js';

const seedArb = fc.integer({ min: 0, max: 1_000_000 });

describe('special functions', () => {
  it('lgamma, digamma and trigamma match known values', () => {
    const gammaEuler = 0.5772156649015329;
    expect(ad.lgammaScalar(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(ad.lgammaScalar(10)).toBeCloseTo(Math.log(362880), 12);
    expect(ad.lgammaScalar(100)).toBeCloseTo(359.13420536957540, 10);
    expect(ad.lgammaScalar(-0.5)).toBeCloseTo(Math.log(2 * Math.sqrt(Math.PI)), 13);
    expect(ad.lgammaScalar(1e-3)).toBeCloseTo(6.907178885383854, 12);
    expect(ad.lgammaScalar(0)).toBe(Infinity);
    expect(ad.digammaScalar(1)).toBeCloseTo(-gammaEuler, 13);
    expect(ad.digammaScalar(0.5)).toBeCloseTo(-gammaEuler - 2 * Math.LN2, 13);
    expect(ad.digammaScalar(-0.5)).toBeCloseTo(-gammaEuler - 2 * Math.LN2 + 2, 12);
    expect(ad.trigammaScalar(1)).toBeCloseTo((Math.PI * Math.PI) / 6, 12);
    expect(ad.trigammaScalar(0.5)).toBeCloseTo((Math.PI * Math.PI) / 2, 12);
  });

  it('digamma is the derivative of lgamma and trigamma of digamma (central differences)', () => {
    for (const x of [0.05, 0.3, 1.7, 5.9, 6.1, 23, -1.3]) {
      const h = 1e-5 * Math.max(1, Math.abs(x));
      const dl = (ad.lgammaScalar(x + h) - ad.lgammaScalar(x - h)) / (2 * h);
      const dd = (ad.digammaScalar(x + h) - ad.digammaScalar(x - h)) / (2 * h);
      expect(Math.abs(dl - ad.digammaScalar(x))).toBeLessThan(1e-6 * Math.max(1, Math.abs(dl)));
      expect(Math.abs(dd - ad.trigammaScalar(x))).toBeLessThan(1e-5 * Math.max(1, Math.abs(dd)));
    }
  });
});

/** ∫ exp(logpdf) over [lo, hi] by the trapezoid rule on n intervals. */
function integrate(logpdf: (x: Tensor) => Tensor, lo: number, hi: number, n = 200_000): number {
  const xs = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) xs[i] = lo + ((hi - lo) * i) / n;
  const lp = logpdf(ad.tensor(xs)).data;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(lp[i]);
  return (s * (hi - lo)) / n;
}

describe('log densities: values', () => {
  it('continuous densities integrate to 1 (trapezoid, error ≪ 1e-4)', () => {
    expect(integrate((x) => ad.normalLogPdf(x, 0.7, 1.3), -15, 15)).toBeCloseTo(1, 6);
    expect(integrate((x) => ad.studentTLogPdf(x, 6, -1, 0.8), -300, 300)).toBeCloseTo(1, 5);
    expect(integrate((x) => ad.halfNormalLogPdf(x, 2), 0, 30)).toBeCloseTo(1, 5);
    expect(integrate((x) => ad.gammaLogPdf(x, 2.5, 1.5), 1e-12, 60)).toBeCloseTo(1, 5);
    expect(integrate((x) => ad.betaLogPdf(x, 2.5, 3.5), 1e-12, 1 - 1e-12)).toBeCloseTo(1, 5);
    expect(integrate((x) => ad.exponentialLogPdf(x, 0.7), 0, 80)).toBeCloseTo(1, 5);
  });

  it('agree with closed forms and special cases', () => {
    const x = ad.tensor([-1.5, 0, 0.3, 2]);
    const close = (a: Tensor, b: Tensor | number[]) =>
      a.toArray().forEach((v, i) => expect(v).toBeCloseTo(Array.isArray(b) ? b[i] : b.data[i], 12));
    // Student-t with ν = 1 is Cauchy; half-densities are twice the full one on x ≥ 0.
    close(ad.studentTLogPdf(x, 1, 0.2, 1.7), ad.cauchyLogPdf(x, 0.2, 1.7));
    const pos = ad.tensor([0, 0.5, 3]);
    close(ad.halfCauchyLogPdf(pos, 2), ad.add(ad.cauchyLogPdf(pos, 0, 2), Math.LN2));
    close(ad.halfNormalLogPdf(pos, 2), ad.add(ad.normalLogPdf(pos, 0, 2), Math.LN2));
    close(ad.gammaLogPdf(ad.tensor([0.5, 3]), 1, 0.7), ad.exponentialLogPdf(ad.tensor([0.5, 3]), 0.7));
    close(ad.betaLogPdf(ad.tensor([0.1, 0.5, 0.9]), 1, 1), [0, 0, 0]);
    // Poisson(3 | 2) = 2³e⁻²/3!.
    expect(ad.poissonLogLogPmf(3, Math.log(2)).item()).toBeCloseTo(Math.log((8 * Math.exp(-2)) / 6), 13);
    // Bernoulli-logit: log σ(ℓ) for y = 1 and log σ(−ℓ) for y = 0, stable at large |ℓ|.
    close(ad.bernoulliLogitLogPmf(ad.tensor([1, 0, 1, 0]), ad.tensor([2, 2, -800, 800])), [
      -Math.log1p(Math.exp(-2)),
      -2 - Math.log1p(Math.exp(-2)),
      -800,
      -800,
    ]);
    // Categorical-logit is the log-softmax entry of the label.
    const logits = ad.tensor([
      [1, 2, 3],
      [0, -1, 5],
    ]);
    const ls = ad.logSoftmax(logits).data;
    close(ad.categoricalLogitLogPmf([2, 0], logits), [ls[2], ls[3]]);
  });

  it('gives −∞ outside the support and NaN for invalid parameters', () => {
    expect(ad.halfNormalLogPdf(-1, 1).item()).toBe(-Infinity);
    expect(ad.halfCauchyLogPdf(-1, 1).item()).toBe(-Infinity);
    expect(ad.gammaLogPdf(-1, 2, 1).item()).toBe(-Infinity);
    expect(ad.betaLogPdf(1.5, 2, 2).item()).toBe(-Infinity);
    expect(ad.exponentialLogPdf(-0.1, 2).item()).toBe(-Infinity);
    expect(ad.poissonLogLogPmf(-1, 0).item()).toBe(-Infinity);
    expect(ad.normalLogPdf(0, 0, -1).item()).toBeNaN();
    expect(ad.studentTLogPdf(0, 0, 0, 1).item()).toBeNaN();
    expect(ad.gammaLogPdf(1, 0, 1).item()).toBeNaN();
  });

  it('categoricalLogitLogPmf checks its labels', () => {
    const logits = ad.zeros([2, 3]);
    expect(() => ad.categoricalLogitLogPmf([0, 3], logits)).toThrow(/label 3 at row 1 is not a class in \[0, 3\)/);
    expect(() => ad.categoricalLogitLogPmf([0], logits)).toThrow(/1 labels for logits of shape \[2, 3\] \(2 rows\)/);
  });
});

describe('log densities: gradients in every argument match finite differences, with broadcasting', () => {
  type Case = [string, (...xs: Tensor[]) => Tensor, [number, number][]];
  const cases: Case[] = [
    ['normal', ad.normalLogPdf, [[-3, 3], [-1, 1], [0.3, 3]]],
    ['studentT', ad.studentTLogPdf, [[-3, 3], [0.5, 10], [-1, 1], [0.3, 3]]],
    ['cauchy', ad.cauchyLogPdf, [[-3, 3], [-1, 1], [0.3, 3]]],
    ['halfNormal', ad.halfNormalLogPdf, [[0.05, 4], [0.3, 3]]],
    ['halfCauchy', ad.halfCauchyLogPdf, [[0.05, 4], [0.3, 3]]],
    ['exponential', ad.exponentialLogPdf, [[0.05, 4], [0.3, 3]]],
    ['gamma', ad.gammaLogPdf, [[0.1, 5], [0.5, 5], [0.3, 3]]],
    ['beta', ad.betaLogPdf, [[0.05, 0.95], [0.5, 5], [0.5, 5]]],
    ['bernoulliLogit', ad.bernoulliLogitLogPmf, [[0, 1], [-5, 5]]],
    ['poissonLog', ad.poissonLogLogPmf, [[0, 6], [-2, 2]]],
  ];
  it.each(cases)('%s', (_name, logpdf, domains) => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, fc.nat(), ([big, small], seed, pick) => {
        // One argument (chosen by `pick`) gets the first shape, the others the broadcastable second.
        const which = pick % domains.length;
        const args = domains.map(([lo, hi], k) => randomTensor(k === which ? big : small, seed + k, lo, hi));
        expectGradMatchesFiniteDifferences(logpdf, args);
      }),
      propertyRuns,
    );
  });

  it('categoricalLogit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), seedArb, (rows, classes, seed) => {
        const logits = randomTensor([rows, classes], seed, -3, 3);
        const labels = Array.from({ length: rows }, (_, r) => (seed + 7 * r) % classes);
        expectGradMatchesFiniteDifferences((l) => ad.categoricalLogitLogPmf(labels, l), [logits]);
      }),
      propertyRuns,
    );
  });
});
