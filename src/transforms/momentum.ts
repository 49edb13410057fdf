/** Heavy-ball momentum as a gradient transform (Optax `trace`). */
import type { Transform, Vec } from '../core/types.js';
import { checkLength, checkOption } from './errors.js';

/** The state of {@link momentum}: the running trace v. */
export interface MomentumState {
  readonly trace: Vec;
}

/** Options of {@link momentum}. */
export interface MomentumOptions {
  /** β ∈ [0, 1): the fraction of the previous trace kept each step. */
  decay: number;
  /** Nesterov's variant: u = β v_t + g instead of u = v_t (default false). */
  nesterov?: boolean;
}

/**
 * Heavy-ball momentum (Polyak 1964; Optax `trace`):
 *
 *   v_t = β v_{t−1} + g_t,   u_t = v_t   (Nesterov: u_t = β v_t + g_t),
 *
 * with v_0 = 0. Mandt, Hoffman & Blei 2017 (Sec. 4.3) write momentum SGD as v ← (1−μ)v − εĝ, which is
 * this transform with β = 1 − μ applied to −εĝ.
 */
export function momentum(options: MomentumOptions): Transform<MomentumState> {
  const decay = checkOption('momentum', 'decay', options.decay, 'unitInterval');
  const nesterov = options.nesterov ?? false;
  return {
    init: (params) => ({ trace: new Float64Array(params.length) }),
    update(grad, state) {
      checkLength('momentum', grad, state.trace.length);
      const trace = new Float64Array(grad.length);
      for (let i = 0; i < grad.length; i++) trace[i] = decay * state.trace[i] + grad[i];
      let out = trace;
      if (nesterov) {
        out = new Float64Array(grad.length);
        for (let i = 0; i < grad.length; i++) out[i] = decay * trace[i] + grad[i];
      }
      return [out, { trace }] as const;
    },
  };
}
