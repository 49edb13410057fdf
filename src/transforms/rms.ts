/** RMSprop scaling as a gradient transform: the preconditioner of pSGLD (Li et al. 2016). */
import type { Transform, Vec } from '../core/types.js';
import { checkLength, checkOption } from './errors.js';

/** The state of {@link scaleByRms}: the running mean of squared gradients V. */
export interface RmsState {
  readonly meanSquare: Vec;
}

/** Options of {@link scaleByRms}. */
export interface RmsOptions {
  /** α ∈ [0, 1): weight of the previous V (default 0.99, Li et al. 2016). */
  decay?: number;
  /** λ > 0 added to √V so the scaling stays bounded where V ≈ 0 (default 1e-5, Li et al. 2016). */
  eps?: number;
  /** V_0, the initial mean square (default 0). */
  initialMeanSquare?: number;
}

/**
 * The diagonal G = 1 ⊘ (λ + √V) of an RMSprop state (Li, Chen, Carlson & Carin 2016,
 * "Preconditioned stochastic gradient Langevin dynamics for deep neural networks", AAAI, Eq. 4).
 */
export function rmsDiagonal(state: Readonly<RmsState>, eps: number, out: Vec = new Float64Array(state.meanSquare.length)): Vec {
  const v = state.meanSquare;
  for (let i = 0; i < v.length; i++) out[i] = 1 / (eps + Math.sqrt(v[i]));
  return out;
}

/**
 * RMSprop scaling (Tieleman & Hinton 2012; in the form of Li et al. 2016, Eq. 4):
 *
 *   V_t = α V_{t−1} + (1 − α) g_t ⊙ g_t,   u_t = G_t g_t,   G_t = diag(1 ⊘ (λ + √V_t)).
 *
 * The same transform preconditions pSGLD and RMSprop optimisers. `eps` is exposed on the
 * transform so a sampler can rebuild G from the state with {@link rmsDiagonal}.
 */
export function scaleByRms(options: RmsOptions = {}): Transform<RmsState> & { readonly eps: number; readonly decay: number } {
  const decay = checkOption('scaleByRms', 'decay', options.decay ?? 0.99, 'unitInterval');
  const eps = checkOption('scaleByRms', 'eps', options.eps ?? 1e-5, 'positive');
  const initial = checkOption('scaleByRms', 'initialMeanSquare', options.initialMeanSquare ?? 0, 'nonNegative');
  return {
    eps,
    decay,
    init: (params) => ({ meanSquare: new Float64Array(params.length).fill(initial) }),
    update(grad, state) {
      checkLength('scaleByRms', grad, state.meanSquare.length);
      const meanSquare = new Float64Array(grad.length);
      const out = new Float64Array(grad.length);
      for (let i = 0; i < grad.length; i++) {
        const v = decay * state.meanSquare[i] + (1 - decay) * grad[i] * grad[i];
        meanSquare[i] = v;
        out[i] = grad[i] / (eps + Math.sqrt(v));
      }
      return [out, { meanSquare }] as const;
    },
  };
}
