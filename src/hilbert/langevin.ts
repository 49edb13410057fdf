/**
 * Infinite-dimensional gradient Langevin dynamics (Suzuki 2020, "Generalization bound of globally
 * optimal non-convex neural network training: transportation map estimation by infinite dimensional
 * Langevin dynamics", NeurIPS, Eqs. 5–6), truncated to the modes a model keeps, with the paper's
 * semi-implicit time stepping and, for comparison, the explicit (Euler–Maruyama = SGLD) one.
 *
 * Layout after BlackJAX's sgmcmc modules: `hilbertLangevinInit` builds the state,
 * `hilbertLangevinKernel` the pure step function, `hilbertLangevin` the `Sampler` factory.
 */
import type { Sampler, Schedule, StepInfo, Target, ValueGrad, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import { normal, type Key } from '../core/random.js';
import { operatorDiagonal } from './basis.js';
import { HilbertError } from './errors.js';

/**
 * A model in the paper's terms: an empirical risk L̂(W) (a mean loss, estimated on batches) over the
 * coordinates of a basis (e_k) of H whose eigenvalues μ_k define the regulariser A e_k = (λ/μ_k) e_k.
 */
export interface RiskModel<Batch> {
  /** Number of coordinates kept (the truncation of H). */
  readonly dim: number;
  /** n, the number of training examples. */
  readonly dataSize: number;
  /** μ_k > 0 for each coordinate (non-increasing along the basis order). */
  readonly spectrum: Float64Array;
  /**
   * The mean loss over the batch (an unbiased estimate of L̂(W) for uniform batches); when `grad` is
   * given, its gradient is written there.
   */
  risk(theta: Vec, batch: Batch, grad?: Vec): number;
  /** Number of examples in a batch. */
  batchSize(batch: Batch): number;
  /** The whole training set as a batch. */
  fullBatch(): Batch;
}

/** The time discretisation of dW = −(AW + ∇L̂(W)) dt + √(2/β) dξ. */
export type HilbertScheme = 'semi-implicit' | 'explicit';

/** Options of the Hilbert-space Langevin factory. */
export interface HilbertLangevinOptions {
  /** η > 0: a constant or a schedule of the step k. */
  stepSize: Schedule;
  /** β > 0, the inverse temperature; Infinity gives the noiseless (gradient descent) dynamics. */
  beta: number;
  /** λ ≥ 0, the regularisation strength inside A e_k = (λ/μ_k) e_k. */
  lambda: number;
  /**
   * 'semi-implicit' (default, the paper's Eq. 6, stable for any number of modes) or 'explicit'
   * (Euler–Maruyama: SGLD with the same regulariser, stable only for η < 2 min_k μ_k/λ).
   */
  scheme?: HilbertScheme;
}

/** The state of a chain: data only, never mutated by a step. */
export interface HilbertLangevinState {
  /** W_k, the coordinates of the current parameter in the basis. */
  readonly position: Vec;
  /** Number of steps taken so far (k); schedules are evaluated at it. */
  readonly step: number;
}

/** What one step reports. */
export interface HilbertLangevinInfo extends StepInfo {
  /** η_k used by this step. */
  stepSize: number;
  /** ‖∇L̂_B(W_k)‖, the norm of the minibatch risk gradient at the step's start. */
  gradNorm: number;
  /** ‖√(2η/β) ε_k‖, the norm of the injected noise (0 when β = ∞). */
  noiseNorm: number;
  /** L̂_B(W_k), the minibatch risk at the step's start. */
  risk: number;
  beta: number;
  lambda: number;
  /**
   * η_k max_k(λ/μ_k): the explicit scheme is stable only while this is < 2; the semi-implicit one
   * at any value.
   */
  stiffness: number;
  scheme: HilbertScheme;
}

/** The initial state at `position` (copied, so the caller's vector is never aliased). */
export function hilbertLangevinInit(position: Vec): HilbertLangevinState {
  return { position: Float64Array.from(position), step: 0 };
}

function checkOptions(where: string, options: HilbertLangevinOptions): HilbertScheme {
  const { beta, lambda } = options;
  if (typeof beta !== 'number' || Number.isNaN(beta) || beta <= 0) {
    throw new HilbertError(`${where}: beta must be a number > 0 (Infinity for no noise), got ${String(beta)}`);
  }
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    throw new HilbertError(`${where}: lambda must be a finite number ≥ 0, got ${String(lambda)}`);
  }
  const scheme = options.scheme ?? 'semi-implicit';
  if (scheme !== 'semi-implicit' && scheme !== 'explicit') {
    throw new HilbertError(`${where}: scheme must be 'semi-implicit' or 'explicit', got '${String(scheme)}'`);
  }
  if (typeof options.stepSize === 'number') checkedStep(where, options.stepSize, 0);
  return scheme;
}

function checkedStep(where: string, schedule: Schedule, step: number): number {
  const value = scheduleValue(schedule, step);
  if (!Number.isFinite(value) || value <= 0) {
    throw new HilbertError(`${where}: stepSize at step ${step} must be a finite number > 0, got ${value}`);
  }
  return value;
}

/**
 * The transition kernel. With ĝ = ∇L̂_B(W_k) the minibatch risk gradient, ε_k ~ N(0, I), η = η_k:
 *
 *   semi-implicit (Suzuki 2020, Eq. 6):  W_{k+1} = (I + ηA)^{-1} (W_k − η ĝ + √(2η/β) ε_k),
 *     i.e. coordinate k is divided by 1 + ηλ/μ_k;
 *   explicit (Euler–Maruyama of Eq. 5):  W_{k+1} = W_k − η (A W_k + ĝ) + √(2η/β) ε_k,
 *
 * A e_k = (λ/μ_k) e_k with μ = `model.spectrum`. The explicit scheme is exactly SGLD (Welling & Teh
 * 2011) with step ε = 2η/β on the Gibbs target of {@link gibbsTarget}. The noise comes from `key`
 * only: same key, state and batch give the same bits.
 */
export function hilbertLangevinKernel<Batch>(
  model: RiskModel<Batch>,
  options: HilbertLangevinOptions,
): (key: Key, state: Readonly<HilbertLangevinState>, batch: Batch) => readonly [HilbertLangevinState, HilbertLangevinInfo] {
  const where = 'hilbertLangevin';
  const scheme = checkOptions(where, options);
  const { beta, lambda } = options;
  const dim = model.dim;
  if (model.spectrum.length !== dim) throw new HilbertError(`${where}: model.spectrum has length ${model.spectrum.length}, model.dim is ${dim}`);
  const operator = operatorDiagonal(model.spectrum, lambda);
  let largestEigenvalue = 0;
  for (let k = 0; k < dim; k++) largestEigenvalue = Math.max(largestEigenvalue, operator[k]);
  const gradient = new Float64Array(dim);
  const noise = new Float64Array(dim);
  const noisy = beta !== Infinity;
  return (key, state, batch) => {
    const t = state.step;
    if (state.position.length !== dim) throw new HilbertError(`${where}: state.position has length ${state.position.length}, model.dim is ${dim}`);
    const eta = checkedStep(where, options.stepSize, t);
    const risk = model.risk(state.position, batch, gradient);
    const scale = noisy ? Math.sqrt((2 * eta) / beta) : 0;
    if (noisy) normal(key, dim, noise);
    const position = state.position;
    const next = new Float64Array(dim);
    let gradSq = 0;
    let noiseSq = 0;
    for (let k = 0; k < dim; k++) {
      const g = gradient[k];
      const injected = noisy ? scale * noise[k] : 0;
      gradSq += g * g;
      noiseSq += injected * injected;
      next[k] =
        scheme === 'semi-implicit'
          ? (position[k] - eta * g + injected) / (1 + eta * operator[k])
          : position[k] - eta * (operator[k] * position[k] + g) + injected;
    }
    const info: HilbertLangevinInfo = {
      stepSize: eta,
      gradNorm: Math.sqrt(gradSq),
      noiseNorm: Math.sqrt(noiseSq),
      risk,
      beta,
      lambda,
      stiffness: eta * largestEigenvalue,
      scheme,
    };
    return [{ position: next, step: t + 1 }, info] as const;
  };
}

/**
 * Infinite-dimensional gradient Langevin dynamics as a `Sampler` (Suzuki 2020, Eq. 6):
 *
 *   W_{k+1} = (I + ηA)^{-1} (W_k − η ∇L̂_B(W_k) + √(2η/β) ε_k),   A e_k = (λ/μ_k) e_k,
 *
 * whose invariant measure approximates π_∞ ∝ exp(−β L̂(W)) N(0, (βA)^{-1}); with β = n and λ = 1/n
 * this is a Bayes posterior under the Gaussian prior N(0, diag μ) (squared loss ½(y − f)²: unit noise
 * variance). Each step costs one minibatch gradient and O(dim) more, at any width. `scheme: 'explicit'`
 * gives SGLD with the same regulariser; `beta: Infinity` the noiseless dynamics (gradient descent).
 *
 * @example
 * const sampler = hilbertLangevin(net, { stepSize: 0.2, beta: n, lambda: 1 / n });
 * let state = sampler.init(net.priorDraw(key(1)), key(0));
 * [state, info] = sampler.step(stepKey, state, batch);
 */
export function hilbertLangevin<Batch>(
  model: RiskModel<Batch>,
  options: HilbertLangevinOptions,
): Sampler<HilbertLangevinState, HilbertLangevinInfo, Batch> {
  const kernel = hilbertLangevinKernel(model, options);
  return {
    init(position: Vec, _key: Key): HilbertLangevinState {
      if (position.length !== model.dim) throw new HilbertError(`hilbertLangevin.init: position has length ${position.length}, model.dim is ${model.dim}`);
      return hilbertLangevinInit(position);
    },
    step: kernel,
  };
}

/**
 * The Gibbs measure of the dynamics as a project `Target`, so any sampler (SGLD, HMC, …) can run on it:
 *
 *   log π(W) = −β L̂(W) − (βλ/2) Σ_k W_k²/μ_k   (Suzuki 2020, dπ_∞/dν_β ∝ exp(−β L̂), ν_β = N(0, (βA)^{-1})),
 *
 * split as logPrior = −(βλ/2) Σ_k W_k²/μ_k and logLikelihood(batch) = −(β/n) Σ_{i∈batch} ℓ_i, so the
 * project's minibatch estimate log p + (n/S) Σ log p_i has gradient −β(AW + ∇L̂_B(W)).
 */
export function gibbsTarget<Batch>(model: RiskModel<Batch>, options: { beta: number; lambda: number }): Target<Batch> {
  const where = 'gibbsTarget';
  const { beta, lambda } = options;
  if (!Number.isFinite(beta) || beta <= 0) throw new HilbertError(`${where}: beta must be a finite number > 0, got ${beta}`);
  const operator = operatorDiagonal(model.spectrum, lambda);
  const dim = model.dim;
  return {
    dim,
    dataSize: model.dataSize,
    logPrior(theta: Vec): ValueGrad {
      if (theta.length !== dim) throw new HilbertError(`${where}.logPrior: theta has length ${theta.length}, model.dim is ${dim}`);
      const grad = new Float64Array(dim);
      let value = 0;
      for (let k = 0; k < dim; k++) {
        const precision = beta * operator[k];
        value -= 0.5 * precision * theta[k] * theta[k];
        grad[k] = -precision * theta[k];
      }
      return { value, grad };
    },
    logLikelihood(theta: Vec, batch: Batch): ValueGrad {
      const grad = new Float64Array(dim);
      const S = model.batchSize(batch);
      // risk() is a batch mean; the Target contract wants a batch sum scaled by β/n.
      const factor = -(beta * S) / model.dataSize;
      const value = factor * model.risk(theta, batch, grad);
      for (let k = 0; k < dim; k++) grad[k] *= factor;
      return { value, grad };
    },
    batchSize: (batch: Batch) => model.batchSize(batch),
    fullBatch: () => model.fullBatch(),
  };
}
