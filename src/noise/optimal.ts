/**
 * The optimal constant-SGD settings of Mandt, Hoffman & Blei 2017 (JMLR 18), computed from an
 * estimate of the gradient-noise covariance C = BBᵀ: the scalar rate (Theorem 1), the diagonal and
 * full preconditioners (Corollary 3, Theorem 2), the square-root-diagonal one (Theorem 7), SGFS's
 * preconditioner (Theorem 5, Corollary 6), and the momentum ratio ε/μ (by analogy with Theorem 1).
 */
import { symmetricEigen } from '../core/linalg.js';
import { noiseCovarianceMatrix, requireField } from './estimator.js';
import { NoiseError, type NoiseCovariance, type Preconditioner } from './types.js';

/** The data and minibatch sizes every optimal setting depends on. */
export interface SizeOptions {
  /** S, the minibatch size. */
  batchSize: number;
  /** N, the number of training examples. */
  dataSize: number;
}

/** Options of {@link optimalPreconditioner}. */
export interface OptimalPreconditionerOptions extends SizeOptions {
  /**
   * Eigenvalues (for 'full') or diagonal entries (for 'diagonal', 'sqrtDiagonal') of C below
   * `relativeFloor` × their largest are raised to it before inverting (default 1e-8), so a
   * direction with (almost) no gradient noise gets a large but finite step, not an infinite one.
   */
  relativeFloor?: number;
  /**
   * h^max, a cap on the step: the scalar rate, each diagonal entry, or each eigenvalue of the full H
   * (in C's eigenbasis) is lowered to it. Default: no cap. Constant SGD is only stable when
   * ρ(I − HA) < 1, about h ≤ 2/λ_max(A); where C is tiny against A (directions the prior dominates,
   * e.g. a nearly separable logistic regression) the uncapped H* breaks this. A capped direction
   * samples less variance than the posterior: the price of stability.
   */
  maxStep?: number;
}

/** Which optimal preconditioner: Theorem 1, Corollary 3, Theorem 2, or Theorem 7. */
export type OptimalPreconditionerKind = 'scalar' | 'diagonal' | 'full' | 'sqrtDiagonal';

function checkSizes(where: string, sizes: SizeOptions): { S: number; N: number } {
  const { batchSize: S, dataSize: N } = sizes;
  if (!Number.isInteger(N) || N < 1) throw new NoiseError(`${where}: dataSize N must be a positive integer, got ${N}`);
  if (!Number.isInteger(S) || S < 1 || S > N) throw new NoiseError(`${where}: batchSize S must be an integer in [1, N = ${N}], got ${S}`);
  return { S, N };
}

function checkTrace(where: string, noise: NoiseCovariance): number {
  if (!(noise.trace > 0 && Number.isFinite(noise.trace))) {
    throw new NoiseError(`${where}: Tr C must be a finite number > 0 (the gradients must vary across examples), got ${noise.trace}`);
  }
  return noise.trace;
}

function relativeFloorOf(where: string, value: number | undefined): number {
  const floor = value ?? 1e-8;
  if (!(floor > 0 && floor < 1)) throw new NoiseError(`${where}: relativeFloor must be in (0, 1), got ${floor}`);
  return floor;
}

/** The diagonal of C with entries below floor·max raised to it. */
function flooredDiagonal(where: string, noise: NoiseCovariance, relativeFloor: number): Float64Array {
  const diag = requireField(noise, 'diag');
  let largest = 0;
  for (const v of diag) largest = Math.max(largest, v);
  if (!(largest > 0)) throw new NoiseError(`${where}: diag C has no positive entry`);
  return diag.map((v) => Math.max(v, relativeFloor * largest));
}

/** V, λ of C's eigendecomposition with λ raised to floor·λ_max. */
function flooredEigen(where: string, C: Float64Array, d: number, relativeFloor: number): { values: Float64Array; vectors: Float64Array } {
  const { values, vectors } = symmetricEigen(C, d);
  let largest = 0;
  for (const v of values) largest = Math.max(largest, v);
  if (!(largest > 0)) throw new NoiseError(`${where}: C has no positive eigenvalue`);
  return { values: values.map((v) => Math.max(v, relativeFloor * largest)), vectors };
}

/** V diag(f(λ)) Vᵀ. */
function spectralMatrix(values: Float64Array, vectors: Float64Array, d: number, f: (lambda: number) => number): Float64Array {
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const w = f(values[k]);
    for (let a = 0; a < d; a++) {
      const va = vectors[a * d + k] * w;
      if (va === 0) continue;
      for (let b = 0; b < d; b++) out[a * d + b] += va * vectors[b * d + k];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) out[a * d + b] = out[b * d + a] = 0.5 * (out[a * d + b] + out[b * d + a]);
  return out;
}

/**
 * The optimal constant-SGD preconditioner for θ ← θ − H ĝ_S (Mandt, Hoffman & Blei 2017, JMLR 18),
 * the one minimising KL(q ‖ posterior) of the OU stationary distribution q under assumptions A1–A4:
 *
 * - 'scalar' (Theorem 1, Eq. 15): ε* = 2 (S/N) D / Tr(BBᵀ).
 * - 'diagonal' (Corollary 3): H*_kk = 2S / (N BBᵀ_kk).
 * - 'full' (Theorem 2, Eq. 17): H* = (2S/N) (BBᵀ)⁻¹ — with it Σ = A⁻¹/N, the exact posterior
 *   covariance (Corollary 4). Eigenvalues of C below `relativeFloor`·λ_max are raised to it first.
 * - 'sqrtDiagonal' (Theorem 7, App. F): H = ε* G⁻¹, G = diag(BBᵀ)^½, ε* = 2DS / (N Tr(BBᵀG⁻¹))
 *   = 2DS / (N Σ_k √BBᵀ_kk), returned as a diagonal preconditioner.
 *
 * 'scalar' needs only Tr C; the others need `noise.diag` ('full' uses C itself when the estimate is
 * 'full' or 'lowrank', and diag C otherwise).
 *
 * @throws NoiseError when the sizes are invalid, Tr C ≤ 0, or the estimate lacks what the kind needs.
 */
export function optimalPreconditioner(
  kind: OptimalPreconditionerKind,
  noise: NoiseCovariance,
  options: OptimalPreconditionerOptions,
): Preconditioner {
  const where = `optimalPreconditioner('${kind}')`;
  const { S, N } = checkSizes(where, options);
  const trace = checkTrace(where, noise);
  const d = noise.dim;
  const floor = relativeFloorOf(where, options.relativeFloor);
  const maxStep = options.maxStep ?? Infinity;
  if (!(maxStep > 0)) throw new NoiseError(`${where}: maxStep h^max must be > 0, got ${maxStep}`);
  const cap = (h: number): number => Math.min(h, maxStep);
  switch (kind) {
    case 'scalar':
      return { kind: 'scalar', rate: cap((2 * S * d) / (N * trace)) };
    case 'diagonal': {
      const diag = flooredDiagonal(where, noise, floor);
      return { kind: 'diagonal', h: diag.map((c) => cap((2 * S) / (N * c))) };
    }
    case 'sqrtDiagonal': {
      const diag = flooredDiagonal(where, noise, floor);
      let sumRoot = 0;
      for (const c of diag) sumRoot += Math.sqrt(c);
      const rate = (2 * d * S) / (N * sumRoot);
      return { kind: 'diagonal', h: diag.map((c) => cap(rate / Math.sqrt(c))) };
    }
    case 'full': {
      if (noise.kind === 'scalar') throw new NoiseError(`${where}: a 'scalar' noise estimate has no matrix to invert; estimate C as 'full', 'lowrank' or 'diagonal'`);
      const C = noiseCovarianceMatrix(noise);
      const { values, vectors } = flooredEigen(where, C, d, floor);
      return { kind: 'full', H: spectralMatrix(values, vectors, d, (lambda) => cap((2 * S) / (N * lambda))) };
    }
    default:
      throw new NoiseError(`optimalPreconditioner: unknown kind '${String(kind)}' (expected 'scalar', 'diagonal', 'full' or 'sqrtDiagonal')`);
  }
}

/** Options of {@link optimalSgfsPreconditioner}. */
export interface SgfsPreconditionerOptions extends SizeOptions {
  /** ε, SGFS's step size in θ ← θ − εHĝ + √ε H E W. */
  stepSize: number;
  /**
   * h^max, the largest step a coordinate (or eigendirection, for 'full') may take: the injected
   * noise EEᵀ is chosen so that H* ≤ h^max (Corollary 6). Default: no cap (E = 0 for 'diagonal' and
   * 'full', the pure gradient-noise limit).
   */
  maxStep?: number;
  /** As in {@link OptimalPreconditionerOptions} (default 1e-8). */
  relativeFloor?: number;
}

/** SGFS's optimal preconditioner and the injected-noise covariance EEᵀ that goes with it. */
export interface SgfsSetting {
  /** H*. */
  preconditioner: Preconditioner;
  /**
   * EEᵀ, the covariance of the injected noise E W: a diagonal (length d) for 'scalar' and
   * 'diagonal', a d×d row-major matrix for 'full'.
   */
  injectedNoise: Float64Array;
  /** Whether `injectedNoise` is the diagonal (length d) or the full matrix (d×d). */
  injectedNoiseKind: 'diagonal' | 'full';
}

/**
 * SGFS's optimal preconditioner (Mandt, Hoffman & Blei 2017, JMLR 18, Theorem 5 and Corollary 6) for
 * θ ← θ − εHĝ_S + √ε H E W (their Eq. 26; Ahn, Korattikara & Welling 2012). The OU approximation of
 * this update, per step of time, is dθ = −εHAθ dt + √ε H (εBBᵀ/S + EEᵀ)^½ √ε dW, with stationary
 * equation HAΣ + ΣAH = H(εBBᵀ/S + EEᵀ)H, solved by Σ = A⁻¹/N exactly when
 *
 *   H* = (2/N) (εBBᵀ/S + EEᵀ)⁻¹          (Theorem 5 is the case S = 1),
 *
 * so SGFS samples the posterior at a finite ε. Corollary 6: diagonal H*_kk = (2/N)(εBBᵀ_kk/S + EEᵀ_kk)⁻¹;
 * scalar H* = (2D/N)(Σ_k [εBBᵀ_kk/S + EEᵀ_kk])⁻¹. The step cap h^max fixes E:
 * EEᵀ_kk = max(0, 2/(h^max N) − εBBᵀ_kk/S), so H*_kk = min(h^max, 2S/(NεBBᵀ_kk)); for 'full' the
 * same rule is applied to each eigenvalue of εBBᵀ/S (EEᵀ shares C's eigenvectors).
 *
 * @throws NoiseError for invalid sizes, ε or h^max, or an estimate that lacks what the kind needs.
 */
export function optimalSgfsPreconditioner(
  kind: 'scalar' | 'diagonal' | 'full',
  noise: NoiseCovariance,
  options: SgfsPreconditionerOptions,
): SgfsSetting {
  const where = `optimalSgfsPreconditioner('${kind}')`;
  const { S, N } = checkSizes(where, options);
  checkTrace(where, noise);
  const eps = options.stepSize;
  if (!(eps > 0 && Number.isFinite(eps))) throw new NoiseError(`${where}: stepSize ε must be a finite number > 0, got ${eps}`);
  const maxStep = options.maxStep ?? Infinity;
  if (!(maxStep > 0)) throw new NoiseError(`${where}: maxStep h^max must be > 0, got ${maxStep}`);
  const floor = relativeFloorOf(where, options.relativeFloor);
  const d = noise.dim;
  const noiseFloor = 2 / (maxStep * N); // 0 when uncapped
  const injectedFor = (gradientNoise: number): number => Math.max(0, noiseFloor - gradientNoise);
  if (kind === 'full') {
    if (noise.kind === 'scalar') throw new NoiseError(`${where}: a 'scalar' noise estimate has no matrix; estimate C as 'full', 'lowrank' or 'diagonal'`);
    const { values, vectors } = flooredEigen(where, noiseCovarianceMatrix(noise), d, floor);
    const gradientNoise = values.map((lambda) => (eps * lambda) / S);
    const H = spectralMatrix(gradientNoise, vectors, d, (g) => 2 / (N * (g + injectedFor(g))));
    const injected = spectralMatrix(gradientNoise, vectors, d, injectedFor);
    return { preconditioner: { kind: 'full', H }, injectedNoise: injected, injectedNoiseKind: 'full' };
  }
  const diag = kind === 'scalar' && !noise.diag ? new Float64Array(d).fill(noise.trace / d) : flooredDiagonal(where, noise, floor);
  const gradientNoise = diag.map((c) => (eps * c) / S);
  const injected = gradientNoise.map(injectedFor);
  if (kind === 'diagonal') {
    const h = gradientNoise.map((g, k) => 2 / (N * (g + injected[k])));
    return { preconditioner: { kind: 'diagonal', h }, injectedNoise: injected, injectedNoiseKind: 'diagonal' };
  }
  if (kind !== 'scalar') throw new NoiseError(`optimalSgfsPreconditioner: unknown kind '${String(kind)}' (expected 'scalar', 'diagonal' or 'full')`);
  let total = 0;
  for (let k = 0; k < d; k++) total += gradientNoise[k] + injected[k];
  return { preconditioner: { kind: 'scalar', rate: (2 * d) / (N * total) }, injectedNoise: injected, injectedNoiseKind: 'diagonal' };
}

/**
 * The momentum-SGD ratio ε/μ for v ← (1 − μ)v − εĝ_S, θ ← θ + v. The paper's Eq. 25 shows the
 * stationary covariance solves ΣA + AΣ = (ε/(μS)) BBᵀ, so only ε/μ matters, but the paper states no
 * optimum. Eq. 25 is Eq. 13 with ε replaced by ε/μ, so by analogy with Theorem 1 (our derivation,
 * not the paper's):
 *
 *   (ε/μ)* = 2 S D / (N Tr BBᵀ).
 *
 * Pick μ (e.g. 0.1), then ε = μ·(ε/μ)*.
 *
 * @throws NoiseError for invalid sizes or Tr C ≤ 0.
 */
export function optimalMomentumRatio(noise: NoiseCovariance, options: SizeOptions): number {
  const where = 'optimalMomentumRatio';
  const { S, N } = checkSizes(where, options);
  const trace = checkTrace(where, noise);
  return (2 * S * noise.dim) / (N * trace);
}

/** The symmetric square root of a symmetric positive semi-definite matrix. */
function symmetricRoot(M: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(M, d);
  return spectralMatrix(values, vectors, d, (v) => Math.sqrt(Math.max(0, v)));
}

/**
 * Make constant SGD θ ← θ − Hĝ_S stable near the optimum: the recursion's drift HA must have its
 * eigenvalues in (0, 2) (ρ(I − HA) < 1). Where the gradient noise C is small against the curvature A
 * (directions the prior dominates) the optimal H* of Theorem 2 breaks this. The cap keeps every
 * eigenvalue κ of HA that is ≤ `maxRate` and lowers the others to `maxRate`:
 *
 * - 'full': with K = H^½ A H^½ = U diag(κ) Uᵀ, H' = H^½ U diag(min(1, maxRate/κ)) Uᵀ H^½, so H'A is
 *   similar to diag(min(κ, maxRate)): directions that were stable are untouched.
 * - 'diagonal': h' = h · min(1, maxRate/κ_max) (a diagonal cannot change one eigen-direction alone).
 * - 'scalar': ε' = min(ε, maxRate/λ_max(A)).
 *
 * Capped directions sample less variance than the OU optimum; `maxRate` = 1 (default) also keeps
 * the discrete recursion close to its OU limit. Returns the preconditioner and how many eigenvalues
 * of HA were capped.
 */
export function stabilizePreconditioner(
  preconditioner: Preconditioner,
  hessian: Float64Array,
  maxRate = 1,
): { preconditioner: Preconditioner; capped: number } {
  const d = Math.round(Math.sqrt(hessian.length));
  if (d * d !== hessian.length || d < 1) throw new NoiseError(`stabilizePreconditioner: hessian must be d×d, got length ${hessian.length}`);
  if (!(maxRate > 0 && maxRate < 2)) throw new NoiseError(`stabilizePreconditioner: maxRate must be in (0, 2), got ${maxRate}`);
  if (preconditioner.kind === 'scalar') {
    const largest = Math.max(...symmetricEigen(hessian, d).values);
    const rate = Math.min(preconditioner.rate, maxRate / largest);
    return { preconditioner: { kind: 'scalar', rate }, capped: rate < preconditioner.rate ? 1 : 0 };
  }
  const H =
    preconditioner.kind === 'full'
      ? preconditioner.H
      : (() => {
          const m = new Float64Array(d * d);
          for (let k = 0; k < d; k++) m[k * d + k] = preconditioner.h[k];
          return m;
        })();
  const root = symmetricRoot(H, d);
  const K = multiply3(root, hessian, root, d);
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) K[a * d + b] = K[b * d + a] = 0.5 * (K[a * d + b] + K[b * d + a]);
  const { values, vectors } = symmetricEigen(K, d);
  let capped = 0;
  let largest = 0;
  for (const v of values) {
    if (v > maxRate) capped += 1;
    largest = Math.max(largest, v);
  }
  if (capped === 0) return { preconditioner, capped };
  if (preconditioner.kind === 'diagonal') {
    const shrink = maxRate / largest;
    return { preconditioner: { kind: 'diagonal', h: preconditioner.h.map((h) => h * shrink) }, capped };
  }
  const middle = spectralMatrix(values, vectors, d, (v) => (v > maxRate ? maxRate / v : 1));
  const capped3 = multiply3(root, middle, root, d);
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) capped3[a * d + b] = capped3[b * d + a] = 0.5 * (capped3[a * d + b] + capped3[b * d + a]);
  return { preconditioner: { kind: 'full', H: capped3 }, capped };
}

function multiply3(X: Float64Array, Y: Float64Array, Z: Float64Array, d: number): Float64Array {
  const XY = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const x = X[i * d + k];
    if (x === 0) continue;
    for (let j = 0; j < d; j++) XY[i * d + j] += x * Y[k * d + j];
  }
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const x = XY[i * d + k];
    if (x === 0) continue;
    for (let j = 0; j < d; j++) out[i * d + j] += x * Z[k * d + j];
  }
  return out;
}
