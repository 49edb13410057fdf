/**
 * Custom models: a user writes a log density in TypeScript over named, shaped, constrained
 * parameters; autodiff supplies the gradient and the result is a `Target` over a flat
 * unconstrained vector, accepted by every sampler and variational method.
 */
import { identity, type Constraint } from '../autodiff/constraints.js';
import { add } from '../autodiff/elementwise.js';
import { AutodiffError, ShapeError, checkShape, formatShape, sameShape, sizeOf } from '../autodiff/shape.js';
import {
  BufferPool,
  Tensor,
  asTensor,
  backward,
  beginTape,
  endTape,
  variable,
  type TensorLike,
} from '../autodiff/tensor.js';
import type { Target, ValueGrad, Vec } from '../core/types.js';

/** A model specification or evaluation that cannot work: the message names the model and the part. */
export class CustomModelError extends AutodiffError {
  override name = 'CustomModelError';
}

/** One parameter: its constrained shape (a number n means [n]; omitted means a scalar) and support. */
export interface ParamSpec {
  readonly shape?: number | readonly number[];
  /** The support; default `identity` (all of ℝ). */
  readonly constraint?: Constraint;
}

/** Named parameter specifications. */
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** The constrained parameters handed to the user's functions, as tensors of the declared shapes. */
export type ParamTensors<P extends ParamSpecs> = { readonly [K in keyof P]: Tensor };

/** Constrained parameter values by name (row-major, declared shapes). */
export type ParamValues<P extends ParamSpecs> = { [K in keyof P]: Float64Array };

/** What `customModel` needs. Give `logLikelihood` (with the batch functions) or `logDensity`. */
export interface CustomModelOptions<Batch, P extends ParamSpecs> {
  /** Parameter names, shapes and constraints; the flat vector holds them in this order. */
  readonly params: P;
  /** log p(params) on the constrained scale (the log-Jacobian is added for you). Default 0. */
  logPrior?(params: ParamTensors<P>): TensorLike;
  /** log p(batch | params), the **sum** over the batch; samplers scale it by N/S. */
  logLikelihood?(params: ParamTensors<P>, batch: Batch): TensorLike;
  /**
   * The whole log density, for models without a prior/likelihood split: used as the likelihood
   * of a single-example data set (N = S = 1, so it is never rescaled), called with `fullBatch()`
   * (default null).
   */
  logDensity?(params: ParamTensors<P>, batch: Batch): TensorLike;
  /** N, the number of training examples (required with `logLikelihood`). */
  readonly dataSize?: number;
  /** Number of examples in a batch (required with `logLikelihood`). */
  batchSize?(batch: Batch): number;
  /** The whole data set as a batch (required with `logLikelihood`). */
  fullBatch?(): Batch;
  /** The one-example batch holding example `index` of `batch`; enables `perExampleGrads`. */
  sliceBatch?(batch: Batch, index: number): Batch;
  /** A name for error messages. */
  readonly name?: string;
}

/** Where one parameter lives in the flat unconstrained vector. */
export interface ParamLayout {
  readonly name: string;
  /** Constrained shape. */
  readonly shape: readonly number[];
  readonly constraint: Constraint;
  /** Unconstrained shape and its offset and size in the flat vector. */
  readonly unconstrainedShape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** A custom model: a `Target` over the flat unconstrained vector, plus conversions to named values. */
export interface CustomModel<Batch, P extends ParamSpecs> extends Target<Batch> {
  readonly layout: readonly ParamLayout[];
  /** Named constrained values of an unconstrained vector (copies). */
  constrain(theta: Vec): ParamValues<P>;
  /** The unconstrained vector of named constrained values (every parameter must be given). */
  unconstrain(values: { readonly [K in keyof P]: number | ArrayLike<number> }): Vec;
  /** A label per coordinate of the flat vector: `name` for scalars, `name[i]` (flat index) otherwise. */
  coordinateNames(): string[];
  /** log p(θ) + (N/S) log p(batch | θ) with its gradient (the full posterior by default). */
  logPosterior(theta: Vec, batch?: Batch): ValueGrad;
}

function shapeOf(spec: ParamSpec, where: string): number[] {
  const s = spec.shape === undefined ? [] : typeof spec.shape === 'number' ? [spec.shape] : spec.shape.slice();
  checkShape(s, where);
  return s;
}

/**
 * Build a `Target` from a log density written with autodiff ops over named constrained
 * parameters. The flat vector θ holds each parameter's unconstrained values in declaration order;
 * `logPrior(θ)` = log p(f(θ)) + log|det ∂f/∂θ| (change of variables onto the support), and
 * `logLikelihood(θ, batch)` = the user's batch sum. `perExampleGrads` exists when `sliceBatch` is
 * given (it loops over the examples).
 */
export function customModel<Batch = null, P extends ParamSpecs = ParamSpecs>(
  options: CustomModelOptions<Batch, P>,
): CustomModel<Batch, P> {
  const modelName = options.name ?? 'customModel';
  const names = Object.keys(options.params);
  if (names.length === 0) throw new CustomModelError(`${modelName}: params is empty`);
  const layout: ParamLayout[] = [];
  let dim = 0;
  for (const name of names) {
    const spec = options.params[name];
    const where = `${modelName}: parameter '${name}'`;
    const shape = shapeOf(spec, where);
    const constraint = spec.constraint ?? identity;
    const unconstrainedShape = constraint.unconstrainedShape(shape);
    const size = sizeOf(unconstrainedShape);
    layout.push({ name, shape, constraint, unconstrainedShape, offset: dim, size });
    dim += size;
  }

  const hasLik = typeof options.logLikelihood === 'function';
  const hasDensity = typeof options.logDensity === 'function';
  if (hasLik === hasDensity) {
    throw new CustomModelError(`${modelName}: give exactly one of logLikelihood and logDensity`);
  }
  let dataSize: number;
  let batchSize: (batch: Batch) => number;
  let fullBatch: () => Batch;
  let likelihood: (params: ParamTensors<P>, batch: Batch) => TensorLike;
  if (hasLik) {
    const { dataSize: n, batchSize: bs, fullBatch: fb } = options;
    if (n === undefined || !Number.isInteger(n) || n < 1) {
      throw new CustomModelError(`${modelName}: dataSize must be a positive integer with logLikelihood, got ${n}`);
    }
    if (typeof bs !== 'function' || typeof fb !== 'function') {
      throw new CustomModelError(`${modelName}: batchSize(batch) and fullBatch() are required with logLikelihood`);
    }
    dataSize = n;
    batchSize = bs;
    fullBatch = fb;
    likelihood = options.logLikelihood as typeof likelihood;
  } else {
    dataSize = 1;
    batchSize = () => 1;
    fullBatch = options.fullBatch ?? (() => null as Batch);
    likelihood = options.logDensity as typeof likelihood;
  }
  const userPrior = options.logPrior;

  function checkTheta(theta: Vec, method: string): void {
    if (!(theta instanceof Float64Array) || theta.length !== dim) {
      const got = theta instanceof Float64Array ? `length ${theta.length}` : String(theta);
      throw new CustomModelError(`${modelName}.${method}: theta must be a Float64Array of length ${dim}, got ${got}`);
    }
  }

  // Scratch copies of θ and of the gradient with one view per parameter, made once: an evaluation
  // then creates no typed-array views. `busy` sends a nested evaluation to fresh buffers instead.
  const thetaScratch = new Float64Array(dim);
  const gradScratch = new Float64Array(dim);
  const thetaViews = layout.map((p) => thetaScratch.subarray(p.offset, p.offset + p.size));
  const gradViews = layout.map((p) => gradScratch.subarray(p.offset, p.offset + p.size));
  let busy = false;
  // One buffer pool per function evaluated, so each replays its own allocation sequence.
  const priorPool = new BufferPool();
  const likelihoodPool = new BufferPool();
  const perExamplePool = new BufferPool();

  /**
   * Record f(constrained params) (+ the log-Jacobian when asked) on a fresh tape and
   * backpropagate into `grad` (accumulates; pass zeros).
   */
  function evaluate(
    theta: Vec,
    grad: Float64Array,
    withJacobian: boolean,
    f: ((params: ParamTensors<P>) => TensorLike) | undefined,
    part: string,
    pool: BufferPool,
  ): number {
    if (busy) return evaluateInto(theta, grad, withJacobian, f, part, null, null, null);
    busy = true;
    try {
      thetaScratch.set(theta);
      gradScratch.fill(0);
      const value = evaluateInto(thetaScratch, gradScratch, withJacobian, f, part, thetaViews, gradViews, pool);
      for (let i = 0; i < dim; i++) grad[i] += gradScratch[i];
      return value;
    } finally {
      busy = false;
    }
  }

  /** `evaluate` over given buffers, with their per-parameter views when already made. */
  function evaluateInto(
    theta: Vec,
    grad: Float64Array,
    withJacobian: boolean,
    f: ((params: ParamTensors<P>) => TensorLike) | undefined,
    part: string,
    thetaParts: readonly Float64Array[] | null,
    gradParts: readonly Float64Array[] | null,
    pool: BufferPool | null,
  ): number {
    const scope = beginTape(pool);
    try {
      const params: Record<string, Tensor> = {};
      let total: TensorLike = 0;
      for (let i = 0; i < layout.length; i++) {
        const p = layout[i];
        const end = p.offset + p.size;
        const u = variable(
          thetaParts === null ? theta.subarray(p.offset, end) : thetaParts[i],
          p.unconstrainedShape,
          gradParts === null ? grad.subarray(p.offset, end) : gradParts[i],
        );
        // The identity needs no transform, shape check or Jacobian term.
        if (p.constraint === identity) {
          params[p.name] = u;
          continue;
        }
        const { value, logJacobian } = p.constraint.forward(u, p.shape);
        if (!sameShape(value.shape, p.shape)) {
          throw new CustomModelError(
            `${modelName}: constraint ${p.constraint.name} of '${p.name}' gave shape ${formatShape(value.shape)}, expected ${formatShape(p.shape)}`,
          );
        }
        params[p.name] = value;
        if (withJacobian && logJacobian !== 0) total = add(total, logJacobian);
      }
      if (f) {
        const v = asTensor(f(params as ParamTensors<P>));
        if (v.size !== 1) {
          throw new ShapeError(
            `${modelName}.${part} must return a scalar (sum over examples), got shape ${formatShape(v.shape)}`,
          );
        }
        total = total === 0 ? v : add(total, v);
      }
      const out = asTensor(total);
      backward(scope.tape, out);
      return out.data[0];
    } finally {
      endTape(scope);
    }
  }

  const model: CustomModel<Batch, P> = {
    dim,
    dataSize,
    layout,
    batchSize,
    fullBatch,
    logPrior(theta: Vec): ValueGrad {
      checkTheta(theta, 'logPrior');
      const grad = new Float64Array(dim);
      const value = evaluate(theta, grad, true, userPrior, 'logPrior', priorPool);
      return { value, grad };
    },
    logLikelihood(theta: Vec, batch: Batch): ValueGrad {
      checkTheta(theta, 'logLikelihood');
      const grad = new Float64Array(dim);
      const value = evaluate(
        theta,
        grad,
        false,
        (params) => likelihood(params, batch),
        hasLik ? 'logLikelihood' : 'logDensity',
        likelihoodPool,
      );
      return { value, grad };
    },
    logPosterior(theta: Vec, batch?: Batch): ValueGrad {
      const b = batch === undefined ? fullBatch() : batch;
      const prior = model.logPrior(theta);
      const lik = model.logLikelihood(theta, b);
      const scale = dataSize / batchSize(b);
      const grad = prior.grad;
      for (let i = 0; i < dim; i++) grad[i] += scale * lik.grad[i];
      return { value: prior.value + scale * lik.value, grad };
    },
    constrain(theta: Vec): ParamValues<P> {
      checkTheta(theta, 'constrain');
      const out: Record<string, Float64Array> = {};
      for (const p of layout) {
        const u = new Tensor(theta.subarray(p.offset, p.offset + p.size), p.unconstrainedShape);
        out[p.name] = Float64Array.from(p.constraint.forward(u, p.shape).value.data);
      }
      return out as ParamValues<P>;
    },
    unconstrain(values): Vec {
      const theta = new Float64Array(dim);
      for (const p of layout) {
        const v = (values as Record<string, number | ArrayLike<number> | undefined>)[p.name];
        const where = `${modelName}.unconstrain: parameter '${p.name}'`;
        if (v === undefined) throw new CustomModelError(`${where} is missing`);
        const arr = typeof v === 'number' ? [v] : v;
        const expected = sizeOf(p.shape);
        if (arr.length !== expected) {
          throw new CustomModelError(`${where} has ${arr.length} values, shape ${formatShape(p.shape)} needs ${expected}`);
        }
        theta.set(p.constraint.inverse(arr, p.shape, where), p.offset);
      }
      return theta;
    },
    coordinateNames(): string[] {
      const labels: string[] = [];
      for (const p of layout) {
        if (p.unconstrainedShape.length === 0) labels.push(p.name);
        else for (let i = 0; i < p.size; i++) labels.push(`${p.name}[${i}]`);
      }
      return labels;
    },
  };

  const slicer = options.sliceBatch;
  if (slicer) {
    model.perExampleGrads = (theta: Vec, batch: Batch, out: Float64Array): void => {
      checkTheta(theta, 'perExampleGrads');
      const s = batchSize(batch);
      if (out.length < s * dim) {
        throw new CustomModelError(`${modelName}.perExampleGrads: out has ${out.length} entries, needs ${s} × ${dim}`);
      }
      for (let i = 0; i < s; i++) {
        const row = out.subarray(i * dim, (i + 1) * dim);
        row.fill(0);
        const one = slicer(batch, i);
        evaluate(theta, row, false, (params) => likelihood(params, one), 'logLikelihood', perExamplePool);
      }
    };
  }
  return model;
}
