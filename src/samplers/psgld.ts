/**
 * Preconditioned stochastic gradient Langevin dynamics (Li, Chen, Carlson & Carin 2016,
 * "Preconditioned stochastic gradient Langevin dynamics for deep neural networks", AAAI): SGLD with
 * the RMSprop diagonal preconditioner, shared with the optimisers as the `scaleByRms` transform.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import type { Key } from '../core/random.js';
import { normal } from '../core/random.js';
import { minibatchGradient } from '../models/estimator.js';
import { rmsDiagonal, scaleByRms, type RmsState } from '../transforms/rms.js';

/** The state of a pSGLD chain: data only, never mutated by a step. */
export interface PsgldState {
  /** θ_t. */
  readonly position: Vec;
  /** t, the number of steps taken; schedules are evaluated at it. */
  readonly step: number;
  /** The RMSprop statistic V_{t} (the `scaleByRms` transform's state). */
  readonly rms: RmsState;
}

/** What one pSGLD step reports. */
export interface PsgldInfo extends StepInfo {
  /** ε_t. */
  stepSize: number;
  /** ‖ĝ(θ_t)‖, the minibatch estimate of ∇ log posterior. */
  gradNorm: number;
  /** ‖√(ε_t T) G^{1/2} ξ‖, the injected noise (0 at temperature 0). */
  noiseNorm: number;
  /** T. */
  temperature: number;
  /** mean_k G_kk, the average preconditioner entry of this step. */
  meanPreconditioner: number;
}

/** Options of {@link psgld}. */
export interface PsgldOptions {
  /** ε: a constant or a schedule of the step. */
  stepSize: Schedule;
  /** α, the RMSprop decay (default 0.99, Li et al. 2016). */
  decay?: number;
  /** λ, added to √V (default 1e-5, Li et al. 2016). */
  eps?: number;
  /** T ≥ 0 scaling the noise variance (default 1; 0 gives RMSprop ascent). */
  temperature?: Schedule;
}

/** Thrown when pSGLD gets an invalid option or per-step value. */
export class PsgldOptionError extends RangeError {
  override name = 'PsgldOptionError';
}

function checked(schedule: Schedule, step: number, what: string, allowZero: boolean): number {
  const value = scheduleValue(schedule, step);
  if (!(Number.isFinite(value) && (allowZero ? value >= 0 : value > 0))) {
    throw new PsgldOptionError(`psgld: ${what} at step ${step} must be a finite number ${allowZero ? '≥' : '>'} 0, got ${value}`);
  }
  return value;
}

/**
 * Preconditioned SGLD (Li et al. 2016, Alg. 1), one step at t = state.step:
 *
 *   V_t = α V_{t−1} + (1−α) ū ⊙ ū,   G_t = diag(1 ⊘ (λ + √V_t)),
 *   θ_{t+1} = θ_t + (ε_t/2) G_t ĝ(θ_t) + √(ε_t T) G_t^{1/2} ξ_t,   ξ_t ~ N(0, I),
 *
 * with ĝ = ∇log p(θ) + (N/S) Σ_batch ∇log p(x|θ) and ū = ĝ/N, the per-example mean gradient of Li et
 * al.'s ḡ plus the prior's share ∇log p(θ)/N (negligible for N ≫ 1). The correction term Γ(θ) =
 * ∇·G(θ) is dropped, as in the paper's practical version (it is O((1−α)) small for slowly changing
 * V). The RMS statistic is the shared `scaleByRms` transform's state, and G ū is its update.
 */
export function psgld<Batch = IndexBatch>(target: Target<Batch>, options: PsgldOptions): Sampler<PsgldState, PsgldInfo, Batch> {
  if (typeof options.stepSize === 'number') checked(options.stepSize, 0, 'stepSize', false);
  const temperatureSchedule = options.temperature ?? 1;
  if (typeof temperatureSchedule === 'number') checked(temperatureSchedule, 0, 'temperature', true);
  const rms = scaleByRms({ decay: options.decay ?? 0.99, eps: options.eps ?? 1e-5 });
  const dim = target.dim;
  const n = target.dataSize;
  const gradient = new Float64Array(dim);
  const scaled = new Float64Array(dim);
  const preconditioner = new Float64Array(dim);
  const noise = new Float64Array(dim);
  return {
    init(position: Vec, _key: Key): PsgldState {
      if (position.length !== dim) throw new PsgldOptionError(`psgld.init: position has length ${position.length}, target.dim is ${dim}`);
      return { position: Float64Array.from(position), step: 0, rms: rms.init(position) };
    },
    step(key: Key, state: Readonly<PsgldState>, batch: Batch): readonly [PsgldState, PsgldInfo] {
      const t = state.step;
      if (state.position.length !== dim) {
        throw new PsgldOptionError(`psgld: state.position has length ${state.position.length}, target.dim is ${dim}`);
      }
      const stepSize = checked(options.stepSize, t, 'stepSize', false);
      const temperature = checked(temperatureSchedule, t, 'temperature', true);
      const grad = minibatchGradient(target, state.position, batch, gradient).grad;
      for (let i = 0; i < dim; i++) scaled[i] = grad[i] / n;
      // G ū = G ĝ / N, so the drift (ε/2) G ĝ is (ε N / 2) times the transform's update.
      const [update, nextRms] = rms.update(scaled, state.rms, state.position, { step: t });
      rmsDiagonal(nextRms, rms.eps, preconditioner);
      if (temperature > 0) normal(key, dim, noise);
      const noiseScale = Math.sqrt(stepSize * temperature);
      const next = new Float64Array(dim);
      let gradSq = 0;
      let noiseSq = 0;
      let sumG = 0;
      for (let i = 0; i < dim; i++) {
        gradSq += grad[i] * grad[i];
        sumG += preconditioner[i];
        const injected = temperature > 0 ? noiseScale * Math.sqrt(preconditioner[i]) * noise[i] : 0;
        noiseSq += injected * injected;
        next[i] = state.position[i] + (stepSize / 2) * n * update[i] + injected;
      }
      const info: PsgldInfo = {
        stepSize,
        gradNorm: Math.sqrt(gradSq),
        noiseNorm: Math.sqrt(noiseSq),
        temperature,
        meanPreconditioner: dim > 0 ? sumG / dim : 0,
      };
      return [{ position: next, step: t + 1, rms: nextRms }, info] as const;
    },
  };
}
