/**
 * Core contracts shared by every algorithm in sgbayes (see DESIGN.md, "Core contracts").
 *
 * Samplers see flat `Float64Array` parameter vectors; models own their compute; random keys are
 * explicit arguments; a step never mutates the state it was given.
 */
import type { Key } from './random.js';
export type { Dataset, IndexBatch } from '../data/types.js';

/** A flat parameter vector. */
export type Vec = Float64Array;

/** A value with its gradient over the flat parameter vector. */
export interface ValueGrad {
  value: number;
  grad: Vec;
}

/** A learning rate, temperature or other per-step value: a constant or a function of the step. */
export type Schedule = number | ((step: number) => number);

/**
 * A model conditioned on data: a log density over a flat parameter vector, split into prior and
 * likelihood so that minibatch estimators can scale the likelihood by N/S.
 */
export interface Target<Batch> {
  /** Number of parameters. */
  readonly dim: number;
  /** N, the number of training examples (for minibatch scaling). */
  readonly dataSize: number;
  /** Log prior density (up to a constant) and its gradient. */
  logPrior(theta: Vec): ValueGrad;
  /** Log likelihood summed over the batch, and its gradient. */
  logLikelihood(theta: Vec, batch: Batch): ValueGrad;
  /**
   * Per-example gradients of the log likelihood: row i of `out` (row-major, batch size × dim)
   * receives ∇ log p(x_i | θ). Optional: only models that can give them cheaply implement it.
   */
  perExampleGrads?(theta: Vec, batch: Batch, out: Float64Array): void;
  /** Number of examples in a batch. */
  batchSize(batch: Batch): number;
  /** The whole training set as a batch (full-batch methods and diagnostics). */
  fullBatch(): Batch;
}

/** What every sampler step reports, so diagnostics never special-case a sampler. */
export interface StepInfo {
  stepSize: number;
  gradNorm: number;
  noiseNorm: number;
}

/** A sampler: pure steps over explicit state with an explicit key (DESIGN.md principle 2). */
export interface Sampler<State extends { position: Vec }, Info extends StepInfo, Batch> {
  init(position: Vec, key: Key): State;
  step(key: Key, state: Readonly<State>, batch: Batch): readonly [State, Info];
}

/** Context passed to a gradient transform. */
export interface TransformContext {
  step: number;
}

/** Optax-style gradient transform; preconditioners are transforms. */
export interface Transform<S> {
  init(params: Vec): S;
  update(grad: Vec, state: Readonly<S>, params: Vec, ctx: TransformContext): readonly [Vec, S];
}

/** A variational family over flat parameter vectors. */
export interface VariationalFamily<P> {
  init(mean: Vec, key: Key): P;
  /** A reparameterised draw. */
  sample(key: Key, p: P): Vec;
  logQ(theta: Vec, p: P): number;
  /** Closed-form KL to the prior, where it exists. */
  klToPrior?(p: P): number;
}

/** Evaluate a schedule at a step. */
export function scheduleValue(schedule: Schedule, step: number): number {
  return typeof schedule === 'number' ? schedule : schedule(step);
}
