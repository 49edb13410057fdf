import { describe, expect, it } from 'vitest';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import type { Vec } from '../src/core/types.js';
import { mcseMean } from '../src/diagnostics/convergence.js';
import { linearRegression } from '../src/models/linear.js';
import {
  WelfordVariance,
  dualAveragingFinal,
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  regularizedVariance,
  warmupSchedule,
} from '../src/samplers/adaptation.js';
import { hmc, sampleHmc } from '../src/samplers/hmc.js';
import {
  HamiltonianInputError,
  densityTarget,
  hamiltonian,
  leapfrog,
  logDensityOf,
  type PhasePoint,
} from '../src/samplers/integrators.js';
import { regressionData } from './models.helpers.js';

/** log N(θ; 0, diag(variances)) with its gradient. */
function diagonalGaussian(variances: number[]) {
  return densityTarget(variances.length, (theta: Vec) => {
    let value = 0;
    const grad = new Float64Array(theta.length);
    for (let i = 0; i < theta.length; i++) {
      value -= (0.5 * theta[i] * theta[i]) / variances[i];
      grad[i] = -theta[i] / variances[i];
    }
    return { value, grad };
  });
}

/** θ₀ ~ standard logistic (not Gaussian; exact draws by inversion), θ₁ ~ N(0, 4). */
const logisticAndGaussian = densityTarget(2, (theta: Vec) => {
  const x = theta[0];
  // log p(x) = −x − 2 log(1 + e^{−x}), written stably for both signs.
  const softplus = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  const value = -x - 2 * softplus(-x) - (theta[1] * theta[1]) / 8;
  const sigmoid = 1 / (1 + Math.exp(-x));
  return { value, grad: Float64Array.of(1 - 2 * sigmoid, -theta[1] / 4) };
});

function exactLogisticGaussianDraws(seed: number, n: number): Float64Array[] {
  const u = uniform(key(seed), n);
  const z = normal(key(seed + 1), n);
  return Array.from({ length: n }, (_, i) => Float64Array.of(Math.log(u[i] / (1 - u[i])), 2 * z[i]));
}

describe('leapfrog', () => {
  const standardNormal = logDensityOf(diagonalGaussian([1]));
  it('one step by hand (M⁻¹ = 2)', () => {
    // p½ = 0.5 − 0.05·1 = 0.45; θ' = 1 + 0.1·2·0.45 = 1.09; p' = 0.45 − 0.05·1.09 = 0.3955.
    const start: PhasePoint = { position: Float64Array.of(1), momentum: Float64Array.of(0.5), logDensity: -0.5, grad: Float64Array.of(-1) };
    const end = leapfrog(standardNormal, start, 0.1, Float64Array.of(2));
    expect(end.position[0]).toBeCloseTo(1.09, 14);
    expect(end.momentum[0]).toBeCloseTo(0.3955, 14);
    expect(end.logDensity).toBeCloseTo(-0.5 * 1.09 * 1.09, 14);
    expect(start.position[0]).toBe(1); // the start is not touched
  });
  it('is reversible: L steps, flip p, L steps returns to the start', () => {
    const target = logDensityOf(logisticAndGaussian);
    const position = Float64Array.of(0.7, -1.2);
    const evaluated = target(position);
    const start: PhasePoint = { position, momentum: Float64Array.of(0.3, 1.1), logDensity: evaluated.value, grad: evaluated.grad };
    const metric = Float64Array.of(1.5, 3);
    const forward = leapfrog(target, start, 0.2, metric, 25);
    forward.momentum = forward.momentum.map((p) => -p);
    const back = leapfrog(target, forward, 0.2, metric, 25);
    for (let i = 0; i < 2; i++) {
      expect(back.position[i]).toBeCloseTo(start.position[i], 11);
      expect(-back.momentum[i]).toBeCloseTo(start.momentum[i], 11);
    }
  });
  it('energy error is second order in ε', () => {
    const target = logDensityOf(logisticAndGaussian);
    const metric = Float64Array.of(1, 1);
    const maxError = (stepSize: number) => {
      const position = Float64Array.of(1, 1);
      const e = target(position);
      let point: PhasePoint = { position, momentum: Float64Array.of(1, -0.5), logDensity: e.value, grad: e.grad };
      const h0 = hamiltonian(point, metric);
      let worst = 0;
      for (let s = 0; s < Math.round(2 / stepSize); s++) {
        point = leapfrog(target, point, stepSize, metric);
        worst = Math.max(worst, Math.abs(hamiltonian(point, metric) - h0));
      }
      return worst;
    };
    const ratio = maxError(0.1) / maxError(0.05);
    expect(ratio).toBeGreaterThan(3.5);
    expect(ratio).toBeLessThan(4.5);
  });
});

describe('logDensityOf a Target', () => {
  it('is log prior + full-batch log likelihood, and its gradient matches finite differences', () => {
    const model = linearRegression(regressionData(3, 30, 2), { priorPrecision: 2, noisePrecision: 4 });
    const logDensity = logDensityOf(model);
    const theta = Float64Array.of(0.3, -0.7, 0.1);
    const { value, grad } = logDensity(theta);
    const expected = model.logPrior(theta).value + model.logLikelihood(theta, model.fullBatch()).value;
    expect(value).toBeCloseTo(expected, 10);
    const h = 1e-5;
    for (let i = 0; i < 3; i++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[i] += h;
      minus[i] -= h;
      const fd = (logDensity(plus).value - logDensity(minus).value) / (2 * h);
      expect(Math.abs(grad[i] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });
  it('densityTarget rejects bad dimensions and the sampler rejects wrong gradient lengths', () => {
    expect(() => densityTarget(0, () => ({ value: 0, grad: new Float64Array(0) }))).toThrow(HamiltonianInputError);
    const wrong = densityTarget(2, () => ({ value: 0, grad: new Float64Array(3) }));
    expect(() => hmc(wrong, { stepSize: 0.1 }).init(new Float64Array(2), key(0))).toThrow(/grad of length 2/);
  });
});

describe('adaptation', () => {
  it("warm-up windows are Stan's: 75 fast, then 25, 50, 100, 200, 500 slow, 50 fast", () => {
    expect(warmupSchedule(1000).windows).toEqual([
      { start: 75, end: 99 },
      { start: 100, end: 149 },
      { start: 150, end: 249 },
      { start: 250, end: 449 },
      { start: 450, end: 949 },
    ]);
    // 100 iterations do not fit 75 + 25 + 50: the buffers become 15% / 75% / 10%.
    expect(warmupSchedule(100)).toMatchObject({ initBuffer: 15, termBuffer: 10, windows: [{ start: 15, end: 89 }] });
    expect(warmupSchedule(10).windows).toEqual([]);
    expect(() => warmupSchedule(-1)).toThrow(/numWarmup/);
  });
  it('regularised variance is (n/(n+5))·var + 1e-3·5/(n+5)', () => {
    const out = regularizedVariance(Float64Array.of(2, 0), 20);
    expect(out[0]).toBeCloseTo((20 / 25) * 2 + 1e-3 * (5 / 25), 15);
    expect(out[1]).toBeCloseTo(2e-4, 15);
  });
  it('Welford variance equals the two-pass sample variance', () => {
    const acc = new WelfordVariance(2);
    const xs = [[1, 10], [2, 20], [4, 10], [7, 0]];
    xs.forEach((x) => acc.add(Float64Array.from(x)));
    const v = acc.variance();
    // Column 0: mean 3.5, squares 6.25 + 2.25 + 0.25 + 12.25 = 21 → 7; column 1: mean 10, 0 + 100 + 0 + 100 → 200/3.
    expect(v[0]).toBeCloseTo(7, 13);
    expect(v[1]).toBeCloseTo(200 / 3, 12);
    acc.reset();
    expect(acc.count).toBe(0);
  });
  it('dual averaging drives the acceptance statistic to its target', () => {
    // A synthetic acceptance curve α(ε) = exp(−ε): the fixed point of α = 0.8 is ε* = −log 0.8.
    let state = dualAveragingInit(1);
    for (let m = 0; m < 3000; m++) state = dualAveragingUpdate(state, Math.exp(-Math.exp(state.logStepSize)));
    expect(dualAveragingFinal(state)).toBeCloseTo(-Math.log(0.8), 2);
    expect(state.mu).toBeCloseTo(Math.log(10), 14);
  });
  it('first update by hand (γ = 0.05, t₀ = 10, κ = 0.75)', () => {
    // m = 1: H̄ = (0.8 − 0.3)/11; log ε = μ − √1/0.05 · H̄; log ε̄ = 1·log ε.
    const state = dualAveragingUpdate(dualAveragingInit(0.5), 0.3);
    const errorAverage = 0.5 / 11;
    expect(state.errorAverage).toBeCloseTo(errorAverage, 15);
    expect(state.logStepSize).toBeCloseTo(Math.log(5) - 20 * errorAverage, 14);
    expect(state.logStepSizeAverage).toBeCloseTo(state.logStepSize, 14);
  });
  it('the initial step-size heuristic scales with the target', () => {
    const find = (variance: number) => {
      const logDensity = logDensityOf(diagonalGaussian([variance]));
      const position = Float64Array.of(Math.sqrt(variance));
      const e = logDensity(position);
      return findReasonableStepSize(logDensity, { position, logDensity: e.value, grad: e.grad }, Float64Array.of(1), 1, key(1));
    };
    expect(find(1e-6)).toBeLessThan(1e-2);
    expect(find(1e4)).toBeGreaterThan(10);
    const flat = densityTarget(1, () => ({ value: 0, grad: new Float64Array(1) }));
    expect(() => findReasonableStepSize(logDensityOf(flat), { position: new Float64Array(1), logDensity: 0, grad: new Float64Array(1) }, Float64Array.of(1), 1, key(1))).toThrow(/improper/);
  });
});

describe('hmc', () => {
  const sampler = hmc(logisticAndGaussian, { stepSize: 1.3, inverseMetric: Float64Array.of(1, 4), numIntegrationSteps: 3 });
  it('same key, same step; the input state is not mutated', () => {
    const state = sampler.init(Float64Array.of(0.5, -1), key(0));
    const before = [Float64Array.from(state.position), Float64Array.from(state.grad), Float64Array.from(state.inverseMetric)];
    const [a, infoA] = sampler.step(key(5), state, null);
    const [b, infoB] = sampler.step(key(5), state, null);
    expect(Array.from(a.position)).toEqual(Array.from(b.position));
    expect(infoA).toEqual(infoB);
    expect([state.position, state.grad, state.inverseMetric].map((x) => Array.from(x))).toEqual(before.map((x) => Array.from(x)));
    expect(infoA).toMatchObject({ numGradEvals: 3, treeDepth: 0, noiseNorm: 0, stepSize: 1.3, diverging: false });
    expect(infoA.acceptProb).toBeGreaterThan(0);
    expect(infoA.acceptProb).toBeLessThanOrEqual(1);
  });
  it('leaves the target invariant: one transition from exact draws keeps the moments', () => {
    // 20 000 independent exact draws, one HMC step each; the output must still be exact, so its
    // moments are compared with the truth at 4 standard errors of an iid sample.
    const n = 20_000;
    const starts = exactLogisticGaussianDraws(100, n);
    const out = starts.map((position, i) => sampler.step(foldIn(key(7), i), sampler.init(position, key(0)), null)[0].position);
    checkLogisticGaussianMoments(out);
  });
  it('reports divergence when the energy error explodes, and rejects', () => {
    const wild = hmc(diagonalGaussian([1]), { stepSize: 1e4, numIntegrationSteps: 3 });
    const state = wild.init(Float64Array.of(1), key(0));
    const [next, info] = wild.step(key(1), state, null);
    expect(info.diverging).toBe(true);
    expect(info.acceptProb).toBe(0);
    expect(next.position[0]).toBe(1);
  });
  it('rejects bad options and positions with a message naming them', () => {
    expect(() => hmc(logisticAndGaussian, { pathLength: -1 })).toThrow(/pathLength/);
    expect(() => hmc(logisticAndGaussian, { numIntegrationSteps: 0 })).toThrow(/numIntegrationSteps/);
    expect(() => sampler.init(new Float64Array(3), key(0))).toThrow(/hmc.init: position must be a Float64Array of length 2/);
    expect(() => hmc(logisticAndGaussian, { inverseMetric: Float64Array.of(1, -1) }).init(new Float64Array(2), key(0))).toThrow(
      /inverseMetric\[1\]/,
    );
  });
  it('sampleHmc recovers a correlated 2-D Gaussian within MCSE', () => {
    const run = sampleHmc(correlatedGaussian2, { chains: 4, warmup: 500, draws: 1500, seed: 2 });
    checkGaussianMoments(run.draws, 2, [1, -1], [1, 1.2, 1.2, 4]);
  });
});

/** N((1, −1), [[1, 1.2], [1.2, 4]]) (correlation 0.6). */
const correlatedGaussian2 = densityTarget(2, (theta: Vec) => {
  const det = 4 - 1.44;
  const d0 = theta[0] - 1;
  const d1 = theta[1] + 1;
  // Precision = [[4, −1.2], [−1.2, 1]] / det.
  const g0 = -(4 * d0 - 1.2 * d1) / det;
  const g1 = -(-1.2 * d0 + d1) / det;
  return { value: 0.5 * (d0 * g0 + d1 * g1), grad: Float64Array.of(g0, g1) };
});

/**
 * Check means and covariances of per-chain draws against the truth: each estimate is the mean of a
 * per-draw quantity (θ_i, or (θ_i − μ_i)(θ_j − μ_j) with the true μ), so its Monte Carlo standard
 * error is mcseMean of that quantity's chains (sd/√ESS); allow 4 MCSE.
 */
function checkGaussianMoments(draws: Float64Array[], dim: number, mean: number[], cov: number[]): void {
  const quantity = (f: (x: Float64Array) => number) => draws.map((chain) => Float64Array.from({ length: chain.length / dim }, (_, s) => f(chain.subarray(s * dim, (s + 1) * dim))));
  const check = (chains: Float64Array[], truth: number) => {
    const all = chains.flatMap((c) => Array.from(c));
    const estimate = all.reduce((a, b) => a + b, 0) / all.length;
    expect(Math.abs(estimate - truth)).toBeLessThan(4 * mcseMean(chains));
  };
  for (let i = 0; i < dim; i++) {
    check(quantity((x) => x[i]), mean[i]);
    for (let j = 0; j <= i; j++) check(quantity((x) => (x[i] - mean[i]) * (x[j] - mean[j])), cov[i * dim + j]);
  }
}

/** E θ = 0, E θ₀² = π²/3, E θ₁² = 4, E |θ₀| = 2 log 2, with iid standard errors (4 SE allowed). */
function checkLogisticGaussianMoments(out: Vec[]): void {
  const n = out.length;
  const moments: [(x: Vec) => number, number][] = [
    [(x) => x[0], 0],
    [(x) => x[1], 0],
    [(x) => x[0] * x[0], Math.PI ** 2 / 3],
    [(x) => x[1] * x[1], 4],
    [(x) => Math.abs(x[0]), 2 * Math.log(2)],
  ];
  for (const [f, truth] of moments) {
    const values = out.map(f);
    const m = values.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    expect(Math.abs(m - truth)).toBeLessThan((4 * sd) / Math.sqrt(n));
  }
}
