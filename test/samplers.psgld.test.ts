import { describe, expect, it } from 'vitest';
import { psgld, PsgldOptionError } from '../src/samplers/psgld.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { gaussianTarget } from './samplers.helpers.js';

describe('psgld', () => {
  const n = 20;
  const { target, mean, cov } = gaussianTarget(n, 11);
  const all = target.fullBatch();

  it('recovers a 2-D Gaussian posterior (full batch) within Monte Carlo error and the discretisation bias', () => {
    // In stationarity V ≈ diag(P)/N², so G ≈ N/√P_kk and the drift step εGλ/2 ≲ 0.1 at ε = 1e-3.
    // α = 0.999 averages V over ≈ 1000 steps, ≫ the ≈ 65-step relaxation time, so G barely follows θ.
    const sampler = psgld(target, { stepSize: 1e-3, decay: 0.999 });
    const chains = 4;
    const perBatch = 2000;
    const batches = 50;
    const stats = 5;
    const batchMeans: number[][] = Array.from({ length: stats }, () => []);
    for (let c = 0; c < chains; c++) {
      const chainKey = foldIn(key(91), c);
      let state = sampler.init(Float64Array.of(0, 0), chainKey);
      for (let t = 0; t < 2000; t++) [state] = sampler.step(foldIn(chainKey, t), state, all);
      const sums = new Float64Array(stats);
      for (let t = 0; t < perBatch * batches; t++) {
        [state] = sampler.step(foldIn(chainKey, 2000 + t), state, all);
        const d0 = state.position[0] - mean[0];
        const d1 = state.position[1] - mean[1];
        sums[0] += state.position[0];
        sums[1] += state.position[1];
        sums[2] += d0 * d0;
        sums[3] += d0 * d1;
        sums[4] += d1 * d1;
        if ((t + 1) % perBatch === 0) {
          sums.forEach((s, k) => batchMeans[k].push(s / perBatch));
          sums.fill(0);
        }
      }
    }
    const expected = [mean[0], mean[1], cov[0], cov[1], cov[3]];
    // Means: 4 MCSE (batch means of 2000 steps, ≫ the autocorrelation time). Second moments: 4 MCSE
    // plus 10% of the variance for the discretisation (≈ εGλ/4 ≲ 3%) and the dropped Γ term.
    const slack = [0, 0, 0.1 * cov[0], 0.1 * Math.sqrt(cov[0] * cov[3]), 0.1 * cov[3]];
    batchMeans.forEach((values, k) => {
      const m = values.reduce((a, v) => a + v, 0) / values.length;
      const se = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1) / values.length);
      if (process.env.SGBAYES_DEBUG) console.log(k, m, expected[k], se, (m - expected[k]) / expected[k]);
      expect(Math.abs(m - expected[k]), `statistic ${k}: ${m} vs ${expected[k]} ± ${se}`).toBeLessThan(4 * se + slack[k]);
    });
  });

  it('takes θ + (ε/2)Gĝ + √(εT) G^½ ξ with G = 1/(λ + √V), V the RMS of ĝ/N', () => {
    const eps = 0.01;
    const sampler = psgld(target, { stepSize: eps, decay: 0.9, eps: 1e-4, temperature: 2 });
    const s0 = sampler.init(Float64Array.of(0.3, -0.2), key(0));
    const batch = Int32Array.of(1, 4, 6, 8);
    const [s1, info] = sampler.step(key(5), s0, batch);
    const prior = target.logPrior(s0.position).grad;
    const lik = target.logLikelihood(s0.position, batch).grad;
    const xi = normal(key(5), 2);
    let noiseSq = 0;
    for (let i = 0; i < 2; i++) {
      const g = prior[i] + (n / 4) * lik[i];
      const v = 0.1 * (g / n) ** 2;
      const G = 1 / (1e-4 + Math.sqrt(v));
      expect(s1.rms.meanSquare[i] / v).toBeCloseTo(1, 12);
      const injected = Math.sqrt(eps * 2 * G) * xi[i];
      noiseSq += injected ** 2;
      expect(s1.position[i]).toBeCloseTo(s0.position[i] + (eps / 2) * G * g + injected, 12);
    }
    expect(info.noiseNorm).toBeCloseTo(Math.sqrt(noiseSq), 12);
    expect(Array.from(s0.rms.meanSquare)).toEqual([0, 0]);
    const cold = psgld(target, { stepSize: eps, temperature: 0 });
    const c0 = cold.init(Float64Array.of(0.3, -0.2), key(0));
    const [c1] = cold.step(key(1), c0, batch);
    const [c2] = cold.step(key(2), c0, batch);
    expect(Array.from(c1.position)).toEqual(Array.from(c2.position));
  });

  it('rejects bad options', () => {
    expect(() => psgld(target, { stepSize: -1 })).toThrow(PsgldOptionError);
    expect(() => psgld(target, { stepSize: 0.1, decay: 1 })).toThrow(/decay must be in \[0, 1\)/);
    expect(() => psgld(target, { stepSize: 0.1, temperature: -2 })).toThrow(/temperature at step 0 must be a finite number ≥ 0, got -2/);
  });
});
