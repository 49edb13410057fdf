/**
 * Bayesian logistic regression with a Gaussian prior:
 *   w ~ N(0, λ⁻¹ I_q),   y_n ∈ {0, 1},   p(y_n = 1 | x_n, w) = σ(x̃_nᵀ w),
 * x̃_n = (x_n, 1) with an intercept (penalised: same prior as the weights) and x_n otherwise.
 *
 * θ layout: [w_1 … w_p, b (if intercept)].
 */
import type { Dataset, IndexBatch, Target, ValueGrad, Vec } from '../core/types.js';
import {
  HALF_LOG_TWO_PI,
  ModelError,
  allRows,
  batchLinearPredictors,
  checkBatch,
  checkDataset,
  checkOut,
  checkTheta,
  positiveOption,
  rowGather,
  scratchOf,
  type RowGather,
  sigmoid,
  type ModeOptions,
  type ModeResult,
} from './common.js';
import { registerFusedLogPosterior } from './estimator.js';
import { linearPredictor } from './linear.js';
import { newtonMode } from './newton.js';

/** Options of {@link logisticRegression}. */
export interface LogisticRegressionOptions {
  /** λ, the precision of the N(0, λ⁻¹ I) prior on weights and intercept (default 1). */
  priorPrecision?: number;
  /** Append a constant-1 feature whose weight is the (penalised) intercept (default true). */
  intercept?: boolean;
}

/** A Bayesian logistic regression target with Hessian, predictions and Newton mode. */
export interface LogisticRegressionModel extends Target<IndexBatch> {
  readonly data: Dataset;
  /** p, the number of features. */
  readonly features: number;
  readonly hasIntercept: boolean;
  /** λ. */
  readonly priorPrecision: number;
  /** A human-readable description of the θ layout. */
  readonly layout: string;
  /** log N(θ; 0, λ⁻¹ I) and its gradient (fresh array). */
  logPrior(theta: Vec): ValueGrad;
  /** Σ_{n∈batch} [y_n z_n − log(1 + e^{z_n})], z_n = x̃_nᵀθ, and its gradient (fresh array). */
  logLikelihood(theta: Vec, batch: IndexBatch): ValueGrad;
  /** Row i of `out` (batch × dim) ← (y − σ(z)) x̃ for example b_i. */
  perExampleGrads(theta: Vec, batch: IndexBatch, out: Float64Array): void;
  batchSize(batch: IndexBatch): number;
  /** Every row 0..N−1 (a fresh array). */
  fullBatch(): IndexBatch;
  /** ∇² log posterior = −λI − Σ_n σ(z_n)(1 − σ(z_n)) x̃_n x̃_nᵀ over the full data (fresh, row-major). */
  hessianLogPosterior(theta: Vec): Float64Array;
  /** σ(x̃ᵀθ) for each row of `x` (rows × p row-major, without the intercept column). */
  predictProba(theta: Vec, x: Float64Array): Float64Array;
  /**
   * The MAP estimate by damped Newton (quadratic convergence; the log posterior is strongly
   * concave for λ > 0): the centre of the Laplace approximation N(θ*, (−∇² log p(θ*|y))⁻¹).
   */
  mode(options?: ModeOptions): ModeResult;
}

const MODEL = 'logisticRegression';

/**
 * Σ_i [y_i z_i − log(1 + e^{z_i})] over a batch, with r_i = y_i − σ(z_i) written into `residuals`.
 * One e^{−|z|} serves both: softplus(z) = max(z, 0) + log1p(e^{−|z|}) and σ(z) = 1/(1 + e^{−|z|})
 * for z ≥ 0, e^{−|z|}/(1 + e^{−|z|}) below, the same numbers as `softplus` and `sigmoid` of common.ts.
 */
function logisticTerms(y: Float64Array, batch: IndexBatch, z: Float64Array, residuals: Float64Array): number {
  let value = 0;
  for (let i = 0; i < batch.length; i++) {
    const label = y[batch[i]];
    const zi = z[i];
    const e = Math.exp(-Math.abs(zi));
    const log1pE = Math.log1p(e);
    value += label * zi - (zi > 0 ? zi + log1pE : log1pE);
    residuals[i] = label - (zi >= 0 ? 1 / (1 + e) : e / (1 + e));
  }
  return value;
}

/**
 * A Bayesian logistic regression target over `data` with labels y ∈ {0, 1}. The log likelihood
 * uses log σ(z) = −softplus(−z) so it is finite for any |z|; returned gradients are fresh arrays.
 *
 * Memory: the first likelihood evaluation copies `data.x` into WebAssembly memory for the batch
 * gathers (`rowGather`: 8·rows·cols bytes more, plus scratch, while x has ≥ 16 columns, is at most 256 MiB and the
 * runtime has WebAssembly), and the model keeps that private copy for its lifetime. Later edits to
 * `data.x` are therefore not seen by `logLikelihood` and the fused minibatch gradient (while other
 * methods read `data.x` directly): treat the dataset as fixed once the model is built.
 */
export function logisticRegression(data: Dataset, options: LogisticRegressionOptions = {}): LogisticRegressionModel {
  checkDataset(MODEL, data);
  for (let n = 0; n < data.rows; n++) {
    const label = data.y[n];
    if (label !== 0 && label !== 1) {
      throw new ModelError(`${MODEL}: dataset ${data.source}: row ${n + 1}, target "${data.targetName}" is ${label} (must be 0 or 1)`);
    }
  }
  const lambda = positiveOption(MODEL, 'priorPrecision', options.priorPrecision ?? 1);
  const intercept = options.intercept ?? true;
  const N = data.rows;
  const p = data.cols;
  const dim = p + (intercept ? 1 : 0);
  const { x, y } = data;
  const layout = `${p} weights${intercept ? ' + intercept' : ''}`;
  // Scratch for the linear predictors and residuals of a batch, grown on demand and reused.
  let z: Float64Array = new Float64Array(0);
  let residuals: Float64Array = new Float64Array(0);
  // The batch gathers of x, built at the first likelihood evaluation (it may copy x).
  let gather: RowGather | undefined;

  const priorWhere = `${MODEL}.logPrior`;
  const likelihoodWhere = `${MODEL}.logLikelihood`;
  const priorConstant = 0.5 * dim * Math.log(lambda) - dim * HALF_LOG_TWO_PI;

  /** log N(θ; 0, λ⁻¹I) with its gradient −λθ written into `grad`. */
  function logPriorInto(theta: Vec, grad: Vec): number {
    checkTheta(priorWhere, theta, dim, layout);
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      sq += theta[i] * theta[i];
      grad[i] = -lambda * theta[i];
    }
    return priorConstant - 0.5 * lambda * sq;
  }

  /** The batch log likelihood, its gradient added into `grad` (zeros for the gradient alone). */
  function logLikelihoodInto(theta: Vec, batch: IndexBatch, grad: Vec): number {
    checkTheta(likelihoodWhere, theta, dim, layout);
    checkBatch(likelihoodWhere, batch);
    const S = batch.length;
    z = scratchOf(z, S);
    gather ??= rowGather(x, p, N);
    gather.linearPredictors(likelihoodWhere, intercept, theta, batch, z);
    residuals = scratchOf(residuals, S);
    const value = logisticTerms(y, batch, z, residuals);
    gather.accumulateWeightedRows(intercept, batch, residuals, grad);
    return value;
  }

  function logit(theta: Vec, n: number): number {
    let z = intercept ? theta[p] : 0;
    const offset = n * p;
    for (let j = 0; j < p; j++) z += theta[j] * x[offset + j];
    return z;
  }

  const model: LogisticRegressionModel = {
    data,
    dim,
    dataSize: N,
    features: p,
    hasIntercept: intercept,
    priorPrecision: lambda,
    layout,

    logPrior(theta) {
      const grad = new Float64Array(dim);
      return { value: logPriorInto(theta, grad), grad };
    },

    logLikelihood(theta, batch) {
      const grad = new Float64Array(dim);
      return { value: logLikelihoodInto(theta, batch, grad), grad };
    },

    perExampleGrads(theta, batch, out) {
      const where = `${MODEL}.perExampleGrads`;
      checkTheta(where, theta, dim, layout);
      checkBatch(where, batch);
      checkOut(where, out, batch.length * dim, `${batch.length} × ${dim}`);
      z = scratchOf(z, batch.length);
      batchLinearPredictors(where, x, p, N, intercept, theta, batch, z);
      for (let i = 0; i < batch.length; i++) {
        const n = batch[i];
        const residual = y[n] - sigmoid(z[i]);
        const row = i * dim;
        const offset = n * p;
        for (let j = 0; j < p; j++) out[row + j] = residual * x[offset + j];
        if (intercept) out[row + p] = residual;
      }
    },

    batchSize: (batch) => batch.length,
    fullBatch: () => allRows(N),

    hessianLogPosterior(theta) {
      checkTheta(`${MODEL}.hessianLogPosterior`, theta, dim, layout);
      const H = new Float64Array(dim * dim);
      const row = new Float64Array(dim);
      for (let n = 0; n < N; n++) {
        const s = sigmoid(logit(theta, n));
        const weight = s * (1 - s);
        if (weight === 0) continue;
        for (let j = 0; j < p; j++) row[j] = x[n * p + j];
        if (intercept) row[p] = 1;
        for (let i = 0; i < dim; i++) {
          const wi = weight * row[i];
          for (let j = 0; j <= i; j++) H[i * dim + j] -= wi * row[j];
        }
      }
      for (let i = 0; i < dim; i++) {
        H[i * dim + i] -= lambda;
        for (let j = 0; j < i; j++) H[j * dim + i] = H[i * dim + j];
      }
      return H;
    },

    predictProba(theta, xNew) {
      const where = `${MODEL}.predictProba`;
      checkTheta(where, theta, dim, layout);
      const z = linearPredictor(where, theta, xNew, p, intercept);
      for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]);
      return z;
    },

    mode(modeOptions = {}) {
      const all = allRows(N);
      return newtonMode(
        {
          name: MODEL,
          dim,
          dataSize: N,
          logPosterior: (theta) => {
            const prior = model.logPrior(theta);
            const likelihood = model.logLikelihood(theta, all);
            for (let i = 0; i < dim; i++) prior.grad[i] += likelihood.grad[i];
            return { value: prior.value + likelihood.value, grad: prior.grad };
          },
          hessian: (theta) => model.hessianLogPosterior(theta),
        },
        modeOptions,
      );
    },
  };
  registerFusedLogPosterior(model, (theta) => checkTheta(priorWhere, theta, dim, layout), logPriorInto, logLikelihoodInto);
  return model;
}
