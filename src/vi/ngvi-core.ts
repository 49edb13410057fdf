/**
 * Natural-gradient variational inference for Gaussian posteriors over model parameters, in the
 * style of VON/VOGN (Khan et al. 2018, "Fast and scalable Bayesian deep learning by
 * weight-perturbation in Adam", ICML) and the Bayesian learning rule (Khan & Rue 2021, "The
 * Bayesian learning rule", arXiv 2107.04562): natural-gradient steps on the natural parameters
 * of q = N(μ, S⁻¹) from minibatch gradients and a curvature estimate at a weight perturbation.
 */
import { cholesky } from '../core/linalg.js';
import { foldIn, key as seedKey, normal, type Key } from '../core/random.js';
import { scheduleValue, type IndexBatch, type Sampler, type Schedule, type StepInfo, type Target, type Vec } from '../core/types.js';
import { Minibatcher } from '../data/minibatch.js';
import { NgviError, type CovarianceStructure, type CurvatureEstimator } from './ngvi-curvature.js';

/** State of natural-gradient VI: q = N(position, precision⁻¹). */
export interface NgviState {
  /** μ, the posterior mean. */
  readonly position: Vec;
  /** S, the posterior precision: d entries ('diagonal') or d×d row-major ('full'). */
  readonly precision: Float64Array;
  /** The gradient momentum m (zeros without momentum). */
  readonly momentum: Vec;
  /** Number of updates so far. */
  readonly step: number;
}

/** What one NG-VI step reports. */
export interface NgviInfo extends StepInfo {
  /** β, the precision step. */
  precisionRate: number;
}

/** Options of {@link ngvi}. */
export interface NgviOptions<Batch> {
  /** 'diagonal' (VOGN) or 'full' posterior covariance. */
  covariance: CovarianceStructure;
  /** Gradient-and-curvature estimator (e.g. `gaussNewtonCurvature(model)`). */
  curvature: CurvatureEstimator<Batch>;
  /** α, the step of the mean (default 0.1). */
  learningRate?: Schedule;
  /** β ∈ (0, 1], the step of the precision (default: the learning rate). */
  precisionRate?: Schedule;
  /** γ ∈ [0, 1), momentum of the gradient with bias correction (default 0). */
  momentum?: number;
  /**
   * λ of the Gaussian prior N(0, diag(λ)⁻¹) whose gradient `target.logPrior` gives: a number or a
   * vector (default: the target's `priorPrecision` property).
   */
  priorPrecision?: number | Vec;
  /** Initial precision of every coordinate (default 100, i.e. sd 0.1 as the Gaussian families). */
  initialPrecision?: number;
  /** Weight perturbations per step, averaged (default 1). */
  samples?: number;
}

function resolvePriorPrecision<Batch>(where: string, target: Target<Batch>, given: number | Vec | undefined): Float64Array {
  const d = target.dim;
  const fallback = (target as { priorPrecision?: unknown }).priorPrecision;
  const value = given ?? (typeof fallback === 'number' ? fallback : undefined);
  if (value === undefined) throw new NgviError(`${where}: give priorPrecision (the target has no numeric priorPrecision property)`);
  const out = typeof value === 'number' ? new Float64Array(d).fill(value) : Float64Array.from(value);
  if (out.length !== d) throw new NgviError(`${where}: priorPrecision has length ${out.length}, expected ${d}`);
  out.forEach((v, i) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new NgviError(`${where}: priorPrecision[${i}] must be a finite number > 0, got ${v}`);
  });
  return out;
}

/** θ = μ + S^{-1/2} ε: μ + ε/√S (diagonal) or μ + R⁻ᵀε with S = RRᵀ (full), into `out`. */
function perturb(structure: CovarianceStructure, mean: Vec, precision: Float64Array, factor: Float64Array | null, eps: Vec, out: Vec): void {
  const d = mean.length;
  if (structure === 'diagonal') {
    for (let j = 0; j < d; j++) out[j] = mean[j] + eps[j] / Math.sqrt(precision[j]);
    return;
  }
  const R = factor as Float64Array;
  // Back substitution Rᵀ u = ε gives u ~ N(0, (RRᵀ)⁻¹).
  for (let i = d - 1; i >= 0; i--) {
    let s = eps[i];
    for (let k = i + 1; k < d; k++) s -= R[k * d + i] * out[k];
    out[i] = s / R[i * d + i];
  }
  for (let j = 0; j < d; j++) out[j] += mean[j];
}

/** S⁻¹ v from the Cholesky factor R of S (full) or the diagonal S. */
function solvePrecision(structure: CovarianceStructure, precision: Float64Array, factor: Float64Array | null, v: Vec): Vec {
  const d = v.length;
  const x = new Float64Array(d);
  if (structure === 'diagonal') {
    for (let j = 0; j < d; j++) x[j] = v[j] / precision[j];
    return x;
  }
  const R = factor as Float64Array;
  for (let i = 0; i < d; i++) {
    let s = v[i];
    for (let k = 0; k < i; k++) s -= R[i * d + k] * x[k];
    x[i] = s / R[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < d; k++) s -= R[k * d + i] * x[k];
    x[i] = s / R[i * d + i];
  }
  return x;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Natural-gradient VI for a Gaussian q = N(μ, S⁻¹) (Khan et al. 2018, VON/VOGN Eqs. 7–10; Khan &
 * Rue 2021, Eq. 12). Each step draws θ = μ + S^{-1/2}ε (a weight perturbation), estimates from
 * the minibatch B (|B| = S_B, N = dataSize) the gradient and Hessian of the negative log joint
 *
 *   ĝ = −[∇ log p(θ) + (N/S_B) Σ_{i∈B} ∇ log p(x_i | θ)],   Ĥ = diag(λ) + (N/S_B) C_B(θ),
 *
 * with C_B the curvature estimator's PSD estimate of Σ_{i∈B} ∇²[−log p(x_i | θ)], and updates
 *
 *   S_{t+1} = (1 − β) S_t + β Ĥ,   m_{t+1} = γ m_t + (1 − γ) ĝ,
 *   μ_{t+1} = μ_t − α S_{t+1}⁻¹ m̂_{t+1},   m̂ = m/(1 − γ^{t+1}).
 *
 * With α = β and γ = 0 this is natural-gradient ascent of the ELBO in the natural parameters
 * (Sμ, −½S) with step β, where E_q[ĝ] and E_q[Ĥ] are the ELBO's gradients by Bonnet's and Price's
 * theorems; with exact expectations and β = 1 it is a Newton step and, for a Gaussian target,
 * lands on the posterior in one step (Datar & Ay 2025's unit step for natural gradient descent).
 * The diagonal variant keeps diag(Ĥ), which is the mean-field fixed point diag S = diag E_q[−∇² log p].
 *
 * `info.noiseNorm` is ‖θ − μ‖ of the first perturbation; `info.gradNorm` is ‖ĝ‖.
 */
export function ngvi<Batch>(target: Target<Batch>, options: NgviOptions<Batch>): Sampler<NgviState, NgviInfo, Batch> {
  const where = 'ngvi';
  const d = target.dim;
  const structure = options.covariance;
  if (structure !== 'diagonal' && structure !== 'full') throw new NgviError(`${where}: covariance must be 'diagonal' or 'full', got '${String(structure)}'`);
  const curvature = options.curvature;
  if (!curvature || typeof curvature.estimate !== 'function') throw new NgviError(`${where}: option curvature must be a CurvatureEstimator`);
  if (curvature.dim !== d) throw new NgviError(`${where}: the curvature estimator has dim ${curvature.dim} but the target has dim ${d}`);
  const learningRate = options.learningRate ?? 0.1;
  const precisionRate = options.precisionRate ?? learningRate;
  const momentum = options.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new NgviError(`${where}: momentum must be in [0, 1), got ${momentum}`);
  const lambda = resolvePriorPrecision(where, target, options.priorPrecision);
  const initialPrecision = options.initialPrecision ?? 100;
  if (!(initialPrecision > 0) || !Number.isFinite(initialPrecision)) throw new NgviError(`${where}: initialPrecision must be a finite number > 0, got ${initialPrecision}`);
  const samples = options.samples ?? 1;
  if (!Number.isSafeInteger(samples) || samples < 1) throw new NgviError(`${where}: samples must be a positive integer, got ${samples}`);
  const curvatureSize = structure === 'full' ? d * d : d;
  const eps = new Float64Array(d);
  const theta = new Float64Array(d);
  const likGrad = new Float64Array(d);
  const batchCurvature = new Float64Array(curvatureSize);

  return {
    init(position) {
      if (!(position instanceof Float64Array) || position.length !== d) {
        throw new NgviError(`${where}.init: position must be a Float64Array of length ${d}, got ${position instanceof Float64Array ? `length ${position.length}` : typeof position}`);
      }
      const precision = new Float64Array(curvatureSize);
      if (structure === 'diagonal') precision.fill(initialPrecision);
      else for (let j = 0; j < d; j++) precision[j * d + j] = initialPrecision;
      return { position: Float64Array.from(position), precision, momentum: new Float64Array(d), step: 0 };
    },

    step(key: Key, state, batch) {
      const t = state.step;
      const alpha = scheduleValue(learningRate, t);
      const beta = scheduleValue(precisionRate, t);
      if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new NgviError(`${where}: learning rate at step ${t} must be a finite number ≥ 0, got ${alpha}`);
      if (!(beta > 0 && beta <= 1)) throw new NgviError(`${where}: precision rate at step ${t} must be in (0, 1], got ${beta}`);
      const S = target.batchSize(batch);
      if (!(S > 0)) throw new NgviError(`${where}: the batch at step ${t} is empty`);
      const scale = target.dataSize / S;
      const mean = state.position;
      const factor = structure === 'full' ? cholesky(state.precision, d) : null;
      const gradient = new Float64Array(d);
      const hessian = new Float64Array(curvatureSize);
      let noiseNorm = 0;
      for (let s = 0; s < samples; s++) {
        normal(foldIn(key, s), d, eps);
        perturb(structure, mean, state.precision, factor, eps, theta);
        if (s === 0) {
          let sq = 0;
          for (let j = 0; j < d; j++) sq += (theta[j] - mean[j]) ** 2;
          noiseNorm = Math.sqrt(sq);
        }
        curvature.estimate(theta, batch, structure, likGrad, batchCurvature);
        const priorGrad = target.logPrior(theta).grad;
        for (let j = 0; j < d; j++) gradient[j] -= (priorGrad[j] + scale * likGrad[j]) / samples;
        for (let i = 0; i < curvatureSize; i++) hessian[i] += (scale * batchCurvature[i]) / samples;
      }
      const precision = new Float64Array(curvatureSize);
      for (let i = 0; i < curvatureSize; i++) precision[i] = (1 - beta) * state.precision[i] + beta * hessian[i];
      for (let j = 0; j < d; j++) precision[structure === 'full' ? j * d + j : j] += beta * lambda[j];
      const m = new Float64Array(d);
      const correction = momentum > 0 ? 1 - momentum ** (t + 1) : 1;
      const direction = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        m[j] = momentum * state.momentum[j] + (1 - momentum) * gradient[j];
        direction[j] = m[j] / correction;
      }
      const newFactor = structure === 'full' ? cholesky(precision, d) : null;
      const delta = solvePrecision(structure, precision, newFactor, direction);
      const position = new Float64Array(d);
      for (let j = 0; j < d; j++) position[j] = mean[j] - alpha * delta[j];
      if (!position.every(Number.isFinite)) throw new NgviError(`${where}: the mean became non-finite at step ${t + 1} (learning rate ${alpha})`);
      const info: NgviInfo = { stepSize: alpha, gradNorm: norm(gradient), noiseNorm, precisionRate: beta };
      return [{ position, precision, momentum: m, step: t + 1 }, info] as const;
    },
  };
}

/** The covariance S⁻¹ of an NG-VI state (d×d row-major, fresh; diagonal states give a diagonal matrix). */
export function ngviCovariance(state: NgviState): Float64Array {
  const d = state.position.length;
  const cov = new Float64Array(d * d);
  if (state.precision.length === d) {
    for (let j = 0; j < d; j++) cov[j * d + j] = 1 / state.precision[j];
    return cov;
  }
  const R = cholesky(state.precision, d);
  const column = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    column.fill(0);
    column[c] = 1;
    const x = solvePrecision('full', state.precision, R, column);
    for (let r = 0; r < d; r++) cov[r * d + c] = x[r];
  }
  for (let r = 0; r < d; r++) for (let c = 0; c < r; c++) cov[r * d + c] = cov[c * d + r] = 0.5 * (cov[r * d + c] + cov[c * d + r]);
  return cov;
}

/** Options of {@link fitNgvi}: those of {@link ngvi} plus the run. */
export interface FitNgviOptions extends NgviOptions<IndexBatch> {
  /** Number of updates. */
  steps: number;
  /** Minibatch size (default N: full batch). */
  batchSize?: number;
  /** Seed of batches and perturbations (default 0). */
  seed?: number;
  /** Initial mean (default zeros). */
  initialMean?: Vec;
  /** Called after every update with the number of updates done and the state. */
  onStep?: (step: number, state: NgviState, info: NgviInfo) => void;
}

/**
 * Run {@link ngvi} over minibatches drawn without replacement per epoch (a `Minibatcher` keyed by
 * the seed), with per-step keys foldIn(key, t). Returns the final state.
 */
export function fitNgvi(target: Target<IndexBatch>, options: FitNgviOptions): NgviState {
  const where = 'fitNgvi';
  const steps = options.steps;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new NgviError(`${where}: steps must be a non-negative integer, got ${steps}`);
  const N = target.dataSize;
  const batchSize = options.batchSize ?? N;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > N) throw new NgviError(`${where}: batchSize must be an integer in [1, ${N}], got ${batchSize}`);
  const root = foldIn(seedKey(options.seed ?? 0), 0x4e4756);
  const batches = new Minibatcher(foldIn(root, 1), N, batchSize);
  const drawKey = foldIn(root, 2);
  const sampler = ngvi(target, options);
  let state = sampler.init(options.initialMean ?? new Float64Array(target.dim), drawKey);
  for (let t = 0; t < steps; t++) {
    const [next, info] = sampler.step(foldIn(drawKey, t), state, batches.at(t));
    state = next;
    options.onStep?.(t + 1, state, info);
  }
  return state;
}
