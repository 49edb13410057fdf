/**
 * Gaussian comparisons: the KL divergence between two multivariate normals (the error measure of
 * Mandt, Hoffman & Blei 2017, Table 1) and the sample mean and covariance of draws.
 */
import type { Vec } from '../core/types.js';
import { NotPositiveDefiniteError, cholesky, solveLower } from '../core/linalg.js';

/** Bad input to a Gaussian diagnostic (shapes, non-finite values, a covariance that is not SPD). */
export class GaussianDiagnosticError extends Error {
  override readonly name = 'GaussianDiagnosticError';
}

function checkGaussian(where: string, label: string, mean: Vec, cov: Float64Array, d: number): void {
  if (mean.length !== d) throw new GaussianDiagnosticError(`${where}: ${label} mean has length ${mean.length}, expected d = ${d}`);
  if (cov.length !== d * d) {
    throw new GaussianDiagnosticError(`${where}: ${label} covariance has ${cov.length} entries, expected d × d = ${d * d}`);
  }
  for (let i = 0; i < d; i++) {
    if (!Number.isFinite(mean[i])) throw new GaussianDiagnosticError(`${where}: ${label} mean[${i}] is ${mean[i]}`);
  }
  for (let i = 0; i < d * d; i++) {
    if (!Number.isFinite(cov[i])) {
      throw new GaussianDiagnosticError(`${where}: ${label} covariance (${Math.floor(i / d)}, ${i % d}) is ${cov[i]}`);
    }
  }
}

function choleskyOf(where: string, label: string, cov: Float64Array, d: number): Float64Array {
  try {
    return cholesky(cov, d);
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) {
      throw new GaussianDiagnosticError(`${where}: ${label} covariance is not positive definite (${error.message})`);
    }
    throw error;
  }
}

/**
 * KL(N(m0, S0) ‖ N(m1, S1)) for d-dimensional Gaussians (covariances d×d row-major, SPD):
 *
 *   ½ [ tr(S1⁻¹S0) + (m1 − m0)ᵀ S1⁻¹ (m1 − m0) − d + log|S1| − log|S0| ],
 *
 * evaluated through Cholesky factors S0 = L0L0ᵀ, S1 = L1L1ᵀ: tr(S1⁻¹S0) = ‖L1⁻¹L0‖²_F and the
 * quadratic form is ‖L1⁻¹(m1 − m0)‖². Mandt, Hoffman & Blei 2017 (JMLR 18), Sec. 4 and Table 1
 * report KL(q‖posterior) with q the Gaussian fitted to the iterates: call gaussianKL(q, posterior).
 *
 * @throws GaussianDiagnosticError on a shape mismatch, a non-finite entry or a non-SPD covariance.
 */
export function gaussianKL(m0: Vec, S0: Float64Array, m1: Vec, S1: Float64Array, d: number): number {
  const where = 'gaussianKL';
  if (!Number.isInteger(d) || d < 1) throw new GaussianDiagnosticError(`${where}: d must be a positive integer, got ${d}`);
  checkGaussian(where, 'first (N0)', m0, S0, d);
  checkGaussian(where, 'second (N1)', m1, S1, d);
  const L0 = choleskyOf(where, 'first (N0)', S0, d);
  const L1 = choleskyOf(where, 'second (N1)', S1, d);
  const whitened = solveLower(L1, L0, d);
  let trace = 0;
  for (let i = 0; i < d * d; i++) trace += whitened[i] * whitened[i];
  const difference = new Float64Array(d);
  for (let i = 0; i < d; i++) difference[i] = m1[i] - m0[i];
  const whitenedDifference = solveLower(L1, difference, d);
  let quadratic = 0;
  for (let i = 0; i < d; i++) quadratic += whitenedDifference[i] * whitenedDifference[i];
  let logDetRatio = 0;
  for (let i = 0; i < d; i++) logDetRatio += 2 * (Math.log(L1[i * d + i]) - Math.log(L0[i * d + i]));
  // Rounding can make a zero divergence slightly negative; KL is ≥ 0 by Gibbs' inequality.
  return Math.max(0, 0.5 * (trace + quadratic - d + logDetRatio));
}

/**
 * The symmetrised KL (Jeffreys divergence) KL(N0‖N1) + KL(N1‖N0): the SUM of both directions, not
 * their average. The log-determinants cancel, leaving
 * ½[tr(S1⁻¹S0) + tr(S0⁻¹S1) + (m1 − m0)ᵀ(S0⁻¹ + S1⁻¹)(m1 − m0)] − d.
 */
export function symmetricGaussianKL(m0: Vec, S0: Float64Array, m1: Vec, S1: Float64Array, d: number): number {
  return gaussianKL(m0, S0, m1, S1, d) + gaussianKL(m1, S1, m0, S0, d);
}

/** A sample mean and covariance. */
export interface SampleMoments {
  /** Length d. */
  mean: Float64Array;
  /** d×d row-major, with the unbiased 1/(n − 1) normalisation. */
  cov: Float64Array;
  /** The number of draws n. */
  count: number;
}

/**
 * The sample mean and unbiased sample covariance (1/(n − 1)) of n draws in d dimensions, given as
 * an n×d row-major `Float64Array` or as an array of length-d vectors. Two passes (mean first, then
 * centred products) so a large common offset does not cancel digits.
 *
 * @throws GaussianDiagnosticError if there are fewer than 2 draws, a draw has the wrong length, or
 *   an entry is not finite.
 */
export function sampleMeanCov(draws: Float64Array | readonly Vec[], d: number): SampleMoments {
  const where = 'sampleMeanCov';
  if (!Number.isInteger(d) || d < 1) throw new GaussianDiagnosticError(`${where}: d must be a positive integer, got ${d}`);
  let rows: readonly Vec[];
  if (draws instanceof Float64Array) {
    if (draws.length % d !== 0) {
      throw new GaussianDiagnosticError(`${where}: draws has ${draws.length} entries, not a multiple of d = ${d}`);
    }
    const n = draws.length / d;
    const views: Vec[] = [];
    for (let i = 0; i < n; i++) views.push(draws.subarray(i * d, (i + 1) * d));
    rows = views;
  } else {
    rows = draws;
  }
  const n = rows.length;
  if (n < 2) throw new GaussianDiagnosticError(`${where}: need at least 2 draws for a covariance, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (row.length !== d) throw new GaussianDiagnosticError(`${where}: draw ${i} has length ${row.length}, expected d = ${d}`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(row[j])) throw new GaussianDiagnosticError(`${where}: draw ${i}, coordinate ${j} is ${row[j]}`);
      mean[j] += row[j];
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    for (let j = 0; j < d; j++) centred[j] = row[j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const value = cov[a * d + b] / (n - 1);
      cov[a * d + b] = value;
      cov[b * d + a] = value;
    }
  }
  return { mean, cov, count: n };
}
