/**
 * Stochastic gradient Langevin dynamics (Welling & Teh 2011, "Bayesian learning via stochastic
 * gradient Langevin dynamics", ICML), with a temperature that scales the injected noise.
 *
 * Layout after BlackJAX's sgmcmc modules: `sgldInit` builds the state, `sgldKernel` builds the
 * pure step function, and `sgld` is the top-level factory returning a `Sampler`.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import type { Key } from '../core/random.js';
import { normal } from '../core/random.js';
import { minibatchGradient, scaledLogPosteriorOf } from '../models/estimator.js';
import { checkedScheduleValue } from '../core/schedules.js';
import { vectorAllocator } from '../core/linalg.js';

/** The state of an SGLD chain: data only, never mutated by a step. */
export interface SgldState {
  /** Current parameter vector θ_t. */
  readonly position: Vec;
  /** Number of steps taken so far (t); schedules are evaluated at it. */
  readonly step: number;
}

/** What one SGLD step reports. */
export interface SgldInfo extends StepInfo {
  /** ε_t used by this step. */
  stepSize: number;
  /** ‖ĝ(θ_t)‖, the norm of the minibatch estimate of ∇ log posterior at the step's start. */
  gradNorm: number;
  /** ‖√(ε_t T) ξ_t‖, the norm of the injected noise (0 at temperature 0). */
  noiseNorm: number;
  /** Temperature T used by this step. */
  temperature: number;
  /** The minibatch estimate log p(θ_t) + (N/S) Σ_batch log p(x|θ_t), at the step's start. */
  logPosterior?: number;
}

/** Options of the SGLD factory. */
export interface SgldOptions {
  /** ε: a constant or a schedule of the step t (e.g. the polynomial decay a(b + t)^(−γ)). */
  stepSize: Schedule;
  /** T ≥ 0 scaling the noise variance (default 1: the posterior; 0: plain stochastic gradient ascent). */
  temperature?: Schedule;
}

/** Thrown when SGLD is given an invalid option or meets an invalid per-step value. */
export class SgldOptionError extends RangeError {
  override name = 'SgldOptionError';
}

/** The initial SGLD state at `position` (copied, so the caller's vector is never aliased). */
export function sgldInit(position: Vec): SgldState {
  return { position: Float64Array.from(position), step: 0 };
}

function checkedValue(schedule: Schedule, step: number, what: string, allowZero: boolean): number {
  return checkedScheduleValue(schedule, step, 'sgld', what, allowZero, SgldOptionError);
}

/**
 * The SGLD transition kernel for a target. One step, at t = state.step:
 *
 *   θ_{t+1} = θ_t + (ε_t / 2) ĝ(θ_t) + √(ε_t T) ξ_t,   ξ_t ~ N(0, I),
 *   ĝ(θ) = ∇ log p(θ) + (N/S) Σ_{i∈batch} ∇ log p(x_i | θ)
 *
 * (Welling & Teh 2011, Eq. 4, with temperature T scaling the noise variance; T = 1 targets the
 * posterior, T = 0 is stochastic gradient ascent with rate ε/2). The noise is drawn from `key` only,
 * so the same key, state and batch give the same bits.
 */
export function sgldKernel<Batch = IndexBatch>(
  target: Target<Batch>,
  options: SgldOptions,
): (key: Key, state: Readonly<SgldState>, batch: Batch) => readonly [SgldState, SgldInfo] {
  const temperatureSchedule = options.temperature ?? 1;
  const dim = target.dim;
  const gradient = new Float64Array(dim);
  const noise = new Float64Array(dim);
  // Positions cut from shared 4 KiB buffers: one buffer allocation per many steps.
  const newPosition = vectorAllocator(dim);
  // The model's fused kernel, looked up once (built-in models register it at construction).
  const fused = scaledLogPosteriorOf(target);
  return (key, state, batch) => {
    const t = state.step;
    const position = state.position;
    if (position.length !== dim) {
      throw new SgldOptionError(`sgld: state.position has length ${position.length}, target.dim is ${dim}`);
    }
    const stepSize = checkedValue(options.stepSize, t, 'stepSize', false);
    const temperature = checkedValue(temperatureSchedule, t, 'temperature', true);
    const batchSize = fused === undefined ? 0 : target.batchSize(batch);
    // The fused kernel directly skips minibatchGradient's lookup and result object; an empty batch goes there for its error.
    const logPosterior =
      fused !== undefined && batchSize > 0
        ? fused(position, batch, target.dataSize / batchSize, gradient)
        : minibatchGradient(target, position, batch, gradient).value;
    const grad = gradient;
    const drift = stepSize / 2;
    const next = newPosition();
    let gradSq = 0;
    let noiseSq = 0;
    if (temperature === 0) {
      // No noise draw at all, so T = 0 is exactly the gradient step.
      for (let i = 0; i < dim; i++) {
        gradSq += grad[i] * grad[i];
        next[i] = position[i] + drift * grad[i];
      }
    } else {
      const scale = Math.sqrt(stepSize * temperature);
      normal(key, dim, noise);
      for (let i = 0; i < dim; i++) {
        const injected = scale * noise[i];
        gradSq += grad[i] * grad[i];
        noiseSq += injected * injected;
        next[i] = position[i] + drift * grad[i] + injected;
      }
    }
    const info: SgldInfo = {
      stepSize,
      gradNorm: Math.sqrt(gradSq),
      noiseNorm: Math.sqrt(noiseSq),
      temperature,
      logPosterior,
    };
    return [{ position: next, step: t + 1 }, info] as const;
  };
}

/**
 * Stochastic gradient Langevin dynamics as a `Sampler` (Welling & Teh 2011, Eq. 4):
 *
 *   θ_{t+1} = θ_t + (ε_t / 2) ĝ(θ_t) + √(ε_t T) ξ_t,   ξ_t ~ N(0, I),
 *
 * ĝ the minibatch estimate of ∇ log posterior (prior gradient plus N/S times the batch's likelihood
 * gradient). At a constant ε the chain's stationary covariance exceeds the posterior's, by the
 * discretisation and by the minibatch noise (Mandt, Hoffman & Blei 2017, Sec. 5); use a small ε or a
 * decaying schedule with Σε_t = ∞, Σε_t² < ∞ for consistency.
 *
 * @example
 * const sampler = sgld(target, { stepSize: (t) => 1e-3 * (10 + t) ** -0.55 });
 * let state = sampler.init(theta0, key(0));
 * [state, info] = sampler.step(stepKey, state, batch);
 */
export function sgld<Batch = IndexBatch>(
  target: Target<Batch>,
  options: SgldOptions,
): Sampler<SgldState, SgldInfo, Batch> {
  if (typeof options.stepSize === 'number') checkedValue(options.stepSize, 0, 'stepSize', false);
  if (typeof options.temperature === 'number') checkedValue(options.temperature, 0, 'temperature', true);
  const kernel = sgldKernel(target, options);
  return {
    init(position: Vec, _key: Key): SgldState {
      if (position.length !== target.dim) {
        throw new SgldOptionError(`sgld.init: position has length ${position.length}, target.dim is ${target.dim}`);
      }
      return sgldInit(position);
    },
    step: kernel,
  };
}
