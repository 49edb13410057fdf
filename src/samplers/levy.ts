/**
 * Lévy-driven (α-stable) Langevin dynamics: the Euler scheme of a heavy-tailed SDE used as a model
 * of SGD by Şimşekli, Sagun & Gürbüzbalaban 2019 and analysed by Dupuis & Viallard 2023
 * ("From mutual information to expected dynamics: new generalization bounds for heavy-tailed SGD",
 * arXiv 2312.00427).
 *
 * Layout after BlackJAX's sgmcmc modules: `levyLangevinInit` builds the state, `levyLangevinKernel`
 * the pure step function, `levyLangevin` the top-level `Sampler` factory.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import type { Key } from '../core/random.js';
import { coordinatewiseStable, isotropicStable } from '../core/stable.js';
import { checkedScheduleValue } from '../core/schedules.js';

/** The state of a Lévy–Langevin chain: data only, never mutated by a step. */
export interface LevyLangevinState {
  /** Current parameter vector W_k. */
  readonly position: Vec;
  /** Number of steps taken so far (k); schedules are evaluated at it. */
  readonly step: number;
}

/** What one Lévy–Langevin step reports. */
export interface LevyLangevinInfo extends StepInfo {
  /** γ_k used by this step. */
  stepSize: number;
  /** ‖∇V_S(W_k)‖, the norm of the minibatch gradient of the regularised empirical risk. */
  gradNorm: number;
  /** ‖σ γ^{1/α} L_k‖, the norm of the injected α-stable increment (0 when σ = 0). */
  noiseNorm: number;
  /** Stability index α of the increments. */
  alpha: number;
  /** σ_k used by this step. */
  sigma: number;
  /** V_S(W_k) on the minibatch: F̂ (+ (η/2)‖W_k‖², + the prior term if `usePrior`). */
  batchLoss: number;
}

/** Options of the Lévy–Langevin factory. */
export interface LevyLangevinOptions {
  /** γ > 0: a constant or a schedule of the step k. */
  stepSize: Schedule;
  /** Stability index α ∈ (0, 2] of the increments (the paper uses (1, 2]; α = 2 is Gaussian). */
  alpha: number;
  /** Noise scale σ ≥ 0: a constant or a schedule (σ = 0 gives plain minibatch gradient descent). */
  sigma: Schedule;
  /** ℓ2 weight decay η ≥ 0 (default 0): V_S = F̂_S + (η/2)‖w‖². */
  weightDecay?: number;
  /**
   * 'isotropic' (default, the paper's increments): L = √φ·G, rotation-invariant; 'coordinatewise':
   * independent S_α(1, 0, 0) coordinates. Both have unit-scale one-dimensional marginals.
   */
  noise?: 'isotropic' | 'coordinatewise';
  /**
   * Add −(1/N) log p(w) to V_S (default false), so that the drift is the per-example share of the
   * log-posterior gradient; the paper's dynamics use the empirical risk and weight decay only.
   */
  usePrior?: boolean;
}

/** Thrown for an invalid option or per-step value of the Lévy–Langevin sampler. */
export class LevyLangevinOptionError extends RangeError {
  override name = 'LevyLangevinOptionError';
}

/** The initial state at `position` (copied, so the caller's vector is never aliased). */
export function levyLangevinInit(position: Vec): LevyLangevinState {
  return { position: Float64Array.from(position), step: 0 };
}

function checkedValue(schedule: Schedule, step: number, what: string, allowZero: boolean): number {
  return checkedScheduleValue(schedule, step, 'levyLangevin', what, allowZero, LevyLangevinOptionError);
}

function checkOptions(options: LevyLangevinOptions): void {
  const { alpha, weightDecay = 0, noise = 'isotropic' } = options;
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 2)) {
    throw new LevyLangevinOptionError(`levyLangevin: alpha must be in (0, 2], got ${alpha}`);
  }
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new LevyLangevinOptionError(`levyLangevin: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
  }
  if (noise !== 'isotropic' && noise !== 'coordinatewise') {
    throw new LevyLangevinOptionError(`levyLangevin: noise must be 'isotropic' or 'coordinatewise', got '${String(noise)}'`);
  }
  if (typeof options.stepSize === 'number') checkedValue(options.stepSize, 0, 'stepSize', false);
  if (typeof options.sigma === 'number') checkedValue(options.sigma, 0, 'sigma', true);
}

/**
 * The Lévy–Langevin transition kernel. One step, at k = state.step:
 *
 *   W_{k+1} = W_k − γ_k ∇V_S(W_k) + σ_k γ_k^{1/α} L_k,
 *   V_S(w) = F̂_S(w) + (η/2)‖w‖²,   F̂_S(w) = −(1/|B|) Σ_{i∈B} log p(x_i | w),
 *
 * L_k an α-stable vector (isotropic or coordinate-wise, unit-scale marginals) drawn from `key` only
 * (Dupuis & Viallard 2023, the Euler scheme of dW = −∇V_S dt + σ dL^α_t; Şimşekli et al. 2019,
 * Eq. 8). The γ^{1/α} factor is the self-similarity of α-stable Lévy motion: L^α_{t+γ} − L^α_t has
 * the law of γ^{1/α} L^α_1. The target's `logLikelihood` is a batch sum, hence the 1/|B|.
 */
export function levyLangevinKernel<Batch = IndexBatch>(
  target: Target<Batch>,
  options: LevyLangevinOptions,
): (key: Key, state: Readonly<LevyLangevinState>, batch: Batch) => readonly [LevyLangevinState, LevyLangevinInfo] {
  checkOptions(options);
  const { alpha, sigma: sigmaSchedule, weightDecay = 0, noise: noiseKind = 'isotropic', usePrior = false } = options;
  const dim = target.dim;
  const noise = new Float64Array(dim);
  const draw = noiseKind === 'isotropic' ? isotropicStable : coordinatewiseStable;
  return (key, state, batch) => {
    const k = state.step;
    const w = state.position;
    if (w.length !== dim) {
      throw new LevyLangevinOptionError(`levyLangevin: state.position has length ${w.length}, target.dim is ${dim}`);
    }
    const stepSize = checkedValue(options.stepSize, k, 'stepSize', false);
    const sigma = checkedValue(sigmaSchedule, k, 'sigma', true);
    const size = target.batchSize(batch);
    if (!(size > 0)) throw new LevyLangevinOptionError(`levyLangevin: the batch at step ${k} is empty`);
    const likelihood = target.logLikelihood(w, batch);
    const riskScale = -1 / size;
    let batchLoss = riskScale * likelihood.value;
    const priorScale = -1 / target.dataSize;
    const prior = usePrior ? target.logPrior(w) : undefined;
    if (prior) batchLoss += priorScale * prior.value;
    let squaredNorm = 0;
    for (let i = 0; i < dim; i++) squaredNorm += w[i] * w[i];
    batchLoss += 0.5 * weightDecay * squaredNorm;

    // σ = 0 draws nothing, so the step is exactly minibatch gradient descent on V_S.
    const noiseScale = sigma === 0 ? 0 : sigma * stepSize ** (1 / alpha);
    if (noiseScale !== 0) draw(key, dim, alpha, noise);
    const next = new Float64Array(dim);
    let gradSq = 0;
    let noiseSq = 0;
    for (let i = 0; i < dim; i++) {
      let g = riskScale * likelihood.grad[i] + weightDecay * w[i];
      if (prior) g += priorScale * prior.grad[i];
      gradSq += g * g;
      const injected = noiseScale === 0 ? 0 : noiseScale * noise[i];
      noiseSq += injected * injected;
      next[i] = w[i] - stepSize * g + injected;
    }
    const info: LevyLangevinInfo = {
      stepSize,
      gradNorm: Math.sqrt(gradSq),
      noiseNorm: Math.sqrt(noiseSq),
      alpha,
      sigma,
      batchLoss,
    };
    return [{ position: next, step: k + 1 }, info] as const;
  };
}

/**
 * Lévy-driven Langevin dynamics as a `Sampler` (Dupuis & Viallard 2023; Şimşekli et al. 2019):
 *
 *   W_{k+1} = W_k − γ ∇V_S(W_k) + σ γ^{1/α} L_k,   V_S = F̂_S + (η/2)‖w‖².
 *
 * With α = 2 (L ~ N(0, 2I)) this is the Euler–Maruyama scheme of dW = −∇V dt + σ√2 dB, whose
 * stationary law is ∝ exp(−V/σ²); for a quadratic V = (κ/2)‖w‖² the discrete chain's stationary
 * variance is 2σ²γ / (2γκ − γ²κ²) per coordinate (see the tests). For α < 2 the increments are
 * heavy-tailed and the iterates inherit tail index α.
 *
 * @example
 * const sampler = levyLangevin(target, { stepSize: 0.01, alpha: 1.8, sigma: 1, weightDecay: 1e-3 });
 * let state = sampler.init(w0, key(0));
 * [state, info] = sampler.step(stepKey, state, batch);
 */
export function levyLangevin<Batch = IndexBatch>(
  target: Target<Batch>,
  options: LevyLangevinOptions,
): Sampler<LevyLangevinState, LevyLangevinInfo, Batch> {
  const kernel = levyLangevinKernel(target, options);
  return {
    init(position: Vec, _key: Key): LevyLangevinState {
      if (position.length !== target.dim) {
        throw new LevyLangevinOptionError(
          `levyLangevin.init: position has length ${position.length}, target.dim is ${target.dim}`,
        );
      }
      return levyLangevinInit(position);
    },
    step: kernel,
  };
}
