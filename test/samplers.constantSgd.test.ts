import { describe, expect, it } from 'vitest';
import { constantSgd, ConstantSgdOptionError, updateNoiseEstimate } from '../src/samplers/constantSgd.js';
import { linearRegression } from '../src/models/linear.js';
import { exactNoiseCovariance } from '../src/noise/estimator.js';
import { optimalPreconditioner } from '../src/noise/optimal.js';
import { key } from '../src/core/random.js';
import { symmetricGaussianKL } from '../src/diagnostics/gaussian.js';
import { scaleByRms } from '../src/transforms/rms.js';
import type { IndexBatch, Target } from '../src/core/types.js';
import type { Preconditioner } from '../src/noise/types.js';
import { batchAt, correlatedRegression, lossGradientByHand } from './samplers.helpers.js';
import { preconditionerMatrix } from '../src/transforms/preconditioner.js';

/** The stationary covariance of θ' = θ − H(A(θ − m) + ξ), Cov ξ = C/S: Σ = MΣMᵀ + HCH/S, M = I − HA. */
function discreteStationaryCovariance(H: Float64Array, A: Float64Array, C: Float64Array, S: number, d: number): Float64Array {
  const mul = (a: Float64Array, b: Float64Array) => {
    const out = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) out[i * d + j] += a[i * d + k] * b[k * d + j];
    return out;
  };
  const tr = (a: Float64Array) => Float64Array.from(a, (_, i) => a[(i % d) * d + Math.floor(i / d)]);
  const HA = mul(H, A);
  const M = Float64Array.from(HA, (v, i) => (i % (d + 1) === 0 ? 1 : 0) - v);
  const Q = mul(mul(H, C), tr(H)).map((v) => v / S);
  let sigma = Q.slice();
  for (let it = 0; it < 100_000; it++) {
    const next = mul(mul(M, sigma), tr(M)).map((v, i) => v + Q[i]);
    const change = Math.max(...next.map((v, i) => Math.abs(v - sigma[i])));
    sigma = next;
    if (change < 1e-16 * Math.max(...Q.map(Math.abs)) ) break;
  }
  return sigma;
}

describe('constantSgd', () => {
  const N = 1000;
  const S = 10;
  const model = linearRegression(correlatedRegression(5, N), { priorPrecision: 1, noisePrecision: 4 });
  const d = model.dim;
  const posterior = model.exactPosterior();
  const noise = exactNoiseCovariance(model, posterior.mean);
  const hessianOfLoss = model.hessianLogPosterior(posterior.mean).map((v) => -v / N);

  /** Run from the posterior mean; return the sample covariance about the (exact) stationary mean with batch-means MCSEs. */
  function sampleCovariance(preconditioner: Preconditioner, steps: number, seed: number) {
    const sampler = constantSgd(model, { preconditioner });
    let state = sampler.init(posterior.mean, key(seed));
    const batches = 100;
    const perBatch = steps / batches;
    const batchMeans: number[][] = Array.from({ length: d * d }, () => []);
    const sums = new Float64Array(d * d);
    for (let t = 0; t < steps; t++) {
      [state] = sampler.step(key(0), state, batchAt(seed, t, N, S));
      for (let a = 0; a < d; a++) {
        const da = state.position[a] - posterior.mean[a];
        for (let b = 0; b < d; b++) sums[a * d + b] += da * (state.position[b] - posterior.mean[b]);
      }
      if ((t + 1) % perBatch === 0) {
        sums.forEach((s, i) => batchMeans[i].push(s / perBatch));
        sums.fill(0);
      }
    }
    const cov = new Float64Array(d * d);
    const mcse = new Float64Array(d * d);
    batchMeans.forEach((values, i) => {
      const m = values.reduce((a, v) => a + v, 0) / values.length;
      cov[i] = m;
      mcse[i] = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1) / values.length);
    });
    return { cov, mcse };
  }

  it('with the full optimal H of exact noise samples the exact posterior; the scalar rate does not', () => {
    // The stationary mean of constant SGD on a quadratic loss is the optimum, here the posterior mean,
    // so second moments are taken about it. Batch means: 100 batches of 600 steps, ≫ the ≈ 50-step
    // relaxation time N/(2S) of H*A ≈ (2S/N)I, so the batch means are nearly independent.
    const steps = 60_000;
    const full = optimalPreconditioner('full', noise, { batchSize: S, dataSize: N });
    const scalar = optimalPreconditioner('scalar', noise, { batchSize: S, dataSize: N });
    const resultFull = sampleCovariance(full, steps, 7);
    const resultScalar = sampleCovariance(scalar, steps, 8);
    // The empirical covariance is the discrete chain's exact stationary one within 4 MCSE. (Not checked
    // for the scalar rate: its slowest direction relaxes over thousands of steps, too slow for this budget.)
    const predicted = discreteStationaryCovariance(preconditionerMatrix(full, d), hessianOfLoss, noise.full!, S, d);
    for (let i = 0; i < d * d; i++) {
      expect(Math.abs(resultFull.cov[i] - predicted[i]), `entry ${i}: ${resultFull.cov[i]} vs ${predicted[i]} ± ${resultFull.mcse[i]}`).toBeLessThan(
        4 * resultFull.mcse[i],
      );
    }
    // With H* the stationary covariance is the posterior's (Corollary 4) up to the O(S/N) step bias.
    for (let i = 0; i < d; i++) {
      const ratio = resultFull.cov[i * d + i] / posterior.cov[i * d + i];
      expect(Math.abs(ratio - 1), `variance ${i} ratio ${ratio}`).toBeLessThan(0.03 + 4 * resultFull.mcse[i * d + i] / posterior.cov[i * d + i]);
    }
    const klFull = symmetricGaussianKL(posterior.mean, resultFull.cov, posterior.mean, posterior.cov, d);
    const klScalar = symmetricGaussianKL(posterior.mean, resultScalar.cov, posterior.mean, posterior.cov, d);
    if (process.env.SGBAYES_DEBUG) console.log({ klFull, klScalar });
    expect(klFull).toBeLessThan(0.05);
    expect(klScalar).toBeGreaterThan(10 * klFull);
  });

  it('takes exactly the step θ − cHĝ_S and reports its diagnostics', () => {
    const p: Preconditioner = { kind: 'diagonal', h: Float64Array.of(0.5, 0.25, 2) };
    const sampler = constantSgd(model, { preconditioner: p, scale: 0.1 });
    const state = sampler.init(Float64Array.of(0.2, -0.1, 0.4), key(0));
    const batch = Int32Array.of(3, 17, 99, 4);
    const [next, info] = sampler.step(key(1), state, batch);
    const g = lossGradientByHand(model, state.position, batch);
    for (let i = 0; i < d; i++) expect(next.position[i]).toBeCloseTo(state.position[i] - 0.1 * p.h[i] * g[i], 14);
    expect(info.stepSize).toBeCloseTo((0.1 * 2.75) / 3, 15);
    expect(info.gradNorm).toBeCloseTo(Math.hypot(...g), 12);
    expect(info.noiseNorm).toBe(0); // no running mean yet
    expect(info.preconditioner).toBe('diagonal');
    const batch2 = Int32Array.of(5, 6);
    const [, info2] = sampler.step(key(1), next, batch2);
    const g2 = lossGradientByHand(model, next.position, batch2);
    expect(info2.noiseNorm).toBeCloseTo(Math.hypot(...g2.map((v, i) => v - g[i])), 12);
  });

  it('is deterministic and never mutates its input state', () => {
    const sampler = constantSgd(model, { preconditioner: { kind: 'scalar', rate: 0.05 } });
    const state = sampler.init(Float64Array.of(0.2, -0.1, 0.4), key(0));
    const copy = Float64Array.from(state.position);
    const batch = Int32Array.of(1, 2, 3);
    const [a] = sampler.step(key(1), state, batch);
    const [b] = sampler.step(key(2), state, batch);
    expect(Array.from(a.position)).toEqual(Array.from(b.position)); // no injected noise: the key is unused
    expect(Array.from(state.position)).toEqual(Array.from(copy));
    expect(state.step).toBe(0);
    expect(state.gradientMean).toBeNull();
  });

  it('accepts any transform as the preconditioner (here RMSprop)', () => {
    const rms = scaleByRms({ decay: 0.9, eps: 1e-8 });
    const sampler = constantSgd(model, { preconditioner: rms, scale: 0.01 });
    const state = sampler.init(Float64Array.of(0, 0, 0), key(0));
    const batch = Int32Array.of(1, 2, 3);
    const [next, info] = sampler.step(key(0), state, batch);
    const g = lossGradientByHand(model, state.position, batch);
    for (let i = 0; i < d; i++) expect(next.position[i] / (-0.01 * g[i] / (1e-8 + Math.sqrt(0.1 * g[i] * g[i])))).toBeCloseTo(1, 12);
    expect(info.preconditioner).toBe('transform');
    expect(next.transform.meanSquare[0] / (0.1 * g[0] * g[0])).toBeCloseTo(1, 12);
  });

  it('adapts: estimates the noise during warm-up, then freezes the optimal H from the estimate', () => {
    const warmup = 400;
    const sampler = constantSgd(model, {
      preconditioner: { kind: 'scalar', rate: 0.01 },
      adaptive: { kind: 'full', warmup, estimateFrom: 100 },
    });
    let state = sampler.init(posterior.mean, key(0));
    for (let t = 0; t <= warmup; t++) [state] = sampler.step(key(0), state, batchAt(3, t, N, 20));
    expect(state.adapted).toBe(true);
    expect(state.noise?.count).toBe(warmup - 100);
    const adaptedH = state.transform.preconditioner;
    expect(adaptedH).toEqual(optimalPreconditioner('full', state.noise!, { batchSize: 20, dataSize: N }));
    // 300 batches of 20 give 6000 gradients: each entry of C within ≈ 4·√(2/6000) ≈ 7% (relative to the diagonal).
    const exactH = optimalPreconditioner('full', noise, { batchSize: 20, dataSize: N });
    if (adaptedH.kind !== 'full' || exactH.kind !== 'full') throw new Error('expected full preconditioners');
    for (let i = 0; i < d; i++) expect(Math.abs(adaptedH.H[i * d + i] / exactH.H[i * d + i] - 1)).toBeLessThan(0.15);
    const [after] = sampler.step(key(0), state, batchAt(3, warmup + 1, N, 20));
    expect(after.transform).toBe(state.transform); // frozen
    expect(after.noise).toBe(state.noise);
  });

  it('keeps every state it returned intact (positions, means and noise estimates share buffers, never entries)', () => {
    const options = { preconditioner: { kind: 'scalar', rate: 0.01 }, adaptive: { kind: 'full', warmup: 120, estimateFrom: 0 } } as const;
    const sampler = constantSgd(model, options);
    const kept = [sampler.init(posterior.mean, key(0))];
    // 150 steps: positions and means span several 4 KiB buffers, the d×d estimates dozens.
    for (let t = 0; t < 150; t++) kept.push(sampler.step(key(0), kept[t], batchAt(5, t, N, 12))[0]);
    const snapshot = (s: (typeof kept)[number]) => [s.position, s.gradientMean, s.noise?.diag, s.noise?.full].map((v) => (v ? Array.from(v) : null));
    const want = kept.map(snapshot);
    const replay = constantSgd(model, options);
    let state = replay.init(posterior.mean, key(0));
    for (let t = 0; t < 150; t++) {
      [state] = replay.step(key(0), state, batchAt(5, t, N, 12));
      expect(snapshot(state), `step ${t}`).toEqual(want[t + 1]);
    }
    for (const [t, s] of kept.entries()) expect(snapshot(s), `kept state ${t}`).toEqual(want[t]);
    expect(new Set(kept.map((s) => s.position)).size).toBe(kept.length);
  });

  it('gives the same bits through the model’s one-pass kernels as through its plain methods', () => {
    // A copy of the model's methods: the registered kernels are keyed by the original object.
    const plain: Target<IndexBatch> = { ...model };
    const options = { preconditioner: { kind: 'scalar', rate: 0.01 }, adaptive: { kind: 'full', warmup: 60, estimateFrom: 20 } } as const;
    const fast = constantSgd(model, options);
    const slow = constantSgd(plain, options);
    let a = fast.init(posterior.mean, key(0));
    let b = slow.init(posterior.mean, key(0));
    for (let t = 0; t < 80; t++) {
      const batch = batchAt(7, t, N, 9);
      const [nextA, infoA] = fast.step(key(0), a, batch);
      const [nextB, infoB] = slow.step(key(0), b, batch);
      expect(Array.from(nextA.position), `step ${t}`).toEqual(Array.from(nextB.position));
      expect(infoA).toEqual(infoB);
      expect(nextA.noise?.full ? Array.from(nextA.noise.full) : null).toEqual(nextB.noise?.full ? Array.from(nextB.noise.full) : null);
      [a, b] = [nextA, nextB];
    }
    expect(a.adapted).toBe(true);
  });

  it('folds per-example covariances with the κ_t moving average of Eq. 21', () => {
    const g1 = Float64Array.of(1, 0, 3, 0); // two examples in 2-D: covariance diag(2, 0)
    const g2 = Float64Array.of(0, 1, 0, -1); // covariance diag(0, 2)
    const c1 = updateNoiseEstimate(null, 'diagonal', 2, g1, 2);
    const c2 = updateNoiseEstimate(c1, 'diagonal', 2, g2, 2, 0.25);
    expect(Array.from(c1.diag!)).toEqual([2, 0]);
    expect(Array.from(c2.diag!)).toEqual([1.5, 0.5]);
    expect(c2.trace).toBe(2);
    expect(c2.count).toBe(2);
    expect(Array.from(c1.diag!)).toEqual([2, 0]); // the previous estimate is untouched
  });

  it('rejects bad options with messages that name them', () => {
    expect(() => constantSgd(model, { preconditioner: { kind: 'scalar', rate: 0 } })).toThrow(/constantSgd: scalar preconditioner rate must be a finite number > 0, got 0/);
    expect(() => constantSgd(model, { preconditioner: { kind: 'scalar', rate: 1 }, scale: -1 })).toThrow(ConstantSgdOptionError);
    expect(() => constantSgd(model, { preconditioner: { kind: 'scalar', rate: 1 }, adaptive: { kind: 'full', warmup: 0 } })).toThrow(
      /adaptive.warmup must be an integer ≥ 1, got 0/,
    );
    const { perExampleGrads: _omit, ...rest } = model;
    const bare = { ...rest, dim: model.dim, dataSize: model.dataSize } as Target<IndexBatch>;
    expect(() => constantSgd(bare, { preconditioner: { kind: 'scalar', rate: 1 }, adaptive: { kind: 'full', warmup: 5 } })).toThrow(
      /target.perExampleGrads, which this target lacks/,
    );
    const sampler = constantSgd(model, { preconditioner: { kind: 'scalar', rate: 1 } });
    expect(() => sampler.init(new Float64Array(2), key(0))).toThrow(/length 2, target.dim is 3/);
  });
});
