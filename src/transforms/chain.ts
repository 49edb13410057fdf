/**
 * Optax-style composition of gradient transforms (Babuschkin et al. 2020, "The DeepMind JAX
 * ecosystem", optax): a `Transform` maps a gradient to an update and threads its own state; `chain`
 * runs several in sequence. Transforms never mutate the gradient or state they are given.
 *
 * Sign convention: `scaleBy*` transforms only rescale (no sign change); the optimiser aliases
 * (`adam`, `sgd`) return updates to ADD to the parameters for descent on a loss gradient, as in Optax.
 */
import type { Schedule, Transform, TransformContext, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import { TransformError } from './errors.js';

/** The state type of a transform. */
export type TransformState<T> = T extends Transform<infer S> ? S : never;

/** The tuple of the states of a tuple of transforms. */
export type ChainState<T extends readonly Transform<unknown>[]> = { -readonly [K in keyof T]: TransformState<T[K]> };

/**
 * Run transforms in sequence: the update of each is the gradient of the next,
 * u = t_k(… t_2(t_1(g)) …); the state is the tuple of their states.
 *
 * @example
 * const opt = chain(scaleByRms({ decay: 0.9, eps: 1e-8 }), scaleBySchedule(-0.01));
 */
export function chain<const T extends readonly Transform<unknown>[]>(...transforms: T): Transform<ChainState<T>> {
  return {
    init(params: Vec): ChainState<T> {
      return transforms.map((t) => t.init(params)) as ChainState<T>;
    },
    update(grad: Vec, state: Readonly<ChainState<T>>, params: Vec, ctx: TransformContext): readonly [Vec, ChainState<T>] {
      const states = state as readonly unknown[];
      if (states.length !== transforms.length) {
        throw new TransformError(`chain: state has ${states.length} entries, the chain has ${transforms.length} transforms`);
      }
      let update = grad;
      const next: unknown[] = new Array(transforms.length);
      for (let i = 0; i < transforms.length; i++) {
        // Each entry of the tuple is the state of the transform at the same index (ChainState).
        const [u, s] = transforms[i].update(update, states[i] as never, params, ctx);
        update = u;
        next[i] = s;
      }
      // A chain of no transforms still returns a fresh array, so callers may own the result.
      if (update === grad) update = Float64Array.from(grad);
      return [update, next as ChainState<T>] as const;
    },
  };
}

/** u = c·g with a constant factor c (Optax `scale`). Stateless (state `null`). */
export function scale(factor: number): Transform<null> {
  if (!Number.isFinite(factor)) throw new TransformError(`scale: factor must be finite, got ${factor}`);
  return {
    init: () => null,
    update(grad: Vec): readonly [Vec, null] {
      const out = new Float64Array(grad.length);
      for (let i = 0; i < grad.length; i++) out[i] = factor * grad[i];
      return [out, null] as const;
    },
  };
}

/**
 * u = s(t)·g with s a schedule evaluated at `ctx.step` (Optax `scale_by_schedule`; here the step
 * comes from the caller's context, so the transform is stateless).
 */
export function scaleBySchedule(schedule: Schedule): Transform<null> {
  return {
    init: () => null,
    update(grad: Vec, _state: null, _params: Vec, ctx: TransformContext): readonly [Vec, null] {
      const factor = scheduleValue(schedule, ctx.step);
      if (!Number.isFinite(factor)) {
        throw new TransformError(`scaleBySchedule: the schedule at step ${ctx.step} is ${factor}, not a finite number`);
      }
      const out = new Float64Array(grad.length);
      for (let i = 0; i < grad.length; i++) out[i] = factor * grad[i];
      return [out, null] as const;
    },
  };
}

/** θ + u as a fresh vector (Optax `apply_updates`). */
export function applyUpdates(params: Vec, updates: Vec): Vec {
  if (params.length !== updates.length) {
    throw new TransformError(`applyUpdates: params have length ${params.length}, updates ${updates.length}`);
  }
  const out = new Float64Array(params.length);
  for (let i = 0; i < params.length; i++) out[i] = params[i] + updates[i];
  return out;
}
