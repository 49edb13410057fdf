import { describe, expect, it } from 'vitest';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { blockSumTailIndexVectors } from '../src/diagnostics/tailIndex.js';
import { LevyLangevinOptionError, levyLangevin } from '../src/samplers/levy.js';
import type { LevyLangevinOptions, LevyLangevinState } from '../src/samplers/levy.js';

/** F̂(w) = (κ/2)‖w‖² on every batch: the log likelihood is −|B|·(κ/2)‖w‖², a batch sum. */
function quadraticTarget(dim: number, curvature: number): Target<IndexBatch> {
  return {
    dim,
    dataSize: 100,
    logPrior: (w: Vec) => ({ value: 0, grad: new Float64Array(w.length) }),
    logLikelihood(w: Vec, batch: IndexBatch) {
      const grad = new Float64Array(dim);
      let sq = 0;
      for (let i = 0; i < dim; i++) {
        sq += w[i] * w[i];
        grad[i] = -batch.length * curvature * w[i];
      }
      return { value: -batch.length * 0.5 * curvature * sq, grad };
    },
    batchSize: (batch: IndexBatch) => batch.length,
    fullBatch: () => Int32Array.from({ length: 100 }, (_, i) => i),
  };
}

/** Logistic regression on fixed random data with a N(0, 4 I) prior, to exercise every term of V_S. */
function logisticTarget(): Target<IndexBatch> {
  const rows = 40;
  const dim = 3;
  const x = normal(key(900), rows * dim);
  const y = Float64Array.from(normal(key(901), rows), (v) => (v > 0 ? 1 : 0));
  return {
    dim,
    dataSize: rows,
    logPrior(w: Vec) {
      let value = 0;
      const grad = new Float64Array(dim);
      for (let i = 0; i < dim; i++) {
        value -= (w[i] * w[i]) / 8;
        grad[i] = -w[i] / 4;
      }
      return { value, grad };
    },
    logLikelihood(w: Vec, batch: IndexBatch) {
      let value = 0;
      const grad = new Float64Array(dim);
      for (const r of batch) {
        let z = 0;
        for (let i = 0; i < dim; i++) z += x[r * dim + i] * w[i];
        const p = 1 / (1 + Math.exp(-z));
        value += y[r] * z - Math.log1p(Math.exp(z));
        for (let i = 0; i < dim; i++) grad[i] += (y[r] - p) * x[r * dim + i];
      }
      return { value, grad };
    },
    batchSize: (batch: IndexBatch) => batch.length,
    fullBatch: () => Int32Array.from({ length: rows }, (_, i) => i),
  };
}

const batch = Int32Array.from([0, 1, 2, 3]);

/** Run `steps` steps from 0 and call `visit` on every position after `burnIn`. */
function run(
  target: Target<IndexBatch>,
  options: LevyLangevinOptions,
  steps: number,
  burnIn: number,
  seed: number,
  visit: (w: Vec) => void,
): void {
  const sampler = levyLangevin(target, options);
  let state: LevyLangevinState = sampler.init(new Float64Array(target.dim), key(seed));
  for (let k = 0; k < steps; k++) {
    [state] = sampler.step(foldIn(key(seed), k), state, batch);
    if (k >= burnIn) visit(state.position);
  }
}

/** Mean of a time series and its MCSE by 40 batch means (valid for the geometrically mixing chains here). */
function batchMeans(series: Float64Array): { mean: number; mcse: number } {
  const batches = 40;
  const length = Math.floor(series.length / batches);
  const means = new Float64Array(batches);
  for (let b = 0; b < batches; b++) {
    let s = 0;
    for (let i = 0; i < length; i++) s += series[b * length + i];
    means[b] = s / length;
  }
  const mean = means.reduce((s, v) => s + v, 0) / batches;
  const variance = means.reduce((s, v) => s + (v - mean) ** 2, 0) / (batches - 1);
  return { mean, mcse: Math.sqrt(variance / batches) };
}

// 4.5 standard errors (batch-means MCSE with 39 degrees of freedom is a little wide of normal).
const Z = 4.5;

describe('levyLangevin: stationary laws on a quadratic', () => {
  /*
   * With V = (κ/2)‖w‖², κ = curvature + η, each coordinate follows the AR(1) recursion
   *   w' = (1 − γκ) w + σ γ^{1/α} L,
   * so for α = 2 (Var L = 2) the stationary variance solves v = (1 − γκ)² v + 2σ²γ:
   *   v = 2σ²γ / (1 − (1 − γκ)²) = 2σ²γ / (2γκ − γ²κ²),
   * which tends to the OU value σ²/κ as γ → 0; at γκ = 1/2 the two differ by a third, so the test
   * checks the discrete formula, not the continuous one.
   */
  it.each(['isotropic', 'coordinatewise'] as const)(
    'α = 2, %s noise: the variance is 2σ²γ/(2γκ − γ²κ²) within MCSE (weight decay included in κ)',
    (noise) => {
      const dim = 8;
      const curvature = 1.5;
      const weightDecay = 0.5;
      const stepSize = 0.25;
      const sigma = 0.7;
      const kappa = curvature + weightDecay;
      const predicted = (2 * sigma * sigma * stepSize) / (2 * stepSize * kappa - (stepSize * kappa) ** 2);
      const steps = 20_000;
      const burnIn = 100;
      const series = new Float64Array(steps - burnIn);
      let t = 0;
      run(quadraticTarget(dim, curvature), { stepSize, alpha: 2, sigma, weightDecay, noise }, steps, burnIn, 70, (w) => {
        let s = 0;
        for (let i = 0; i < dim; i++) s += w[i] * w[i];
        series[t++] = s / dim;
      });
      const { mean, mcse } = batchMeans(series);
      expect(Math.abs(mean - predicted)).toBeLessThan(Z * mcse);
      expect(Math.abs(mean - (sigma * sigma) / kappa)).toBeGreaterThan(Z * mcse);
    },
  );

  /*
   * For α < 2 the AR(1) chain's stationary law is exactly symmetric α-stable: w = Σ_j ρ^j c L_j with
   * ρ = 1 − γκ, c = σγ^{1/α}, so every coordinate (and, for isotropic L, every projection) has
   *   E cos(tw) = exp(−c^α |t|^α / (1 − |ρ|^α)).
   */
  it.each(['isotropic', 'coordinatewise'] as const)(
    'α = 1.5, %s noise: the stationary characteristic function is exp(−c^α|t|^α/(1 − |ρ|^α))',
    (noise) => {
      const dim = 6;
      const alpha = 1.5;
      const curvature = 2;
      const stepSize = 0.2;
      const sigma = 0.8;
      const rho = 1 - stepSize * curvature;
      const c = sigma * stepSize ** (1 / alpha);
      const steps = 20_000;
      const burnIn = 100;
      for (const t of [0.5, 1.5]) {
        const series = new Float64Array(steps - burnIn);
        let n = 0;
        run(quadraticTarget(dim, curvature), { stepSize, alpha, sigma, noise }, steps, burnIn, 71, (w) => {
          let s = 0;
          for (let i = 0; i < dim; i++) s += Math.cos(t * w[i]);
          series[n++] = s / dim;
        });
        const { mean, mcse } = batchMeans(series);
        const predicted = Math.exp(-(c ** alpha) * t ** alpha / (1 - Math.abs(rho) ** alpha));
        expect(Math.abs(mean - predicted)).toBeLessThan(Z * mcse);
        // The Gaussian value with the same scale, exp(−c²t²/(1 − ρ²)), is excluded.
        expect(Math.abs(mean - Math.exp(-(c * c * t * t) / (1 - rho * rho)))).toBeGreaterThan(Z * mcse);
      }
    },
  );
});

describe('levyLangevin: tail index of the iterates', () => {
  /*
   * The stationary iterates on a quadratic are exactly α-stable (see above), so the block-sum
   * estimator on thinned iterates recovers α. Thinning by 10 steps at ρ = 0.6 leaves correlation
   * 0.6^10 ≈ 0.006 between kept draws; 10⁴ draws × 8 pooled coordinates put the estimator's sd near
   * 0.03 (blockSumSd in diagnostics.tailIndex.test.ts), so 0.12 is 4 sd.
   */
  it.each(['isotropic', 'coordinatewise'] as const)('α = 1.5, %s noise: α̂ of thinned iterates within 0.12', (noise) => {
    const dim = 8;
    const kept = 10_000;
    const thin = 10;
    const trace = new Float64Array(kept * dim);
    let n = 0;
    let k = 0;
    run(quadraticTarget(dim, 2), { stepSize: 0.2, alpha: 1.5, sigma: 1, noise }, 100 + kept * thin, 100, 72, (w) => {
      if (k++ % thin === 0) trace.set(w, dim * n++);
    });
    expect(n).toBe(kept);
    expect(Math.abs(blockSumTailIndexVectors(trace, dim, { centre: 'median' }) - 1.5)).toBeLessThan(0.12);
  });
});

describe('levyLangevin: step contract', () => {
  const target = logisticTarget();
  const position = Float64Array.from([0.3, -0.7, 1.1]);

  it('same key, same bits; a different key gives different noise', () => {
    const sampler = levyLangevin(target, { stepSize: 0.05, alpha: 1.6, sigma: 1, weightDecay: 0.01 });
    const state = sampler.init(position, key(1));
    const [a, infoA] = sampler.step(key(2), state, batch);
    const [b, infoB] = sampler.step(key(2), state, batch);
    expect(Array.from(a.position)).toEqual(Array.from(b.position));
    expect(infoA).toEqual(infoB);
    const [c] = sampler.step(key(3), state, batch);
    expect(Array.from(c.position)).not.toEqual(Array.from(a.position));
    expect(a.step).toBe(1);
  });

  it('never mutates the state or the vector it was given', () => {
    const sampler = levyLangevin(target, { stepSize: 0.05, alpha: 1.3, sigma: 2, noise: 'coordinatewise' });
    const input = Float64Array.from(position);
    const state = Object.freeze(sampler.init(input, key(1)));
    input[0] = 99;
    expect(state.position[0]).toBe(0.3);
    const before = Array.from(state.position);
    const [next] = sampler.step(key(4), state, batch);
    expect(Array.from(state.position)).toEqual(before);
    expect(next.position).not.toBe(state.position);
  });

  it('σ = 0 is plain gradient descent on V_S, and the drift is the gradient of the reported batch loss (finite differences)', () => {
    const options = { stepSize: 0.1, alpha: 1.7, sigma: 0, weightDecay: 0.3, usePrior: true };
    const sampler = levyLangevin(target, options);
    const [next, info] = sampler.step(key(5), sampler.init(position, key(0)), batch);
    expect(info.noiseNorm).toBe(0);
    const loss = (w: Vec): number => levyLangevin(target, options).step(key(5), levyLangevin(target, options).init(w, key(0)), batch)[1].batchLoss;
    const h = 1e-6;
    let gradSq = 0;
    for (let i = 0; i < position.length; i++) {
      const plus = Float64Array.from(position);
      const minus = Float64Array.from(position);
      plus[i] += h;
      minus[i] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      const drift = (position[i] - next.position[i]) / options.stepSize;
      expect(Math.abs(drift - fd)).toBeLessThan(1e-7);
      gradSq += drift * drift;
    }
    expect(info.gradNorm).toBeCloseTo(Math.sqrt(gradSq), 12);
    // V_S = −(1/|B|) log-lik + (η/2)‖w‖² − (1/N) log prior.
    const expected =
      -target.logLikelihood(position, batch).value / batch.length +
      0.15 * position.reduce((s, v) => s + v * v, 0) -
      target.logPrior(position).value / target.dataSize;
    expect(info.batchLoss).toBeCloseTo(expected, 12);
  });

  it('the increment scales as σ γ^{1/α}, and noiseNorm is its norm', () => {
    const alpha = 1.4;
    const increments = (stepSize: number, sigma: number): { noise: Float64Array; norm: number } => {
      const noisy = levyLangevin(target, { stepSize, alpha, sigma });
      const quiet = levyLangevin(target, { stepSize, alpha, sigma: 0 });
      const [a, info] = noisy.step(key(6), noisy.init(position, key(0)), batch);
      const [b] = quiet.step(key(6), quiet.init(position, key(0)), batch);
      return { noise: a.position.map((v, i) => v - b.position[i]), norm: info.noiseNorm };
    };
    const base = increments(0.01, 1);
    const other = increments(0.04, 3);
    const ratio = 3 * 4 ** (1 / alpha);
    for (let i = 0; i < position.length; i++) expect(other.noise[i]).toBeCloseTo(ratio * base.noise[i], 10);
    expect(base.norm).toBeCloseTo(Math.hypot(...base.noise), 12);
  });

  it('schedules are evaluated at the state step and reported', () => {
    const sampler = levyLangevin(target, { stepSize: (k) => 0.1 / (1 + k), alpha: 2, sigma: (k) => k });
    let state = sampler.init(position, key(0));
    let info;
    [state, info] = sampler.step(key(7), state, batch);
    expect(info).toMatchObject({ stepSize: 0.1, sigma: 0, noiseNorm: 0, alpha: 2 });
    [state, info] = sampler.step(key(8), state, batch);
    expect(info).toMatchObject({ stepSize: 0.05, sigma: 1 });
    expect(info.noiseNorm).toBeGreaterThan(0);
    expect(state.step).toBe(2);
  });

  it('rejects bad options and inputs with messages naming them', () => {
    const base: LevyLangevinOptions = { stepSize: 0.1, alpha: 1.5, sigma: 1 };
    expect(() => levyLangevin(target, { ...base, alpha: 2.5 })).toThrow(/alpha must be in \(0, 2\], got 2.5/);
    expect(() => levyLangevin(target, { ...base, alpha: 0 })).toThrow(LevyLangevinOptionError);
    expect(() => levyLangevin(target, { ...base, stepSize: 0 })).toThrow(/stepSize at step 0/);
    expect(() => levyLangevin(target, { ...base, sigma: -1 })).toThrow(/sigma/);
    expect(() => levyLangevin(target, { ...base, weightDecay: -1 })).toThrow(/weightDecay/);
    expect(() => levyLangevin(target, { ...base, noise: 'gaussian' as 'isotropic' })).toThrow(/noise must be/);
    const sampler = levyLangevin(target, { ...base, stepSize: (k) => (k === 0 ? 0.1 : Number.NaN) });
    expect(() => sampler.init(new Float64Array(2), key(0))).toThrow(/position has length 2, target.dim is 3/);
    const [state] = sampler.step(key(1), sampler.init(position, key(0)), batch);
    expect(() => sampler.step(key(2), state, batch)).toThrow(/stepSize at step 1 must be a finite number > 0, got NaN/);
    expect(() => sampler.step(key(2), sampler.init(position, key(0)), new Int32Array(0))).toThrow(/batch at step 0 is empty/);
  });
});
