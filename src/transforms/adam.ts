/** Adam as gradient transforms: the moment scaling and the optimiser alias. */
import type { Schedule, Transform, Vec } from '../core/types.js';
import { chain, scaleBySchedule, type ChainState } from './chain.js';
import { checkLength, checkOption } from './errors.js';

/** The state of {@link scaleByAdam}: step count and the two moment estimates. */
export interface AdamState {
  /** Number of updates so far. */
  readonly count: number;
  /** m, the running mean of gradients. */
  readonly mu: Vec;
  /** v, the running mean of squared gradients. */
  readonly nu: Vec;
}

/** Options of {@link scaleByAdam}. */
export interface AdamScalingOptions {
  /** β₁ (default 0.9). */
  b1?: number;
  /** β₂ (default 0.999). */
  b2?: number;
  /** ε added to √v̂ (default 1e-8). */
  eps?: number;
}

/** Options of {@link adam}. */
export interface AdamOptions extends AdamScalingOptions {
  /** The learning rate: a constant or a schedule of the step. */
  lr: Schedule;
}

/**
 * Adam's moment scaling (Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR, Alg. 1):
 *
 *   m_t = β₁ m_{t−1} + (1−β₁) g,  v_t = β₂ v_{t−1} + (1−β₂) g²,
 *   u_t = m̂_t / (√v̂_t + ε),  m̂_t = m_t/(1−β₁ᵗ),  v̂_t = v_t/(1−β₂ᵗ).
 */
export function scaleByAdam(options: AdamScalingOptions = {}): Transform<AdamState> {
  const b1 = checkOption('scaleByAdam', 'b1', options.b1 ?? 0.9, 'unitInterval');
  const b2 = checkOption('scaleByAdam', 'b2', options.b2 ?? 0.999, 'unitInterval');
  const eps = checkOption('scaleByAdam', 'eps', options.eps ?? 1e-8, 'nonNegative');
  return {
    init: (params) => ({ count: 0, mu: new Float64Array(params.length), nu: new Float64Array(params.length) }),
    update(grad, state) {
      checkLength('scaleByAdam', grad, state.mu.length);
      const count = state.count + 1;
      const correction1 = 1 - b1 ** count;
      const correction2 = 1 - b2 ** count;
      const mu = new Float64Array(grad.length);
      const nu = new Float64Array(grad.length);
      const out = new Float64Array(grad.length);
      for (let i = 0; i < grad.length; i++) {
        mu[i] = b1 * state.mu[i] + (1 - b1) * grad[i];
        nu[i] = b2 * state.nu[i] + (1 - b2) * grad[i] * grad[i];
        out[i] = mu[i] / correction1 / (Math.sqrt(nu[i] / correction2) + eps);
      }
      return [out, { count, mu, nu }] as const;
    },
  };
}

/**
 * The Adam optimiser (Kingma & Ba 2015): `chain(scaleByAdam, scaleBySchedule(−lr))`, so the update
 * u = −lr_t m̂_t/(√v̂_t + ε) is added to the parameters to descend a loss gradient g.
 *
 * @example
 * const opt = adam({ lr: 1e-3 });
 * let s = opt.init(theta);
 * const [u, s2] = opt.update(lossGrad, s, theta, { step: 0 });
 * theta = applyUpdates(theta, u);
 */
export function adam(options: AdamOptions): Transform<ChainState<readonly [Transform<AdamState>, Transform<null>]>> {
  const lr = options.lr;
  const negated = typeof lr === 'number' ? -lr : (step: number) => -lr(step);
  return chain(scaleByAdam(options), scaleBySchedule(negated));
}

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** The learning rate: a constant or a schedule of the step. */
  lr: Schedule;
}

/** Plain SGD as a transform: u = −lr_t g (Robbins & Monro 1951). */
export function sgd(options: SgdOptions): Transform<null> {
  const lr = options.lr;
  return scaleBySchedule(typeof lr === 'number' ? -lr : (step: number) => -lr(step));
}

