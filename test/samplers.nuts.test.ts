import { describe, expect, it } from 'vitest';
import { cholesky, inverse, matvec } from '../src/core/linalg.js';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import type { Vec } from '../src/core/types.js';
import { energyBfmi, essBulk, mcseMean, rhat } from '../src/diagnostics/convergence.js';
import { sampleMeanCov, symmetricGaussianKL } from '../src/diagnostics/gaussian.js';
import { linearRegression } from '../src/models/linear.js';
import { HamiltonianInputError, densityTarget } from '../src/samplers/integrators.js';
import { nuts, sampleNuts } from '../src/samplers/nuts.js';
import { regressionData } from './models.helpers.js';

/** log N(θ; μ, Σ) from the precision matrix, with its gradient. */
function gaussianTarget(mean: number[], cov: number[]) {
  const d = mean.length;
  const precision = inverse(Float64Array.from(cov), d);
  return densityTarget(d, (theta: Vec) => {
    const diff = Float64Array.from(theta, (x, i) => x - mean[i]);
    const pd = matvec(precision, diff, d, d);
    let quad = 0;
    for (let i = 0; i < d; i++) quad += diff[i] * pd[i];
    return { value: -0.5 * quad, grad: pd.map((x) => -x) };
  });
}

/** A 5-D covariance with correlations up to 0.9 and scales from 0.3 to 3: Σ = D R D. */
function covariance5(): number[] {
  const scales = [1, 3, 0.3, 2, 0.5];
  const corr = [
    [1, 0.9, 0.2, 0, -0.3],
    [0.9, 1, 0.1, 0.2, -0.2],
    [0.2, 0.1, 1, -0.5, 0],
    [0, 0.2, -0.5, 1, 0.4],
    [-0.3, -0.2, 0, 0.4, 1],
  ];
  const cov: number[] = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) cov.push(scales[i] * corr[i][j] * scales[j]);
  cholesky(Float64Array.from(cov), 5); // throws if not SPD
  return cov;
}

/** Per-chain series of a quantity of the draws (draws × dim row-major per chain). */
function series(draws: Float64Array[], dim: number, f: (x: Float64Array) => number): Float64Array[] {
  return draws.map((chain) => Float64Array.from({ length: chain.length / dim }, (_, s) => f(chain.subarray(s * dim, (s + 1) * dim))));
}

/**
 * Means and covariances against the truth. Each estimate is the mean of a per-draw quantity (θ_i,
 * or (θ_i − μ_i)(θ_j − μ_j) with the true μ), so its Monte Carlo standard error is that quantity's
 * sd/√ESS (mcseMean, ESS by Geyer's initial monotone sequence); allow 4 MCSE.
 */
function checkGaussianMoments(draws: Float64Array[], dim: number, mean: number[], cov: number[]): void {
  const check = (chains: Float64Array[], truth: number) => {
    let total = 0;
    let count = 0;
    for (const c of chains) {
      for (const x of c) total += x;
      count += c.length;
    }
    expect(Math.abs(total / count - truth)).toBeLessThan(4 * mcseMean(chains));
  };
  for (let i = 0; i < dim; i++) {
    check(series(draws, dim, (x) => x[i]), mean[i]);
    for (let j = 0; j <= i; j++) check(series(draws, dim, (x) => (x[i] - mean[i]) * (x[j] - mean[j])), cov[i * dim + j]);
  }
}

/** θ₀ ~ standard logistic (not Gaussian), θ₁ ~ N(0, 4): exact draws by inversion. */
const logisticAndGaussian = densityTarget(2, (theta: Vec) => {
  const x = theta[0];
  const softplus = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  const sigmoid = 1 / (1 + Math.exp(-x));
  return { value: -x - 2 * softplus(-x) - (theta[1] * theta[1]) / 8, grad: Float64Array.of(1 - 2 * sigmoid, -theta[1] / 4) };
});

describe('nuts step', () => {
  const sampler = nuts(logisticAndGaussian, { stepSize: 0.9, inverseMetric: Float64Array.of(1, 4) });

  it('same key, same step; the input state is not mutated', () => {
    const state = sampler.init(Float64Array.of(0.5, -1), key(0));
    const before = [state.position, state.grad, state.inverseMetric].map((x) => Array.from(x));
    const [a, infoA] = sampler.step(key(3), state, null);
    const [b, infoB] = sampler.step(key(3), state, null);
    expect(Array.from(a.position)).toEqual(Array.from(b.position));
    expect(infoA).toEqual(infoB);
    expect([state.position, state.grad, state.inverseMetric].map((x) => Array.from(x))).toEqual(before);
    expect(infoA.noiseNorm).toBe(0);
    expect(infoA.gradNorm).toBeCloseTo(Math.hypot(a.grad[0], a.grad[1]), 14);
    // A tree of depth j takes between 2^j − 1 and 2^(j+1) − 1 leapfrog steps (the last doubling may stop early).
    expect(infoA.numGradEvals).toBeGreaterThanOrEqual(2 ** infoA.treeDepth - 1);
    expect(infoA.numGradEvals).toBeLessThanOrEqual(2 ** (infoA.treeDepth + 1) - 1);
  });

  it('leaves the target invariant: one transition from exact draws keeps the moments', () => {
    // 20 000 independent exact draws, one NUTS step each with a fixed (large) ε: the outputs must still
    // be exact draws, so their moments match the truth within 4 iid standard errors.
    const n = 20_000;
    const u = uniform(key(200), n);
    const z = normal(key(201), n);
    const out = Array.from({ length: n }, (_, i) => {
      const start = Float64Array.of(Math.log(u[i] / (1 - u[i])), 2 * z[i]);
      return sampler.step(foldIn(key(9), i), sampler.init(start, key(0)), null)[0].position;
    });
    const moments: [(x: Vec) => number, number][] = [
      [(x) => x[0], 0],
      [(x) => x[1], 0],
      [(x) => x[0] * x[0], Math.PI ** 2 / 3],
      [(x) => x[1] * x[1], 4],
      [(x) => Math.abs(x[0]), 2 * Math.log(2)],
      [(x) => x[0] * x[1], 0],
    ];
    for (const [f, truth] of moments) {
      const values = out.map(f);
      const m = values.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      expect(Math.abs(m - truth)).toBeLessThan((4 * sd) / Math.sqrt(n));
    }
  });

  it('stops at the maximum tree depth', () => {
    const tiny = nuts(logisticAndGaussian, { stepSize: 1e-3, maxTreeDepth: 4 });
    const [, info] = tiny.step(key(1), tiny.init(Float64Array.of(0.3, 0.3), key(0)), null);
    expect(info.treeDepth).toBe(4);
    expect(info.numGradEvals).toBe(15);
    expect(info.acceptProb).toBeGreaterThan(0.99);
  });

  it('stops at a U-turn: on a standard normal the trajectory spans about half a period', () => {
    const standardNormal = gaussianTarget([0], [1]);
    const sampler1 = nuts(standardNormal, { stepSize: 0.05 });
    const depths: number[] = [];
    let state = sampler1.init(Float64Array.of(0.5), key(0));
    for (let t = 0; t < 200; t++) {
      const [next, info] = sampler1.step(foldIn(key(4), t), state, null);
      depths.push(info.numGradEvals);
      state = next;
    }
    // Half a period is π/0.05 ≈ 63 steps: trajectories stop near 2^6 and never run to 2^10.
    const meanSteps = depths.reduce((a, b) => a + b, 0) / depths.length;
    expect(meanSteps).toBeGreaterThan(20);
    expect(meanSteps).toBeLessThan(200);
  });

  it('flags a divergence and returns the initial point', () => {
    const wild = nuts(gaussianTarget([0], [1]), { stepSize: 1e4 });
    const state = wild.init(Float64Array.of(1), key(0));
    const [next, info] = wild.step(key(2), state, null);
    expect(info.diverging).toBe(true);
    expect(info.treeDepth).toBe(0);
    expect(info.numGradEvals).toBe(1);
    expect(next.position[0]).toBe(1);
  });

  it('rejects bad options and inputs, naming them', () => {
    expect(() => nuts(logisticAndGaussian, { maxTreeDepth: 0 })).toThrow(HamiltonianInputError);
    expect(() => nuts(logisticAndGaussian, { stepSize: -1 }).init(new Float64Array(2), key(0))).toThrow(/stepSize/);
    expect(() => sampleNuts(logisticAndGaussian, { chains: 0 })).toThrow(/chains must be an integer/);
    expect(() => sampleNuts(logisticAndGaussian, { chains: 2, initial: [new Float64Array(2)] })).toThrow(/1 positions for 2 chains/);
    const nowhere = densityTarget(1, () => ({ value: -Infinity, grad: new Float64Array(1) }));
    expect(() => sampleNuts(nowhere, { chains: 1, warmup: 10, draws: 10 })).toThrow(/chain 0: the log density is not finite/);
  });
});

describe('sampleNuts', () => {
  it('is reproducible from the seed, and chains differ', () => {
    const run = (seed: number) => sampleNuts(logisticAndGaussian, { chains: 2, warmup: 50, draws: 20, seed });
    const a = run(1);
    expect(Array.from(run(1).draws[0])).toEqual(Array.from(a.draws[0]));
    expect(Array.from(a.draws[1])).not.toEqual(Array.from(a.draws[0]));
    expect(Array.from(run(2).draws[0])).not.toEqual(Array.from(a.draws[0]));
  });

  it('adapts a diagonal metric to the marginal variances and a step size near the target acceptance', () => {
    const variances = [1, 100, 0.01];
    const target = gaussianTarget([0, 0, 0], [1, 0, 0, 0, 100, 0, 0, 0, 0.01]);
    const run = sampleNuts(target, { chains: 2, warmup: 1000, draws: 500, seed: 5 });
    for (let c = 0; c < 2; c++) {
      // The last slow window has 500 draws: variance estimates are within ~20% at 4 sd.
      run.inverseMetric[c].forEach((v, i) => expect(Math.abs(v / variances[i] - 1)).toBeLessThan(0.35));
      const accept = run.info[c].acceptProb.reduce((a, b) => a + b, 0) / 500;
      // Dual averaging targets 0.8; the averaged ε̄ is a little smaller, so acceptance runs a little higher.
      expect(accept).toBeGreaterThan(0.7);
      expect(accept).toBeLessThan(0.97);
      expect(run.info[c].diverging.reduce((a, b) => a + b, 0)).toBe(0);
    }
  });

  it('recovers a correlated 2-D Gaussian within MCSE', () => {
    const mean = [1, -2];
    const cov = [1, 1.8, 1.8, 4]; // correlation 0.9
    const run = sampleNuts(gaussianTarget(mean, cov), { chains: 4, warmup: 500, draws: 1000, seed: 11 });
    checkGaussianMoments(run.draws, 2, mean, cov);
  });

  it('recovers a correlated 5-D Gaussian within MCSE, with R̂ ≈ 1 and a healthy ESS', () => {
    const mean = [0.5, -1, 2, 0, 3];
    const cov = covariance5();
    const run = sampleNuts(gaussianTarget(mean, cov), { chains: 4, warmup: 1000, draws: 1000, seed: 12 });
    checkGaussianMoments(run.draws, 5, mean, cov);
    for (let i = 0; i < 5; i++) {
      const chains = series(run.draws, 5, (x) => x[i]);
      expect(rhat(chains)).toBeLessThan(1.01);
      // NUTS on a Gaussian gives at least ~1/4 of the draws as effective ones even with a diagonal metric.
      expect(essBulk(chains)).toBeGreaterThan(1000);
    }
    // Momentum resampling explores the energy well on a Gaussian: E-BFMI near 1, far above 0.3.
    for (const info of run.info) expect(energyBfmi(info.energy)).toBeGreaterThan(0.5);
  });

  it('Bayesian linear regression: symmetrised KL to the exact posterior below 0.01', () => {
    const model = linearRegression(regressionData(31, 80, 3), { priorPrecision: 1, noisePrecision: 4 });
    const exact = model.exactPosterior();
    const run = sampleNuts(model, { chains: 4, warmup: 500, draws: 1500, seed: 13 });
    const d = model.dim;
    const pooled = new Float64Array(run.draws.reduce((n, c) => n + c.length, 0));
    run.draws.reduce((offset, c) => (pooled.set(c, offset), offset + c.length), 0);
    const fitted = sampleMeanCov(pooled, d);
    // Sampling noise alone gives E[KL_sym] ≈ d(d + 3)/(2·ESS) ≈ 0.002 at ESS ≈ 6000.
    expect(symmetricGaussianKL(fitted.mean, fitted.cov, exact.mean, exact.cov, d)).toBeLessThan(0.01);
  });
});
