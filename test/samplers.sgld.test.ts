import { describe, expect, it } from 'vitest';
import { sgld, sgldInit, SgldOptionError } from '../src/samplers/sgld.js';
import { getSampler, listSamplers } from '../src/samplers/registry.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { Minibatcher } from '../src/data/minibatch.js';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';
import { gaussianTarget } from './samplers.helpers.js';

/** ĝ = ∇ log prior + (N/S) ∇ log lik, computed here independently of the estimator module. */
function minibatchGradientByHand(target: Target<IndexBatch>, theta: Vec, batch: IndexBatch): Float64Array {
  const prior = target.logPrior(theta).grad;
  const lik = target.logLikelihood(theta, batch).grad;
  const scale = target.dataSize / batch.length;
  return Float64Array.from(prior, (g, i) => g + scale * lik[i]);
}

/**
 * The stationary covariance of SGLD with exact gradients at constant ε (the unadjusted Langevin
 * chain θ' = Aθ + c + √ε ξ with A = I − (ε/2)P): the fixed point of Σ = AΣAᵀ + εI, which exceeds P⁻¹
 * by the factor 1/(1 − ελ/4) along each eigenvector of P.
 */
function discreteStationaryCovariance(precision: number[], stepSize: number): number[] {
  const a = [1 - (stepSize / 2) * precision[0], -(stepSize / 2) * precision[1], -(stepSize / 2) * precision[2], 1 - (stepSize / 2) * precision[3]];
  let s = [0, 0, 0, 0];
  for (let iteration = 0; iteration < 200_000; iteration++) {
    const as = [a[0] * s[0] + a[1] * s[2], a[0] * s[1] + a[1] * s[3], a[2] * s[0] + a[3] * s[2], a[2] * s[1] + a[3] * s[3]];
    const next = [
      as[0] * a[0] + as[1] * a[1] + stepSize,
      as[0] * a[2] + as[1] * a[3],
      as[2] * a[0] + as[3] * a[1],
      as[2] * a[2] + as[3] * a[3] + stepSize,
    ];
    const change = Math.max(...next.map((v, i) => Math.abs(v - s[i])));
    s = next;
    if (change < 1e-15) break;
  }
  return s;
}

describe('sgld', () => {
  const n = 20;
  const { target, mean, cov, P: precision } = gaussianTarget(n, 11);

  it('recovers the mean and covariance of a 2-D Gaussian posterior within Monte Carlo error', () => {
    const stepSize = 2e-3;
    const batchSize = 5;
    const chains = 4;
    const burnIn = 2_000; // ≈ 14 relaxation times 2/(ε λ_min) = 143 steps of the slowest direction
    const steps = 200_000;
    const batches = 50;
    const batchLength = steps / batches;
    const sampler = sgld(target, { stepSize });
    // Batch means: per chain, the kept draws are cut into 50 consecutive batches of 4000 steps
    // (≈ 14 times the ≈ 285-step integrated autocorrelation time (2 − ελ)/(ελ) of the slowest
    // direction, λ_min = 7), so the 200 batch means over 4 chains are
    // nearly independent and MCSE = sd(batch means)/√200, for the mean and for the centred products.
    const statistics = 5; // θ0, θ1, (θ0−m0)², (θ0−m0)(θ1−m1), (θ1−m1)²
    const batchMeans: number[][] = Array.from({ length: statistics }, () => []);
    for (let c = 0; c < chains; c++) {
      const chainKey = foldIn(key(2024), c);
      const minibatches = new Minibatcher(foldIn(chainKey, 1), n, batchSize);
      let state = sampler.init(Float64Array.of(0, 0), chainKey);
      const sums = new Float64Array(statistics);
      for (let t = 0; t < burnIn + steps; t++) {
        [state] = sampler.step(foldIn(chainKey, 2 + t), state, minibatches.at(t));
        if (t < burnIn) continue;
        const d0 = state.position[0] - mean[0];
        const d1 = state.position[1] - mean[1];
        sums[0] += state.position[0];
        sums[1] += state.position[1];
        sums[2] += d0 * d0;
        sums[3] += d0 * d1;
        sums[4] += d1 * d1;
        if ((t - burnIn + 1) % batchLength === 0) {
          for (let k = 0; k < statistics; k++) batchMeans[k].push(sums[k] / batchLength);
          sums.fill(0);
        }
      }
    }
    // Expected: the posterior mean, and the discretised chain's stationary covariance (exceeding P⁻¹ by
    // ελ/4 ≤ 1.8% along each eigenvector). Minibatch noise adds almost nothing: an epoch is 4 steps, far
    // shorter than the relaxation time, and its batches' gradients sum to the exact one.
    const stationary = discreteStationaryCovariance(precision, stepSize);
    const expected = [mean[0], mean[1], stationary[0], stationary[1], stationary[3]];
    for (let k = 0; k < statistics; k++) {
      const values = batchMeans[k];
      const average = values.reduce((a, v) => a + v, 0) / values.length;
      const variance = values.reduce((a, v) => a + (v - average) ** 2, 0) / (values.length - 1);
      const mcse = Math.sqrt(variance / values.length);
      expect(Math.abs(average - expected[k]), `statistic ${k}: ${average} vs ${expected[k]} (MCSE ${mcse})`).toBeLessThan(4 * mcse);
    }
    // And the sampled covariance is the posterior's to within a few percent.
    expect(Math.abs(stationary[0] / cov[0] - 1)).toBeLessThan(0.01);
  });

  it('gives the same output for the same key, state and batch, and different output for another key', () => {
    const sampler = sgld(target, { stepSize: 1e-2 });
    const state = sampler.init(Float64Array.of(0.3, -0.2), key(1));
    const batch = Int32Array.of(1, 4, 7, 9);
    const [a, infoA] = sampler.step(key(5), state, batch);
    const [b, infoB] = sampler.step(key(5), state, batch);
    const [c] = sampler.step(key(6), state, batch);
    expect(Array.from(a.position)).toEqual(Array.from(b.position));
    expect(infoA).toEqual(infoB);
    expect(Array.from(c.position)).not.toEqual(Array.from(a.position));
    expect(a.step).toBe(1);
  });

  it('never mutates the state or position it was given', () => {
    const sampler = sgld(target, { stepSize: 1e-2 });
    const start = Float64Array.of(0.3, -0.2);
    const state = Object.freeze(sampler.init(start, key(1)));
    expect(state.position).not.toBe(start); // init copies
    const before = Array.from(state.position);
    const [next] = sampler.step(key(5), state, Int32Array.of(0, 1));
    expect(Array.from(state.position)).toEqual(before);
    expect(state.step).toBe(0);
    expect(next.position).not.toBe(state.position);
    const [again] = sampler.step(key(5), state, Int32Array.of(0, 1));
    expect(Array.from(again.position)).toEqual(Array.from(next.position)); // the first step's buffers do not leak
  });

  it('keeps every state it returned intact over many later steps (positions share buffers, never entries)', () => {
    // 2-D positions: 256 of them per 4 KiB buffer, so 600 steps span three buffers.
    const sampler = sgld(target, { stepSize: 1e-2 });
    const root = key(12);
    const kept = [sampler.init(Float64Array.of(0.1, 0.2), root)];
    for (let t = 0; t < 600; t++) kept.push(sampler.step(foldIn(root, t), kept[t], Int32Array.of(t % 50, (7 * t) % 50))[0]);
    const replay = sgld(target, { stepSize: 1e-2 });
    let state = replay.init(Float64Array.of(0.1, 0.2), root);
    for (let t = 0; t < 600; t++) {
      [state] = replay.step(foldIn(root, t), state, Int32Array.of(t % 50, (7 * t) % 50));
      expect(Array.from(kept[t + 1].position), `step ${t}`).toEqual(Array.from(state.position));
    }
    expect(new Set(kept.map((s) => s.position)).size).toBe(kept.length);
  });

  it('at temperature 0 is exactly the gradient step θ + (ε/2) ĝ', () => {
    const stepSize = 3e-3;
    const sampler = sgld(target, { stepSize, temperature: 0 });
    const state = sgldInit(Float64Array.of(0.7, 0.1));
    const batch = Int32Array.of(2, 3, 5);
    const [next, info] = sampler.step(key(9), state, batch);
    const gradient = minibatchGradientByHand(target, state.position, batch);
    for (let i = 0; i < 2; i++) expect(next.position[i]).toBe(state.position[i] + (stepSize / 2) * gradient[i]);
    expect(info.noiseNorm).toBe(0);
    expect(info.gradNorm).toBeCloseTo(Math.hypot(gradient[0], gradient[1]), 12);
    expect(info.stepSize).toBe(stepSize);
  });

  it('reports the injected noise √(εT)‖ξ‖ and evaluates schedules at the state step', () => {
    const schedule = (t: number) => 0.01 / (1 + t);
    const sampler = sgld(target, { stepSize: schedule, temperature: 4 });
    const state = { position: Float64Array.of(0.7, 0.1), step: 9 };
    const batch = Int32Array.of(2, 3);
    const [next, info] = sampler.step(key(3), state, batch);
    expect(info.stepSize).toBe(0.001);
    const xi = normal(key(3), 2);
    expect(info.noiseNorm).toBeCloseTo(Math.sqrt(0.001 * 4) * Math.hypot(xi[0], xi[1]), 12);
    const gradient = minibatchGradientByHand(target, state.position, batch);
    for (let i = 0; i < 2; i++) {
      expect(next.position[i]).toBeCloseTo(state.position[i] + 0.0005 * gradient[i] + Math.sqrt(0.004) * xi[i], 12);
    }
    expect(next.step).toBe(10);
  });

  it('rejects invalid step sizes and temperatures with a message naming them', () => {
    expect(() => sgld(target, { stepSize: 0 })).toThrow(SgldOptionError);
    expect(() => sgld(target, { stepSize: 0.1, temperature: -1 })).toThrow(/temperature at step 0/);
    const sampler = sgld(target, { stepSize: (t) => (t < 3 ? 0.1 : Number.NaN) });
    const late = { position: Float64Array.of(0, 0), step: 3 };
    expect(() => sampler.step(key(0), late, Int32Array.of(0))).toThrow(/stepSize at step 3 must be a finite number > 0, got NaN/);
    expect(() => sampler.init(new Float64Array(3), key(0))).toThrow(/length 3, target.dim is 2/);
  });

  it('is registered, and the registry entry builds it and describes its noise-free step', () => {
    const entry = getSampler('sgld');
    expect(listSamplers().map((e) => e.name)).toContain('sgld');
    const sampler = entry.create(target, { stepSize: 2e-3, temperature: 0 });
    const state = sampler.init(Float64Array.of(0.5, 0.5), key(0));
    const batch = Int32Array.of(0, 1, 2);
    const [next] = sampler.step(key(1), state, batch);
    const expected = entry.zeroTemperatureStep!(state.position, minibatchGradientByHand(target, state.position, batch), 2e-3);
    expect(Array.from(next.position)).toEqual(Array.from(expected));
    expect(() => getSampler('nope')).toThrow(/unknown sampler 'nope'; known samplers: .*sgld/);
  });
});
