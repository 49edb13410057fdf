/**
 * Preconditioners as shared gradient transforms: constant SGD, momentum SGD, IASG and SGFS all
 * apply H through {@link applyPreconditioner}, so none keeps its own copy of the arithmetic.
 */
import type { Transform, Vec } from '../core/types.js';
import type { Preconditioner } from '../noise/types.js';
import { TransformError, checkLength } from './errors.js';

export type { Preconditioner };

/** The state of {@link scaleByPreconditioner}: the H in force (replaceable, e.g. after adaptation). */
export interface PreconditionerState {
  readonly preconditioner: Preconditioner;
}

/**
 * Throw a `TransformError` naming `where` unless `p` is a well-formed preconditioner for `dim`
 * parameters: a finite rate > 0, a diagonal of `dim` finite entries ≥ 0 (not all 0), or a finite
 * symmetric d×d H.
 */
export function checkPreconditioner(p: Preconditioner, dim: number, where: string): Preconditioner {
  if (p === null || typeof p !== 'object') throw new TransformError(`${where}: preconditioner must be an object, got ${String(p)}`);
  switch (p.kind) {
    case 'scalar':
      if (!(Number.isFinite(p.rate) && p.rate > 0)) {
        throw new TransformError(`${where}: scalar preconditioner rate must be a finite number > 0, got ${p.rate}`);
      }
      return p;
    case 'diagonal': {
      if (!(p.h instanceof Float64Array) || p.h.length !== dim) {
        throw new TransformError(`${where}: diagonal preconditioner h must be a Float64Array of length ${dim}, got length ${p.h?.length}`);
      }
      let positive = false;
      for (let i = 0; i < dim; i++) {
        if (!(Number.isFinite(p.h[i]) && p.h[i] >= 0)) {
          throw new TransformError(`${where}: diagonal preconditioner h[${i}] must be a finite number ≥ 0, got ${p.h[i]}`);
        }
        if (p.h[i] > 0) positive = true;
      }
      if (!positive && dim > 0) throw new TransformError(`${where}: diagonal preconditioner h is all zeros`);
      return p;
    }
    case 'full': {
      if (!(p.H instanceof Float64Array) || p.H.length !== dim * dim) {
        throw new TransformError(`${where}: full preconditioner H must be a Float64Array of length ${dim}×${dim} = ${dim * dim}, got length ${p.H?.length}`);
      }
      for (let i = 0; i < dim; i++) {
        for (let j = 0; j < dim; j++) {
          const a = p.H[i * dim + j];
          if (!Number.isFinite(a)) throw new TransformError(`${where}: full preconditioner H[${i}, ${j}] is ${a}, not finite`);
          const b = p.H[j * dim + i];
          if (j > i && Math.abs(a - b) > 1e-10 * (Math.abs(a) + Math.abs(b) + 1e-300)) {
            throw new TransformError(`${where}: full preconditioner H is not symmetric: H[${i}, ${j}] = ${a}, H[${j}, ${i}] = ${b}`);
          }
        }
      }
      return p;
    }
    default:
      throw new TransformError(`${where}: unknown preconditioner kind '${(p as { kind: unknown }).kind}' (expected 'scalar', 'diagonal' or 'full')`);
  }
}

/**
 * out = H g for a preconditioner H (scalar rate·g, diag(h) g, or the full product). `out` must not
 * alias `g` for a full H.
 */
export function applyPreconditioner(p: Preconditioner, g: Vec, out: Vec = new Float64Array(g.length)): Vec {
  const d = g.length;
  switch (p.kind) {
    case 'scalar':
      for (let i = 0; i < d; i++) out[i] = p.rate * g[i];
      break;
    case 'diagonal':
      for (let i = 0; i < d; i++) out[i] = p.h[i] * g[i];
      break;
    case 'full':
      for (let i = 0; i < d; i++) {
        let s = 0;
        const row = i * d;
        for (let j = 0; j < d; j++) s += p.H[row + j] * g[j];
        out[i] = s;
      }
      break;
  }
  return out;
}

/**
 * The mean of the diagonal of H: the rate for a scalar H, mean(h) for a diagonal one, Tr(H)/d for a
 * full one. This is what samplers report as their `stepSize`.
 */
export function meanStepSize(p: Preconditioner, dim: number): number {
  if (p.kind === 'scalar') return p.rate;
  let s = 0;
  if (p.kind === 'diagonal') for (let i = 0; i < dim; i++) s += p.h[i];
  else for (let i = 0; i < dim; i++) s += p.H[i * dim + i];
  return dim > 0 ? s / dim : 0;
}

/** H as a dense d×d row-major matrix (a fresh array). */
export function preconditionerMatrix(p: Preconditioner, dim: number): Float64Array {
  if (p.kind === 'full') return Float64Array.from(p.H);
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) out[i * dim + i] = p.kind === 'scalar' ? p.rate : p.h[i];
  return out;
}

/**
 * u = H g as a transform (Mandt, Hoffman & Blei 2017, Eq. 17: preconditioned SGD θ ← θ − H ĝ_S, the
 * sign applied by the sampler). The preconditioner lives in the state, so an adaptive sampler can
 * replace it (e.g. with the optimal H of Theorem 2 once the noise is estimated) without a new transform.
 *
 * @throws TransformError if `p` is malformed for the parameters passed to `init`.
 */
export function scaleByPreconditioner(p: Preconditioner): Transform<PreconditionerState> {
  return {
    init(params) {
      return { preconditioner: checkPreconditioner(p, params.length, 'scaleByPreconditioner') };
    },
    update(grad, state) {
      const h = state.preconditioner;
      if (h.kind === 'diagonal') checkLength('scaleByPreconditioner', grad, h.h.length);
      if (h.kind === 'full' && h.H.length !== grad.length * grad.length) {
        throw new TransformError(`scaleByPreconditioner: gradient has length ${grad.length}, H has ${h.H.length} entries`);
      }
      return [applyPreconditioner(h, grad), state] as const;
    },
  };
}
