import { describe, expect, it } from 'vitest';
import { sgfs, sgfsPreconditionerForNoise, SgfsOptionError } from '../src/samplers/sgfs.js';
import { linearRegression } from '../src/models/linear.js';
import { exactNoiseCovariance, noiseCovarianceFromMatrix } from '../src/noise/estimator.js';
import { optimalSgfsPreconditioner } from '../src/noise/optimal.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { symmetricEigen } from '../src/core/linalg.js';
import { symmetricGaussianKL } from '../src/diagnostics/gaussian.js';
import { batchAt, correlatedRegression, lossGradientByHand } from './samplers.helpers.js';
import { preconditionerMatrix } from '../src/transforms/preconditioner.js';

function mul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) out[i * d + j] += a[i * d + k] * b[k * d + j];
  return out;
}
const transpose = (a: Float64Array, d: number) => Float64Array.from(a, (_, i) => a[(i % d) * d + Math.floor(i / d)]);

/** Stationary covariance of θ' = θ − εH(A(θ − m) + ξ) + √ε H z, Cov ξ = C/S, Cov z = EEᵀ (a linear Gaussian chain). */
function sgfsStationaryCovariance(H: Float64Array, A: Float64Array, C: Float64Array, EE: Float64Array, eps: number, S: number, d: number): Float64Array {
  const M = mul(H, A, d).map((v, i) => (i % (d + 1) === 0 ? 1 : 0) - eps * v);
  const inner = C.map((c, i) => (eps * eps * c) / S + eps * EE[i]);
  const Q = mul(mul(H, inner, d), transpose(H, d), d);
  let sigma = Q.slice();
  for (let it = 0; it < 100_000; it++) {
    const next = mul(mul(M, sigma, d), transpose(M, d), d).map((v, i) => v + Q[i]);
    const change = Math.max(...next.map((v, i) => Math.abs(v - sigma[i])));
    sigma = next;
    if (change < 1e-16 * Math.max(...Q.map(Math.abs))) break;
  }
  return sigma;
}

describe('sgfs', () => {
  const N = 1000;
  const S = 10;
  const model = linearRegression(correlatedRegression(5, N), { priorPrecision: 1, noisePrecision: 4 });
  const d = model.dim;
  const posterior = model.exactPosterior();
  const noise = exactNoiseCovariance(model, posterior.mean);
  const hessianOfLoss = model.hessianLogPosterior(posterior.mean).map((v) => -v / N);

  function run(sampler: ReturnType<typeof sgfs>, steps: number, seed: number) {
    let state = sampler.init(posterior.mean, key(seed));
    const batches = 100;
    const perBatch = steps / batches;
    const batchMeans: number[][] = Array.from({ length: d * d }, () => []);
    const sums = new Float64Array(d * d);
    for (let t = 0; t < steps; t++) {
      [state] = sampler.step(foldIn(key(seed), t), state, batchAt(seed, t, N, S));
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
    return { cov, mcse, state };
  }

  it('with the full H* of Theorem 5 and injected noise under a step cap samples the posterior; SGFS-d does not', () => {
    const eps = 0.5;
    // Cap the eigen-steps at the middle uncapped one, so E injects noise in the directions of small gradient noise.
    const uncapped = optimalSgfsPreconditioner('full', noise, { stepSize: eps, batchSize: S, dataSize: N }).preconditioner;
    const maxStep = symmetricEigen(preconditionerMatrix(uncapped, d), d).values[1];
    const full = sgfs(model, { stepSize: eps, kind: 'full', noise, maxStep });
    const diagonal = sgfs(model, { stepSize: eps, kind: 'diagonal', noise, maxStep });
    // Batch means of 500 steps, ≫ the relaxation time 1/(εh^max λ_min(A)).
    const resultFull = run(full, 50_000, 3);
    const resultDiagonal = run(diagonal, 50_000, 4);
    const setting = optimalSgfsPreconditioner('full', noise, { stepSize: eps, batchSize: S, dataSize: N, maxStep });
    const predicted = sgfsStationaryCovariance(preconditionerMatrix(setting.preconditioner, d), hessianOfLoss, noise.full!, setting.injectedNoise, eps, S, d);
    for (let i = 0; i < d * d; i++) {
      expect(Math.abs(resultFull.cov[i] - predicted[i]), `entry ${i}: ${resultFull.cov[i]} vs ${predicted[i]} ± ${resultFull.mcse[i]}`).toBeLessThan(4 * resultFull.mcse[i]);
    }
    const klFull = symmetricGaussianKL(posterior.mean, resultFull.cov, posterior.mean, posterior.cov, d);
    const klDiagonal = symmetricGaussianKL(posterior.mean, resultDiagonal.cov, posterior.mean, posterior.cov, d);
    if (process.env.SGBAYES_DEBUG) console.log({ klFull, klDiagonal });
    expect(klFull).toBeLessThan(0.05);
    expect(klDiagonal).toBeGreaterThan(10 * klFull);
  });

  it('estimates the noise online and then samples close to the posterior', () => {
    const sampler = sgfs(model, { stepSize: 1, kind: 'full', refreshEvery: 50 });
    const result = run(sampler, 12_000, 5);
    expect(result.state.noise?.count).toBe(12_000);
    const kl = symmetricGaussianKL(posterior.mean, result.cov, posterior.mean, posterior.cov, d);
    if (process.env.SGBAYES_DEBUG) console.log({ kl });
    expect(kl).toBeLessThan(0.1);
  });

  it('takes θ − εHĝ_S + √(εT) H E W exactly, with H = (2/N)(εBBᵀ/S + EEᵀ)⁻¹ for a given EEᵀ', () => {
    const eps = 0.2;
    const injected = Float64Array.of(1e-3, 2e-3, 5e-4);
    const sampler = sgfs(model, { stepSize: eps, kind: 'diagonal', noise, injectedNoise: injected, temperature: 2 });
    const s0 = sampler.init(Float64Array.of(0.1, 0.2, 0.3), key(0));
    const batch = Int32Array.of(4, 8, 15, 16, 23, 42, 7, 9, 1, 2);
    const [s1, info] = sampler.step(key(6), s0, batch);
    const g = lossGradientByHand(model, s0.position, batch);
    const w = normal(key(6), d);
    for (let k = 0; k < d; k++) {
      const h = 2 / (N * ((eps * noise.diag![k]) / batch.length + injected[k]));
      const expected = s0.position[k] - eps * h * g[k] + Math.sqrt(eps * 2) * h * Math.sqrt(injected[k]) * w[k];
      expect(s1.position[k]).toBeCloseTo(expected, 12);
    }
    expect(info.preconditioner).toBe('diagonal');
    expect(info.noiseNorm).toBeGreaterThan(0);
    const explicit = sgfsPreconditionerForNoise('full', noiseCovarianceFromMatrix(noise.full!, d, 'full'), injected, { stepSize: eps, batchSize: S, dataSize: N });
    const capped = optimalSgfsPreconditioner('full', noise, { stepSize: eps, batchSize: S, dataSize: N });
    expect(explicit.kind).toBe('full');
    // With EEᵀ = 0 both give (2S/(Nε)) C⁻¹; with EEᵀ > 0 the explicit H is smaller.
    const zero = sgfsPreconditionerForNoise('full', noise, new Float64Array(d), { stepSize: eps, batchSize: S, dataSize: N });
    for (let i = 0; i < d * d; i++) expect(preconditionerMatrix(zero, d)[i]).toBeCloseTo(preconditionerMatrix(capped.preconditioner, d)[i], 6);
    for (let i = 0; i < d; i++) expect(preconditionerMatrix(explicit, d)[i * d + i]).toBeLessThan(preconditionerMatrix(zero, d)[i * d + i]);
    // At T = 0 the key does not matter.
    const cold = sgfs(model, { stepSize: eps, kind: 'full', noise, maxStep: 1e-3, temperature: 0 });
    const c0 = cold.init(Float64Array.of(0.1, 0.2, 0.3), key(0));
    expect(Array.from(cold.step(key(1), c0, batch)[0].position)).toEqual(Array.from(cold.step(key(2), c0, batch)[0].position));
  });

  it('rejects bad options', () => {
    expect(() => sgfs(model, { stepSize: 0, kind: 'full', noise })).toThrow(/stepSize ε must be a finite number > 0, got 0/);
    expect(() => sgfs(model, { stepSize: 1, kind: 'full', noise, maxStep: 1, injectedNoise: new Float64Array(3) })).toThrow(/either injectedNoise or maxStep/);
    expect(() => sgfs(model, { stepSize: 1, kind: 'full', injectedNoise: new Float64Array(2) })).toThrow(SgfsOptionError);
    expect(() => sgfs(model, { stepSize: 1, kind: 'cubic' as never })).toThrow(/kind must be 'scalar', 'diagonal' or 'full'/);
  });
});
