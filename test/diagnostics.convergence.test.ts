import { describe, expect, it } from 'vitest';
import { foldIn, key, normal } from '../src/core/random.js';
import {
  DrawsShapeError,
  autocovariance,
  effectiveSampleSize,
  energyBfmi,
  essBulk,
  essMean,
  essQuantile,
  essTail,
  mcseMean,
  normalQuantile,
  potentialScaleReduction,
  rankNormalize,
  rhat,
  rhatBasic,
  sampleQuantile,
  splitChains,
} from '../src/diagnostics/convergence.js';

/** Fixture: 2 chains × 12 draws with positive lag-1 autocorrelation. */
const A = [0.2, 0.9, 1.4, 1.1, 0.3, -0.5, -0.2, 0.6, 1.3, 0.8, 0.1, -0.4];
const B = [-0.7, -0.1, 0.5, 0.4, 1.2, 0.7, -0.3, -0.9, -0.2, 0.6, 1.0, 0.2];

const meanOf = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
const varOf = (x: number[]): number => {
  const m = meanOf(x);
  return x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1);
};

/** Split R̂ from BDA3 eq. 11.3–11.4, written out for the tests. */
function splitRhatByHand(chains: number[][]): number {
  const halves = chains.flatMap((c) => [c.slice(0, Math.floor(c.length / 2)), c.slice(c.length - Math.floor(c.length / 2))]);
  const n = halves[0].length;
  const B = n * varOf(halves.map(meanOf));
  const W = meanOf(halves.map(varOf));
  return Math.sqrt((((n - 1) / n) * W + B / n) / W);
}

function iidChains(seed: number, chains: number, draws: number, shift = 0): Float64Array[] {
  return Array.from({ length: chains }, (_, c) => normal(foldIn(key(seed), c), draws).map((x) => x + c * shift));
}

function ar1Chains(seed: number, chains: number, draws: number, phi: number): Float64Array[] {
  return Array.from({ length: chains }, (_, c) => {
    const e = normal(foldIn(key(seed), c), draws);
    const x = new Float64Array(draws);
    // Start from the stationary law N(0, 1/(1 − φ²)) so there is no burn-in.
    x[0] = e[0] / Math.sqrt(1 - phi * phi);
    for (let i = 1; i < draws; i++) x[i] = phi * x[i - 1] + e[i];
    return x;
  });
}

describe('normalQuantile (AS 241)', () => {
  it('matches published values of Φ⁻¹ to 1e-14', () => {
    // Standard table values of the normal quantile function.
    const table: [number, number][] = [
      [0.5, 0],
      [0.975, 1.959963984540054],
      [0.95, 1.6448536269514722],
      [0.99, 2.3263478740408408],
      [0.9, 1.2815515655446004],
      [0.001, -3.090232306167813],
      [1e-10, -6.361340902404056],
    ];
    for (const [p, z] of table) expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-14 * Math.max(1, Math.abs(z)));
  });
  it('is odd about 1/2 and handles the ends', () => {
    for (const p of [0.01, 0.2, 0.4, 0.49]) expect(normalQuantile(p)).toBeCloseTo(-normalQuantile(1 - p), 12);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe('splitChains and quantiles', () => {
  it('halves each chain, dropping the middle draw of an odd chain', () => {
    const out = splitChains([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
    expect(out.map((c) => Array.from(c))).toEqual([[1, 2], [4, 5], [6, 7], [9, 10]]);
  });
  it('type-7 quantile interpolates between order statistics', () => {
    // n = 5, p = 0.3: h = 1.2 → x(1) + 0.2 (x(2) − x(1)) = 2 + 0.2 = 2.2
    expect(sampleQuantile([5, 1, 3, 2, 4], 0.3)).toBeCloseTo(2.2, 14);
    expect(sampleQuantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
  });
  it('rejects ragged or empty chains with a message naming the chain', () => {
    expect(() => splitChains([[1, 2, 3], [1, 2]])).toThrow(DrawsShapeError);
    expect(() => splitChains([[1, 2, 3], [1, 2]])).toThrow(/chain 1 has 2 draws/);
    expect(() => essBulk([])).toThrow(/chains/);
  });
});

describe('rankNormalize', () => {
  it('uses average ranks for ties and Blom offsets, worked by hand', () => {
    // Pooled draws 1, 3, 3, 2, 5, 0 → ranks 2, 4.5, 4.5, 3, 6, 1 (ties share (4 + 5)/2); S = 6.
    const z = rankNormalize([[1, 3, 3], [2, 5, 0]]);
    const blom = (r: number) => normalQuantile((r - 3 / 8) / (6 + 1 / 4));
    const expected = [[blom(2), blom(4.5), blom(4.5)], [blom(3), blom(6), blom(1)]];
    z.forEach((chain, c) => chain.forEach((v, i) => expect(v).toBeCloseTo(expected[c][i], 14)));
    // (2 − 3/8)/6.25 = 0.26 → Φ⁻¹(0.26) = −0.6433454053929170 (normal table).
    expect(z[0][0]).toBeCloseTo(-0.643345405392917, 12);
  });
});

describe('autocovariance', () => {
  it('is the biased estimator, worked by hand on 1, 2, 3, 4', () => {
    // Centred: −1.5, −0.5, 0.5, 1.5; γ_t = Σ products / 4.
    const expected = [5 / 4, (0.75 - 0.25 + 0.75) / 4, (-0.75 - 0.75) / 4, -2.25 / 4];
    const got = autocovariance([1, 2, 3, 4], 'direct');
    expected.forEach((v, t) => expect(got[t]).toBeCloseTo(v, 14));
  });
  it('FFT and direct sums agree (long and odd-length series)', () => {
    for (const n of [301, 1000]) {
      const x = normal(key(n), n).map((v, i) => v + 0.01 * i);
      const viaFft = autocovariance(x, 'fft');
      const direct = autocovariance(x, 'direct');
      for (let t = 0; t < n; t++) expect(Math.abs(viaFft[t] - direct[t])).toBeLessThan(1e-12);
    }
  });
});

describe('ESS and R̂ on a hand-worked fixture (2 chains × 12 draws)', () => {
  it('effective sample size follows Stan step by step', () => {
    // Split into 4 chains of n = 6; per chain biased autocovariances γ_{t,m}.
    const halves = [A.slice(0, 6), A.slice(6), B.slice(0, 6), B.slice(6)];
    const n = 6;
    const gamma = (x: number[], t: number) => {
      const m = meanOf(x);
      let s = 0;
      for (let i = 0; i + t < n; i++) s += (x[i] - m) * (x[i + t] - m);
      return s / n;
    };
    const W = meanOf(halves.map((h) => (gamma(h, 0) * n) / (n - 1)));
    const varPlus = (W * (n - 1)) / n + varOf(halves.map(meanOf));
    const rho = (t: number) => 1 - (W - meanOf(halves.map((h) => gamma(h, t)))) / varPlus;
    // n = 6: Geyer's loop runs once (s = 1 < n − 4), computing ρ̂₂, ρ̂₃.
    expect(1 + rho(1)).toBeGreaterThan(0);
    expect(rho(2) + rho(3)).toBeLessThan(0); // the pair is negative: it is not kept
    expect(rho(2)).toBeLessThan(0); // and ρ̂₂ is not reused as the antithetic term
    const tau = -1 + 2 * (1 + rho(1));
    const byHand = 24 / tau;
    expect(essMean([A, B])).toBeCloseTo(byHand, 12);
    // The same value from an independent NumPy implementation of the ArviZ formulas.
    expect(essMean([A, B])).toBeCloseTo(16.26043606222596, 10);
  });
  it('bulk ESS ranks first; raw ESS does not split', () => {
    expect(essBulk([A, B])).toBeCloseTo(16.479976146620775, 10);
    expect(effectiveSampleSize([A, B])).toBeCloseTo(13.571060589091724, 10);
    expect(mcseMean([A, B])).toBeCloseTo(0.1616558195199007, 12);
  });
  it('split R̂ = 2 for 1…6 and 2…7, worked by hand', () => {
    // Halves [1,2,3] [4,5,6] [2,3,4] [5,6,7]: means 2, 5, 3, 6; W = 1; B = 3·var(means) = 3·10/3 = 10;
    // R̂ = √((2/3)·1 + 10/3) = 2.
    const chains = [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]];
    expect(rhatBasic(chains)).toBeCloseTo(2, 14);
    expect(splitRhatByHand(chains)).toBeCloseTo(2, 14);
  });
  it('rank-normalised R̂ = max(bulk, folded) on ranks, worked by hand', () => {
    const chains = [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]];
    const z = rankNormalize(chains).map((c) => Array.from(c));
    // Median of the 12 draws is 4 (type 7), so the folded draws are |x − 4|.
    const folded = chains.map((c) => c.map((x) => Math.abs(x - 4)));
    const zFolded = rankNormalize(folded).map((c) => Array.from(c));
    const byHand = Math.max(splitRhatByHand(z), splitRhatByHand(zFolded));
    expect(rhat(chains)).toBeCloseTo(byHand, 14);
    expect(rhat(chains)).toBeCloseTo(1.8371526402440368, 10);
  });
  it('potentialScaleReduction needs two chains; degenerate draws give NaN', () => {
    expect(potentialScaleReduction([[1, 2, 3]])).toBeNaN();
    expect(rhat([[1, 1, 1, 1], [1, 1, 1, 1]])).toBeNaN();
    expect(essBulk([[1, 2, NaN, 4], [1, 2, 3, 4]])).toBeNaN();
  });
});

describe('sanity on simulated chains', () => {
  it('iid normal draws: ESS ≈ N, R̂ ≈ 1', () => {
    const chains = iidChains(11, 4, 1000);
    // For iid draws the ESS estimator has a relative sd of a few per cent at N = 4000; 15% is > 3 sd.
    for (const ess of [essBulk(chains), essMean(chains), effectiveSampleSize(chains)]) {
      expect(ess / 4000).toBeGreaterThan(0.85);
      expect(ess / 4000).toBeLessThan(1.15);
    }
    // The tail ESS is an ESS of indicators with p = 0.05: noisier, 25% allowed.
    expect(essTail(chains) / 4000).toBeGreaterThan(0.75);
    expect(essTail(chains) / 4000).toBeLessThan(1.25);
    expect(Math.abs(rhat(chains) - 1)).toBeLessThan(0.01);
  });
  it('shifted chains: R̂ ≫ 1', () => {
    expect(rhat(iidChains(12, 4, 500, 2))).toBeGreaterThan(1.5);
    expect(rhatBasic(iidChains(12, 4, 500, 2))).toBeGreaterThan(1.5);
  });
  it('a chain that drifts within itself is caught by splitting', () => {
    const drifting = [0, 1].map((c) => Float64Array.from({ length: 400 }, (_, i) => (i < 200 ? 0 : 3) + normal(foldIn(key(5), c), 400)[i]));
    expect(rhat(drifting)).toBeGreaterThan(1.5);
  });
  it('scale differences between chains are caught by the folded R̂', () => {
    const chains = iidChains(13, 4, 1000).map((c, i) => (i === 0 ? c.map((x) => 4 * x) : c));
    // Same location, so the bulk R̂ alone is near 1; the tail (folded) R̂ is not.
    expect(rhat(chains)).toBeGreaterThan(1.05);
  });
  it('AR(1) chains: ESS ≈ N (1 − φ)/(1 + φ)', () => {
    const phi = 0.5;
    const chains = ar1Chains(21, 4, 4000, phi);
    const expected = (16000 * (1 - phi)) / (1 + phi);
    // Relative sd of the estimate at this length is about 3%; 15% is ~5 sd.
    expect(essMean(chains) / expected).toBeGreaterThan(0.85);
    expect(essMean(chains) / expected).toBeLessThan(1.15);
    // MCSE of the mean is sd/√ESS: stationary sd is 1/√(1 − φ²).
    const mcse = mcseMean(chains);
    const theoretical = 1 / Math.sqrt(1 - phi * phi) / Math.sqrt(expected);
    expect(mcse / theoretical).toBeGreaterThan(0.9);
    expect(mcse / theoretical).toBeLessThan(1.1);
  });
  it('antithetic chains have ESS above N', () => {
    const chains = ar1Chains(22, 4, 1000, -0.5);
    expect(essMean(chains)).toBeGreaterThan(4000);
  });
  it('essQuantile of the median is finite and below N for autocorrelated chains', () => {
    const ess = essQuantile(ar1Chains(23, 4, 1000, 0.8), 0.5);
    expect(ess).toBeGreaterThan(50);
    expect(ess).toBeLessThan(4000);
  });
});

describe('energyBfmi', () => {
  it('by hand: Σ (ΔE)² / Σ (E − Ē)²', () => {
    // E = 1, 3, 2, 4: jumps 2, −1, 2 → 9; Ē = 2.5, deviations² 2.25 + 0.25 + 0.25 + 2.25 = 5.
    expect(energyBfmi([1, 3, 2, 4])).toBeCloseTo(1.8, 14);
    expect(() => energyBfmi([1])).toThrow(/at least 2/);
  });
  it('is ≈ 2 for independent energies and small for a slowly drifting chain', () => {
    // For iid E, E(ΔE)² = 2 var E.
    expect(energyBfmi(normal(key(31), 20_000))).toBeCloseTo(2, 1);
    expect(energyBfmi(ar1Chains(32, 1, 5000, 0.95)[0])).toBeLessThan(0.2);
  });
});
