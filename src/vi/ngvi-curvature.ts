/**
 * Curvature estimates for natural-gradient variational inference: each gives, for a minibatch,
 * the summed log-likelihood gradient and a positive semi-definite estimate of the summed
 * negative log-likelihood Hessian, diagonal or full.
 *
 * - `gaussNewtonCurvature`: the generalised Gauss–Newton matrix Σ_i J_iᵀ Λ_i J_i of a
 *   generalised linear model (linear, logistic, softmax regression), Λ_i the Hessian of the
 *   negative log likelihood in the linear predictor. With canonical links it equals the exact
 *   Hessian.
 * - `squaredGradientCurvature`: VOGN's per-example squared gradients Σ_i g_i g_iᵀ (Khan et al.
 *   2018, "Fast and scalable Bayesian deep learning by weight-perturbation in Adam", ICML, Eq. 10:
 *   their Gauss–Newton approximation), for any target with `perExampleGrads`.
 * - `gradientMagnitudeCurvature`: Vadam's gradient magnitude (ibid., Eq. 11), S ḡḡᵀ with ḡ the mean
 *   minibatch gradient, for any target.
 */
import type { IndexBatch, Target, Vec } from '../core/types.js';
import type { LinearRegressionModel } from '../models/linear.js';
import type { LogisticRegressionModel } from '../models/logistic.js';
import type { SoftmaxRegressionModel } from '../models/softmax.js';

/** Diagonal or full posterior covariance. */
export type CovarianceStructure = 'diagonal' | 'full';

/** Bad input or options of natural-gradient VI. */
export class NgviError extends Error {
  override readonly name = 'NgviError';
}

/** A minibatch gradient-and-curvature estimator. */
export interface CurvatureEstimator<Batch> {
  /** A short name for tables ('gauss-newton', 'squared-gradients', 'gradient-magnitude'). */
  readonly name: string;
  /** Number of parameters. */
  readonly dim: number;
  /**
   * Writes g = Σ_{i∈batch} ∇ log p(x_i | θ) into `grad` and a PSD estimate of
   * Σ_{i∈batch} ∇²[−log p(x_i | θ)] into `curvature` (length d for 'diagonal', d×d row-major for
   * 'full'); both are overwritten.
   */
  estimate(theta: Vec, batch: Batch, structure: CovarianceStructure, grad: Vec, curvature: Float64Array): void;
}

function checkBuffers(where: string, dim: number, structure: CovarianceStructure, grad: Vec, curvature: Float64Array): void {
  if (grad.length !== dim) throw new NgviError(`${where}: grad has length ${grad.length}, expected ${dim}`);
  const want = structure === 'full' ? dim * dim : dim;
  if (structure !== 'full' && structure !== 'diagonal') throw new NgviError(`${where}: structure must be 'diagonal' or 'full', got '${String(structure)}'`);
  if (curvature.length !== want) throw new NgviError(`${where}: curvature has length ${curvature.length}, expected ${want} for '${structure}'`);
}

/**
 * VOGN's curvature (Khan et al. 2018, Eq. 10): the sum of per-example outer products of the
 * log-likelihood gradients g_i = ∇ log p(x_i | θ),
 *
 *   C = Σ_{i∈batch} g_i g_iᵀ   (diagonal: Σ_i g_i ⊙ g_i).
 *
 * Its expectation over y ~ p(y | x, θ) is the Gauss–Newton matrix (the Fisher), so it matches the
 * Hessian where the model fits the data.
 * @throws NgviError if the target has no `perExampleGrads`.
 */
export function squaredGradientCurvature<Batch>(target: Target<Batch>): CurvatureEstimator<Batch> {
  const where = 'squaredGradientCurvature';
  if (typeof target.perExampleGrads !== 'function') {
    throw new NgviError(`${where}: the target has no perExampleGrads; use gradientMagnitudeCurvature instead`);
  }
  const d = target.dim;
  let rows = new Float64Array(0);
  return {
    name: 'squared-gradients',
    dim: d,
    estimate(theta, batch, structure, grad, curvature) {
      checkBuffers(where, d, structure, grad, curvature);
      const S = target.batchSize(batch);
      if (rows.length < S * d) rows = new Float64Array(S * d);
      const perExample = rows.subarray(0, S * d);
      (target.perExampleGrads as NonNullable<Target<Batch>['perExampleGrads']>)(theta, batch, perExample);
      grad.fill(0);
      curvature.fill(0);
      for (let i = 0; i < S; i++) {
        const o = i * d;
        for (let a = 0; a < d; a++) {
          const ga = perExample[o + a];
          grad[a] += ga;
          if (structure === 'diagonal') curvature[a] += ga * ga;
          else for (let b = 0; b <= a; b++) curvature[a * d + b] += ga * perExample[o + b];
        }
      }
      if (structure === 'full') for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) curvature[b * d + a] = curvature[a * d + b];
    },
  };
}

/**
 * Vadam's gradient-magnitude curvature (Khan et al. 2018, Eq. 11): with ḡ = (1/S) Σ_i g_i the
 * mean minibatch gradient, C = S ḡḡᵀ (diagonal: S ḡ²), so (N/S)C = N ḡḡᵀ. Works for any target;
 * biased low near a mode, where ḡ → 0.
 */
export function gradientMagnitudeCurvature<Batch>(target: Target<Batch>): CurvatureEstimator<Batch> {
  const where = 'gradientMagnitudeCurvature';
  const d = target.dim;
  return {
    name: 'gradient-magnitude',
    dim: d,
    estimate(theta, batch, structure, grad, curvature) {
      checkBuffers(where, d, structure, grad, curvature);
      const S = target.batchSize(batch);
      grad.set(target.logLikelihood(theta, batch).grad);
      for (let a = 0; a < d; a++) {
        if (structure === 'diagonal') curvature[a] = (grad[a] * grad[a]) / S;
        else for (let b = 0; b < d; b++) curvature[a * d + b] = (grad[a] * grad[b]) / S;
      }
    },
  };
}

/** A built-in generalised linear model whose Gauss–Newton matrix is known. */
export type GlmModel = LinearRegressionModel | LogisticRegressionModel | SoftmaxRegressionModel;

/**
 * The generalised Gauss–Newton curvature of a built-in GLM (Schraudolph 2002; Martens 2020,
 * "New insights and perspectives on the natural gradient method", JMLR 21, Sec. 8):
 *
 *   C = Σ_{i∈batch} J_iᵀ Λ_i J_i,  z_i = J_i θ the linear predictor(s), Λ_i = ∇²_z[−log p(y_i | z_i)],
 *
 * with Λ = τ (linear regression, known noise precision τ), σ(z)(1 − σ(z)) (logistic), and
 * diag(p) − ppᵀ (softmax, p = softmax(z)), and J_i = I_K ⊗ x̃_iᵀ. All three links are canonical,
 * so C is the exact Hessian of the batch's negative log likelihood.
 * @throws NgviError for a linear regression that learns its noise precision (θ is then not linear in z).
 */
export function gaussNewtonCurvature(model: GlmModel): CurvatureEstimator<IndexBatch> {
  const where = 'gaussNewtonCurvature';
  const { x, y } = model.data;
  const p = model.features;
  const intercept = model.hasIntercept;
  const q = p + (intercept ? 1 : 0);
  const isSoftmax = 'classes' in model && 'rowLength' in model;
  const isLinear = 'weightDim' in model;
  if (isLinear && (model as LinearRegressionModel).learnsNoise) {
    throw new NgviError(`${where}: the linear regression learns its noise precision (θ ends with log τ); give a known noisePrecision`);
  }
  const K = isSoftmax ? (model as SoftmaxRegressionModel).classes : 1;
  const tau = isLinear ? ((model as LinearRegressionModel).noisePrecision as number) : 1;
  const d = model.dim;
  const features = new Float64Array(q);
  const residual = new Float64Array(K);
  const lambdaOut = new Float64Array(K * K);
  const logits = new Float64Array(K);

  /** residual ← ∂ log p(y_n | z)/∂z and Λ ← ∇²_z[−log p(y_n | z)] at z = (I ⊗ x̃_n)θ. */
  function linkDerivatives(theta: Vec, n: number): void {
    for (let j = 0; j < p; j++) features[j] = x[n * p + j];
    if (intercept) features[p] = 1;
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let j = 0; j < q; j++) z += theta[k * q + j] * features[j];
      logits[k] = z;
    }
    if (isLinear) {
      residual[0] = tau * (y[n] - logits[0]);
      lambdaOut[0] = tau;
    } else if (!isSoftmax) {
      const s = 1 / (1 + Math.exp(-logits[0]));
      residual[0] = y[n] - s;
      lambdaOut[0] = s * (1 - s);
    } else {
      let largest = -Infinity;
      for (let k = 0; k < K; k++) largest = Math.max(largest, logits[k]);
      let total = 0;
      for (let k = 0; k < K; k++) total += (logits[k] = Math.exp(logits[k] - largest));
      for (let k = 0; k < K; k++) logits[k] /= total;
      for (let k = 0; k < K; k++) {
        residual[k] = (y[n] === k ? 1 : 0) - logits[k];
        for (let l = 0; l < K; l++) lambdaOut[k * K + l] = (k === l ? logits[k] : 0) - logits[k] * logits[l];
      }
    }
  }

  return {
    name: 'gauss-newton',
    dim: d,
    estimate(theta, batch, structure, grad, curvature) {
      checkBuffers(where, d, structure, grad, curvature);
      if (theta.length !== d) throw new NgviError(`${where}: theta has length ${theta.length}, expected ${d} (${model.layout})`);
      grad.fill(0);
      curvature.fill(0);
      const N = model.dataSize;
      for (let i = 0; i < batch.length; i++) {
        const n = batch[i];
        if (!(n >= 0 && n < N)) throw new NgviError(`${where}: batch entry ${i} is row ${n}, outside 0..${N - 1}`);
        linkDerivatives(theta, n);
        for (let k = 0; k < K; k++) {
          const rk = residual[k];
          for (let a = 0; a < q; a++) grad[k * q + a] += rk * features[a];
          if (structure === 'diagonal') {
            const lkk = lambdaOut[k * K + k];
            for (let a = 0; a < q; a++) curvature[k * q + a] += lkk * features[a] * features[a];
            continue;
          }
          // Lower triangle of the Kq × Kq block matrix Λ ⊗ x̃x̃ᵀ; mirrored below.
          for (let l = 0; l <= k; l++) {
            const lkl = lambdaOut[k * K + l];
            if (lkl === 0) continue;
            for (let a = 0; a < q; a++) {
              const row = (k * q + a) * d + l * q;
              const fa = lkl * features[a];
              const bEnd = l === k ? a + 1 : q;
              for (let b = 0; b < bEnd; b++) curvature[row + b] += fa * features[b];
            }
          }
        }
      }
      if (structure === 'full') for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) curvature[b * d + a] = curvature[a * d + b];
    },
  };
}
