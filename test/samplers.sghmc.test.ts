import { describe, expect, it } from 'vitest';
import { sghmc, SghmcOptionError } from '../src/samplers/sghmc.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { gaussianTarget } from './samplers.helpers.js';

/**
 * The exact stationary covariance of the position under full-batch SGHMC on the Gaussian target (a
 * linear Gaussian chain in z = (θ − m, r)): r' = (1 − εC)r − εPθ + ξ, θ' = θ + εr', Cov ξ = 2Cε I, M = I.
 */
function sghmcStationaryPositionCovariance(P: number[], eps: number, C: number): number[] {
  // z' = F z + w with F = [[I − ε²P, ε(1 − εC)I], [−εP, (1 − εC)I]] and Cov w = 2Cε [[ε²I, εI], [εI, I]].
  const F = new Float64Array(16);
  const Q = new Float64Array(16);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      F[i * 4 + j] = (i === j ? 1 : 0) - eps * eps * P[i * 2 + j];
      F[(i + 2) * 4 + j] = -eps * P[i * 2 + j];
    }
    F[i * 4 + i + 2] = eps * (1 - eps * C);
    F[(i + 2) * 4 + i + 2] = 1 - eps * C;
    Q[i * 4 + i] = 2 * C * eps * eps * eps;
    Q[i * 4 + i + 2] = Q[(i + 2) * 4 + i] = 2 * C * eps * eps;
    Q[(i + 2) * 4 + i + 2] = 2 * C * eps;
  }
  let sigma = Q.slice();
  for (let it = 0; it < 200_000; it++) {
    const FS = new Float64Array(16);
    for (let a = 0; a < 4; a++) for (let k = 0; k < 4; k++) for (let b = 0; b < 4; b++) FS[a * 4 + b] += F[a * 4 + k] * sigma[k * 4 + b];
    const next = Q.slice();
    for (let a = 0; a < 4; a++) for (let k = 0; k < 4; k++) for (let b = 0; b < 4; b++) next[a * 4 + b] += FS[a * 4 + k] * F[b * 4 + k];
    const change = Math.max(...next.map((v, i) => Math.abs(v - sigma[i])));
    sigma = next;
    if (change < 1e-17) break;
  }
  return [sigma[0], sigma[1], sigma[4], sigma[5]];
}

describe('sghmc', () => {
  const n = 20;
  const { target, mean, cov, P } = gaussianTarget(n, 11);
  const all = target.fullBatch();

  it('recovers a 2-D Gaussian posterior (full batch) within Monte Carlo error', () => {
    const eps = 0.02;
    const friction = 3;
    const sampler = sghmc(target, { stepSize: eps, friction });
    // Batch means over 4 chains × 50 batches of 2000 steps, ≫ the ≈ 1/(εC/2) ≈ 33-step damping time.
    const chains = 4;
    const perBatch = 2000;
    const batches = 50;
    const stats = 5;
    const batchMeans: number[][] = Array.from({ length: stats }, () => []);
    for (let c = 0; c < chains; c++) {
      const chainKey = foldIn(key(77), c);
      let state = sampler.init(Float64Array.of(0, 0), chainKey);
      for (let t = 0; t < 1000; t++) [state] = sampler.step(foldIn(chainKey, t), state, all);
      const sums = new Float64Array(stats);
      for (let t = 0; t < perBatch * batches; t++) {
        [state] = sampler.step(foldIn(chainKey, 1000 + t), state, all);
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
    const stationary = sghmcStationaryPositionCovariance(P, eps, friction);
    const expected = [mean[0], mean[1], stationary[0], stationary[1], stationary[3]];
    batchMeans.forEach((values, k) => {
      const m = values.reduce((a, v) => a + v, 0) / values.length;
      const se = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1) / values.length);
      expect(Math.abs(m - expected[k]), `statistic ${k}: ${m} vs ${expected[k]} ± ${se}`).toBeLessThan(4 * se);
    });
    // The discretised chain's covariance is the posterior's to within a few percent at this ε.
    for (const i of [0, 3]) expect(Math.abs(stationary[i] / cov[i] - 1)).toBeLessThan(0.05);
  });

  it('takes r ← r + εĝ − εCM⁻¹r + noise, θ ← θ + εM⁻¹r exactly; at T = 0 from rest it is θ + ε²M⁻¹ĝ', () => {
    const eps = 0.1;
    const mass = Float64Array.of(2, 0.5);
    const sampler = sghmc(target, { stepSize: eps, friction: 1.5, noiseEstimate: 0.5, mass, temperature: 3 });
    const state = { position: Float64Array.of(0.3, -0.2), momentum: Float64Array.of(0.4, 0.1), step: 0 };
    const batch = Int32Array.of(2, 5, 7);
    const [next, info] = sampler.step(key(4), state, batch);
    const prior = target.logPrior(state.position).grad;
    const lik = target.logLikelihood(state.position, batch).grad;
    const xi = normal(key(4), 2);
    for (let i = 0; i < 2; i++) {
      const g = prior[i] + (n / 3) * lik[i];
      const r = state.momentum[i] + eps * g - eps * 1.5 * (state.momentum[i] / mass[i]) + Math.sqrt(2 * (1.5 - 0.5) * eps * 3) * xi[i];
      expect(next.momentum[i]).toBeCloseTo(r, 14);
      expect(next.position[i]).toBeCloseTo(state.position[i] + (eps * r) / mass[i], 14);
    }
    expect(info.noiseNorm).toBeCloseTo(Math.sqrt(2 * eps * 3) * Math.hypot(xi[0], xi[1]), 14);
    expect(Array.from(state.momentum)).toEqual([0.4, 0.1]);

    const cold = sghmc(target, { stepSize: eps, temperature: 0, mass });
    const fresh = cold.init(Float64Array.of(0.3, -0.2), key(0));
    const [moved, coldInfo] = cold.step(key(9), fresh, batch);
    for (let i = 0; i < 2; i++) {
      const g = prior[i] + (n / 3) * lik[i];
      expect(moved.position[i]).toBeCloseTo(fresh.position[i] + (eps * eps * g) / mass[i], 14);
    }
    expect(coldInfo.noiseNorm).toBe(0);
  });

  it('samples the initial momentum from N(0, M) when asked, and validates options', () => {
    const sampler = sghmc(target, { stepSize: 0.01, mass: 4, initialMomentum: 'sample' });
    const a = sampler.init(Float64Array.of(0, 0), key(3));
    const b = sampler.init(Float64Array.of(0, 0), key(3));
    const z = normal(key(3), 2);
    expect(Array.from(a.momentum)).toEqual(Array.from(b.momentum));
    expect(a.momentum[0]).toBeCloseTo(2 * z[0], 15);
    expect(() => sghmc(target, { stepSize: 0.1, friction: 1, noiseEstimate: 2 })).toThrow(/friction\[0\] = 1 is below noiseEstimate\[0\] = 2/);
    expect(() => sghmc(target, { stepSize: 0.1, mass: Float64Array.of(1) })).toThrow(SghmcOptionError);
    expect(() => sghmc(target, { stepSize: 0 })).toThrow(/stepSize at step 0 must be a finite number > 0, got 0/);
  });
});
