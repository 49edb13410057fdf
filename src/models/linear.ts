/**
 * Bayesian linear regression with a Gaussian prior: the one built-in model whose posterior and
 * evidence are known in closed form, so every sampler can be checked against it.
 *
 * Model (Bishop 2006, Pattern Recognition and Machine Learning, Sec. 3.3):
 *   w ~ N(0, λ⁻¹ I_q),   y_n | x_n, w ~ N(x̃_nᵀ w, τ⁻¹),
 * with x̃_n = (x_n, 1) when there is an intercept (q = p + 1) and x̃_n = x_n otherwise (q = p).
 * The intercept is penalised: it has the same N(0, λ⁻¹) prior as the weights, so the prior is
 * proper and the evidence is defined. Standardise y (or centre it) when that matters.
 *
 * θ layout: [w_1 … w_p, b (if intercept), log τ (if learnNoise)].
 */
import type { Dataset, IndexBatch, Target, ValueGrad, Vec } from '../core/types.js';
import { cholesky, choleskySolve, identity, symmetricEigen } from '../core/linalg.js';
import { registerFusedLogPosterior, registerScaledLogPosteriorWithExamples } from './estimator.js';
import {
  HALF_LOG_TWO_PI,
  ModelError,
  allRows,
  batchLinearPredictors,
  checkBatch,
  checkDataset,
  checkOut,
  checkTheta,
  logGamma,
  positiveOption,
  rowGather,
  scratchOf,
  type RowGather,
} from './common.js';

/** A Gamma(shape, rate) prior on the noise precision τ (density ∝ τ^(shape−1) e^(−rate τ)). */
export interface GammaPrior {
  shape: number;
  rate: number;
}

/** Options of {@link linearRegression}. */
export interface LinearRegressionOptions {
  /** λ, the precision of the N(0, λ⁻¹ I) prior on weights and intercept (default 1). */
  priorPrecision?: number;
  /** τ, the known noise precision (default 1). Ignored when `learnNoise` is given. */
  noisePrecision?: number;
  /** Learn τ under this Gamma prior; θ then ends with log τ (the prior includes the Jacobian τ). */
  learnNoise?: GammaPrior;
  /** Append a constant-1 feature whose weight is the (penalised) intercept (default true). */
  intercept?: boolean;
}

/** A Gaussian N(mean, cov) over the regression weights; `cov` is q×q row-major. */
export interface GaussianPosterior {
  mean: Vec;
  cov: Float64Array;
}

/** A Bayesian linear regression target with its closed-form extras. */
export interface LinearRegressionModel extends Target<IndexBatch> {
  /** The training data the model holds. */
  readonly data: Dataset;
  /** p, the number of features. */
  readonly features: number;
  /** Whether θ has an intercept entry after the weights. */
  readonly hasIntercept: boolean;
  /** q = p + (intercept ? 1 : 0): the number of regression coefficients. */
  readonly weightDim: number;
  /** λ. */
  readonly priorPrecision: number;
  /** τ when known; undefined when learned. */
  readonly noisePrecision: number | undefined;
  /** Whether θ ends with log τ. */
  readonly learnsNoise: boolean;
  /** A human-readable description of the θ layout, e.g. "3 weights + intercept". */
  readonly layout: string;
  /** log N(w; 0, λ⁻¹ I) (+ log Gamma prior of τ with Jacobian) and its gradient (fresh array). */
  logPrior(theta: Vec): ValueGrad;
  /** Σ_{n∈batch} log N(y_n; x̃_nᵀw, τ⁻¹) and its gradient (fresh array). */
  logLikelihood(theta: Vec, batch: IndexBatch): ValueGrad;
  /** Row i of `out` (batch × dim) ← ∇ log N(y_{b_i}; x̃ᵀw, τ⁻¹). */
  perExampleGrads(theta: Vec, batch: IndexBatch, out: Float64Array): void;
  batchSize(batch: IndexBatch): number;
  /** Every row 0..N−1 (a fresh array). */
  fullBatch(): IndexBatch;
  /**
   * The exact posterior over w given τ (Bishop Eqs. 3.53–3.54):
   *   Σ = (λI + τ X̃ᵀX̃)⁻¹,  m = τ Σ X̃ᵀy.
   * With `learnNoise`, τ must be given (the posterior is then conditional on it).
   */
  exactPosterior(noisePrecision?: number): GaussianPosterior;
  /**
   * The exact log marginal likelihood log p(y | X, λ, τ) (Bishop Eq. 3.86):
   *   (q/2) log λ + (N/2) log τ − E(m) − ½ log|A| − (N/2) log 2π,
   *   A = λI + τX̃ᵀX̃,  E(m) = (τ/2)‖y − X̃m‖² + (λ/2)‖m‖².
   */
  logEvidence(priorPrecision?: number, noisePrecision?: number): number;
  /**
   * The type-II maximum-likelihood λ* = argmax_λ log p(y | X, λ, τ), by MacKay's fixed point
   * (MacKay 1992, "Bayesian interpolation", Neural Computation 4(3); Bishop Eq. 3.92):
   *   γ = Σ_i τs_i / (λ + τs_i),  λ ← γ / ‖m_λ‖²,
   * s_i the eigenvalues of X̃ᵀX̃. At convergence ∂ log p(y|λ) / ∂λ = 0.
   * @throws ModelError when λ runs off to ∞ (y shows no linear signal in X: the evidence then
   *   increases towards the prior-only limit) or the iteration does not converge.
   */
  evidenceOptimalPriorPrecision(noisePrecision?: number): number;
  /** ∇² log posterior over the full data at θ (dim × dim row-major, fresh). */
  hessianLogPosterior(theta: Vec): Float64Array;
  /** x̃ᵀw for each row of `x` (rows × p row-major, without the intercept column). */
  predictMean(theta: Vec, x: Float64Array): Float64Array;
}

const MODEL = 'linearRegression';

/**
 * A Bayesian linear regression target over `data` (see the module comment for the model and the
 * θ layout). Kernels are fused loops over the rows of the batch; the returned gradients are fresh.
 *
 * Memory: the first likelihood evaluation copies `data.x` into WebAssembly memory for the batch
 * gathers (`rowGather`: 8·rows·cols bytes more, plus scratch, while x has ≥ 16 columns, is at most 256 MiB and the
 * runtime has WebAssembly), and the model keeps that private copy for its lifetime. Later edits to
 * `data.x` are therefore not seen by `logLikelihood` and the fused minibatch gradient (while other
 * methods read `data.x` directly): treat the dataset as fixed once the model is built.
 *
 * @example
 * const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 4 });
 * const { mean, cov } = model.exactPosterior();
 */
export function linearRegression(data: Dataset, options: LinearRegressionOptions = {}): LinearRegressionModel {
  checkDataset(MODEL, data);
  const lambda = positiveOption(MODEL, 'priorPrecision', options.priorPrecision ?? 1);
  const learnNoise = options.learnNoise;
  if (learnNoise !== undefined) {
    positiveOption(MODEL, 'learnNoise.shape', learnNoise.shape);
    positiveOption(MODEL, 'learnNoise.rate', learnNoise.rate);
  }
  const knownTau = learnNoise === undefined ? positiveOption(MODEL, 'noisePrecision', options.noisePrecision ?? 1) : undefined;
  const intercept = options.intercept ?? true;
  const N = data.rows;
  const p = data.cols;
  const q = p + (intercept ? 1 : 0);
  const dim = q + (learnNoise ? 1 : 0);
  const { x, y } = data;
  const layout = `${p} weights${intercept ? ' + intercept' : ''}${learnNoise ? ' + log τ' : ''}`;
  // Scratch for a batch's linear predictors (then the gradient weights), grown on demand.
  let z: Float64Array = new Float64Array(0);
  // The batch gathers of x, built at the first likelihood evaluation (it may copy x).
  let gather: RowGather | undefined;
  const gammaConst = learnNoise ? learnNoise.shape * Math.log(learnNoise.rate) - logGamma(learnNoise.shape) : 0;

  // Sufficient statistics X̃ᵀX̃, X̃ᵀy, yᵀy: computed on first use by the closed-form extras.
  let gram: Float64Array | undefined;
  let xty: Float64Array | undefined;
  let yty = 0;
  function statistics(): { gram: Float64Array; xty: Float64Array } {
    if (gram && xty) return { gram, xty };
    const g = new Float64Array(q * q);
    const b = new Float64Array(q);
    const row = new Float64Array(q);
    yty = 0;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < p; j++) row[j] = x[n * p + j];
      if (intercept) row[p] = 1;
      const yn = y[n];
      yty += yn * yn;
      for (let i = 0; i < q; i++) {
        const ri = row[i];
        b[i] += ri * yn;
        for (let j = 0; j <= i; j++) g[i * q + j] += ri * row[j];
      }
    }
    for (let i = 0; i < q; i++) for (let j = 0; j < i; j++) g[j * q + i] = g[i * q + j];
    gram = g;
    xty = b;
    return { gram, xty };
  }

  function tauOf(theta: Vec): number {
    return learnNoise ? Math.exp(theta[q]) : (knownTau as number);
  }

  function residual(theta: Vec, n: number): number {
    let sum = intercept ? theta[p] : 0;
    const offset = n * p;
    for (let j = 0; j < p; j++) sum += theta[j] * x[offset + j];
    return y[n] - sum;
  }

  function requireTau(where: string, given: number | undefined): number {
    if (given !== undefined) return positiveOption(`${MODEL}.${where}`, 'noisePrecision', given);
    if (knownTau === undefined) {
      throw new ModelError(`${MODEL}.${where}: the model learns τ, so pass the noise precision to condition on`);
    }
    return knownTau;
  }

  /** Cholesky factor of A = λI + τG and the posterior mean m = τ A⁻¹ X̃ᵀy. */
  function posteriorFactor(lam: number, tau: number): { L: Float64Array; mean: Float64Array } {
    const stats = statistics();
    const A = new Float64Array(q * q);
    for (let i = 0; i < q * q; i++) A[i] = tau * stats.gram[i];
    for (let i = 0; i < q; i++) A[i * q + i] += lam;
    const L = cholesky(A, q);
    const rhs = new Float64Array(q);
    for (let i = 0; i < q; i++) rhs[i] = tau * stats.xty[i];
    return { L, mean: choleskySolve(L, rhs, q) };
  }

  const priorWhere = `${MODEL}.logPrior`;
  const likelihoodWhere = `${MODEL}.logLikelihood`;

  /** log p(θ) with its gradient written into `grad` (every entry). */
  function logPriorInto(theta: Vec, grad: Vec): number {
    checkTheta(priorWhere, theta, dim, layout);
    let sq = 0;
    for (let i = 0; i < q; i++) {
      sq += theta[i] * theta[i];
      grad[i] = -lambda * theta[i];
    }
    let value = 0.5 * q * Math.log(lambda) - q * HALF_LOG_TWO_PI - 0.5 * lambda * sq;
    if (learnNoise) {
      // Density of u = log τ: Gamma(e^u) · e^u, so the exponent of τ is shape, not shape − 1.
      const u = theta[q];
      const tau = Math.exp(u);
      value += gammaConst + learnNoise.shape * u - learnNoise.rate * tau;
      grad[q] = learnNoise.shape - learnNoise.rate * tau;
    }
    return value;
  }

  /** The batch log likelihood, its gradient added into `grad` (zeros for the gradient alone; the log τ entry is set). */
  function logLikelihoodInto(theta: Vec, batch: IndexBatch, grad: Vec): number {
    checkTheta(likelihoodWhere, theta, dim, layout);
    checkBatch(likelihoodWhere, batch);
    const tau = tauOf(theta);
    const S = batch.length;
    z = scratchOf(z, S);
    gather ??= rowGather(x, p, N);
    gather.linearPredictors(likelihoodWhere, intercept, theta, batch, z);
    let sumSq = 0;
    for (let i = 0; i < S; i++) {
      const r = y[batch[i]] - z[i];
      sumSq += r * r;
      // z now holds τ r_i, the weight of row i in the gradient.
      z[i] = tau * r;
    }
    gather.accumulateWeightedRows(intercept, batch, z, grad);
    if (learnNoise) grad[q] = 0.5 * S - 0.5 * tau * sumSq;
    return 0.5 * S * Math.log(tau) - S * HALF_LOG_TWO_PI - 0.5 * tau * sumSq;
  }

  const perExampleWhere = `${MODEL}.perExampleGrads`;

  /**
   * The per-example gradient rows of the batch, τ r_i x̃_i and (learned noise) ½ − ½ τ r_i², into
   * `out` (S × dim) from the linear predictors already in `z`; returns Σ r_i².
   */
  function perExampleRowsInto(tau: number, batch: IndexBatch, out: Float64Array): number {
    let sumSq = 0;
    for (let i = 0; i < batch.length; i++) {
      const n = batch[i];
      const r = y[n] - z[i];
      sumSq += r * r;
      const scaled = tau * r;
      const row = i * dim;
      const offset = n * p;
      for (let j = 0; j < p; j++) out[row + j] = scaled * x[offset + j];
      if (intercept) out[row + p] = scaled;
      if (learnNoise) out[row + q] = 0.5 - 0.5 * tau * r * r;
    }
    return sumSq;
  }

  /**
   * perExampleGrads into `perExample` and the batch log likelihood with its gradient added into
   * `grad` (zeros; the log τ entry is set), from one pass: the gradient sums the per-example rows
   * in batch order, the bits of logLikelihoodInto's weighted-row sums (from 0, as `grad` is zero).
   */
  function examplesAndLikelihoodInto(theta: Vec, batch: IndexBatch, perExample: Float64Array, grad: Vec): number {
    checkTheta(perExampleWhere, theta, dim, layout);
    checkBatch(perExampleWhere, batch);
    const S = batch.length;
    checkOut(perExampleWhere, perExample, S * dim, `${S} × ${dim}`);
    const tau = tauOf(theta);
    z = scratchOf(z, S);
    gather ??= rowGather(x, p, N);
    gather.linearPredictors(perExampleWhere, intercept, theta, batch, z);
    const sumSq = perExampleRowsInto(tau, batch, perExample);
    sumColumnsInto(perExample, S, dim, q, grad);
    if (learnNoise) grad[q] = 0.5 * S - 0.5 * tau * sumSq;
    return 0.5 * S * Math.log(tau) - S * HALF_LOG_TWO_PI - 0.5 * tau * sumSq;
  }

  const model: LinearRegressionModel = {
    data,
    dim,
    dataSize: N,
    features: p,
    hasIntercept: intercept,
    weightDim: q,
    priorPrecision: lambda,
    noisePrecision: knownTau,
    learnsNoise: learnNoise !== undefined,
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
      const tau = tauOf(theta);
      z = scratchOf(z, batch.length);
      batchLinearPredictors(where, x, p, N, intercept, theta, batch, z);
      perExampleRowsInto(tau, batch, out);
    },

    batchSize: (batch) => batch.length,
    fullBatch: () => allRows(N),

    exactPosterior(noisePrecision) {
      const tau = requireTau('exactPosterior', noisePrecision);
      const { L, mean } = posteriorFactor(lambda, tau);
      return { mean, cov: choleskySolve(L, identity(q), q) };
    },

    logEvidence(priorPrecision, noisePrecision) {
      const lam = positiveOption(`${MODEL}.logEvidence`, 'priorPrecision', priorPrecision ?? lambda);
      const tau = requireTau('logEvidence', noisePrecision);
      const { L, mean } = posteriorFactor(lam, tau);
      const stats = statistics();
      // ‖y − X̃m‖² = yᵀy − 2mᵀX̃ᵀy + mᵀGm, from the cached statistics (no pass over the data).
      let mGm = 0;
      let mXty = 0;
      let mm = 0;
      for (let i = 0; i < q; i++) {
        let gi = 0;
        for (let j = 0; j < q; j++) gi += stats.gram[i * q + j] * mean[j];
        mGm += mean[i] * gi;
        mXty += mean[i] * stats.xty[i];
        mm += mean[i] * mean[i];
      }
      const residualSq = Math.max(0, yty - 2 * mXty + mGm);
      let logDetA = 0;
      for (let i = 0; i < q; i++) logDetA += 2 * Math.log(L[i * q + i]);
      const energy = 0.5 * tau * residualSq + 0.5 * lam * mm;
      return 0.5 * q * Math.log(lam) + 0.5 * N * Math.log(tau) - energy - 0.5 * logDetA - N * HALF_LOG_TWO_PI;
    },

    evidenceOptimalPriorPrecision(noisePrecision) {
      const where = `${MODEL}.evidenceOptimalPriorPrecision`;
      const tau = requireTau('evidenceOptimalPriorPrecision', noisePrecision);
      const stats = statistics();
      const { values, vectors } = symmetricEigen(stats.gram, q);
      // In the eigenbasis of G, m_i = τ b_i / (λ + τ s_i) with b = Vᵀ X̃ᵀy: each iteration is O(q).
      const projected = new Float64Array(q);
      for (let j = 0; j < q; j++) {
        let s = 0;
        for (let i = 0; i < q; i++) s += vectors[i * q + j] * stats.xty[i];
        projected[j] = s;
      }
      let largestCurvature = 0;
      for (let i = 0; i < q; i++) largestCurvature = Math.max(largestCurvature, tau * values[i]);
      // Once λ dwarfs every data curvature τs_i the posterior is the prior: λ is running off to ∞.
      const divergenceBound = 1e8 * Math.max(largestCurvature, lambda);
      let lam = lambda;
      for (let iteration = 0; iteration < 100_000; iteration++) {
        let gamma = 0;
        let mm = 0;
        for (let i = 0; i < q; i++) {
          const s = Math.max(0, values[i]) * tau;
          const denominator = lam + s;
          gamma += s / denominator;
          const m = (tau * projected[i]) / denominator;
          mm += m * m;
        }
        if (!(gamma > 0) || !(mm > 0)) {
          throw new ModelError(`${where}: the evidence has no finite maximiser (effective parameters γ = ${gamma}, ‖m‖² = ${mm})`);
        }
        const next = gamma / mm;
        if (!Number.isFinite(next) || next > divergenceBound) {
          throw new ModelError(
            `${where}: no finite maximiser: the evidence keeps increasing as λ → ∞ (λ passed ${divergenceBound.toExponential(2)}; ` +
              `y shows no linear signal in X at noise precision τ = ${tau})`,
          );
        }
        if (Math.abs(next - lam) <= 1e-13 * lam) return next;
        lam = next;
      }
      throw new ModelError(`${where}: MacKay's fixed point did not converge in 100000 iterations (last λ = ${lam})`);
    },

    hessianLogPosterior(theta) {
      checkTheta(`${MODEL}.hessianLogPosterior`, theta, dim, layout);
      const tau = tauOf(theta);
      const stats = statistics();
      const H = new Float64Array(dim * dim);
      for (let i = 0; i < q; i++) {
        for (let j = 0; j < q; j++) H[i * dim + j] = -tau * stats.gram[i * q + j];
        H[i * dim + i] -= lambda;
      }
      if (learnNoise) {
        // ∂²/∂w∂u = τ Σ r_n x̃_n and ∂²/∂u² = −(τ/2) Σ r_n² − rate·τ, by one pass over the data.
        let sumSq = 0;
        for (let n = 0; n < N; n++) {
          const r = residual(theta, n);
          sumSq += r * r;
          const offset = n * p;
          for (let j = 0; j < p; j++) H[j * dim + q] += tau * r * x[offset + j];
          if (intercept) H[p * dim + q] += tau * r;
        }
        for (let j = 0; j < q; j++) H[q * dim + j] = H[j * dim + q];
        H[q * dim + q] = -0.5 * tau * sumSq - learnNoise.rate * tau;
      }
      return H;
    },

    predictMean(theta, xNew) {
      const where = `${MODEL}.predictMean`;
      checkTheta(where, theta, dim, layout);
      return linearPredictor(where, theta, xNew, p, intercept);
    },
  };
  registerFusedLogPosterior(model, (theta) => checkTheta(priorWhere, theta, dim, layout), logPriorInto, logLikelihoodInto);
  const likelihoodGrad = new Float64Array(dim);
  registerScaledLogPosteriorWithExamples(model, (theta, batch, scale, out, perExample) => {
    likelihoodGrad.fill(0);
    const likelihood = examplesAndLikelihoodInto(theta, batch, perExample, likelihoodGrad);
    // Last, as it reads each θ_i before writing out_i: `out` may alias θ.
    const prior = logPriorInto(theta, out);
    for (let i = 0; i < dim; i++) out[i] = out[i] + scale * likelihoodGrad[i];
    return prior + scale * likelihood;
  });
  return model;
}

/**
 * grad_j ← grad_j + Σ_i rows_{i,j} for the first `columns` columns of an S × width row-major
 * matrix, each column summed from 0 in row order (so on a zero `grad` the bits of row-by-row
 * accumulation), four columns at a time in registers so that their sums overlap.
 */
function sumColumnsInto(rows: Float64Array, S: number, width: number, columns: number, grad: Vec): void {
  const end = S * width;
  let j = 0;
  for (; j + 3 < columns; j += 4) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = j; k < end; k += width) {
      s0 += rows[k];
      s1 += rows[k + 1];
      s2 += rows[k + 2];
      s3 += rows[k + 3];
    }
    grad[j] += s0;
    grad[j + 1] += s1;
    grad[j + 2] += s2;
    grad[j + 3] += s3;
  }
  for (; j < columns; j++) {
    let sum = 0;
    for (let k = j; k < end; k += width) sum += rows[k];
    grad[j] += sum;
  }
}

/** x̃ᵀw for each row of a rows × p matrix, checking its shape and values. */
export function linearPredictor(where: string, theta: Vec, xNew: Float64Array, p: number, intercept: boolean): Float64Array {
  const rows = checkFeatureMatrix(where, xNew, p);
  const out = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let z = intercept ? theta[p] : 0;
    for (let j = 0; j < p; j++) z += theta[j] * xNew[n * p + j];
    out[n] = z;
  }
  return out;
}

/** The number of rows of a row-major feature matrix with p columns; throws on a bad shape or NaN. */
export function checkFeatureMatrix(where: string, xNew: Float64Array, p: number): number {
  if (!(xNew instanceof Float64Array)) throw new ModelError(`${where}: x must be a Float64Array (rows × ${p} row-major)`);
  if (p === 0 ? xNew.length !== 0 : xNew.length % p !== 0) {
    throw new ModelError(`${where}: x has ${xNew.length} entries, not a multiple of the ${p} features`);
  }
  for (let i = 0; i < xNew.length; i++) {
    if (!Number.isFinite(xNew[i])) {
      throw new ModelError(`${where}: x row ${Math.floor(i / p) + 1}, feature ${(i % p) + 1} is ${xNew[i]} (must be finite)`);
    }
  }
  return p === 0 ? 0 : xNew.length / p;
}
