/**
 * What covariance a constant-step stochastic-gradient setting samples, predicted in advance from the
 * Hessian A of the loss at the optimum and the gradient-noise covariance C = BBᵀ, by the
 * Ornstein–Uhlenbeck approximation of Mandt, Hoffman & Blei 2017 (JMLR 18, Secs. 3–6).
 *
 * Every setting here is a linear recursion near the optimum, θ_{t+1} = θ_t − M θ_t + ξ_t with
 * Cov ξ_t = Q. Its OU limit dθ = −Mθ dt + Q^½ dW (one unit of time per step) has the stationary
 * covariance solving the Lyapunov equation MΣ + ΣMᵀ = Q (the paper's Eq. 13 and its relatives);
 * the recursion itself has the exact stationary covariance solving the Stein equation
 * Σ = (I − M)Σ(I − M)ᵀ + Q, which differs from the OU one by O(M²) (option `discrete`).
 *
 * Conventions: L(θ) = −(1/N) log posterior, A = ∇²L at the optimum (= −(1/N) ∇² log posterior),
 * ĝ_S ≈ Aθ + Δg/√S with Cov Δg = C, the covariance of one example's gradient (Eq. 6).
 */
import { identity, logDetSPD, lyapunov, matmul, symmetrize, transpose } from '../core/linalg.js';
import { preconditionerMatrix } from '../transforms/preconditioner.js';
import { noiseCovarianceMatrix } from './estimator.js';
import { NoiseError, type NoiseCovariance, type Preconditioner } from './types.js';

/** A linear stochastic recursion θ ← θ − Mθ + ξ, Cov ξ = Q (both d×d row-major). */
export interface LinearDynamics {
  readonly dim: number;
  /** M, the per-step drift matrix. */
  readonly drift: Float64Array;
  /** Q, the per-step noise covariance. */
  readonly noise: Float64Array;
}

/** Whether to solve the OU (continuous-time) equation or the exact one of the discrete recursion. */
export interface DiscreteOption {
  /**
   * false (default): the OU prediction of the paper, MΣ + ΣMᵀ = Q. true: the exact stationary
   * covariance of the discrete recursion, Σ = (I − M)Σ(I − M)ᵀ + Q (it also detects an unstable
   * step: spectral radius of I − M ≥ 1).
   */
  discrete?: boolean;
}

/** Thrown when a setting has no stationary distribution (the step is too large: ρ(I − M) ≥ 1). */
export class UnstableSettingError extends NoiseError {
  override name = 'UnstableSettingError';
}

function checkSquare(where: string, name: string, m: Float64Array, d: number): void {
  if (!(m instanceof Float64Array) || m.length !== d * d) {
    throw new NoiseError(`${where}: ${name} must be a Float64Array of ${d}×${d} = ${d * d} entries, got length ${m?.length}`);
  }
  for (let i = 0; i < m.length; i++) {
    if (!Number.isFinite(m[i])) throw new NoiseError(`${where}: ${name}[${Math.floor(i / d)}, ${i % d}] is ${m[i]} (must be finite)`);
  }
}

function positive(where: string, name: string, value: number, integer = false): number {
  if (!(Number.isFinite(value) && value > 0) || (integer && !Number.isInteger(value))) {
    throw new NoiseError(`${where}: ${name} must be a finite ${integer ? 'integer' : 'number'} > 0, got ${value}`);
  }
  return value;
}

function denseNoise(where: string, noise: NoiseCovariance | Float64Array, d: number): Float64Array {
  const C = noise instanceof Float64Array ? noise : noiseCovarianceMatrix(noise);
  checkSquare(where, 'noise C', C, d);
  return C;
}

function dimOfHessian(where: string, hessian: Float64Array): number {
  const d = Math.round(Math.sqrt(hessian?.length ?? 0));
  if (!(hessian instanceof Float64Array) || d < 1 || d * d !== hessian.length) {
    throw new NoiseError(`${where}: hessian A must be a square d×d Float64Array, got length ${hessian?.length}`);
  }
  checkSquare(where, 'hessian A', hessian, d);
  return d;
}

/**
 * The stationary covariance of a linear recursion θ ← θ − Mθ + ξ, Cov ξ = Q: the OU one solving
 * MΣ + ΣMᵀ = Q (src/core/linalg `lyapunov`, Bartels–Stewart), or with `discrete` the exact one
 * solving Σ = FΣFᵀ + Q, F = I − M, by Smith's doubling Σ = Σ_k F^k Q F^kᵀ
 * (X ← X + F X Fᵀ, F ← F², quadratic convergence when ρ(F) < 1).
 *
 * @throws UnstableSettingError when the discrete recursion has no stationary distribution.
 */
export function linearStationaryCovariance(dynamics: LinearDynamics, options: DiscreteOption = {}): Float64Array {
  const where = 'linearStationaryCovariance';
  const d = dynamics.dim;
  checkSquare(where, 'drift M', dynamics.drift, d);
  checkSquare(where, 'noise Q', dynamics.noise, d);
  if (!options.discrete) return lyapunov(dynamics.drift, dynamics.noise, d);
  let F = identity(d);
  for (let i = 0; i < d * d; i++) F[i] -= dynamics.drift[i];
  const X = Float64Array.from(dynamics.noise);
  for (let iteration = 0; iteration < 64; iteration++) {
    const increment = matmul(matmul(F, X, d, d, d), transpose(F, d, d), d, d, d);
    let incrementNorm = 0;
    let norm = 0;
    for (let i = 0; i < d * d; i++) {
      X[i] += increment[i];
      incrementNorm = Math.max(incrementNorm, Math.abs(increment[i]));
      norm = Math.max(norm, Math.abs(X[i]));
    }
    if (!Number.isFinite(norm) || norm > 1e150) break;
    if (incrementNorm <= 1e-15 * norm) return symmetrize(X, d);
    F = matmul(F, F, d, d, d);
  }
  throw new UnstableSettingError(
    `${where}: the recursion θ ← (I − M)θ + ξ has no stationary distribution (the spectral radius of I − M is ≥ 1, ` +
      'or too close to 1 to converge): the step is too large for this curvature',
  );
}

/** Options of {@link constantSgdDynamics} and {@link stationaryCovariance}. */
export interface ConstantSgdSetting {
  /** A = ∇²L at the optimum, d×d row-major (= −(1/N) × the Hessian of the log posterior). */
  hessian: Float64Array;
  /** C = BBᵀ, as an estimate or a dense d×d matrix. */
  noise: NoiseCovariance | Float64Array;
  /** H of θ ← θ − Hĝ_S. */
  preconditioner: Preconditioner;
  /** S, the minibatch size. */
  batchSize: number;
  /**
   * N, when minibatches are drawn without replacement (e.g. epochs of a permutation): the minibatch
   * noise is then C(N − S)/(S(N − 1)), the finite-population correction; omitted, C/S (assumption A1).
   */
  withoutReplacementFrom?: number;
}

function minibatchNoiseFactor(where: string, batchSize: number, population: number | undefined): number {
  const S = positive(where, 'batchSize', batchSize, true);
  if (population === undefined) return 1 / S;
  const N = positive(where, 'withoutReplacementFrom', population, true);
  if (S > N) throw new NoiseError(`${where}: batchSize ${S} exceeds the population N = ${N}`);
  return N === 1 ? 0 : (N - S) / (S * (N - 1));
}

/**
 * The linear recursion of preconditioned constant SGD θ ← θ − Hĝ_S near the optimum (Mandt, Hoffman
 * & Blei 2017, JMLR 18, Eqs. 11 and 17): with ĝ_S ≈ Aθ + Δg/√S, M = HA and Q = (1/S) H BBᵀ H.
 */
export function constantSgdDynamics(setting: ConstantSgdSetting): LinearDynamics {
  const where = 'constantSgdDynamics';
  const A = setting.hessian;
  const d = dimOfHessian(where, A);
  const C = denseNoise(where, setting.noise, d);
  const H = preconditionerMatrix(setting.preconditioner, d);
  checkSquare(where, 'preconditioner H', H, d);
  const factor = minibatchNoiseFactor(where, setting.batchSize, setting.withoutReplacementFrom);
  const drift = matmul(H, A, d, d, d);
  const noise = matmul(matmul(H, C, d, d, d), H, d, d, d);
  for (let i = 0; i < d * d; i++) noise[i] *= factor;
  return { dim: d, drift, noise: symmetrize(noise, d) };
}

/**
 * The stationary covariance that constant SGD θ ← θ − Hĝ_S will sample, predicted by the OU
 * approximation (Mandt, Hoffman & Blei 2017, JMLR 18). The OU process is dθ = −HAθ dt + (1/√S) H B dW
 * (Eq. 11 with H in place of ε), so Σ solves
 *
 *   HAΣ + ΣAH = (1/S) H BBᵀ H,
 *
 * which for H = εI is Eq. 13, ΣA + AΣ = (ε/S) BBᵀ, and is the paper's Theorem 2 form
 * AΣ + H⁻¹ΣAH = (1/S) BBᵀH multiplied on the left by H. With the optimal full H* = (2S/N)(BBᵀ)⁻¹
 * it gives Σ = A⁻¹/N, the posterior covariance (Corollary 4). `discrete: true` gives the exact
 * stationary covariance of the recursion instead (see the module comment).
 *
 * @throws NoiseError on bad shapes; UnstableSettingError for an unstable discrete setting.
 */
export function stationaryCovariance(setting: ConstantSgdSetting & DiscreteOption): Float64Array {
  return linearStationaryCovariance(constantSgdDynamics(setting), setting);
}

/** Options of {@link momentumStationaryCovariance}. */
export interface MomentumSetting {
  hessian: Float64Array;
  noise: NoiseCovariance | Float64Array;
  /** ε of v ← (1 − μ)v − εĝ_S. */
  learningRate: number;
  /** μ ∈ (0, 1], the friction (1 − μ is the momentum coefficient). */
  momentum: number;
  batchSize: number;
  withoutReplacementFrom?: number;
}

/**
 * The stationary covariance of momentum SGD v ← (1 − μ)v − εĝ_S, θ ← θ + v (Mandt, Hoffman & Blei
 * 2017, JMLR 18, Sec. 4.3, Eq. 25): in the OU limit ΣA + AΣ = (ε/(μS)) BBᵀ — Eq. 13 with ε/μ in
 * place of ε. With `discrete`, the exact stationary covariance of the θ-block of the joint linear
 * recursion of (θ, v): F = [[I − εA, (1 − μ)I], [−εA, (1 − μ)I]] with noise −εΔg/√S entering both,
 * which keeps the O(ε) terms Eq. 25 drops.
 *
 * @throws NoiseError on bad values; UnstableSettingError for an unstable discrete setting.
 */
export function momentumStationaryCovariance(setting: MomentumSetting & DiscreteOption): Float64Array {
  const where = 'momentumStationaryCovariance';
  const eps = positive(where, 'learningRate', setting.learningRate);
  const mu = setting.momentum;
  if (!(mu > 0 && mu <= 1)) throw new NoiseError(`${where}: momentum μ must be in (0, 1], got ${mu}`);
  if (!setting.discrete) {
    return stationaryCovariance({ ...setting, preconditioner: { kind: 'scalar', rate: eps / mu }, discrete: false });
  }
  const A = setting.hessian;
  const d = dimOfHessian(where, A);
  const C = denseNoise(where, setting.noise, d);
  const factor = minibatchNoiseFactor(where, setting.batchSize, setting.withoutReplacementFrom);
  const n = 2 * d;
  // Joint state z = (θ, v); z ← Fz + ξ, written as z ← z − (I − F)z + ξ for the Stein solver.
  const drift = new Float64Array(n * n);
  const noise = new Float64Array(n * n);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const epsA = eps * A[i * d + j];
      drift[i * n + j] = epsA;
      drift[(d + i) * n + j] = epsA;
      const q = eps * eps * factor * C[i * d + j];
      noise[i * n + j] = q;
      noise[i * n + d + j] = q;
      noise[(d + i) * n + j] = q;
      noise[(d + i) * n + d + j] = q;
    }
    drift[i * n + d + i] = -(1 - mu);
    drift[(d + i) * n + d + i] = mu;
  }
  const joint = linearStationaryCovariance({ dim: n, drift, noise }, { discrete: true });
  const sigma = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) sigma[i * d + j] = joint[i * n + j];
  return sigma;
}

/** Options of {@link sgldStationaryCovariance}. */
export interface SgldSetting {
  hessian: Float64Array;
  noise: NoiseCovariance | Float64Array;
  /** ε of θ ← θ + (ε/2) ∇̂ log posterior + √ε ξ. */
  stepSize: number;
  batchSize: number;
  /** N. */
  dataSize: number;
  /** T scaling the injected noise variance (default 1). */
  temperature?: number;
  withoutReplacementFrom?: number;
}

/**
 * The stationary covariance of SGLD at a constant step size (Mandt, Hoffman & Blei 2017, JMLR 18,
 * Sec. 5): θ ← θ − (ε/2) N ĝ_S + √ε ξ (src/samplers/sgld.ts: θ + (ε/2)∇̂ log posterior + √ε ξ).
 * Near the optimum the drift is M = (εN/2)A and the per-step noise Q = ε T I + (εN/2)² BBᵀ/S, so the
 * OU equation MΣ + ΣMᵀ = Q reads
 *
 *   ½N(AΣ + ΣA) = T·I + (εN²/(4S)) BBᵀ.
 *
 * The first term alone gives Σ = A⁻¹/N, the posterior; the second is the finite-step inflation by
 * the minibatch noise, which vanishes as ε → 0. (The paper prints the inflation term as
 * (εN/(2S))BBᵀ; written with C the covariance of one example's gradient of ℓ_n, Eq. 6, as here,
 * the factor is εN²/(4S); test/noise.ornsteinUhlenbeck.test.ts checks ours against a simulation.)
 * `discrete` also keeps the O(ε) discretisation error of the Euler step.
 *
 * @throws NoiseError on bad values; UnstableSettingError for an unstable discrete setting.
 */
export function sgldStationaryCovariance(setting: SgldSetting & DiscreteOption): Float64Array {
  const where = 'sgldStationaryCovariance';
  const A = setting.hessian;
  const d = dimOfHessian(where, A);
  const C = denseNoise(where, setting.noise, d);
  const eps = positive(where, 'stepSize', setting.stepSize);
  const N = positive(where, 'dataSize', setting.dataSize, true);
  const temperature = setting.temperature ?? 1;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new NoiseError(`${where}: temperature must be finite and ≥ 0, got ${temperature}`);
  const factor = minibatchNoiseFactor(where, setting.batchSize, setting.withoutReplacementFrom);
  const half = (eps * N) / 2;
  const drift = A.map((a) => half * a);
  const noise = C.map((c) => half * half * factor * c);
  for (let i = 0; i < d; i++) noise[i * d + i] += eps * temperature;
  return linearStationaryCovariance({ dim: d, drift, noise }, setting);
}

/** Options of {@link sgfsStationaryCovariance}. */
export interface SgfsStationarySetting {
  hessian: Float64Array;
  noise: NoiseCovariance | Float64Array;
  /** H. */
  preconditioner: Preconditioner;
  /** EEᵀ: a diagonal (length d) or a d×d matrix. */
  injectedNoise: Float64Array;
  /** ε. */
  stepSize: number;
  batchSize: number;
  withoutReplacementFrom?: number;
}

/**
 * The stationary covariance of SGFS θ ← θ − εHĝ_S + √ε H E W (Mandt, Hoffman & Blei 2017, JMLR 18,
 * Eq. 26 and Theorem 5): M = εHA, Q = ε²H(BBᵀ/S)H + εH EEᵀ H, so the OU equation is
 * HAΣ + ΣAH = H(εBBᵀ/S + EEᵀ)H, solved by A⁻¹/N at H* = (2/N)(εBBᵀ/S + EEᵀ)⁻¹ (Theorem 5).
 */
export function sgfsStationaryCovariance(setting: SgfsStationarySetting & DiscreteOption): Float64Array {
  const where = 'sgfsStationaryCovariance';
  const A = setting.hessian;
  const d = dimOfHessian(where, A);
  const C = denseNoise(where, setting.noise, d);
  const eps = positive(where, 'stepSize', setting.stepSize);
  const factor = minibatchNoiseFactor(where, setting.batchSize, setting.withoutReplacementFrom);
  const H = preconditionerMatrix(setting.preconditioner, d);
  let E = setting.injectedNoise;
  if (E instanceof Float64Array && E.length === d) {
    const dense = new Float64Array(d * d);
    for (let k = 0; k < d; k++) dense[k * d + k] = E[k];
    E = dense;
  }
  checkSquare(where, 'injectedNoise EEᵀ', E, d);
  const inner = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) inner[i] = eps * eps * factor * C[i] + eps * E[i];
  const drift = matmul(H, A, d, d, d).map((m) => eps * m);
  const noise = symmetrize(matmul(matmul(H, inner, d, d, d), H, d, d, d), d);
  return linearStationaryCovariance({ dim: d, drift, noise }, setting);
}

/**
 * The covariance of the mean of `window` consecutive stationary iterates of a linear recursion
 * (iterate averaging, Mandt, Hoffman & Blei 2017, JMLR 18, Sec. 6 and Algorithm 1, IASG, at a finite
 * window): with F = I − M and Σ the exact stationary covariance,
 *
 *   Cov(θ̄_T) = (1/T²) [ TΣ + Σ_{k=1}^{T−1} (T − k)(F^kΣ + ΣF^kᵀ) ],
 *
 * which tends to (1/T) M⁻¹QM⁻ᵀ as T → ∞: for constant SGD (1/(TS)) A⁻¹BBᵀA⁻¹, the same for every
 * constant preconditioner (the paper's Sec. 6 result). O(T d³).
 */
export function averagedIterateCovariance(dynamics: LinearDynamics, window: number): Float64Array {
  const where = 'averagedIterateCovariance';
  const T = positive(where, 'window', window, true);
  const d = dynamics.dim;
  const sigma = linearStationaryCovariance(dynamics, { discrete: true });
  const F = identity(d);
  for (let i = 0; i < d * d; i++) F[i] -= dynamics.drift[i];
  const total = sigma.map((s) => T * s);
  let lagged: Float64Array = Float64Array.from(sigma); // F^k Σ
  for (let k = 1; k < T; k++) {
    lagged = matmul(F, lagged, d, d, d);
    const weight = T - k;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) total[i * d + j] += weight * (lagged[i * d + j] + lagged[j * d + i]);
    }
  }
  return symmetrize(total.map((v) => v / (T * T)), d);
}

/**
 * KL(N(μ, Σ) ‖ N(μ, (NA)⁻¹)) between a stationary Gaussian and the Laplace posterior with the same
 * mean (Mandt, Hoffman & Blei 2017, JMLR 18, Sec. 4, the objective of Theorems 1–2):
 *
 *   KL = ½ (N Tr(AΣ) − log|NA| − log|Σ| − D).
 *
 * @throws NoiseError on bad shapes; the linalg errors if A or Σ is not positive definite.
 */
export function posteriorKL(sigma: Float64Array, hessian: Float64Array, dataSize: number): number {
  const where = 'posteriorKL';
  const d = dimOfHessian(where, hessian);
  checkSquare(where, 'sigma', sigma, d);
  const N = positive(where, 'dataSize', dataSize);
  let trace = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) trace += hessian[i * d + j] * sigma[j * d + i];
  const logDetNA = d * Math.log(N) + logDetSPD(hessian, d);
  return 0.5 * (N * trace - logDetNA - logDetSPD(sigma, d) - d);
}

/**
 * The relative Frobenius error ‖Σ̂ − Σ‖_F / ‖Σ‖_F between an empirical covariance Σ̂ and a
 * prediction Σ (the `predictedVsEmpiricalCovRelErr` of the Mandt experiment).
 */
export function relativeFrobeniusError(empirical: Float64Array, predicted: Float64Array): number {
  if (empirical.length !== predicted.length) {
    throw new NoiseError(`relativeFrobeniusError: sizes differ (${empirical.length} and ${predicted.length} entries)`);
  }
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < predicted.length; i++) {
    diff += (empirical[i] - predicted[i]) ** 2;
    norm += predicted[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}
