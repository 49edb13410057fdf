/**
 * In-demo Gaussian variational inference over a flat parameter vector (the library's src/vi has
 * the Bayesian-network families only): mean-field and full-rank Gaussian families, trained by
 * stochastic reparameterisation gradients of the (tempered) ELBO with the library's Adam transform.
 * Written as a `Sampler` whose position is the variational mean, so the page drives it like the
 * others.
 */
import type { IndexBatch, Sampler, StepInfo, Target, VariationalFamily, Vec } from '../src/core/types.js';
import { normal, type Key } from '../src/core/random.js';
import { minibatchGradient } from '../src/models/estimator.js';
import { adam } from '../src/transforms/adam.js';

/** Which Gaussian family: diagonal covariance, or a full Cholesky factor. */
export type GaussianFamilyKind = 'meanfield' | 'fullrank';

/**
 * Variational parameters φ of a Gaussian q = N(m, LLᵀ) as one flat vector:
 * [m (d), ρ (d) with L_ii = e^{ρ_i}, then the strictly lower entries of L row by row (fullrank)].
 */
export interface GaussianParams {
  readonly kind: GaussianFamilyKind;
  readonly dim: number;
  readonly phi: Vec;
}

/** Number of entries of φ for a family and dimension. */
export function gaussianParamCount(kind: GaussianFamilyKind, dim: number): number {
  return kind === 'meanfield' ? 2 * dim : 2 * dim + (dim * (dim - 1)) / 2;
}

/** L as a dense d×d row-major lower-triangular matrix. */
export function choleskyFactor(p: GaussianParams): Float64Array {
  const d = p.dim;
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) L[i * d + i] = Math.exp(p.phi[d + i]);
  if (p.kind === 'fullrank') {
    let k = 2 * d;
    for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) L[i * d + j] = p.phi[k++];
  }
  return L;
}

/** Σ = LLᵀ, d×d row-major. */
export function gaussianCovariance(p: GaussianParams): Float64Array {
  const d = p.dim;
  const L = choleskyFactor(p);
  const S = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += L[i * d + k] * L[j * d + k];
    S[i * d + j] = s;
  }
  return S;
}

/** θ = m + Lε for a given ε (the reparameterisation, Kingma & Welling 2014). */
function reparameterise(p: GaussianParams, eps: Vec): Vec {
  const d = p.dim;
  const L = choleskyFactor(p);
  const theta = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = p.phi[i];
    for (let j = 0; j <= i; j++) s += L[i * d + j] * eps[j];
    theta[i] = s;
  }
  return theta;
}

/**
 * A Gaussian variational family: q = N(m, LLᵀ), L diagonal ('meanfield') or lower-triangular
 * ('fullrank'), initialised at the given mean with L = `initialScale`·I.
 */
export function gaussianFamily(kind: GaussianFamilyKind, dim: number, initialScale = 0.1): VariationalFamily<GaussianParams> {
  return {
    init(mean) {
      const phi = new Float64Array(gaussianParamCount(kind, dim));
      phi.set(mean);
      for (let i = 0; i < dim; i++) phi[dim + i] = Math.log(initialScale);
      return { kind, dim, phi };
    },
    sample(k, p) {
      return reparameterise(p, normal(k, dim));
    },
    logQ(theta, p) {
      // log N(θ; m, LLᵀ) = −½‖L⁻¹(θ − m)‖² − Σ log L_ii − (d/2) log 2π.
      const L = choleskyFactor(p);
      const z = new Float64Array(dim);
      let quad = 0;
      let logDet = 0;
      for (let i = 0; i < dim; i++) {
        let s = theta[i] - p.phi[i];
        for (let j = 0; j < i; j++) s -= L[i * dim + j] * z[j];
        z[i] = s / L[i * dim + i];
        quad += z[i] * z[i];
        logDet += p.phi[dim + i];
      }
      return -0.5 * quad - logDet - 0.5 * dim * Math.log(2 * Math.PI);
    },
  };
}

/** State of the VI "sampler": the mean is the position; φ and Adam's state ride along. */
export interface GaussianViState {
  readonly position: Vec;
  readonly step: number;
  readonly params: GaussianParams;
  /** Adam's state (the chain of its moment scaling and the rate). */
  readonly optimizer: unknown;
  /** The reparameterised draw θ = m + Lε of the last step (null before the first). */
  readonly draw: Vec | null;
}

/** What one VI step reports. */
export interface GaussianViInfo extends StepInfo {
  /** The minibatch ELBO estimate log p̂(θ) − T log q(θ) at the step's draw (up to a constant). */
  elbo: number;
}

/** Options of {@link gaussianVi}. */
export interface GaussianViOptions {
  family: GaussianFamilyKind;
  /** Adam's learning rate. */
  learningRate: number;
  /** T, the weight of the entropy term: ELBO_T = E_q log p(θ, data) + T H[q] (T = 1 the usual ELBO). */
  temperature?: number;
  /** The initial L = s·I (default 0.1). */
  initialScale?: number;
}

/**
 * Stochastic-gradient Gaussian VI as a `Sampler`. Each step draws ε ~ N(0, I) from the key, sets
 * θ = m + Lε and ascends the one-sample reparameterisation gradient of the tempered ELBO
 * (Titsias & Lázaro-Gredilla 2014, "Doubly stochastic variational Bayes", ICML, Alg. 1):
 *
 *   ∇_m = ĝ(θ),   ∇_{L_ij} = ĝ_i ε_j (i > j),   ∇_{ρ_i} = ĝ_i ε_i e^{ρ_i} + T,
 *
 * ĝ the minibatch estimate of ∇ log p(θ | data) (N/S-scaled), the T from ∇_ρ (T Σ ρ_i) = T·1 of the
 * Gaussian entropy; φ is moved by Adam (Kingma & Ba 2015).
 */
export function gaussianVi(target: Target<IndexBatch>, options: GaussianViOptions): Sampler<GaussianViState, GaussianViInfo, IndexBatch> {
  const dim = target.dim;
  const temperature = options.temperature ?? 1;
  if (!(options.learningRate > 0 && Number.isFinite(options.learningRate))) {
    throw new RangeError(`gaussianVi: learningRate must be a finite number > 0, got ${options.learningRate}`);
  }
  if (!(temperature >= 0 && Number.isFinite(temperature))) {
    throw new RangeError(`gaussianVi: temperature must be a finite number ≥ 0, got ${temperature}`);
  }
  const family = gaussianFamily(options.family, dim, options.initialScale ?? 0.1);
  const optimizer = adam({ lr: options.learningRate });
  return {
    init(position: Vec, k: Key): GaussianViState {
      const params = family.init(position, k);
      return { position: Float64Array.from(position), step: 0, params, optimizer: optimizer.init(params.phi), draw: null };
    },
    step(k: Key, state: Readonly<GaussianViState>, batch: IndexBatch): readonly [GaussianViState, GaussianViInfo] {
      const { params } = state;
      const eps = normal(k, dim);
      const theta = reparameterise(params, eps);
      const estimate = minibatchGradient(target, theta, batch);
      const g = estimate.grad;
      const ascent = new Float64Array(params.phi.length);
      for (let i = 0; i < dim; i++) {
        ascent[i] = g[i];
        ascent[dim + i] = g[i] * eps[i] * Math.exp(params.phi[dim + i]) + temperature;
      }
      if (params.kind === 'fullrank') {
        let idx = 2 * dim;
        for (let i = 1; i < dim; i++) for (let j = 0; j < i; j++) ascent[idx++] = g[i] * eps[j];
      }
      // Adam descends a loss, so it gets −∇ELBO.
      const loss = ascent.map((v) => -v);
      const [update, nextOptimizer] = optimizer.update(loss, state.optimizer as never, params.phi, { step: state.step });
      const phi = new Float64Array(params.phi.length);
      for (let i = 0; i < phi.length; i++) phi[i] = params.phi[i] + update[i];
      const nextParams: GaussianParams = { kind: params.kind, dim, phi };
      let gradSq = 0;
      let noiseSq = 0;
      for (let i = 0; i < dim; i++) {
        gradSq += g[i] * g[i];
        noiseSq += (theta[i] - params.phi[i]) ** 2;
      }
      const info: GaussianViInfo = {
        stepSize: options.learningRate,
        gradNorm: Math.sqrt(gradSq),
        noiseNorm: Math.sqrt(noiseSq),
        elbo: estimate.value - temperature * family.logQ(theta, params),
      };
      return [{ position: phi.slice(0, dim), step: state.step + 1, params: nextParams, optimizer: nextOptimizer, draw: theta }, info] as const;
    },
  };
}
