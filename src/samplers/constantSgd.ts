/**
 * Constant-learning-rate SGD as an approximate posterior sampler (Mandt, Hoffman & Blei 2017,
 * "Stochastic gradient descent as approximate Bayesian inference", JMLR 18): preconditioned SGD
 * θ ← θ − H ĝ_S on the loss L(θ) = −(1/N) log p(θ | data), whose iterates are stationary around the
 * optimum with a covariance set by H and the gradient noise. The preconditioner is a shared
 * transform (`scaleByPreconditioner`), optionally replaced after a warm-up by the optimal H computed
 * from an online estimate of the gradient-noise covariance.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Transform, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import type { Key } from '../core/random.js';
import { minibatchGradient, scaledLogPosteriorOf, scaledLogPosteriorWithExamplesOf } from '../models/estimator.js';
import { batchNoiseCovariance, createNoiseEstimator, defaultNoiseDecay } from '../noise/estimator.js';
import { optimalPreconditioner, type OptimalPreconditionerKind } from '../noise/optimal.js';
import type { NoiseCovariance, Preconditioner } from '../noise/types.js';
import { TransformError, checkLength } from '../transforms/errors.js';
import { vectorAllocator } from '../core/linalg.js';
import { applyPreconditioner, checkPreconditioner, meanStepSize, scaleByPreconditioner, type PreconditionerState } from '../transforms/preconditioner.js';

/** Thrown when a constant-SGD-family sampler gets an invalid option or per-step value. */
export class ConstantSgdOptionError extends RangeError {
  override name = 'ConstantSgdOptionError';
}

/** Weight of the previous running mean of ĝ_S in the `noiseNorm` diagnostic (a ≈ 100-step window). */
export const GRADIENT_MEAN_DECAY = 0.99;

/**
 * The running mean m_t of minibatch gradients and the deviation ‖ĝ − m_{t−1}‖ reported as the
 * step's `noiseNorm` (the exact noise ĝ_S − g needs a full-batch gradient, too costly per step):
 * m_t = β m_{t−1} + (1 − β) ĝ with β = {@link GRADIENT_MEAN_DECAY}; on the first step m = ĝ and the
 * deviation is 0.
 */
export function updateGradientMean(previous: Vec | null, gradient: Vec): { mean: Vec; deviationNorm: number } {
  const mean = new Float64Array(gradient.length);
  return { mean, deviationNorm: gradientMeanInto(previous, gradient, mean) };
}

/** {@link updateGradientMean} with m_t written into `mean` (which must not alias `previous`); returns the deviation. */
function gradientMeanInto(previous: Vec | null, gradient: Vec, mean: Vec): number {
  if (previous === null) {
    mean.set(gradient);
    return 0;
  }
  let sq = 0;
  for (let i = 0; i < gradient.length; i++) {
    const deviation = gradient[i] - previous[i];
    sq += deviation * deviation;
    mean[i] = GRADIENT_MEAN_DECAY * previous[i] + (1 - GRADIENT_MEAN_DECAY) * gradient[i];
  }
  return Math.sqrt(sq);
}

/**
 * ĝ_S = −(1/N) (∇log p(θ) + (N/S) Σ_batch ∇log p(x|θ)), the minibatch gradient of Mandt et al.'s
 * loss L = −(1/N) log posterior (their Eqs. 2–4), written into `out`; returns it with the log-posterior
 * estimate.
 */
export function lossGradient<Batch>(target: Target<Batch>, theta: Vec, batch: Batch, out: Vec): { grad: Vec; logPosterior: number } {
  const estimate = minibatchGradient(target, theta, batch, out);
  const n = target.dataSize;
  for (let i = 0; i < out.length; i++) out[i] = -out[i] / n;
  return { grad: out, logPosterior: estimate.value };
}

/**
 * One step of the online noise estimate of Mandt, Hoffman & Blei 2017, Eq. 21, as a pure function of
 * data: C_t = (1 − κ_t) C_{t−1} + κ_t Ĉ_t, with Ĉ_t the sample covariance of the batch's per-example
 * gradients (computed by the noise module's estimator) and κ_t = decay(t), t = C_{t−1}.count + 1
 * (default κ_t = max(1/t, 10⁻³)). Kinds 'scalar', 'diagonal' and 'full' (the ones whose average is
 * entrywise). Returns a new estimate; `previous` is not touched.
 *
 * @param perExampleGrads - S×d row-major per-example gradients (S ≥ 2); their sign and any shared
 *   prior term do not change the covariance.
 */
export function updateNoiseEstimate(
  previous: NoiseCovariance | null,
  kind: 'scalar' | 'diagonal' | 'full',
  dim: number,
  perExampleGrads: Float64Array,
  batchSize: number,
  decay: Schedule = defaultNoiseDecay(),
): NoiseCovariance {
  const fast = (kind === 'scalar' || kind === 'diagonal' || kind === 'full') && Number.isInteger(dim) && dim >= 1;
  const batch = fast ? batchNoiseCovariance(kind, dim, perExampleGrads, batchSize) : generalBatchEstimate(kind, dim, perExampleGrads, batchSize);
  const t = (previous?.count ?? 0) + 1;
  if (previous === null) return { ...batch, count: 1 };
  if (previous.kind !== kind || previous.dim !== dim) {
    throw new ConstantSgdOptionError(`updateNoiseEstimate: previous estimate is '${previous.kind}' of dim ${previous.dim}, expected '${kind}' of dim ${dim}`);
  }
  const kappa = scheduleValue(decay, t);
  if (!(kappa > 0 && kappa <= 1)) throw new ConstantSgdOptionError(`updateNoiseEstimate: decay κ_${t} must be in (0, 1], got ${kappa}`);
  return {
    kind,
    dim,
    trace: (1 - kappa) * previous.trace + kappa * batch.trace,
    diag: mixInto(previous.diag, batch.diag, kappa),
    full: mixInto(previous.full, batch.full, kappa),
    count: t,
  };
}

/** The batch estimate through a one-off estimator (kinds and sizes the fast path does not take; it throws). */
function generalBatchEstimate(kind: string, dim: number, perExampleGrads: Float64Array, batchSize: number): NoiseCovariance {
  const estimator = createNoiseEstimator(kind as 'scalar', dim, { decay: 1 });
  estimator.update(perExampleGrads, batchSize);
  return estimator.snapshot();
}

/** (1 − κ) a + κ b written into b (a fresh batch array) and returned; undefined unless both exist. */
function mixInto(a: Float64Array | undefined, b: Float64Array | undefined, kappa: number): Float64Array | undefined {
  if (!a || !b) return undefined;
  for (let i = 0; i < b.length; i++) b[i] = (1 - kappa) * a[i] + kappa * b[i];
  return b;
}

/** The noise-estimate kind an optimal preconditioner needs: Tr C, diag C, or C. */
export function noiseKindFor(kind: OptimalPreconditionerKind): 'scalar' | 'diagonal' | 'full' {
  return kind === 'scalar' ? 'scalar' : kind === 'full' ? 'full' : 'diagonal';
}

/**
 * Per-example log-likelihood gradients of the batch (S×d), or a clear error if the target has none.
 * With `out` of at least S·d entries they are written there (and `grads` is `out`), else into a
 * fresh array.
 */
export function perExampleGradients<Batch>(
  target: Target<Batch>,
  theta: Vec,
  batch: Batch,
  where: string,
  out?: Float64Array,
): { grads: Float64Array; batchSize: number } {
  if (!target.perExampleGrads) {
    throw new ConstantSgdOptionError(`${where}: estimating the gradient noise online needs target.perExampleGrads, which this target lacks`);
  }
  const batchSize = target.batchSize(batch);
  if (batchSize < 2) throw new ConstantSgdOptionError(`${where}: estimating the gradient noise needs batches of ≥ 2 examples, got ${batchSize}`);
  const grads = out !== undefined && out.length >= batchSize * target.dim ? out : new Float64Array(batchSize * target.dim);
  target.perExampleGrads(theta, batch, grads);
  return { grads, batchSize };
}

/** The state of a constant-SGD chain: data only, never mutated by a step. */
export interface ConstantSgdState<S = PreconditionerState> {
  /** θ_t. */
  readonly position: Vec;
  /** t, the number of steps taken. */
  readonly step: number;
  /** The preconditioning transform's state (for a data preconditioner: the H in force). */
  readonly transform: S;
  /** Running mean of ĝ_S for the `noiseNorm` diagnostic (null before the first step). */
  readonly gradientMean: Vec | null;
  /** The online estimate of C = BBᵀ (adaptive runs; null otherwise or before estimation starts). */
  readonly noise: NoiseCovariance | null;
  /** Whether the adaptive run has replaced H by the optimal one (frozen from then on). */
  readonly adapted: boolean;
}

/** What one constant-SGD step reports. */
export interface ConstantSgdInfo extends StepInfo {
  /** The scalar rate, the mean diagonal entry of H, or ‖Hĝ‖/‖ĝ‖ for a general transform. */
  stepSize: number;
  /** ‖ĝ_S‖, the minibatch gradient of the loss L = −(1/N) log posterior. */
  gradNorm: number;
  /** ‖ĝ_S − m‖, the deviation from the running mean of minibatch gradients (see {@link updateGradientMean}). */
  noiseNorm: number;
  /** The kind of preconditioner in force: 'scalar', 'diagonal', 'full' or 'transform'. */
  preconditioner: Preconditioner['kind'] | 'transform';
  /** The minibatch estimate of log posterior at θ_t. */
  logPosterior: number;
}

/** Options of {@link constantSgd} with a preconditioner given as data. */
export interface ConstantSgdOptions {
  /** H in θ ← θ − H ĝ_S: `{ kind: 'scalar', rate }`, `{ kind: 'diagonal', h }` or `{ kind: 'full', H }`. */
  preconditioner: Preconditioner;
  /** A factor c > 0 on H (θ ← θ − c H ĝ_S), e.g. to explore rates around the optimum (default 1). */
  scale?: number;
  /** Replace H by the optimal one estimated online after a warm-up (see {@link AdaptiveOptions}). */
  adaptive?: AdaptiveOptions;
}

/**
 * Online adaptation of constant SGD's preconditioner. The rule: steps t < `warmup` use the given
 * preconditioner (a safe small rate that brings θ to the stationary region); steps
 * `estimateFrom` ≤ t < `warmup` also fold the batch's per-example gradients into the noise estimate
 * C_t (Eq. 21, {@link updateNoiseEstimate}); at step t = `warmup` the optimal H* of `kind` is
 * computed from C_t, with the batch size S of that step, and frozen for the rest of the run (a
 * constant H is what the paper's stationary analysis assumes).
 */
export interface AdaptiveOptions {
  /** Which optimal H*: 'scalar' (Theorem 1), 'diagonal' (Corollary 3), 'full' (Theorem 2), 'sqrtDiagonal' (Theorem 7). */
  kind: OptimalPreconditionerKind;
  /** Steps before H* is computed and frozen (≥ 1). */
  warmup: number;
  /** First step whose batch enters the estimate (default ⌊warmup/2⌋, so the transient is left out). */
  estimateFrom?: number;
  /** κ_t of the moving average (default the noise module's max(1/t, 10⁻³)). */
  decay?: Schedule;
  /** Relative eigenvalue floor when inverting C (default 1e-8; see `optimalPreconditioner`). */
  relativeFloor?: number;
}

/** Options of {@link constantSgd} with a preconditioner given as a gradient transform. */
export interface ConstantSgdTransformOptions<S> {
  /** Any transform u = T(ĝ_S); the step is θ ← θ − c u. */
  preconditioner: Transform<S>;
  /** The factor c > 0 (default 1). */
  scale?: number;
}

function isTransform(p: unknown): p is Transform<unknown> {
  return typeof p === 'object' && p !== null && typeof (p as Transform<unknown>).update === 'function';
}

function checkScale(scale: number | undefined, where: string): number {
  const c = scale ?? 1;
  if (!(Number.isFinite(c) && c > 0)) throw new ConstantSgdOptionError(`${where}: scale must be a finite number > 0, got ${c}`);
  return c;
}

/**
 * Constant SGD as a sampler (Mandt, Hoffman & Blei 2017, Eq. 5 and, preconditioned, Eq. 17):
 *
 *   θ_{t+1} = θ_t − c H ĝ_S(θ_t),   ĝ_S = −(1/N)(∇log p(θ) + (N/S) Σ_{n∈S} ∇log p(x_n|θ)).
 *
 * Near the optimum the iterates follow the Ornstein–Uhlenbeck process of their Eq. 11, whose
 * stationary covariance solves HAΣ + ΣAH = (1/S) H BBᵀ H (Theorem 2's form; A the Hessian of L,
 * BBᵀ the per-example gradient covariance). The paper's optimal settings, which make it the best
 * Gaussian approximation of the posterior in KL: the scalar rate ε* = 2(S/N)D/Tr(BBᵀ) (Theorem 1),
 * H*_kk = 2S/(N BBᵀ_kk) (Corollary 3) and H* = (2S/N)(BBᵀ)⁻¹ (Theorem 2, exact under A1–A4 by
 * Corollary 4); compute them with `optimalPreconditioner` from the noise module, or set `adaptive`
 * to estimate them online (the rule is in {@link AdaptiveOptions}).
 *
 * There is no injected noise, hence no temperature; `scale` multiplies H.
 *
 * @example
 * const sampler = constantSgd(model, { preconditioner: { kind: 'scalar', rate: 0.05 } });
 */
export function constantSgd<Batch = IndexBatch>(
  target: Target<Batch>,
  options: ConstantSgdOptions,
): Sampler<ConstantSgdState<PreconditionerState>, ConstantSgdInfo, Batch>;
export function constantSgd<S, Batch = IndexBatch>(
  target: Target<Batch>,
  options: ConstantSgdTransformOptions<S>,
): Sampler<ConstantSgdState<S>, ConstantSgdInfo, Batch>;
export function constantSgd<Batch>(
  target: Target<Batch>,
  options: ConstantSgdOptions | ConstantSgdTransformOptions<unknown>,
): Sampler<ConstantSgdState<unknown>, ConstantSgdInfo, Batch> {
  const dim = target.dim;
  const scale = checkScale(options.scale, 'constantSgd');
  const given = options.preconditioner;
  let transform: Transform<unknown>;
  let kind: ConstantSgdInfo['preconditioner'];
  if (isTransform(given)) {
    transform = given;
    kind = 'transform';
  } else {
    checkPreconditioner(given, dim, 'constantSgd');
    transform = scaleByPreconditioner(given) as Transform<unknown>;
    kind = given.kind;
  }
  const adaptive = isTransform(given) ? undefined : (options as ConstantSgdOptions).adaptive;
  if (adaptive) {
    if (!Number.isSafeInteger(adaptive.warmup) || adaptive.warmup < 1) {
      throw new ConstantSgdOptionError(`constantSgd: adaptive.warmup must be an integer ≥ 1, got ${adaptive.warmup}`);
    }
    const from = adaptive.estimateFrom ?? Math.floor(adaptive.warmup / 2);
    if (!Number.isSafeInteger(from) || from < 0 || from >= adaptive.warmup) {
      throw new ConstantSgdOptionError(`constantSgd: adaptive.estimateFrom must be an integer in [0, warmup = ${adaptive.warmup}), got ${from}`);
    }
    if (!target.perExampleGrads) {
      throw new ConstantSgdOptionError('constantSgd: adaptive preconditioning estimates the gradient noise from target.perExampleGrads, which this target lacks');
    }
  }
  const estimateFrom = adaptive ? (adaptive.estimateFrom ?? Math.floor(adaptive.warmup / 2)) : 0;
  const gradient = new Float64Array(dim);
  // Positions and gradient means of new states, cut from shared 4 KiB buffers (fresh, never reused).
  const newVector = vectorAllocator(dim);
  // H ĝ for a preconditioner given as data, rewritten every step.
  const preconditioned = new Float64Array(dim);
  // The model's fused kernel, looked up once (built-in models register it at construction).
  const fused = scaledLogPosteriorOf(target);
  // Its one-pass per-example and fused kernel, if registered (estimation steps).
  const withExamples = adaptive ? scaledLogPosteriorWithExamplesOf(target) : undefined;
  /** ĝ_S = −(1/N) × the scaled log-posterior gradient in `gradient`, in place (lossGradient's arithmetic); passes the value on. */
  const lossFromScaled = (value: number): number => {
    const n = target.dataSize;
    for (let i = 0; i < dim; i++) gradient[i] = -gradient[i] / n;
    return value;
  };
  // Per-example gradients of the warm-up batches, reused from step to step.
  let perExample: Float64Array | undefined;
  return {
    init(position: Vec, _key: Key): ConstantSgdState<unknown> {
      if (position.length !== dim) {
        throw new ConstantSgdOptionError(`constantSgd.init: position has length ${position.length}, target.dim is ${dim}`);
      }
      return {
        position: Float64Array.from(position),
        step: 0,
        transform: transform.init(position),
        gradientMean: null,
        noise: null,
        adapted: false,
      };
    },
    step(_key: Key, state: Readonly<ConstantSgdState<unknown>>, batch: Batch): readonly [ConstantSgdState<unknown>, ConstantSgdInfo] {
      if (state.position.length !== dim) {
        throw new ConstantSgdOptionError(`constantSgd: state.position has length ${state.position.length}, target.dim is ${dim}`);
      }
      const t = state.step;
      let logPosterior: number | undefined;
      let noise = state.noise;
      let adapted = state.adapted;
      let current = state.transform;
      if (adaptive && !adapted) {
        if (t >= adaptive.warmup) {
          if (noise === null) throw new ConstantSgdOptionError(`constantSgd: no noise estimate at the end of warm-up (step ${t})`);
          const optimal = optimalPreconditioner(adaptive.kind, noise, {
            batchSize: target.batchSize(batch),
            dataSize: target.dataSize,
            relativeFloor: adaptive.relativeFloor,
          });
          current = { preconditioner: optimal } satisfies PreconditionerState;
          adapted = true;
        } else if (t >= estimateFrom) {
          const size = withExamples === undefined ? 0 : target.batchSize(batch);
          if (withExamples !== undefined && size >= 2) {
            // Per-example and minibatch gradients from one pass over the batch (same bits as the two calls).
            if (perExample === undefined || perExample.length < size * dim) perExample = new Float64Array(size * dim);
            logPosterior = lossFromScaled(withExamples(state.position, batch, target.dataSize / size, gradient, perExample));
            noise = updateNoiseEstimate(noise, noiseKindFor(adaptive.kind), dim, perExample, size, adaptive.decay);
          } else {
            const { grads, batchSize } = perExampleGradients(target, state.position, batch, 'constantSgd', perExample);
            perExample = grads;
            noise = updateNoiseEstimate(noise, noiseKindFor(adaptive.kind), dim, grads, batchSize, adaptive.decay);
          }
        }
      }
      if (logPosterior === undefined) {
        const batchSize = fused === undefined ? 0 : target.batchSize(batch);
        // lossGradient through the kernel looked up once; an empty batch goes the long way for its error.
        logPosterior =
          fused !== undefined && batchSize > 0
            ? lossFromScaled(fused(state.position, batch, target.dataSize / batchSize, gradient))
            : lossGradient(target, state.position, batch, gradient).logPosterior;
      }
      const grad = gradient;
      // `current` was made by this transform's init or update, or is an adapted PreconditionerState.
      let update: Vec;
      let transformState: unknown;
      if (kind === 'transform') {
        [update, transformState] = transform.update(grad, current as never, state.position, { step: t });
      } else {
        // scaleByPreconditioner's update (same checks and numbers), into a reused buffer.
        const held = (current as PreconditionerState).preconditioner;
        if (held.kind === 'diagonal') checkLength('scaleByPreconditioner', grad, held.h.length);
        if (held.kind === 'full' && held.H.length !== grad.length * grad.length) {
          throw new TransformError(`scaleByPreconditioner: gradient has length ${grad.length}, H has ${held.H.length} entries`);
        }
        update = applyPreconditioner(held, grad, preconditioned);
        transformState = current;
      }
      const position = state.position;
      const next = newVector();
      let gradSq = 0;
      let updateSq = 0;
      for (let i = 0; i < dim; i++) {
        next[i] = position[i] - scale * update[i];
        gradSq += grad[i] * grad[i];
        updateSq += update[i] * update[i];
      }
      const mean = newVector();
      const deviationNorm = gradientMeanInto(state.gradientMean, grad, mean);
      const gradNorm = Math.sqrt(gradSq);
      const held = kind === 'transform' ? undefined : (transformState as PreconditionerState).preconditioner;
      const stepSize = held ? scale * meanStepSize(held, dim) : gradNorm > 0 ? (scale * Math.sqrt(updateSq)) / gradNorm : 0;
      const info: ConstantSgdInfo = {
        stepSize,
        gradNorm,
        noiseNorm: deviationNorm,
        preconditioner: held ? held.kind : 'transform',
        logPosterior,
      };
      return [{ position: next, step: t + 1, transform: transformState, gradientMean: mean, noise, adapted }, info] as const;
    },
  };
}
