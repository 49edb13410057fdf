/**
 * Gaussian variational families over a flat parameter vector — mean-field N(μ, diag σ²) and
 * full-rank N(μ, LLᵀ) — with reparameterised sampling θ = μ + Lε (Kingma & Welling 2014;
 * Titsias & Lázaro-Gredilla 2014), the ELBO estimate with fixed keys and its Monte Carlo standard
 * error, and Adam-based ELBO maximisation (the "black-box" VI baseline of natural-gradient VI).
 *
 * Each family also maps its parameters to one unconstrained vector φ (μ, then log σ for the
 * mean-field family; μ, then the rows of L's lower triangle with log L_ii on the diagonal for the
 * full-rank family), so generic optimisers see a flat vector.
 */
import { cholesky, NotPositiveDefiniteError } from '../core/linalg.js';
import { foldIn, key as seedKey, normal, type Key } from '../core/random.js';
import { scheduleValue, type IndexBatch, type Schedule, type Target, type Vec, type VariationalFamily } from '../core/types.js';
import { Minibatcher } from '../data/minibatch.js';
import { adam } from '../transforms/adam.js';

const LOG_TWO_PI = Math.log(2 * Math.PI);

/** Bad input or options of a Gaussian variational family or of Adam-based VI. */
export class VariationalFamilyError extends Error {
  override readonly name = 'VariationalFamilyError';
}

/** Parameters of a mean-field Gaussian N(mean, diag(exp(2 logSd))). */
export interface MeanFieldParams {
  readonly mean: Vec;
  readonly logSd: Vec;
}

/** Parameters of a full-rank Gaussian N(mean, L Lᵀ), L lower triangular (d×d row-major) with positive diagonal. */
export interface FullRankParams {
  readonly mean: Vec;
  readonly scale: Float64Array;
}

/** A Gaussian variational family with the extras reparameterised VI needs. */
export interface GaussianFamily<P> extends VariationalFamily<P> {
  readonly kind: 'mean-field' | 'full-rank';
  /** d, the dimension of θ. */
  readonly dim: number;
  /** Length of the unconstrained vector φ. */
  readonly paramDim: number;
  /** φ from parameters (fresh). */
  toVector(p: P): Vec;
  /** Parameters from φ (fresh arrays). */
  fromVector(phi: Vec): P;
  /** θ = μ + Lε for standard normal noise ε, written into `out`. */
  transform(eps: Vec, p: P, out: Vec): Vec;
  /** Adds (∂θ/∂φ)ᵀ g to `out` (length paramDim) for θ = transform(ε, p): the reparameterisation chain rule. */
  pullback(eps: Vec, gradTheta: Vec, p: P, out: Vec): void;
  /** Entropy H[q] = (d/2) log(2πe) + Σ log L_ii. */
  entropy(p: P): number;
  /** Adds ∇_φ H[q] to `out`. */
  entropyGradient(p: P, out: Vec): void;
  /** The covariance Σ (d×d row-major, fresh). */
  covariance(p: P): Float64Array;
  /** Build parameters from a mean and a covariance (d×d row-major; the mean-field family keeps its diagonal). */
  fromMoments(mean: Vec, cov: Float64Array): P;
}

/** Options of the Gaussian families. */
export interface GaussianFamilyOptions {
  /** Initial standard deviation of every coordinate (default 0.1). */
  initialSd?: number;
  /** λ of the prior N(0, λ⁻¹I) used by `klToPrior` (default 1). */
  priorPrecision?: number;
}

function checkDimension(where: string, dim: number): void {
  if (!Number.isSafeInteger(dim) || dim < 1) throw new VariationalFamilyError(`${where}: dim must be a positive integer, got ${dim}`);
}

function positive(where: string, name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new VariationalFamilyError(`${where}: ${name} must be a finite number > 0, got ${value}`);
  return value;
}

function checkVector(where: string, name: string, v: Vec, length: number): void {
  if (!(v instanceof Float64Array) || v.length !== length) {
    throw new VariationalFamilyError(`${where}: ${name} must be a Float64Array of length ${length}, got ${v instanceof Float64Array ? `length ${v.length}` : typeof v}`);
  }
}

/**
 * The mean-field Gaussian family q(θ) = Π_j N(θ_j; μ_j, σ_j²), φ = (μ, log σ).
 * Reparameterisation θ = μ + σ ⊙ ε, so ∂θ/∂μ = I and ∂θ_j/∂log σ_j = σ_j ε_j.
 */
export function meanFieldGaussian(dim: number, options: GaussianFamilyOptions = {}): GaussianFamily<MeanFieldParams> {
  const where = 'meanFieldGaussian';
  checkDimension(where, dim);
  const initialSd = positive(where, 'initialSd', options.initialSd ?? 0.1);
  const lambda = positive(where, 'priorPrecision', options.priorPrecision ?? 1);
  const check = (fn: string, p: MeanFieldParams): void => {
    checkVector(`${where}.${fn}`, 'mean', p.mean, dim);
    checkVector(`${where}.${fn}`, 'logSd', p.logSd, dim);
  };
  return {
    kind: 'mean-field',
    dim,
    paramDim: 2 * dim,
    init(mean) {
      checkVector(`${where}.init`, 'mean', mean, dim);
      return { mean: Float64Array.from(mean), logSd: new Float64Array(dim).fill(Math.log(initialSd)) };
    },
    sample(key, p) {
      check('sample', p);
      return this.transform(normal(key, dim), p, new Float64Array(dim));
    },
    transform(eps, p, out) {
      for (let j = 0; j < dim; j++) out[j] = p.mean[j] + Math.exp(p.logSd[j]) * eps[j];
      return out;
    },
    pullback(eps, gradTheta, p, out) {
      for (let j = 0; j < dim; j++) {
        out[j] += gradTheta[j];
        out[dim + j] += gradTheta[j] * eps[j] * Math.exp(p.logSd[j]);
      }
    },
    logQ(theta, p) {
      check('logQ', p);
      checkVector(`${where}.logQ`, 'theta', theta, dim);
      let value = -0.5 * dim * LOG_TWO_PI;
      for (let j = 0; j < dim; j++) {
        const z = (theta[j] - p.mean[j]) * Math.exp(-p.logSd[j]);
        value -= 0.5 * z * z + p.logSd[j];
      }
      return value;
    },
    klToPrior(p) {
      check('klToPrior', p);
      // KL(N(μ, Σ) ‖ N(0, λ⁻¹I)) = ½[λ tr Σ + λ‖μ‖² − d − d log λ − log|Σ|].
      let value = -dim - dim * Math.log(lambda);
      for (let j = 0; j < dim; j++) value += lambda * (Math.exp(2 * p.logSd[j]) + p.mean[j] ** 2) - 2 * p.logSd[j];
      return 0.5 * value;
    },
    entropy(p) {
      let value = 0.5 * dim * (1 + LOG_TWO_PI);
      for (let j = 0; j < dim; j++) value += p.logSd[j];
      return value;
    },
    entropyGradient(_p, out) {
      for (let j = 0; j < dim; j++) out[dim + j] += 1;
    },
    toVector(p) {
      check('toVector', p);
      const phi = new Float64Array(2 * dim);
      phi.set(p.mean);
      phi.set(p.logSd, dim);
      return phi;
    },
    fromVector(phi) {
      checkVector(`${where}.fromVector`, 'phi', phi, 2 * dim);
      return { mean: phi.slice(0, dim), logSd: phi.slice(dim) };
    },
    covariance(p) {
      const cov = new Float64Array(dim * dim);
      for (let j = 0; j < dim; j++) cov[j * dim + j] = Math.exp(2 * p.logSd[j]);
      return cov;
    },
    fromMoments(mean, cov) {
      checkVector(`${where}.fromMoments`, 'mean', mean, dim);
      checkVector(`${where}.fromMoments`, 'cov', cov, dim * dim);
      const logSd = new Float64Array(dim);
      for (let j = 0; j < dim; j++) logSd[j] = 0.5 * Math.log(positive(`${where}.fromMoments`, `cov[${j}, ${j}]`, cov[j * dim + j]));
      return { mean: Float64Array.from(mean), logSd };
    },
  };
}

/** Index in φ of L_ij (i ≥ j) of the full-rank family: the lower triangle row by row after μ. */
function lowerIndex(dim: number, i: number, j: number): number {
  return dim + (i * (i + 1)) / 2 + j;
}

/**
 * The full-rank Gaussian family q(θ) = N(μ, LLᵀ), L lower triangular with positive diagonal;
 * φ = (μ, rows of L's lower triangle with log L_ii in place of L_ii).
 * Reparameterisation θ = μ + Lε, so ∂θ_i/∂L_ij = ε_j and ∂θ_i/∂log L_ii = L_ii ε_i.
 */
export function fullRankGaussian(dim: number, options: GaussianFamilyOptions = {}): GaussianFamily<FullRankParams> {
  const where = 'fullRankGaussian';
  checkDimension(where, dim);
  const initialSd = positive(where, 'initialSd', options.initialSd ?? 0.1);
  const lambda = positive(where, 'priorPrecision', options.priorPrecision ?? 1);
  const paramDim = dim + (dim * (dim + 1)) / 2;
  const check = (fn: string, p: FullRankParams): void => {
    checkVector(`${where}.${fn}`, 'mean', p.mean, dim);
    checkVector(`${where}.${fn}`, 'scale', p.scale, dim * dim);
    for (let i = 0; i < dim; i++) {
      if (!(p.scale[i * dim + i] > 0)) throw new VariationalFamilyError(`${where}.${fn}: scale[${i}, ${i}] must be > 0, got ${p.scale[i * dim + i]}`);
    }
  };
  const logDetScale = (p: FullRankParams): number => {
    let s = 0;
    for (let i = 0; i < dim; i++) s += Math.log(p.scale[i * dim + i]);
    return s;
  };
  return {
    kind: 'full-rank',
    dim,
    paramDim,
    init(mean) {
      checkVector(`${where}.init`, 'mean', mean, dim);
      const scale = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) scale[i * dim + i] = initialSd;
      return { mean: Float64Array.from(mean), scale };
    },
    sample(key, p) {
      check('sample', p);
      return this.transform(normal(key, dim), p, new Float64Array(dim));
    },
    transform(eps, p, out) {
      const L = p.scale;
      for (let i = 0; i < dim; i++) {
        let s = p.mean[i];
        for (let j = 0; j <= i; j++) s += L[i * dim + j] * eps[j];
        out[i] = s;
      }
      return out;
    },
    pullback(eps, gradTheta, p, out) {
      for (let i = 0; i < dim; i++) {
        const g = gradTheta[i];
        out[i] += g;
        const base = lowerIndex(dim, i, 0);
        for (let j = 0; j < i; j++) out[base + j] += g * eps[j];
        out[base + i] += g * eps[i] * p.scale[i * dim + i];
      }
    },
    logQ(theta, p) {
      check('logQ', p);
      checkVector(`${where}.logQ`, 'theta', theta, dim);
      // ε = L⁻¹(θ − μ) by forward substitution.
      const L = p.scale;
      const eps = new Float64Array(dim);
      let sq = 0;
      for (let i = 0; i < dim; i++) {
        let s = theta[i] - p.mean[i];
        for (let j = 0; j < i; j++) s -= L[i * dim + j] * eps[j];
        eps[i] = s / L[i * dim + i];
        sq += eps[i] * eps[i];
      }
      return -0.5 * dim * LOG_TWO_PI - logDetScale(p) - 0.5 * sq;
    },
    klToPrior(p) {
      check('klToPrior', p);
      let traceSq = 0;
      let meanSq = 0;
      for (let i = 0; i < dim; i++) {
        meanSq += p.mean[i] ** 2;
        for (let j = 0; j <= i; j++) traceSq += p.scale[i * dim + j] ** 2;
      }
      return 0.5 * (lambda * (traceSq + meanSq) - dim - dim * Math.log(lambda)) - logDetScale(p);
    },
    entropy(p) {
      return 0.5 * dim * (1 + LOG_TWO_PI) + logDetScale(p);
    },
    entropyGradient(_p, out) {
      for (let i = 0; i < dim; i++) out[lowerIndex(dim, i, i)] += 1;
    },
    toVector(p) {
      check('toVector', p);
      const phi = new Float64Array(paramDim);
      phi.set(p.mean);
      for (let i = 0; i < dim; i++) {
        for (let j = 0; j < i; j++) phi[lowerIndex(dim, i, j)] = p.scale[i * dim + j];
        phi[lowerIndex(dim, i, i)] = Math.log(p.scale[i * dim + i]);
      }
      return phi;
    },
    fromVector(phi) {
      checkVector(`${where}.fromVector`, 'phi', phi, paramDim);
      const scale = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) {
        for (let j = 0; j < i; j++) scale[i * dim + j] = phi[lowerIndex(dim, i, j)];
        scale[i * dim + i] = Math.exp(phi[lowerIndex(dim, i, i)]);
      }
      return { mean: phi.slice(0, dim), scale };
    },
    covariance(p) {
      const L = p.scale;
      const cov = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = 0; k <= j; k++) s += L[i * dim + k] * L[j * dim + k];
          cov[i * dim + j] = s;
          cov[j * dim + i] = s;
        }
      }
      return cov;
    },
    fromMoments(mean, cov) {
      checkVector(`${where}.fromMoments`, 'mean', mean, dim);
      checkVector(`${where}.fromMoments`, 'cov', cov, dim * dim);
      let scale: Float64Array;
      try {
        scale = cholesky(cov, dim);
      } catch (error) {
        if (!(error instanceof NotPositiveDefiniteError)) throw error;
        throw new VariationalFamilyError(`${where}.fromMoments: cov is not positive definite (pivot ${error.pivotIndex} is ${error.pivotValue})`);
      }
      return { mean: Float64Array.from(mean), scale };
    },
  };
}

/** An ELBO estimate and its Monte Carlo standard error. */
export interface ElboEstimate {
  /** (1/K) Σ_k [log p(θ_k, data) − log q(θ_k)], θ_k ~ q. */
  elbo: number;
  /** sd of the K terms / √K. */
  mcse: number;
  /** K. */
  samples: number;
}

/**
 * The ELBO of q over the full data, estimated from K reparameterised draws θ_k = μ + Lε_k with
 * ε_k = normal(foldIn(key, k)):
 *
 *   L(q) = E_q[log p(θ) + Σ_n log p(x_n | θ) − log q(θ)] ≈ (1/K) Σ_k w_k,  MCSE = sd(w)/√K.
 *
 * With a fixed key every q sees the same ε_k (common random numbers), so ELBO differences between
 * two q are estimated far more precisely than either ELBO. log p is the target's unnormalised log
 * density (the built-in models include every constant, so this is then a bound on log evidence).
 */
export function elboEstimate<P, Batch>(target: Target<Batch>, family: GaussianFamily<P>, p: P, key: Key, samples = 256): ElboEstimate {
  if (!Number.isSafeInteger(samples) || samples < 2) throw new VariationalFamilyError(`elboEstimate: samples must be an integer ≥ 2, got ${samples}`);
  if (family.dim !== target.dim) throw new VariationalFamilyError(`elboEstimate: the family has dim ${family.dim} but the target has dim ${target.dim}`);
  const batch = target.fullBatch();
  const eps = new Float64Array(family.dim);
  const theta = new Float64Array(family.dim);
  let mean = 0;
  let m2 = 0;
  for (let k = 0; k < samples; k++) {
    normal(foldIn(key, k), family.dim, eps);
    family.transform(eps, p, theta);
    const w = target.logPrior(theta).value + target.logLikelihood(theta, batch).value - family.logQ(theta, p);
    // Welford's update keeps the variance accurate when |w| ≫ sd(w).
    const delta = w - mean;
    mean += delta / (k + 1);
    m2 += delta * (w - mean);
  }
  return { elbo: mean, mcse: Math.sqrt(m2 / (samples - 1) / samples), samples };
}

/**
 * One reparameterised estimate of ∇_φ ELBO on a minibatch (Kingma & Welling 2014; Titsias &
 * Lázaro-Gredilla 2014), averaged over `samples` draws ε_s = normal(foldIn(key, s)):
 *
 *   ĝ_φ = (1/M) Σ_s (∂θ/∂φ)ᵀ [∇ log p(θ_s) + (N/S) Σ_{n∈batch} ∇ log p(x_n | θ_s)] + ∇_φ H[q],
 *
 * with the entropy gradient in closed form. Written into `out` (length paramDim); returns it.
 */
export function elboGradient<P, Batch>(target: Target<Batch>, family: GaussianFamily<P>, p: P, key: Key, batch: Batch, samples = 1, out: Vec = new Float64Array(family.paramDim)): Vec {
  const d = family.dim;
  const S = target.batchSize(batch);
  if (!(S > 0)) throw new VariationalFamilyError('elboGradient: the batch is empty');
  const scale = target.dataSize / S;
  const eps = new Float64Array(d);
  const theta = new Float64Array(d);
  const gradTheta = new Float64Array(d);
  out.fill(0);
  for (let s = 0; s < samples; s++) {
    normal(foldIn(key, s), d, eps);
    family.transform(eps, p, theta);
    const prior = target.logPrior(theta).grad;
    const lik = target.logLikelihood(theta, batch).grad;
    for (let j = 0; j < d; j++) gradTheta[j] = (prior[j] + scale * lik[j]) / samples;
    family.pullback(eps, gradTheta, p, out);
  }
  family.entropyGradient(p, out);
  return out;
}

/** Options of {@link fitAdamVi}. */
export interface AdamViOptions<P> {
  /** Number of Adam updates. */
  steps: number;
  /** Minibatch size S (default N: full batch). */
  batchSize?: number;
  /** Adam learning rate (default 0.01). */
  learningRate?: Schedule;
  /** Reparameterised draws per update (default 1). */
  samples?: number;
  /** Seed of batches and draws (default 0). */
  seed?: number;
  /** Initial parameters (default `family.init(0)`). */
  initial?: P;
  /** Called after every update with the number of updates done and the current parameters. */
  onStep?: (step: number, p: P) => void;
}

/** The result of {@link fitAdamVi}. */
export interface AdamViResult<P> {
  params: P;
  steps: number;
}

/**
 * Black-box Gaussian VI: Adam (Kingma & Ba 2015) ascending the reparameterised minibatch ELBO
 * gradient of {@link elboGradient} in the unconstrained φ,
 *
 *   φ_{t+1} = φ_t + Adam_t(ĝ_φ),  batches drawn without replacement per epoch from the seed.
 *
 * With the full batch, many draws and a decaying learning rate this is the generic full-batch
 * reference VI; with minibatches and one draw it is the Adam baseline NG-VI is compared against.
 */
export function fitAdamVi<P>(target: Target<IndexBatch>, family: GaussianFamily<P>, options: AdamViOptions<P>): AdamViResult<P> {
  const where = 'fitAdamVi';
  const steps = options.steps;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new VariationalFamilyError(`${where}: steps must be a non-negative integer, got ${steps}`);
  if (family.dim !== target.dim) throw new VariationalFamilyError(`${where}: the family has dim ${family.dim} but the target has dim ${target.dim}`);
  const N = target.dataSize;
  const batchSize = options.batchSize ?? N;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > N) throw new VariationalFamilyError(`${where}: batchSize must be an integer in [1, ${N}], got ${batchSize}`);
  const samples = options.samples ?? 1;
  if (!Number.isSafeInteger(samples) || samples < 1) throw new VariationalFamilyError(`${where}: samples must be a positive integer, got ${samples}`);
  const root = foldIn(seedKey(options.seed ?? 0), 0x41444d);
  const batches = new Minibatcher(foldIn(root, 1), N, batchSize);
  const drawKey = foldIn(root, 2);
  const optimiser = adam({ lr: options.learningRate ?? 0.01 });
  let phi = family.toVector(options.initial ?? family.init(new Float64Array(family.dim), drawKey));
  let state = optimiser.init(phi);
  const grad = new Float64Array(family.paramDim);
  for (let t = 0; t < steps; t++) {
    const p = family.fromVector(phi);
    elboGradient(target, family, p, foldIn(drawKey, t), batches.at(t), samples, grad);
    for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];
    const [update, next] = optimiser.update(grad, state, phi, { step: t });
    state = next;
    const moved = new Float64Array(phi.length);
    for (let i = 0; i < phi.length; i++) moved[i] = phi[i] + update[i];
    if (!moved.every(Number.isFinite)) throw new VariationalFamilyError(`${where}: φ became non-finite at step ${t + 1} (learning rate ${scheduleValue(options.learningRate ?? 0.01, t)} too large?)`);
    phi = moved;
    options.onStep?.(t + 1, family.fromVector(phi));
  }
  return { params: family.fromVector(phi), steps };
}
