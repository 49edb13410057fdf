/**
 * Variational EM for the prior precision with constant SGD as the E-step (Mandt, Hoffman & Blei
 * 2017, JMLR 18, Sec. 4.2, Eq. 22): the stationary distribution of constant SGD at its optimal
 * setting is the variational distribution q(θ), and λ follows stochastic gradients of
 * E_q[L(θ, λ)], the negative expected complete-data log likelihood per example.
 */
import type { IndexBatch, Schedule, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import { foldIn, key as keyFromSeed } from '../core/random.js';
import { createNoiseEstimator } from '../noise/estimator.js';
import { independentMinibatch } from '../noise/minibatch.js';
import { optimalPreconditioner } from '../noise/optimal.js';
import type { NoiseCovariance, Preconditioner } from '../noise/types.js';
import { applyPreconditioner } from '../transforms/preconditioner.js';

/** Bad options or a diverging run of {@link variationalEm}. */
export class VariationalEmError extends Error {
  override name = 'VariationalEmError';
}

/** Options of {@link variationalEm}. */
export interface VariationalEmOptions {
  /** S, the minibatch size (≥ 2: the noise estimate needs per-example spread). */
  batchSize: number;
  /** EM steps after the warm-up; each is one θ step and one λ step. */
  steps: number;
  /** Constant-SGD steps at the initial λ before λ moves, also estimating C (default 2000). */
  warmupSteps?: number;
  /** λ₀ (default 1). */
  initialPriorPrecision?: number;
  /**
   * q, the number of leading coordinates of θ under the N(0, λ⁻¹I_q) prior (default: the target's
   * `weightDim` if it has one, else its `dim`); the rest (e.g. log τ) keep the target's own prior.
   */
  penalisedDim?: number;
  /** Which optimal constant-SGD setting is the E-step (default 'scalar', the paper's Eq. 22 with ε*). */
  preconditioner?: 'scalar' | 'diagonal' | 'full';
  /**
   * ρ_t, the λ step size as a schedule of the EM step t (default 0.5·(1 + t/100)^−0.7, Robbins–Monro:
   * Σρ_t = ∞, Σρ_t² < ∞). It multiplies the dimensionless gradient in log λ (see {@link variationalEm}).
   */
  priorStepSize?: Schedule;
  /** Where θ starts (default zeros). */
  initial?: Vec;
  /** Seed of the minibatches (default 0). */
  seed?: number;
  /** Record λ every this many EM steps in `trace` (default 100). */
  traceEvery?: number;
}

/** What {@link variationalEm} returns. */
export interface VariationalEmResult {
  /** λ after the last step. */
  priorPrecision: number;
  /** exp of the mean of log λ over the second half of the EM steps (Polyak average; less noisy). */
  averagedPriorPrecision: number;
  /** (EM step, λ) every `traceEvery` steps. */
  trace: { step: number; priorPrecision: number }[];
  /** The E-step's constant-SGD setting, from the noise estimated during the warm-up. */
  preconditioner: Preconditioner;
  /** That noise estimate. */
  noise: NoiseCovariance;
  /** Mean of the θ iterates over the second half of the EM steps. */
  meanPosition: Float64Array;
  /** Per-example gradient evaluations (S per step, warm-up included). */
  gradientEvaluations: number;
}

/**
 * Variational EM for the prior precision λ of a N(0, λ⁻¹I_q) prior (Mandt, Hoffman & Blei 2017,
 * JMLR 18, Sec. 4.2, Eq. 22). With L(θ, λ) = −(1/N)[log p(y | θ) + log N(θ_{1:q}; 0, λ⁻¹I)]:
 *
 *   E-step:  θ ← θ − H* ∇_θ L̂_S(θ, λ)   (constant SGD at its optimal setting: ε* of Theorem 1,
 *            or H* of Corollary 3 / Theorem 2, computed once from C estimated in the warm-up;
 *            C does not depend on λ, because the prior term is the same for every example),
 *   M-step:  λ ← λ − ρ_t ∇_λ L(θ, λ),   ∇_λ L = (1/(2N)) (‖θ_{1:q}‖² − q/λ).
 *
 * The M-step is taken in u = log λ (keeping λ > 0) and scaled by 2N/q so ρ is dimensionless:
 * u ← u − ρ_t (λ‖θ_{1:q}‖²/q − 1). Its fixed point is the paper's, E_q[∇_λ L] = 0, i.e.
 * λ = q / E_q‖θ_{1:q}‖²; with q the exact posterior this is the type-II maximum-likelihood λ
 * (MacKay's condition q/λ = ‖m‖² + Tr Σ), so the result is close to the evidence optimum when
 * constant SGD's stationary mean and total variance match the posterior's. Minibatches are
 * independent random subsets (see src/noise/minibatch.ts).
 *
 * @throws VariationalEmError for bad options or a non-finite iterate.
 */
export function variationalEm(target: Target<IndexBatch> & { readonly weightDim?: number }, options: VariationalEmOptions): VariationalEmResult {
  const where = 'variationalEm';
  const N = target.dataSize;
  const d = target.dim;
  const S = options.batchSize;
  if (!Number.isInteger(S) || S < 2 || S > N) throw new VariationalEmError(`${where}: batchSize must be an integer in [2, N = ${N}], got ${S}`);
  const steps = options.steps;
  if (!Number.isInteger(steps) || steps < 2) throw new VariationalEmError(`${where}: steps must be an integer ≥ 2, got ${steps}`);
  const warmupSteps = options.warmupSteps ?? 2000;
  if (!Number.isInteger(warmupSteps) || warmupSteps < 2) throw new VariationalEmError(`${where}: warmupSteps must be an integer ≥ 2, got ${warmupSteps}`);
  const q = options.penalisedDim ?? target.weightDim ?? d;
  if (!Number.isInteger(q) || q < 1 || q > d) throw new VariationalEmError(`${where}: penalisedDim must be an integer in [1, ${d}], got ${q}`);
  let lambda = options.initialPriorPrecision ?? 1;
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new VariationalEmError(`${where}: initialPriorPrecision must be a finite number > 0, got ${lambda}`);
  if (!target.perExampleGrads) throw new VariationalEmError(`${where}: the target needs perExampleGrads to estimate the gradient noise`);
  const kind = options.preconditioner ?? 'scalar';
  const priorStepSize = options.priorStepSize ?? ((t: number) => 0.5 * (1 + t / 100) ** -0.7);
  const traceEvery = options.traceEvery ?? 100;
  const root = keyFromSeed(options.seed ?? 0);
  const batchKey = foldIn(root, 1);
  let theta = options.initial ? Float64Array.from(options.initial) : new Float64Array(d);
  if (theta.length !== d) throw new VariationalEmError(`${where}: initial has length ${theta.length}, target.dim is ${d}`);
  const perExample = new Float64Array(S * d);
  const lossGrad = new Float64Array(d);
  const step = new Float64Array(d);

  /** ∇_θ L̂_S(θ, λ) = −(1/S) Σ ∇ log p(x_n|θ) + (λ/N) θ_{1:q} (+ the target's own prior on the rest). */
  function lossGradient(batch: IndexBatch, withNoise: boolean): Vec {
    const lik = target.logLikelihood(theta, batch).grad;
    const prior = q < d ? target.logPrior(theta).grad : undefined;
    for (let k = 0; k < d; k++) lossGrad[k] = -lik[k] / S + (k < q ? (lambda * theta[k]) / N : -(prior as Vec)[k] / N);
    if (withNoise) {
      (target.perExampleGrads as NonNullable<typeof target.perExampleGrads>)(theta, batch, perExample);
      estimator.update(perExample, S);
    }
    return lossGrad;
  }

  function advance(preconditioner: Preconditioner, grad: Vec, t: number): void {
    applyPreconditioner(preconditioner, grad, step);
    const next = new Float64Array(d);
    for (let k = 0; k < d; k++) next[k] = theta[k] - step[k];
    const bad = next.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new VariationalEmError(`${where}: θ[${bad}] became ${next[bad]} at step ${t}; the E-step diverged (λ = ${lambda})`);
    theta = next;
  }

  // Warm-up: a first C from one batch gives a safe ε*, refined online as θ reaches stationarity.
  const estimator = createNoiseEstimator(kind === 'scalar' ? 'scalar' : kind, d);
  const firstBatch = independentMinibatch(foldIn(root, 0), N, Math.min(N, Math.max(S, 256)));
  const firstGrads = new Float64Array(firstBatch.length * d);
  target.perExampleGrads(theta, firstBatch, firstGrads);
  const probe = createNoiseEstimator('scalar', d, { decay: 1 });
  probe.update(firstGrads, firstBatch.length);
  const warmupRate = optimalPreconditioner('scalar', probe.snapshot(), { batchSize: S, dataSize: N });
  for (let t = 0; t < warmupSteps; t++) {
    const batch = independentMinibatch(foldIn(batchKey, t), N, S);
    // Estimate C only over the second half of the warm-up, where θ is near the stationary region.
    advance(warmupRate, lossGradient(batch, t >= warmupSteps / 2), t);
  }
  const noise = estimator.snapshot();
  const preconditioner = optimalPreconditioner(kind, noise, { batchSize: S, dataSize: N });

  const trace: { step: number; priorPrecision: number }[] = [{ step: 0, priorPrecision: lambda }];
  const half = Math.floor(steps / 2);
  let logLambdaSum = 0;
  const meanPosition = new Float64Array(d);
  for (let t = 0; t < steps; t++) {
    const batch = independentMinibatch(foldIn(batchKey, warmupSteps + t), N, S);
    advance(preconditioner, lossGradient(batch, false), warmupSteps + t);
    let sq = 0;
    for (let k = 0; k < q; k++) sq += theta[k] * theta[k];
    const rho = scheduleValue(priorStepSize, t);
    if (!(rho > 0 && Number.isFinite(rho))) throw new VariationalEmError(`${where}: priorStepSize ρ_${t} must be a finite number > 0, got ${rho}`);
    const u = Math.log(lambda) - rho * ((lambda * sq) / q - 1);
    lambda = Math.exp(u);
    if (!(lambda > 0 && Number.isFinite(lambda))) throw new VariationalEmError(`${where}: λ became ${lambda} at EM step ${t}; use a smaller priorStepSize`);
    if (t >= half) {
      logLambdaSum += u;
      for (let k = 0; k < d; k++) meanPosition[k] += theta[k];
    }
    if ((t + 1) % traceEvery === 0) trace.push({ step: t + 1, priorPrecision: lambda });
  }
  const kept = steps - half;
  return {
    priorPrecision: lambda,
    averagedPriorPrecision: Math.exp(logLambdaSum / kept),
    trace,
    preconditioner,
    noise,
    meanPosition: meanPosition.map((v) => v / kept),
    gradientEvaluations: (warmupSteps + steps) * S + firstBatch.length,
  };
}
