/**
 * Gradient estimators of the log posterior from a target's prior and likelihood.
 */
import type { Target, ValueGrad, Vec } from '../core/types.js';
import { ModelError } from './common.js';

/**
 * A model's allocation-free minibatch kernel: writes ∇log p(θ) + scale · ∇ Σ_batch log p(x|θ) into
 * `out` and returns log p(θ) + scale · Σ_batch log p(x|θ), with the same numbers and errors as
 * calling `logPrior` and `logLikelihood` and combining them.
 */
export type ScaledLogPosterior<Batch> = (theta: Vec, batch: Batch, scale: number, out: Vec) => number;

const scaledKernels = new WeakMap<object, ScaledLogPosterior<unknown>>();

/**
 * Registers `kernel` as the fused form of `target`'s prior plus scaled likelihood, so that
 * {@link minibatchGradient} and {@link fullGradient} skip the two temporary gradients. Used by the
 * built-in models; a kernel must agree with `logPrior` and `logLikelihood` bit for bit.
 */
export function registerScaledLogPosterior<Batch>(target: Target<Batch>, kernel: ScaledLogPosterior<Batch>): void {
  scaledKernels.set(target, kernel as ScaledLogPosterior<unknown>);
}

/**
 * Registers the fused kernel that the built-in models share: `logLikelihoodInto` writes the batch's
 * likelihood gradient into a scratch vector, `logPriorInto` the prior gradient into `out`, and
 * `out` becomes ∇log p(θ) + scale · ∇ Σ_batch log p(x|θ). `check` validates θ first (it throws
 * the model's own error). The prior goes last because it reads each θ_i before writing out_i, so
 * `out` may alias θ.
 */
export function registerFusedLogPosterior<Batch>(
  target: Target<Batch>,
  check: (theta: Vec) => void,
  logPriorInto: (theta: Vec, grad: Vec) => number,
  logLikelihoodInto: (theta: Vec, batch: Batch, grad: Vec) => number,
): void {
  const dim = target.dim;
  const likelihoodGrad = new Float64Array(dim);
  registerScaledLogPosterior(target, (theta, batch, scale, out) => {
    check(theta);
    likelihoodGrad.fill(0);
    const likelihood = logLikelihoodInto(theta, batch, likelihoodGrad);
    const prior = logPriorInto(theta, out);
    for (let i = 0; i < dim; i++) out[i] = out[i] + scale * likelihoodGrad[i];
    return prior + scale * likelihood;
  });
}

/** The fused kernel registered for `target`, if any. */
export function scaledLogPosteriorOf<Batch>(target: Target<Batch>): ScaledLogPosterior<Batch> | undefined {
  return scaledKernels.get(target) as ScaledLogPosterior<Batch> | undefined;
}

/**
 * A model's allocation-free kernel for a minibatch's per-example gradients and its fused gradient
 * in one pass: writes the S×d per-example log-likelihood gradients (the rows of
 * `target.perExampleGrads`) into `perExample`, ∇log p(θ) + scale · ∇ Σ_batch log p(x|θ) into `out`,
 * and returns log p(θ) + scale · Σ_batch log p(x|θ): the same numbers and errors as
 * `perExampleGrads` followed by the {@link ScaledLogPosterior} kernel, with the shared work done once.
 */
export type ScaledLogPosteriorWithExamples<Batch> = (theta: Vec, batch: Batch, scale: number, out: Vec, perExample: Float64Array) => number;

const withExamplesKernels = new WeakMap<object, ScaledLogPosteriorWithExamples<unknown>>();

/**
 * Registers `kernel` as `target`'s one-pass per-example gradients plus fused minibatch gradient
 * (used by samplers that estimate the gradient noise, e.g. adaptive constant SGD). A kernel must
 * agree bit for bit with `perExampleGrads` and the registered {@link ScaledLogPosterior}.
 */
export function registerScaledLogPosteriorWithExamples<Batch>(target: Target<Batch>, kernel: ScaledLogPosteriorWithExamples<Batch>): void {
  withExamplesKernels.set(target, kernel as ScaledLogPosteriorWithExamples<unknown>);
}

/** The one-pass per-example and fused kernel registered for `target`, if any. */
export function scaledLogPosteriorWithExamplesOf<Batch>(target: Target<Batch>): ScaledLogPosteriorWithExamples<Batch> | undefined {
  return withExamplesKernels.get(target) as ScaledLogPosteriorWithExamples<Batch> | undefined;
}

function outputBuffer(where: string, dim: number, out: Vec | undefined): Vec {
  if (out === undefined) return new Float64Array(dim);
  if (!(out instanceof Float64Array) || out.length !== dim) {
    throw new ModelError(`${where}: out must be a Float64Array of length target.dim = ${dim}, got length ${out?.length}`);
  }
  return out;
}

/**
 * The unbiased minibatch estimate of the log posterior and its gradient (Welling & Teh 2011,
 * "Bayesian learning via stochastic gradient Langevin dynamics", ICML, Eq. 4; Mandt, Hoffman &
 * Blei 2017, JMLR 18, Eq. 4 scaled by −N to the posterior):
 *
 *   ĝ(θ) = ∇ log p(θ) + (N/S) Σ_{n∈batch} ∇ log p(x_n | θ),
 *   value = log p(θ) + (N/S) Σ_{n∈batch} log p(x_n | θ),
 *
 * with N = `target.dataSize` and S = `target.batchSize(batch)`. Over uniformly drawn batches (or
 * averaged over the batches of an epoch that partitions the data into equal sizes)
 * E ĝ = ∇ log p(θ | data).
 *
 * @param out - optional buffer of length `target.dim` for the gradient; when given it is the
 *   returned `grad` (overwritten), otherwise `grad` is a fresh array.
 * @throws ModelError for an empty batch or an `out` of the wrong length.
 */
export function minibatchGradient<Batch>(target: Target<Batch>, theta: Vec, batch: Batch, out?: Vec): ValueGrad {
  const where = 'minibatchGradient';
  const grad = outputBuffer(where, target.dim, out);
  const S = target.batchSize(batch);
  if (!(S > 0)) throw new ModelError(`${where}: the batch is empty (batch size ${S}); the N/S scaling needs S ≥ 1`);
  const scale = target.dataSize / S;
  const kernel = scaledKernels.get(target);
  if (kernel !== undefined) return { value: kernel(theta, batch, scale, grad), grad };
  const prior = target.logPrior(theta);
  const likelihood = target.logLikelihood(theta, batch);
  for (let i = 0; i < grad.length; i++) grad[i] = prior.grad[i] + scale * likelihood.grad[i];
  return { value: prior.value + scale * likelihood.value, grad };
}

/**
 * The exact log posterior (up to the evidence) and its gradient over the full data:
 * log p(θ) + Σ_n log p(x_n | θ). `out` as in {@link minibatchGradient}.
 */
export function fullGradient<Batch>(target: Target<Batch>, theta: Vec, out?: Vec): ValueGrad {
  const grad = outputBuffer('fullGradient', target.dim, out);
  const kernel = scaledKernels.get(target);
  // prior + 1·likelihood has the bits of prior + likelihood.
  if (kernel !== undefined) return { value: kernel(theta, target.fullBatch(), 1, grad), grad };
  const prior = target.logPrior(theta);
  const likelihood = target.logLikelihood(theta, target.fullBatch());
  for (let i = 0; i < grad.length; i++) grad[i] = prior.grad[i] + likelihood.grad[i];
  return { value: prior.value + likelihood.value, grad };
}
