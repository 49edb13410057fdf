import { describe, expect, it } from 'vitest';
import { foldIn, key, normal, uniform, type Key } from '../src/core/random.js';
import { cholesky, inverse, matmul } from '../src/core/linalg.js';
import { gaussianKL } from '../src/diagnostics/gaussian.js';
import { linearRegression } from '../src/models/linear.js';
import { minibatchGradient } from '../src/models/estimator.js';
import { exactNoiseCovariance, noiseCovarianceFromMatrix } from '../src/noise/estimator.js';
import { optimalPreconditioner } from '../src/noise/optimal.js';
import {
  UnstableSettingError,
  averagedIterateCovariance,
  constantSgdDynamics,
  linearStationaryCovariance,
  momentumStationaryCovariance,
  posteriorKL,
  relativeFrobeniusError,
  sgldStationaryCovariance,
  stationaryCovariance,
} from '../src/noise/ornsteinUhlenbeck.js';
import { sgld } from '../src/samplers/sgld.js';
import { regressionData } from './models.helpers.js';

/**
 * A uniformly random S-subset of 0..N−1 drawn afresh from `k` (Floyd's algorithm). Independent
 * subsets at every step are assumption A1 of the OU analysis; epochs of a permutation are not (the
 * minibatch noise then sums to zero over each epoch, which shrinks the stationary covariance).
 */
function randomSubset(k: Key, N: number, S: number): Int32Array {
  const u = uniform(k, S);
  const chosen = new Set<number>();
  for (let j = N - S, i = 0; j < N; j++, i++) {
    const t = Math.floor(u[i] * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen);
}

/**
 * Sample covariance of draws (T×d) and each entry's Monte Carlo standard error by batch means over
 * `batches` contiguous blocks (valid for autocorrelated chains when a block is much longer than the
 * autocorrelation time).
 */
function covarianceWithError(draws: Float64Array, T: number, d: number, batches = 40): { cov: Float64Array; se: Float64Array } {
  const mean = new Float64Array(d);
  for (let t = 0; t < T; t++) for (let a = 0; a < d; a++) mean[a] += draws[t * d + a] / T;
  const size = Math.floor(T / batches);
  const blockMeans = new Float64Array(batches * d * d);
  for (let b = 0; b < batches; b++) {
    for (let t = b * size; t < (b + 1) * size; t++) {
      for (let i = 0; i < d; i++) {
        const xi = draws[t * d + i] - mean[i];
        for (let j = 0; j < d; j++) blockMeans[b * d * d + i * d + j] += (xi * (draws[t * d + j] - mean[j])) / size;
      }
    }
  }
  const cov = new Float64Array(d * d);
  const se = new Float64Array(d * d);
  for (let e = 0; e < d * d; e++) {
    let m = 0;
    for (let b = 0; b < batches; b++) m += blockMeans[b * d * d + e] / batches;
    let v = 0;
    for (let b = 0; b < batches; b++) v += (blockMeans[b * d * d + e] - m) ** 2;
    cov[e] = m;
    se[e] = Math.sqrt(v / (batches - 1) / batches);
  }
  return { cov, se };
}

/** Every entry within `z` standard errors (plus a relative slack for the small bias of the prediction). */
function expectWithinError(empirical: { cov: Float64Array; se: Float64Array }, predicted: Float64Array, z: number, slack = 0): void {
  let scale = 0;
  for (const v of predicted) scale = Math.max(scale, Math.abs(v));
  for (let e = 0; e < predicted.length; e++) {
    expect(Math.abs(empirical.cov[e] - predicted[e])).toBeLessThan(z * empirical.se[e] + slack * scale);
  }
}

describe('linearStationaryCovariance', () => {
  const d = 2;
  const M = Float64Array.of(0.6, 0.15, -0.05, 0.3);
  const Q = Float64Array.of(1, 0.3, 0.3, 0.5);

  it('the OU form solves MΣ + ΣMᵀ = Q; the discrete form solves Σ = (I − M)Σ(I − M)ᵀ + Q', () => {
    const ou = linearStationaryCovariance({ dim: d, drift: M, noise: Q });
    const residual = matmul(M, ou, d, d, d).map((v, i) => v + matmul(ou, Float64Array.of(M[0], M[2], M[1], M[3]), d, d, d)[i] - Q[i]);
    for (const r of residual) expect(Math.abs(r)).toBeLessThan(1e-12);
    const discrete = linearStationaryCovariance({ dim: d, drift: M, noise: Q }, { discrete: true });
    const F = Float64Array.of(1 - M[0], -M[1], -M[2], 1 - M[3]);
    const Ft = Float64Array.of(F[0], F[2], F[1], F[3]);
    const back = matmul(matmul(F, discrete, d, d, d), Ft, d, d, d);
    for (let i = 0; i < 4; i++) expect(back[i] + Q[i]).toBeCloseTo(discrete[i], 12);
  });

  it('the discrete form matches a simulation of the recursion; the OU form is off by O(M²)', () => {
    const T = 100_000;
    const L = cholesky(Q, d);
    const draws = new Float64Array(T * d);
    let x0 = 0;
    let x1 = 0;
    const z = normal(key(3), 2 * T);
    for (let t = 0; t < T; t++) {
      const n0 = L[0] * z[2 * t];
      const n1 = L[2] * z[2 * t] + L[3] * z[2 * t + 1];
      const next0 = x0 - (M[0] * x0 + M[1] * x1) + n0;
      const next1 = x1 - (M[2] * x0 + M[3] * x1) + n1;
      x0 = next0;
      x1 = next1;
      draws[2 * t] = x0;
      draws[2 * t + 1] = x1;
    }
    const empirical = covarianceWithError(draws, T, d);
    const discrete = linearStationaryCovariance({ dim: d, drift: M, noise: Q }, { discrete: true });
    const ou = linearStationaryCovariance({ dim: d, drift: M, noise: Q });
    // Tolerance: 4 batch-means standard errors per entry.
    expectWithinError(empirical, discrete, 4);
    // At this large a step the OU form misses by more than the Monte Carlo error.
    expect(relativeFrobeniusError(empirical.cov, ou)).toBeGreaterThan(0.15);
    expect(relativeFrobeniusError(empirical.cov, discrete)).toBeLessThan(0.05);
  });

  it('reports an unstable step instead of returning nonsense', () => {
    const tooLarge = Float64Array.of(2.5, 0, 0, 0.3);
    expect(() => linearStationaryCovariance({ dim: d, drift: tooLarge, noise: Q }, { discrete: true })).toThrow(UnstableSettingError);
    expect(() => linearStationaryCovariance({ dim: d, drift: tooLarge, noise: Q }, { discrete: true })).toThrow(/step is too large/);
  });
});

describe('constant SGD on Bayesian linear regression', () => {
  const data = regressionData(21, 300, 3, 1);
  const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 1 });
  const N = data.rows;
  const d = model.dim;
  const { mean: mode, cov: posteriorCov } = model.exactPosterior();
  // A = −(1/N)∇² log posterior, C at the mode: the inputs of every prediction.
  const A = model.hessianLogPosterior(mode).map((v) => -v / N);
  const C = exactNoiseCovariance(model, mode);
  const S = 10;

  /** θ ← θ − H ĝ_S over independent random minibatches, written out here (independent of the samplers). */
  function simulate(H: Float64Array, steps: number, seed: number): Float64Array {
    let theta = Float64Array.from(mode);
    const grad = new Float64Array(d);
    const draws = new Float64Array(steps * d);
    for (let t = 0; t < steps; t++) {
      minibatchGradient(model, theta, randomSubset(foldIn(key(seed), t), N, S), grad);
      const loss = grad.map((g) => -g / N);
      theta = theta.map((v, i) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += H[i * d + j] * loss[j];
        return v - s;
      });
      draws.set(theta, t * d);
    }
    return draws;
  }

  it('at the optimal scalar rate the OU prediction matches the empirical stationary covariance', () => {
    const p = optimalPreconditioner('scalar', C, { batchSize: S, dataSize: N });
    if (p.kind !== 'scalar') throw new Error('expected scalar');
    const H = new Float64Array(d * d);
    for (let i = 0; i < d; i++) H[i * d + i] = p.rate;
    const T = 60_000;
    const empirical = covarianceWithError(simulate(H, T, 4), T, d);
    const setting = { hessian: A, noise: C, preconditioner: p, batchSize: S, withoutReplacementFrom: N };
    const discrete = stationaryCovariance({ ...setting, discrete: true });
    // Only approximations left: C varies with θ around the mode and the noise is not Gaussian; allow
    // 4.5 standard errors plus 3% of the largest entry for them.
    expectWithinError(empirical, discrete, 4.5, 0.03);
    expect(relativeFrobeniusError(empirical.cov, stationaryCovariance(setting))).toBeLessThan(0.2);
    // Theorem 1's scalar ε* matches the posterior's total variance: Tr Σ ≈ Tr (NA)⁻¹ when A ≈ C.
    let trace = 0;
    let posteriorTrace = 0;
    for (let i = 0; i < d; i++) {
      trace += empirical.cov[i * d + i];
      posteriorTrace += posteriorCov[i * d + i];
    }
    expect(trace / posteriorTrace).toBeGreaterThan(0.7);
    expect(trace / posteriorTrace).toBeLessThan(1.3);
  });

  it('with the full optimal preconditioner the iterates have the posterior covariance', () => {
    const p = optimalPreconditioner('full', C, { batchSize: S, dataSize: N });
    if (p.kind !== 'full') throw new Error('expected full');
    const T = 60_000;
    const empirical = covarianceWithError(simulate(p.H, T, 5), T, d);
    const predicted = stationaryCovariance({ hessian: A, noise: C, preconditioner: p, batchSize: S });
    expect(relativeFrobeniusError(predicted, posteriorCov)).toBeLessThan(0.1);
    // The empirical covariance is that of the discrete recursion with sampling without replacement.
    const discrete = stationaryCovariance({ hessian: A, noise: C, preconditioner: p, batchSize: S, withoutReplacementFrom: N, discrete: true });
    expectWithinError(empirical, discrete, 4.5, 0.03);
    expect(posteriorKL(empirical.cov, A, N)).toBeLessThan(0.1);
  });

  it('posteriorKL agrees with the general Gaussian KL at equal means', () => {
    const p = optimalPreconditioner('scalar', C, { batchSize: S, dataSize: N });
    const sigma = stationaryCovariance({ hessian: A, noise: C, preconditioner: p, batchSize: S });
    const target = inverse(A, d).map((v) => v / N);
    expect(posteriorKL(sigma, A, N)).toBeCloseTo(gaussianKL(mode, sigma, mode, target, d), 10);
    expect(posteriorKL(target, A, N)).toBeCloseTo(0, 10);
  });

  it("SGLD's finite-step inflation ½N(AΣ + ΣA) = I + (εN²/4S)C is predicted and measured", () => {
    const stepSize = 4e-4; // εN/2 · λ_max(A) ≈ 0.1: a visible but stable inflation
    const T = 60_000;
    const sampler = sgld(model, { stepSize });
    let state = sampler.init(mode, key(8));
    const draws = new Float64Array(T * d);
    for (let t = 0; t < T + 1000; t++) {
      [state] = sampler.step(foldIn(key(9), t), state, randomSubset(foldIn(key(8), t), N, S));
      if (t >= 1000) draws.set(state.position, (t - 1000) * d);
    }
    const empirical = covarianceWithError(draws, T, d);
    const predicted = sgldStationaryCovariance({ hessian: A, noise: C, stepSize, batchSize: S, dataSize: N, withoutReplacementFrom: N, discrete: true });
    expectWithinError(empirical, predicted, 4.5, 0.03);
    let measured = 0;
    let inflated = 0;
    let posterior = 0;
    for (let i = 0; i < d; i++) {
      measured += empirical.cov[i * d + i];
      inflated += predicted[i * d + i];
      posterior += posteriorCov[i * d + i];
    }
    // The inflation is real (well above MC error) and the prediction gets its size.
    expect(measured / posterior).toBeGreaterThan(1.3);
    expect(Math.abs(measured / inflated - 1)).toBeLessThan(0.1);
    // Without minibatch noise (full batch, C = 0) the OU prediction is the posterior itself.
    const noNoise = sgldStationaryCovariance({ hessian: A, noise: new Float64Array(d * d), stepSize, batchSize: S, dataSize: N });
    expect(relativeFrobeniusError(noNoise, inverse(A, d).map((v) => v / N))).toBeLessThan(1e-9);
  });
});

describe('momentum and iterate averaging', () => {
  const d = 3;
  const A = Float64Array.of(2, 0.3, 0, 0.3, 1, 0.2, 0, 0.2, 0.5);
  const C = noiseCovarianceFromMatrix(Float64Array.of(1.5, 0.2, 0.1, 0.2, 1, 0, 0.1, 0, 0.7), d);
  const S = 5;

  it('momentum SGD: the exact discrete covariance approaches Eq. 25 as ε → 0 at fixed ε/μ', () => {
    const ratio = 0.05;
    const eq25 = momentumStationaryCovariance({ hessian: A, noise: C, learningRate: ratio * 0.5, momentum: 0.5, batchSize: S });
    const errors = [0.5, 0.1, 0.02].map((mu) =>
      relativeFrobeniusError(momentumStationaryCovariance({ hessian: A, noise: C, learningRate: ratio * mu, momentum: mu, batchSize: S, discrete: true }), eq25),
    );
    expect(errors[1]).toBeLessThan(errors[0]);
    expect(errors[2]).toBeLessThan(0.05);
  });

  it('momentum SGD: the discrete prediction matches a simulation of the (θ, v) recursion', () => {
    const eps = 0.02;
    const mu = 0.2;
    const T = 200_000;
    const L = cholesky(C.full!, d);
    const z = normal(foldIn(key(12), 0), T * d);
    let theta = new Float64Array(d);
    let v = new Float64Array(d);
    const draws = new Float64Array(T * d);
    for (let t = 0; t < T; t++) {
      const noise = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) noise[i] += (L[i * d + j] * z[t * d + j]) / Math.sqrt(S);
      const g = matmul(A, theta, d, d, 1).map((gi, i) => gi + noise[i]);
      v = v.map((vi, i) => (1 - mu) * vi - eps * g[i]);
      theta = theta.map((x, i) => x + v[i]);
      draws.set(theta, t * d);
    }
    const empirical = covarianceWithError(draws, T, d);
    const predicted = momentumStationaryCovariance({ hessian: A, noise: C, learningRate: eps, momentum: mu, batchSize: S, discrete: true });
    expectWithinError(empirical, predicted, 4.5);
  });

  it('averaged iterates: T = 1 is Σ, and large T tends to (1/(TS))A⁻¹CA⁻¹ for any preconditioner (Sec. 6)', () => {
    const rate = 0.05;
    for (const preconditioner of [
      { kind: 'scalar' as const, rate },
      { kind: 'diagonal' as const, h: Float64Array.of(0.02, 0.05, 0.1) },
    ]) {
      const dynamics = constantSgdDynamics({ hessian: A, noise: C, preconditioner, batchSize: S });
      const one = averagedIterateCovariance(dynamics, 1);
      expect(relativeFrobeniusError(one, linearStationaryCovariance(dynamics, { discrete: true }))).toBeLessThan(1e-12);
      const T = 20_000;
      const averaged = averagedIterateCovariance(dynamics, T);
      const Ainv = inverse(A, d);
      const limit = matmul(matmul(Ainv, C.full!, d, d, d), Ainv, d, d, d).map((v) => v / (T * S));
      expect(relativeFrobeniusError(averaged, limit)).toBeLessThan(0.01);
    }
  });
});

describe('input errors', () => {
  it('names the bad input', () => {
    const A = Float64Array.of(1, 0, 0, 1);
    const C = noiseCovarianceFromMatrix(Float64Array.of(1, 0, 0, 1), 2);
    expect(() => stationaryCovariance({ hessian: new Float64Array(3), noise: C, preconditioner: { kind: 'scalar', rate: 1 }, batchSize: 1 })).toThrow(/hessian A must be a square/);
    expect(() => stationaryCovariance({ hessian: A, noise: C, preconditioner: { kind: 'scalar', rate: 1 }, batchSize: 0 })).toThrow(/batchSize must be a finite integer > 0/);
    expect(() => momentumStationaryCovariance({ hessian: A, noise: C, learningRate: 0.1, momentum: 0, batchSize: 1 })).toThrow(/momentum μ must be in \(0, 1\]/);
    expect(() => sgldStationaryCovariance({ hessian: A, noise: C, stepSize: -1, batchSize: 1, dataSize: 10 })).toThrow(/stepSize/);
    expect(() => relativeFrobeniusError(new Float64Array(4), new Float64Array(9))).toThrow(/sizes differ/);
  });
});
