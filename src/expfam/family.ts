/**
 * Exponential families in their two dual coordinate systems (Amari & Nagaoka 2000, "Methods of
 * Information Geometry", ch. 3; Datar & Ay 2025, arXiv 2504.19259, §2):
 *
 *   p_θ(x) = h(x) exp(⟨θ, T(x)⟩ − A(θ)),   η = ∇A(θ) = E_θ[T(x)],
 *   F(θ) = ∇²A(θ) = Cov_θ[T(x)]   (Fisher information in natural coordinates θ),
 *   G(η) = ∇²A*(η) = F(θ(η))⁻¹   (Fisher information in expectation coordinates η),
 *
 * where A*(η) = ⟨θ(η), η⟩ − A(θ(η)) is the convex dual (negative entropy up to the base measure).
 */
import type { Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import type { SquareMatrix } from './linalg.js';

/** An exponential family with both coordinate systems. All matrices are k×k row-major, k = `dim`. */
export interface ExponentialFamily {
  /** A short name used in messages and tables, e.g. `categorical(11)`. */
  readonly name: string;
  /** Number of natural parameters k (the family's dimension, minimal representation). */
  readonly dim: number;
  /** Length of one observation x. */
  readonly sampleDim: number;
  /** Log-partition function A(θ). */
  logPartition(theta: Vec): number;
  /** η = ∇A(θ) = E_θ[T(x)]. */
  meanFromNatural(theta: Vec): Vec;
  /** θ = ∇A*(η), the inverse of `meanFromNatural`. */
  naturalFromMean(eta: Vec): Vec;
  /** Fisher information in θ: F(θ) = ∇²A(θ) = Cov_θ[T(x)]. */
  fisherNatural(theta: Vec): SquareMatrix;
  /** Fisher information in η: G(η) = ∇²A*(η) = F(θ(η))⁻¹. */
  fisherMean(eta: Vec): SquareMatrix;
  /** Sufficient statistic T(x) of one observation. */
  sufficientStatistic(x: ArrayLike<number>, out?: Vec): Vec;
  /** log h(x) of one observation (−Infinity outside the support). */
  logBaseMeasure(x: ArrayLike<number>): number;
  /** `n` independent draws from p_θ, row-major n × sampleDim; the key fixes the bits. */
  sample(key: Key, theta: Vec, n: number): Float64Array;
  /** Whether θ lies in the natural parameter space. */
  isNaturalValid(theta: Vec): boolean;
  /** Whether η lies in the interior of the mean parameter space. */
  isMeanValid(eta: Vec): boolean;
}

/** Throws unless `v` has length `k` and finite entries; `what` names the argument and caller. */
export function checkVector(v: ArrayLike<number>, k: number, what: string): void {
  if (v.length !== k) throw new ExponentialFamilyError(`${what}: expected length ${k}, got ${v.length}`);
  for (let i = 0; i < k; i++) {
    if (!Number.isFinite(v[i])) throw new ExponentialFamilyError(`${what}: entry ${i} is not finite (${v[i]})`);
  }
}

/** Throws unless θ is a finite vector of the right length inside the natural parameter space. */
export function checkNatural(family: ExponentialFamily, theta: Vec, where: string): void {
  checkVector(theta, family.dim, `${where}: natural parameters of ${family.name}`);
  if (!family.isNaturalValid(theta)) {
    throw new ExponentialFamilyError(
      `${where}: natural parameters [${Array.from(theta).join(', ')}] lie outside the domain of ${family.name}`,
    );
  }
}

/** Throws unless η is a finite vector of the right length inside the mean parameter space. */
export function checkMean(family: ExponentialFamily, eta: Vec, where: string): void {
  checkVector(eta, family.dim, `${where}: mean parameters of ${family.name}`);
  if (!family.isMeanValid(eta)) {
    throw new ExponentialFamilyError(
      `${where}: mean parameters [${Array.from(eta).join(', ')}] lie outside the domain of ${family.name}`,
    );
  }
}

function dotProduct(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * KL(p_{θp} ‖ p_{θq}) between two members, as the Bregman divergence of the log-partition:
 *   KL = A(θq) − A(θp) − ⟨θq − θp, η(θp)⟩.
 */
export function klDivergence(family: ExponentialFamily, thetaP: Vec, thetaQ: Vec): number {
  checkNatural(family, thetaP, 'klDivergence (first argument)');
  checkNatural(family, thetaQ, 'klDivergence (second argument)');
  const etaP = family.meanFromNatural(thetaP);
  let s = family.logPartition(thetaQ) - family.logPartition(thetaP);
  for (let i = 0; i < family.dim; i++) s -= (thetaQ[i] - thetaP[i]) * etaP[i];
  // Rounding can leave a tiny negative value when the two members coincide.
  return Math.max(s, 0);
}

/** The convex dual A*(η) = ⟨θ(η), η⟩ − A(θ(η)) (negative entropy relative to the base measure). */
export function dualPotential(family: ExponentialFamily, eta: Vec): number {
  checkMean(family, eta, 'dualPotential');
  const theta = family.naturalFromMean(eta);
  return dotProduct(theta, eta) - family.logPartition(theta);
}

/** log p_θ(x) = ⟨θ, T(x)⟩ − A(θ) + log h(x) for one observation x. */
export function logDensity(family: ExponentialFamily, x: ArrayLike<number>, theta: Vec): number {
  checkNatural(family, theta, 'logDensity');
  checkVector(x, family.sampleDim, `logDensity: observation for ${family.name}`);
  const lh = family.logBaseMeasure(x);
  if (lh === -Infinity) return -Infinity;
  return dotProduct(theta, family.sufficientStatistic(x)) - family.logPartition(theta) + lh;
}

/** Mean sufficient statistic (1/n) Σ T(x_i) over rows of a row-major sample matrix. */
export function meanSufficientStatistic(family: ExponentialFamily, samples: Float64Array): Vec {
  const d = family.sampleDim;
  const n = samples.length / d;
  if (!Number.isInteger(n) || n < 1) {
    throw new ExponentialFamilyError(
      `meanSufficientStatistic: ${samples.length} values are not a whole number (≥ 1) of ${family.name} observations of length ${d}`,
    );
  }
  const out = new Float64Array(family.dim);
  const t = new Float64Array(family.dim);
  for (let i = 0; i < n; i++) {
    family.sufficientStatistic(samples.subarray(i * d, (i + 1) * d), t);
    for (let j = 0; j < family.dim; j++) out[j] += t[j];
  }
  for (let j = 0; j < family.dim; j++) out[j] /= n;
  return out;
}

const LOG_FACTORIAL_TABLE: number[] = [0];

/** log(x!) for a non-negative integer x (table below 256, Stirling series above). */
export function logFactorial(x: number): number {
  if (x < 256) {
    for (let i = LOG_FACTORIAL_TABLE.length; i <= x; i++) LOG_FACTORIAL_TABLE[i] = LOG_FACTORIAL_TABLE[i - 1] + Math.log(i);
    return LOG_FACTORIAL_TABLE[x];
  }
  const z = x + 1;
  const z2 = z * z;
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * z) - 1 / (360 * z * z2) + 1 / (1260 * z * z2 * z2);
}
