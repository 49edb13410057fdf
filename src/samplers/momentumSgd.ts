/**
 * Momentum SGD at a constant learning rate as an approximate posterior sampler (Mandt, Hoffman &
 * Blei 2017, JMLR 18, Sec. 4.3). The velocity is the shared `momentum` transform's trace.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import type { Key } from '../core/random.js';
import { momentum as momentumTransform } from '../transforms/momentum.js';
import { ConstantSgdOptionError, lossGradient, updateGradientMean } from './constantSgd.js';

/** The state of a momentum-SGD chain: data only, never mutated by a step. */
export interface MomentumSgdState {
  /** θ_t. */
  readonly position: Vec;
  /** v_t, the velocity (0 at the start). */
  readonly velocity: Vec;
  /** t, the number of steps taken; the learning-rate schedule is evaluated at it. */
  readonly step: number;
  /** Running mean of ĝ_S for the `noiseNorm` diagnostic (null before the first step). */
  readonly gradientMean: Vec | null;
}

/** What one momentum-SGD step reports. */
export interface MomentumSgdInfo extends StepInfo {
  /** ε_t. */
  stepSize: number;
  /** ‖ĝ_S‖, the minibatch gradient of L = −(1/N) log posterior. */
  gradNorm: number;
  /** ‖ĝ_S − m‖, the deviation from the running mean of minibatch gradients. */
  noiseNorm: number;
  /** ε_t/μ, the only combination the stationary covariance depends on (Eq. 25). */
  effectiveRate: number;
  /** The minibatch estimate of log posterior at θ_t. */
  logPosterior: number;
}

/** Options of {@link momentumSgd}. */
export interface MomentumSgdOptions {
  /** ε: a constant or a schedule of the step. */
  learningRate: Schedule;
  /** μ ∈ (0, 1], the friction: the velocity keeps 1 − μ of itself each step (μ = 1 is plain SGD). */
  momentum: number;
}

/**
 * Momentum SGD as a sampler (Mandt, Hoffman & Blei 2017, Sec. 4.3):
 *
 *   v_{t+1} = (1 − μ) v_t − ε ĝ_S(θ_t),   θ_{t+1} = θ_t + v_{t+1},
 *
 * with ĝ_S the minibatch gradient of L = −(1/N) log posterior. The stationary covariance solves
 * ΣA + AΣ = (ε/(μS)) BBᵀ (their Eq. 25): only ε/μ matters, and it plays the role of constant SGD's
 * rate. The paper states no optimal setting; by analogy with Theorem 1 (our derivation), choose
 * ε/μ = 2SD/(N Tr BBᵀ) — `optimalMomentumRatio` in the noise module — then pick μ and set
 * ε = μ·ratio. The velocity is the `momentum` transform with decay β = 1 − μ applied to −εĝ_S.
 */
export function momentumSgd<Batch = IndexBatch>(
  target: Target<Batch>,
  options: MomentumSgdOptions,
): Sampler<MomentumSgdState, MomentumSgdInfo, Batch> {
  const mu = options.momentum;
  if (!(Number.isFinite(mu) && mu > 0 && mu <= 1)) {
    throw new ConstantSgdOptionError(`momentumSgd: momentum μ must be in (0, 1], got ${mu}`);
  }
  const learningRate = (t: number): number => {
    const value = scheduleValue(options.learningRate, t);
    if (!(Number.isFinite(value) && value > 0)) {
      throw new ConstantSgdOptionError(`momentumSgd: learningRate at step ${t} must be a finite number > 0, got ${value}`);
    }
    return value;
  };
  if (typeof options.learningRate === 'number') learningRate(0);
  const trace = momentumTransform({ decay: 1 - mu });
  const dim = target.dim;
  const gradient = new Float64Array(dim);
  const scaled = new Float64Array(dim);
  return {
    init(position: Vec, _key: Key): MomentumSgdState {
      if (position.length !== dim) {
        throw new ConstantSgdOptionError(`momentumSgd.init: position has length ${position.length}, target.dim is ${dim}`);
      }
      return { position: Float64Array.from(position), velocity: trace.init(position).trace, step: 0, gradientMean: null };
    },
    step(_key: Key, state: Readonly<MomentumSgdState>, batch: Batch): readonly [MomentumSgdState, MomentumSgdInfo] {
      if (state.position.length !== dim) {
        throw new ConstantSgdOptionError(`momentumSgd: state.position has length ${state.position.length}, target.dim is ${dim}`);
      }
      const t = state.step;
      const epsilon = learningRate(t);
      const { grad, logPosterior } = lossGradient(target, state.position, batch, gradient);
      for (let i = 0; i < dim; i++) scaled[i] = -epsilon * grad[i];
      const [velocity] = trace.update(scaled, { trace: state.velocity }, state.position, { step: t });
      const next = new Float64Array(dim);
      let gradSq = 0;
      for (let i = 0; i < dim; i++) {
        next[i] = state.position[i] + velocity[i];
        gradSq += grad[i] * grad[i];
      }
      const { mean, deviationNorm } = updateGradientMean(state.gradientMean, grad);
      const info: MomentumSgdInfo = {
        stepSize: epsilon,
        gradNorm: Math.sqrt(gradSq),
        noiseNorm: deviationNorm,
        effectiveRate: epsilon / mu,
        logPosterior,
      };
      return [{ position: next, velocity, step: t + 1, gradientMean: mean }, info] as const;
    },
  };
}
