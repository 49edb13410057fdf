import { describe, expect, it } from 'vitest';
import { key, normal } from '../src/core/random.js';
import { inverse, matmul, symmetricEigen } from '../src/core/linalg.js';
import { noiseCovarianceFromMatrix } from '../src/noise/estimator.js';
import { optimalMomentumRatio, optimalPreconditioner, optimalSgfsPreconditioner, stabilizePreconditioner } from '../src/noise/optimal.js';
import {
  momentumStationaryCovariance,
  posteriorKL,
  sgfsStationaryCovariance,
  stationaryCovariance,
} from '../src/noise/ornsteinUhlenbeck.js';
import { NoiseError } from '../src/noise/types.js';

/** A random SPD d×d matrix GGᵀ/d + shift·I. */
function randomSpd(seed: number, d: number, shift: number): Float64Array {
  const G = normal(key(seed), d * d);
  const out = matmul(G, Float64Array.from({ length: d * d }, (_, i) => G[(i % d) * d + Math.floor(i / d)]), d, d, d);
  for (let i = 0; i < d * d; i++) out[i] /= d;
  for (let i = 0; i < d; i++) out[i * d + i] += shift;
  return out;
}

function diagonalMatrix(values: number[]): Float64Array {
  const d = values.length;
  const out = new Float64Array(d * d);
  values.forEach((v, i) => (out[i * d + i] = v));
  return out;
}

function expectMatrixClose(actual: Float64Array, expected: Float64Array, relTol: number): void {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(relTol * scale);
}

const d = 5;
const N = 1000;
const S = 20;
const A = randomSpd(1, d, 0.3);
const Cmatrix = randomSpd(2, d, 0.2);
const C = noiseCovarianceFromMatrix(Cmatrix, d);
const posteriorCov = inverse(A, d).map((v) => v / N);

describe('optimalPreconditioner', () => {
  it("Theorem 1: ε* = 2(S/N)D/Tr C minimises the OU stationary distribution's KL to the posterior", () => {
    const p = optimalPreconditioner('scalar', C, { batchSize: S, dataSize: N });
    if (p.kind !== 'scalar') throw new Error('expected a scalar preconditioner');
    expect(p.rate).toBeCloseTo((2 * S * d) / (N * C.trace), 14);
    const kl = (rate: number) => posteriorKL(stationaryCovariance({ hessian: A, noise: C, preconditioner: { kind: 'scalar', rate }, batchSize: S }), A, N);
    // KL(ε) = ½(Nε Tr C/(2S) − D log ε) + const is exactly minimised at ε*, for any A and C.
    const h = 1e-4 * p.rate;
    expect(Math.abs((kl(p.rate + h) - kl(p.rate - h)) / (2 * h))).toBeLessThan(1e-6 * Math.abs(kl(p.rate) / p.rate));
    expect(kl(0.8 * p.rate)).toBeGreaterThan(kl(p.rate));
    expect(kl(1.25 * p.rate)).toBeGreaterThan(kl(p.rate));
  });

  it('Theorem 2 / Corollary 4: the full H* = (2S/N)C⁻¹ makes the stationary covariance the posterior A⁻¹/N', () => {
    const p = optimalPreconditioner('full', C, { batchSize: S, dataSize: N });
    if (p.kind !== 'full') throw new Error('expected a full preconditioner');
    const HC = matmul(p.H, Cmatrix, d, d, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(HC[i * d + j]).toBeCloseTo(i === j ? (2 * S) / N : 0, 12);
    const sigma = stationaryCovariance({ hessian: A, noise: C, preconditioner: p, batchSize: S });
    expectMatrixClose(sigma, posteriorCov, 1e-9);
    expect(Math.abs(posteriorKL(sigma, A, N))).toBeLessThan(1e-9);
    // The scalar optimum is strictly worse here (A ≠ C up to scale).
    const scalar = optimalPreconditioner('scalar', C, { batchSize: S, dataSize: N });
    expect(posteriorKL(stationaryCovariance({ hessian: A, noise: C, preconditioner: scalar, batchSize: S }), A, N)).toBeGreaterThan(0.05);
  });

  it('Corollary 3: the diagonal H*_kk = 2S/(N C_kk) is exact when A and C are diagonal', () => {
    const Ad = diagonalMatrix([0.5, 2, 8]);
    const Cd = noiseCovarianceFromMatrix(diagonalMatrix([1, 3, 0.2]), 3, 'diagonal');
    const p = optimalPreconditioner('diagonal', Cd, { batchSize: S, dataSize: N });
    if (p.kind !== 'diagonal') throw new Error('expected a diagonal preconditioner');
    expect(Array.from(p.h)).toEqual([1, 3, 0.2].map((c) => (2 * S) / (N * c)));
    const sigma = stationaryCovariance({ hessian: Ad, noise: Cd, preconditioner: p, batchSize: S });
    expectMatrixClose(sigma, inverse(Ad, 3).map((v) => v / N), 1e-12);
  });

  it('Theorem 7: the square-root-diagonal preconditioner εG⁻¹ with ε* = 2DS/(N Σ√C_kk)', () => {
    const p = optimalPreconditioner('sqrtDiagonal', C, { batchSize: S, dataSize: N });
    if (p.kind !== 'diagonal') throw new Error('expected a diagonal preconditioner');
    let sumRoot = 0;
    for (let k = 0; k < d; k++) sumRoot += Math.sqrt(Cmatrix[k * d + k]);
    const rate = (2 * d * S) / (N * sumRoot);
    for (let k = 0; k < d; k++) expect(p.h[k]).toBeCloseTo(rate / Math.sqrt(Cmatrix[k * d + k]), 14);
  });

  it('regularises a singular C: a zero-noise direction gets a large finite step', () => {
    const singular = noiseCovarianceFromMatrix(diagonalMatrix([1, 0]), 2);
    const full = optimalPreconditioner('full', singular, { batchSize: 1, dataSize: 10, relativeFloor: 1e-6 });
    if (full.kind !== 'full') throw new Error('expected full');
    expect(full.H[3]).toBeCloseTo(0.2 / 1e-6, 6);
    const diagonal = optimalPreconditioner('diagonal', singular, { batchSize: 1, dataSize: 10 });
    if (diagonal.kind !== 'diagonal') throw new Error('expected diagonal');
    expect(Number.isFinite(diagonal.h[1])).toBe(true);
  });

  it('rejects what it cannot compute, naming it', () => {
    const scalarOnly = noiseCovarianceFromMatrix(Cmatrix, d, 'scalar');
    expect(() => optimalPreconditioner('diagonal', scalarOnly, { batchSize: S, dataSize: N })).toThrow(/'scalar' noise estimate has no 'diag'/);
    expect(() => optimalPreconditioner('full', scalarOnly, { batchSize: S, dataSize: N })).toThrow(NoiseError);
    expect(() => optimalPreconditioner('scalar', C, { batchSize: 0, dataSize: N })).toThrow(/batchSize S must be an integer in \[1, N = 1000\]/);
    expect(() => optimalPreconditioner('scalar', { ...C, trace: 0 }, { batchSize: S, dataSize: N })).toThrow(/Tr C must be/);
    expect(() => optimalPreconditioner('cubic' as never, C, { batchSize: S, dataSize: N })).toThrow(/unknown kind 'cubic'/);
  });
});

describe('optimalSgfsPreconditioner', () => {
  const eps = 0.05;

  it('Theorem 5: H* = (2/N)(εC/S + EEᵀ)⁻¹ samples the posterior at a finite step size, with or without a step cap', () => {
    for (const maxStep of [undefined, 0.5]) {
      const setting = optimalSgfsPreconditioner('full', C, { batchSize: S, dataSize: N, stepSize: eps, maxStep });
      const sigma = sgfsStationaryCovariance({
        hessian: A,
        noise: C,
        preconditioner: setting.preconditioner,
        injectedNoise: setting.injectedNoise,
        stepSize: eps,
        batchSize: S,
      });
      expectMatrixClose(sigma, posteriorCov, 1e-8);
      if (setting.preconditioner.kind !== 'full') throw new Error('expected full');
      const largest = Math.max(...symmetricEigen(setting.preconditioner.H, d).values);
      if (maxStep !== undefined) expect(largest).toBeLessThanOrEqual(maxStep * (1 + 1e-9));
      else expect(Math.max(...setting.injectedNoise)).toBe(0);
    }
  });

  it('Corollary 6: diagonal H*_kk = min(h^max, 2S/(NεC_kk)) and the scalar form', () => {
    const Cd = [1, 3, 0.2];
    const noise = noiseCovarianceFromMatrix(diagonalMatrix(Cd), 3, 'diagonal');
    const maxStep = 40;
    const setting = optimalSgfsPreconditioner('diagonal', noise, { batchSize: S, dataSize: N, stepSize: eps, maxStep });
    if (setting.preconditioner.kind !== 'diagonal') throw new Error('expected diagonal');
    Cd.forEach((c, k) => {
      expect(setting.preconditioner.kind === 'diagonal' && setting.preconditioner.h[k]).toBeCloseTo(Math.min(maxStep, (2 * S) / (N * eps * c)), 10);
      expect(setting.injectedNoise[k]).toBeCloseTo(Math.max(0, 2 / (maxStep * N) - (eps * c) / S), 14);
    });
    const scalar = optimalSgfsPreconditioner('scalar', noise, { batchSize: S, dataSize: N, stepSize: eps });
    if (scalar.preconditioner.kind !== 'scalar') throw new Error('expected scalar');
    expect(scalar.preconditioner.rate).toBeCloseTo((2 * 3) / (N * ((eps * 4.2) / S)), 10);
    // Diagonal A and C: the diagonal SGFS H* is exact too.
    const Ad = diagonalMatrix([0.5, 2, 8]);
    const sigma = sgfsStationaryCovariance({ hessian: Ad, noise, ...setting, stepSize: eps, batchSize: S });
    expectMatrixClose(sigma, inverse(Ad, 3).map((v) => v / N), 1e-10);
  });

  it('rejects a bad step size or cap', () => {
    expect(() => optimalSgfsPreconditioner('full', C, { batchSize: S, dataSize: N, stepSize: 0 })).toThrow(/stepSize ε must be/);
    expect(() => optimalSgfsPreconditioner('diagonal', C, { batchSize: S, dataSize: N, stepSize: 1, maxStep: -1 })).toThrow(/maxStep/);
  });
});

describe('optimalMomentumRatio', () => {
  it('gives the ε/μ whose Eq. 25 covariance equals constant SGD at Theorem 1’s ε*', () => {
    const ratio = optimalMomentumRatio(C, { batchSize: S, dataSize: N });
    const scalar = optimalPreconditioner('scalar', C, { batchSize: S, dataSize: N });
    if (scalar.kind !== 'scalar') throw new Error('expected scalar');
    expect(ratio).toBeCloseTo(scalar.rate, 14);
    const mu = 0.1;
    const momentum = momentumStationaryCovariance({ hessian: A, noise: C, learningRate: mu * ratio, momentum: mu, batchSize: S });
    const sgd = stationaryCovariance({ hessian: A, noise: C, preconditioner: scalar, batchSize: S });
    expectMatrixClose(momentum, sgd, 1e-12);
  });
});

describe('optimalPreconditioner with a step cap', () => {
  it('caps the rate, the diagonal entries and the eigenvalues of H at h^max', () => {
    const sizes = { batchSize: S, dataSize: N };
    const scalar = optimalPreconditioner('scalar', C, { ...sizes, maxStep: 1e-3 });
    expect(scalar.kind === 'scalar' && scalar.rate).toBe(1e-3);
    const uncapped = optimalPreconditioner('diagonal', C, sizes);
    const capped = optimalPreconditioner('diagonal', C, { ...sizes, maxStep: 0.01 });
    if (uncapped.kind !== 'diagonal' || capped.kind !== 'diagonal') throw new Error('expected diagonal');
    for (let k = 0; k < d; k++) expect(capped.h[k]).toBe(Math.min(0.01, uncapped.h[k]));
    const full = optimalPreconditioner('full', C, { ...sizes, maxStep: 0.01 });
    if (full.kind !== 'full') throw new Error('expected full');
    expect(Math.max(...symmetricEigen(full.H, d).values)).toBeLessThanOrEqual(0.01 * (1 + 1e-12));
    expect(() => optimalPreconditioner('full', C, { ...sizes, maxStep: 0 })).toThrow(/maxStep h\^max must be > 0/);
  });
});

describe('stabilizePreconditioner', () => {
  it('caps the eigenvalues of HA at maxRate and leaves stable directions alone', () => {
    // C tiny in one direction: H* is huge there and HA has an eigenvalue far above 2.
    const Cs = noiseCovarianceFromMatrix(diagonalMatrix([1, 1e-4, 0.5]), 3);
    const As = Float64Array.of(1, 0.2, 0, 0.2, 0.8, 0.1, 0, 0.1, 0.6);
    const p = optimalPreconditioner('full', Cs, { batchSize: 10, dataSize: 100 });
    const { preconditioner, capped } = stabilizePreconditioner(p, As, 1);
    expect(capped).toBe(1);
    if (preconditioner.kind !== 'full' || p.kind !== 'full') throw new Error('expected full');
    // Eigenvalues of HA = those of the symmetric H^½AH^½; compare before and after the cap.
    const spectrum = (H: Float64Array) => {
      const { values, vectors } = symmetricEigen(H, 3);
      const root = new Float64Array(9);
      for (let k = 0; k < 3; k++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) root[a * 3 + b] += vectors[a * 3 + k] * Math.sqrt(values[k]) * vectors[b * 3 + k];
      const K = matmul(matmul(root, As, 3, 3, 3), root, 3, 3, 3);
      for (let a = 0; a < 3; a++) for (let b = 0; b < a; b++) K[a * 3 + b] = K[b * 3 + a] = 0.5 * (K[a * 3 + b] + K[b * 3 + a]);
      return Array.from(symmetricEigen(K, 3).values).sort((x, y) => x - y);
    };
    const before = spectrum(p.H);
    const after = spectrum(preconditioner.H);
    expect(before[2]).toBeGreaterThan(2);
    expect(after[2]).toBeCloseTo(1, 9);
    expect(after[0]).toBeCloseTo(before[0], 9);
    expect(after[1]).toBeCloseTo(before[1], 9);
    // The capped setting is stable: its exact discrete stationary covariance exists.
    expect(() => stationaryCovariance({ hessian: As, noise: Cs, preconditioner: p, batchSize: 10, discrete: true })).toThrow(/too large/);
    const sigma = stationaryCovariance({ hessian: As, noise: Cs, preconditioner, batchSize: 10, discrete: true });
    expect(sigma.every(Number.isFinite)).toBe(true);
    const scalar = stabilizePreconditioner({ kind: 'scalar', rate: 10 }, As, 1).preconditioner;
    expect(scalar.kind === 'scalar' && scalar.rate).toBeCloseTo(1 / Math.max(...symmetricEigen(As, 3).values), 12);
    const untouched = stabilizePreconditioner({ kind: 'scalar', rate: 0.1 }, As, 1);
    expect(untouched.capped).toBe(0);
  });
});
