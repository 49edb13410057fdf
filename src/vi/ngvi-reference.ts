/**
 * Full-batch reference Gaussian VI for Bayesian logistic regression with exact expectations:
 * every expectation over q factorises into one-dimensional Gaussian integrals over the linear
 * predictors z_n = x̃_nᵀθ ~ N(x̃_nᵀμ, x̃_nᵀΣx̃_n), computed by Gauss–Hermite quadrature. Gives the
 * exact ELBO of any Gaussian q and the optimal Gaussian (full or mean-field) by a converged
 * full-batch natural-gradient iteration.
 */
import { cholesky, choleskySolve, symmetricEigen } from '../core/linalg.js';
import type { Vec } from '../core/types.js';
import type { LogisticRegressionModel } from '../models/logistic.js';
import { NgviError, type CovarianceStructure } from './ngvi-curvature.js';

const LOG_TWO_PI = Math.log(2 * Math.PI);

/** Nodes z_k and weights w_k (Σ w_k = 1) with Σ_k w_k f(z_k) = E f(Z), Z ~ N(0, 1), exact for polynomials of degree < 2n. */
export interface GaussHermiteRule {
  nodes: Float64Array;
  weights: Float64Array;
}

/**
 * The n-point Gauss–Hermite rule for the standard normal (probabilists' Hermite polynomials), by
 * Golub & Welsch (1969, "Calculation of Gauss quadrature rules", Math. Comp. 23): the nodes are the
 * eigenvalues of the Jacobi matrix with off-diagonal √k, k = 1..n−1, and the weights the squared
 * first components of its normalised eigenvectors.
 */
export function gaussHermite(n: number): GaussHermiteRule {
  if (!Number.isSafeInteger(n) || n < 1 || n > 200) throw new NgviError(`gaussHermite: n must be an integer in [1, 200], got ${n}`);
  const jacobi = new Float64Array(n * n);
  for (let k = 1; k < n; k++) jacobi[k * n + k - 1] = jacobi[(k - 1) * n + k] = Math.sqrt(k);
  const { values, vectors } = symmetricEigen(jacobi, n);
  const weights = new Float64Array(n);
  for (let j = 0; j < n; j++) weights[j] = vectors[j] ** 2;
  return { nodes: values, weights };
}

/** Options of {@link logisticReferenceVi}. */
export interface LogisticReferenceOptions {
  /** 'full' (optimal full-rank Gaussian) or 'diagonal' (the mean-field optimum). */
  covariance: CovarianceStructure;
  /** Gauss–Hermite nodes (default 100). */
  nodes?: number;
  /** Stop when max|Δμ|/max(1, max|μ|) and max|ΔS|/max|S| fall below this (default 1e-8). */
  tolerance?: number;
  /** Most iterations (default 500). */
  maxIterations?: number;
}

/** A Gaussian q = N(mean, covariance) with its exact ELBO. */
export interface LogisticReference {
  mean: Vec;
  /** d entries ('diagonal') or d×d row-major ('full'). */
  precision: Float64Array;
  /** d×d row-major. */
  covariance: Float64Array;
  /** The exact ELBO (quadrature) of q. */
  elbo: number;
  iterations: number;
}

function augmented(model: LogisticRegressionModel, n: number, out: Float64Array): void {
  const p = model.features;
  for (let j = 0; j < p; j++) out[j] = model.data.x[n * p + j];
  if (model.hasIntercept) out[p] = 1;
}

function quadForm(row: Float64Array, cov: Float64Array, d: number): number {
  if (cov.length === d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += row[j] * row[j] * cov[j];
    return s;
  }
  let s = 0;
  for (let i = 0; i < d; i++) {
    let r = 0;
    for (let j = 0; j < d; j++) r += cov[i * d + j] * row[j];
    s += row[i] * r;
  }
  return s;
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

interface Moments {
  /** Σ_n [y_n m_n − E softplus(z_n)]. */
  expectedLogLik: number;
  /** Σ_n (y_n − E σ(z_n)) x̃_n. */
  grad: Float64Array;
  /** Σ_n E σ'(z_n) x̃_n x̃_nᵀ (d×d). */
  curvature: Float64Array;
}

function expectations(model: LogisticRegressionModel, mean: Vec, cov: Float64Array, rule: GaussHermiteRule): Moments {
  const d = model.dim;
  const row = new Float64Array(d);
  const grad = new Float64Array(d);
  const curvature = new Float64Array(d * d);
  const { nodes, weights } = rule;
  let expectedLogLik = 0;
  for (let n = 0; n < model.dataSize; n++) {
    augmented(model, n, row);
    let m = 0;
    for (let j = 0; j < d; j++) m += row[j] * mean[j];
    const sd = Math.sqrt(Math.max(0, quadForm(row, cov, d)));
    let eSoftplus = 0;
    let eSigmoid = 0;
    let eSigmoidPrime = 0;
    for (let k = 0; k < nodes.length; k++) {
      const z = m + sd * nodes[k];
      const s = 1 / (1 + Math.exp(-z));
      eSoftplus += weights[k] * softplus(z);
      eSigmoid += weights[k] * s;
      eSigmoidPrime += weights[k] * s * (1 - s);
    }
    const y = model.data.y[n];
    expectedLogLik += y * m - eSoftplus;
    const r = y - eSigmoid;
    for (let j = 0; j < d; j++) grad[j] += r * row[j];
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) curvature[i * d + j] += eSigmoidPrime * row[i] * row[j];
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) curvature[j * d + i] = curvature[i * d + j];
  return { expectedLogLik, grad, curvature };
}

function covarianceOf(precision: Float64Array, d: number): { cov: Float64Array; logDetCov: number } {
  if (precision.length === d) {
    const cov = new Float64Array(d);
    let logDetCov = 0;
    for (let j = 0; j < d; j++) {
      cov[j] = 1 / precision[j];
      logDetCov -= Math.log(precision[j]);
    }
    return { cov, logDetCov };
  }
  const R = cholesky(precision, d);
  let logDetCov = 0;
  for (let i = 0; i < d; i++) logDetCov -= 2 * Math.log(R[i * d + i]);
  // Σ = R⁻ᵀR⁻¹ from W = R⁻¹ (lower triangular): Σ_ij = Σ_k W_ki W_kj.
  const W = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= R[i * d + k] * W[k * d + c];
      W[i * d + c] = s / R[i * d + i];
    }
  }
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += W[k * d + i] * W[k * d + j];
      cov[i * d + j] = cov[j * d + i] = s;
    }
  }
  return { cov, logDetCov };
}

function elboFrom(model: LogisticRegressionModel, mean: Vec, cov: Float64Array, logDetCov: number, expectedLogLik: number): number {
  const d = model.dim;
  const lambda = model.priorPrecision;
  let meanSq = 0;
  let trace = 0;
  for (let j = 0; j < d; j++) {
    meanSq += mean[j] * mean[j];
    trace += cov.length === d ? cov[j] : cov[j * d + j];
  }
  // E_q log N(θ; 0, λ⁻¹I) + H[q], both in closed form.
  const expectedLogPrior = 0.5 * d * Math.log(lambda) - 0.5 * d * LOG_TWO_PI - 0.5 * lambda * (meanSq + trace);
  const entropy = 0.5 * d * (1 + LOG_TWO_PI) + 0.5 * logDetCov;
  return expectedLogLik + expectedLogPrior + entropy;
}

/**
 * The exact ELBO of q = N(mean, cov) for Bayesian logistic regression (cov d×d row-major, or a
 * length-d vector of variances), with n-point Gauss–Hermite quadrature over each z_n:
 *
 *   L(q) = Σ_n [y_n x̃_nᵀμ − E softplus(z_n)] + E_q log N(θ; 0, λ⁻¹I) + ½ log det(2πe Σ).
 */
export function logisticExactElbo(model: LogisticRegressionModel, mean: Vec, cov: Float64Array, nodes = 100): number {
  const d = model.dim;
  if (mean.length !== d) throw new NgviError(`logisticExactElbo: mean has length ${mean.length}, expected ${d}`);
  if (cov.length !== d && cov.length !== d * d) throw new NgviError(`logisticExactElbo: cov has length ${cov.length}, expected ${d} or ${d * d}`);
  const structure: CovarianceStructure = cov.length === d ? 'diagonal' : 'full';
  let logDetCov: number;
  if (structure === 'diagonal') logDetCov = cov.reduce((s, v) => s + Math.log(v), 0);
  else {
    const L = cholesky(cov, d);
    logDetCov = 0;
    for (let i = 0; i < d; i++) logDetCov += 2 * Math.log(L[i * d + i]);
  }
  return elboFrom(model, mean, cov, logDetCov, expectations(model, mean, cov, gaussHermite(nodes)).expectedLogLik);
}

/**
 * The optimal Gaussian q for Bayesian logistic regression by full-batch natural-gradient VI with
 * exact expectations (the fixed point of Opper & Archambeau 2009, "The variational Gaussian
 * approximation revisited", Neural Computation 21):
 *
 *   S ← (1 − ρ)S + ρ[λI + Σ_n E_q σ'(z_n) x̃_n x̃_nᵀ],   μ ← μ + ρ S⁻¹[Σ_n (y_n − E_q σ(z_n)) x̃_n − λμ],
 *
 * (diagonal: S keeps the diagonal of the bracket, and μ moves by ρ times the Newton step with the
 * full bracket, since the diagonal natural-gradient mean step converges slowly on correlated
 * features), from μ = 0, S = λI + ¼X̃ᵀX̃, with ρ = 1 halved
 * whenever the exact ELBO would decrease. At the fixed point ∇_μ L = 0 and S = E_q[−∇² log p], the
 * stationarity conditions of the ELBO over Gaussians (mean-field: over diagonal S).
 * @throws NgviError if it has not converged after `maxIterations`.
 */
export function logisticReferenceVi(model: LogisticRegressionModel, options: LogisticReferenceOptions): LogisticReference {
  const where = 'logisticReferenceVi';
  const structure = options.covariance;
  if (structure !== 'diagonal' && structure !== 'full') throw new NgviError(`${where}: covariance must be 'diagonal' or 'full', got '${String(structure)}'`);
  const rule = gaussHermite(options.nodes ?? 100);
  const tolerance = options.tolerance ?? 1e-8;
  const maxIterations = options.maxIterations ?? 500;
  const d = model.dim;
  const lambda = model.priorPrecision;
  let mean = new Float64Array(d);
  // Start from the bound σ' ≤ ¼, so the first precision is not below the optimum.
  let precision = new Float64Array(structure === 'full' ? d * d : d);
  const row = new Float64Array(d);
  for (let n = 0; n < model.dataSize; n++) {
    augmented(model, n, row);
    if (structure === 'diagonal') for (let j = 0; j < d; j++) precision[j] += 0.25 * row[j] * row[j];
    else for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) precision[i * d + j] += 0.25 * row[i] * row[j];
  }
  for (let j = 0; j < d; j++) precision[structure === 'full' ? j * d + j : j] += lambda;
  const start = covarianceOf(precision, d);
  let cov = start.cov;
  let moments = expectations(model, mean, cov, rule);
  let elbo = elboFrom(model, mean, cov, start.logDetCov, moments.expectedLogLik);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const hessian = moments.curvature;
    for (let j = 0; j < d; j++) hessian[j * d + j] += lambda;
    const target = structure === 'full' ? hessian : Float64Array.from({ length: d }, (_, j) => hessian[j * d + j]);
    const grad = moments.grad;
    for (let j = 0; j < d; j++) grad[j] -= lambda * mean[j];
    // The mean takes a Newton step with the full expected Hessian in both cases: with diagonal S the
    // natural-gradient mean step is a Jacobi iteration, slow on correlated features.
    const step = choleskySolve(cholesky(hessian, d), grad, d);
    let rho = 1;
    for (;;) {
      const nextPrecision = new Float64Array(precision.length);
      for (let i = 0; i < precision.length; i++) nextPrecision[i] = (1 - rho) * precision[i] + rho * target[i];
      const next = covarianceOf(nextPrecision, d);
      const nextMean = new Float64Array(d);
      for (let j = 0; j < d; j++) nextMean[j] = mean[j] + rho * step[j];
      const nextMoments = expectations(model, nextMean, next.cov, rule);
      const nextElbo = elboFrom(model, nextMean, next.cov, next.logDetCov, nextMoments.expectedLogLik);
      // The slack absorbs the rounding of the N-term ELBO sum, so steps are not halved at convergence.
      if (nextElbo >= elbo - 1e-9 * (1 + Math.abs(elbo)) || rho < 1e-6) {
        let meanChange = 0;
        let precisionChange = 0;
        let precisionScale = 0;
        for (let j = 0; j < d; j++) meanChange = Math.max(meanChange, Math.abs(nextMean[j] - mean[j]));
        for (let i = 0; i < precision.length; i++) {
          precisionChange = Math.max(precisionChange, Math.abs(nextPrecision[i] - precision[i]));
          precisionScale = Math.max(precisionScale, Math.abs(nextPrecision[i]));
        }
        mean = nextMean;
        precision = nextPrecision;
        cov = next.cov;
        moments = nextMoments;
        elbo = nextElbo;
        const meanScale = Math.max(1, ...Array.from(mean, Math.abs));
        if (meanChange < tolerance * meanScale && precisionChange < tolerance * precisionScale) {
          const covariance = structure === 'full' ? cov : new Float64Array(d * d);
          if (structure === 'diagonal') for (let j = 0; j < d; j++) covariance[j * d + j] = cov[j];
          return { mean, precision, covariance, elbo, iterations: iteration };
        }
        break;
      }
      rho /= 2;
    }
  }
  throw new NgviError(`${where}: not converged to tolerance ${tolerance} after ${maxIterations} iterations (ELBO ${elbo})`);
}
