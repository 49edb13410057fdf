/**
 * Constraining transforms: smooth bijections from unconstrained real vectors onto a parameter's
 * support, with the log absolute Jacobian determinant that the density of the unconstrained
 * variable needs: p_u(u) = p_x(f(u)) · |det ∂f/∂u| (Stan Reference Manual, "Constraint
 * Transforms"). Samplers then work on ℝⁿ.
 */
import { cumsum, sum } from './reduce.js';
import { add, exp, logSigmoid, mul, neg, sigmoid, sub } from './elementwise.js';
import { concat, reshape, slice } from './indexing.js';
import { AutodiffError, ShapeError, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, full, type TensorLike } from './tensor.js';

/** A value outside a constraint's support was given where a constrained value was expected. */
export class ConstraintError extends AutodiffError {
  override name = 'ConstraintError';
}

/** A bijection from unconstrained space onto a parameter's support. */
export interface Constraint {
  /** A short description for messages, e.g. `interval(0, 1)`. */
  readonly name: string;
  /** The unconstrained shape that maps onto a constrained value of `shape`. */
  unconstrainedShape(shape: Shape): number[];
  /**
   * x = f(u) on the active tape and log|det ∂f/∂u| (a scalar tensor or a number), where `u` has
   * the unconstrained shape and x the constrained `shape`.
   */
  forward(u: Tensor, shape: Shape): { value: Tensor; logJacobian: TensorLike };
  /** u = f⁻¹(x) for a constrained value; throws a ConstraintError naming `where` if x is outside the support. */
  inverse(x: ArrayLike<number>, shape: Shape, where: string): Float64Array;
}

function elementwiseShape(shape: Shape): number[] {
  return shape.slice();
}

/** No constraint: x = u, log-Jacobian 0. */
export const identity: Constraint = {
  name: 'identity',
  unconstrainedShape: elementwiseShape,
  forward: (u) => ({ value: u, logJacobian: 0 }),
  inverse: (x) => Float64Array.from(x),
};

/** x > lo: x = lo + eᵘ, log|J| = Σ u. */
export function lowerBounded(lo: number): Constraint {
  if (!Number.isFinite(lo)) throw new ConstraintError(`lowerBounded(lo): lo must be finite, got ${lo}`);
  return {
    name: lo === 0 ? 'positive' : `lowerBounded(${lo})`,
    unconstrainedShape: elementwiseShape,
    forward: (u) => ({ value: lo === 0 ? exp(u) : add(exp(u), lo), logJacobian: sum(u) }),
    inverse: (x, _shape, where) => {
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        if (!(x[i] > lo)) throw new ConstraintError(`${where}: element ${i} = ${x[i]} is not > ${lo}`);
        out[i] = Math.log(x[i] - lo);
      }
      return out;
    },
  };
}

/** x < hi: x = hi − eᵘ, log|J| = Σ u. */
export function upperBounded(hi: number): Constraint {
  if (!Number.isFinite(hi)) throw new ConstraintError(`upperBounded(hi): hi must be finite, got ${hi}`);
  return {
    name: `upperBounded(${hi})`,
    unconstrainedShape: elementwiseShape,
    forward: (u) => ({ value: sub(hi, exp(u)), logJacobian: sum(u) }),
    inverse: (x, _shape, where) => {
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        if (!(x[i] < hi)) throw new ConstraintError(`${where}: element ${i} = ${x[i]} is not < ${hi}`);
        out[i] = Math.log(hi - x[i]);
      }
      return out;
    },
  };
}

/** x > 0: x = eᵘ, log|J| = Σ u. */
export const positive: Constraint = lowerBounded(0);

/**
 * lo < x < hi: x = lo + (hi − lo) σ(u), log|J| = Σ [log(hi − lo) + log σ(u) + log σ(−u)].
 */
export function interval(lo: number, hi: number): Constraint {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new ConstraintError(`interval(lo, hi): need finite lo < hi, got (${lo}, ${hi})`);
  }
  const width = hi - lo;
  const logWidth = Math.log(width);
  return {
    name: lo === 0 && hi === 1 ? 'unitInterval' : `interval(${lo}, ${hi})`,
    unconstrainedShape: elementwiseShape,
    forward: (u) => {
      const s = sigmoid(u);
      const value = lo === 0 && hi === 1 ? s : add(mul(s, width), lo);
      const logJacobian = add(add(sum(logSigmoid(u)), sum(logSigmoid(neg(u)))), u.size * logWidth);
      return { value, logJacobian };
    },
    inverse: (x, _shape, where) => {
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const xi = x[i];
        if (!(xi > lo && xi < hi)) {
          throw new ConstraintError(`${where}: element ${i} = ${xi} is not in the open interval (${lo}, ${hi})`);
        }
        const t = (xi - lo) / width;
        out[i] = Math.log(t) - Math.log1p(-t);
      }
      return out;
    },
  };
}

/** 0 < x < 1: x = σ(u), log|J| = Σ [log σ(u) + log σ(−u)]. */
export const unitInterval: Constraint = interval(0, 1);

function simplexExtent(shape: Shape, where: string): number {
  const k = shape.length === 0 ? 0 : shape[shape.length - 1];
  if (k < 2) {
    throw new ShapeError(`${where}: a simplex needs a last axis of extent ≥ 2, got shape ${formatShape(shape)}`);
  }
  return k;
}

/**
 * Probability vectors along the last axis (xₖ > 0, Σ xₖ = 1), by stick-breaking as in Stan:
 * for k = 1..K−1, zₖ = σ(uₖ − log(K − k)), xₖ = (1 − Σ_{j<k} xⱼ) zₖ, and x_K takes the rest.
 * u = 0 maps to the uniform vector. log|J| = Σₖ [log zₖ + log(1 − zₖ) + log(1 − Σ_{j<k} xⱼ)].
 * Computed in log space: log xₖ = log zₖ + Σ_{j<k} log(1 − zⱼ).
 */
export const simplex: Constraint = {
  name: 'simplex',
  unconstrainedShape: (shape) => {
    const k = simplexExtent(shape, 'simplex');
    const s = shape.slice();
    s[s.length - 1] = k - 1;
    return s;
  },
  forward: (u, shape) => {
    const k = simplexExtent(shape, 'simplex');
    const rows = sizeOf(shape) / k;
    const offsets = new Float64Array(k - 1);
    for (let j = 0; j < k - 1; j++) offsets[j] = -Math.log(k - 1 - j);
    const s = add(reshape(u, [rows, k - 1]), new Tensor(offsets, [k - 1]));
    const logZ = logSigmoid(s);
    const logOneMinusZ = logSigmoid(neg(s));
    const zeroColumn = full([rows, 1], 0);
    // logStick[:, k] = Σ_{j<k} log(1 − z_j): the log of what remains of the stick before piece k.
    const logStick = cumsum(concat([logOneMinusZ, zeroColumn], 1), 1, true);
    const logX = add(concat([logZ, zeroColumn], 1), logStick);
    const value = reshape(exp(logX), shape);
    const logJacobian = add(add(sum(logZ), sum(logOneMinusZ)), sum(slice(logStick, 0, k - 1, 1)));
    return { value, logJacobian };
  },
  inverse: (x, shape, where) => {
    const k = simplexExtent(shape, where);
    const rows = x.length / k;
    const out = new Float64Array(rows * (k - 1));
    for (let r = 0; r < rows; r++) {
      let total = 0;
      for (let j = 0; j < k; j++) {
        const v = x[r * k + j];
        if (!(v > 0)) throw new ConstraintError(`${where}: element ${r * k + j} = ${v} of a simplex is not > 0`);
        total += v;
      }
      if (Math.abs(total - 1) > 1e-8) {
        throw new ConstraintError(`${where}: simplex row ${r} sums to ${total}, not 1`);
      }
      let stick = 1;
      for (let j = 0; j < k - 1; j++) {
        const v = x[r * k + j];
        const z = Math.min(v / stick, 1);
        out[r * (k - 1) + j] = Math.log(z) - Math.log1p(-z) + Math.log(k - 1 - j);
        stick -= v;
      }
    }
    return out;
  },
};
