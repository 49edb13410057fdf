/**
 * Symplectic integrators for Hamiltonian dynamics with a diagonal mass matrix, kept apart from the
 * samplers that use them (HMC, NUTS, later SGHMC), as in BlackJAX.
 *
 * The Hamiltonian is H(θ, p) = −log π(θ) + ½ pᵀ M⁻¹ p with M⁻¹ = diag(inverseMetric).
 */
import type { Target, ValueGrad, Vec } from '../core/types.js';
import { scaledLogPosteriorOf } from '../models/estimator.js';

/** Bad input to a Hamiltonian sampler (options, initial point, target); the message names what and where. */
export class HamiltonianInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HamiltonianInputError';
  }
}

/** A log density with its gradient over a flat vector. */
export type LogDensityFn = (theta: Vec) => ValueGrad;

/** Anything with a dimension and a log density: the minimal model a full-batch sampler needs. */
export interface LogDensityModel {
  readonly dim: number;
  logDensity(theta: Vec): ValueGrad;
}

/**
 * Wrap a custom log density as a model usable by HMC/NUTS, and also as a `Target<null>` (all of
 * the density is the prior, the likelihood is zero, the data set is empty) so that other samplers
 * accept it too.
 *
 * @param dim number of parameters
 * @param logDensity log π(θ) up to a constant, with ∇ log π(θ)
 */
export function densityTarget(dim: number, logDensity: LogDensityFn): LogDensityModel & Target<null> {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new HamiltonianInputError(`densityTarget(dim, fn): dim must be a positive integer, got ${dim}`);
  }
  if (typeof logDensity !== 'function') {
    throw new HamiltonianInputError('densityTarget(dim, fn): fn must be a function theta => {value, grad}');
  }
  return {
    dim,
    dataSize: 0,
    logDensity,
    logPrior: logDensity,
    logLikelihood: () => ({ value: 0, grad: new Float64Array(dim) }),
    batchSize: () => 0,
    fullBatch: () => null,
  };
}

function isLogDensityModel(model: unknown): model is LogDensityModel {
  return typeof (model as LogDensityModel).logDensity === 'function';
}

/**
 * The full-batch log posterior of a target, log π(θ) = log p(θ) + Σ_{i=1}^N log p(x_i | θ), or the
 * model's own `logDensity` when it has one. The full batch is fetched once.
 */
export function logDensityOf<B>(model: LogDensityModel | Target<B>): LogDensityFn {
  if (isLogDensityModel(model)) {
    const fn = model.logDensity.bind(model);
    return checkedDensity(fn, model.dim);
  }
  const target = model as Target<B>;
  if (typeof target.logPrior !== 'function' || typeof target.logLikelihood !== 'function') {
    throw new HamiltonianInputError(
      'full-batch sampler: the model must have logDensity(theta), or logPrior and logLikelihood (a Target)',
    );
  }
  const batch = target.fullBatch();
  const dim = target.dim;
  const kernel = scaledLogPosteriorOf(target);
  if (kernel !== undefined) {
    // The model's fused kernel at scale 1: the bits of prior + likelihood, without two temporaries.
    return checkedDensity((theta) => {
      const grad = new Float64Array(dim);
      return { value: kernel(theta, batch, 1, grad), grad };
    }, dim);
  }
  return checkedDensity((theta) => {
    const prior = target.logPrior(theta);
    const likelihood = target.logLikelihood(theta, batch);
    const grad = new Float64Array(dim);
    for (let i = 0; i < dim; i++) grad[i] = prior.grad[i] + likelihood.grad[i];
    return { value: prior.value + likelihood.value, grad };
  }, dim);
}

function checkedDensity(fn: LogDensityFn, dim: number): LogDensityFn {
  return (theta) => {
    const out = fn(theta);
    if (!out || out.grad === undefined || out.grad.length !== dim) {
      throw new HamiltonianInputError(
        `log density: expected {value, grad} with grad of length ${dim}, got grad of length ${out?.grad?.length}`,
      );
    }
    return out;
  };
}

/** A point in phase space with its cached log density and gradient. */
export interface PhasePoint {
  position: Vec;
  momentum: Vec;
  logDensity: number;
  grad: Vec;
}

/** Kinetic energy K(p) = ½ pᵀ M⁻¹ p for a diagonal inverse metric. */
export function kineticEnergy(momentum: Vec, inverseMetric: Vec): number {
  let s = 0;
  for (let i = 0; i < momentum.length; i++) s += momentum[i] * momentum[i] * inverseMetric[i];
  return 0.5 * s;
}

/** H(θ, p) = −log π(θ) + K(p); NaN is mapped to +∞ so that it always counts as divergent. */
export function hamiltonian(point: Readonly<PhasePoint>, inverseMetric: Vec): number {
  const h = -point.logDensity + kineticEnergy(point.momentum, inverseMetric);
  return Number.isNaN(h) ? Infinity : h;
}

/** Velocity dθ/dt = ∂H/∂p = M⁻¹ p (the "p♯" of Betancourt 2017), written into `out`. */
export function velocity(momentum: Vec, inverseMetric: Vec, out: Vec = new Float64Array(momentum.length)): Vec {
  for (let i = 0; i < momentum.length; i++) out[i] = inverseMetric[i] * momentum[i];
  return out;
}

/** A copy of a phase point (fresh arrays). */
export function copyPhasePoint(point: Readonly<PhasePoint>): PhasePoint {
  return {
    position: Float64Array.from(point.position),
    momentum: Float64Array.from(point.momentum),
    logDensity: point.logDensity,
    grad: Float64Array.from(point.grad),
  };
}

/**
 * One leapfrog (Störmer–Verlet) step of size ε with M⁻¹ = diag(inverseMetric), in place (the
 * point must own its arrays):
 *
 *   p ← p + (ε/2) ∇log π(θ);  θ ← θ + ε M⁻¹ p;  p ← p + (ε/2) ∇log π(θ)
 *
 * (Neal 2011, "MCMC using Hamiltonian dynamics", eq. 5.18–5.20). A negative ε integrates backwards
 * in time. One gradient evaluation per step, reusing the cached gradient at the start.
 */
export function leapfrogInPlace(
  logDensity: LogDensityFn,
  point: PhasePoint,
  stepSize: number,
  inverseMetric: Vec,
): PhasePoint {
  const { position, momentum } = point;
  const half = 0.5 * stepSize;
  const grad = point.grad;
  for (let i = 0; i < position.length; i++) momentum[i] += half * grad[i];
  for (let i = 0; i < position.length; i++) position[i] += stepSize * inverseMetric[i] * momentum[i];
  const evaluated = logDensity(position);
  // Copy rather than keep: a model may reuse its gradient buffer between calls.
  grad.set(evaluated.grad);
  for (let i = 0; i < position.length; i++) momentum[i] += half * grad[i];
  point.logDensity = evaluated.value;
  return point;
}

/**
 * `numSteps` leapfrog steps of size ε from `start`, returning a new point (the start is not
 * touched). See {@link leapfrogInPlace} for the scheme.
 */
export function leapfrog(
  logDensity: LogDensityFn,
  start: Readonly<PhasePoint>,
  stepSize: number,
  inverseMetric: Vec,
  numSteps = 1,
): PhasePoint {
  const point = copyPhasePoint(start);
  for (let s = 0; s < numSteps; s++) leapfrogInPlace(logDensity, point, stepSize, inverseMetric);
  return point;
}

/** Validate a diagonal inverse metric: `dim` finite positive entries. */
export function checkInverseMetric(inverseMetric: Vec, dim: number, where: string): void {
  if (!(inverseMetric instanceof Float64Array) || inverseMetric.length !== dim) {
    throw new HamiltonianInputError(`${where}: inverseMetric must be a Float64Array of length ${dim}`);
  }
  for (let i = 0; i < dim; i++) {
    if (!(inverseMetric[i] > 0) || !Number.isFinite(inverseMetric[i])) {
      throw new HamiltonianInputError(
        `${where}: inverseMetric[${i}] must be finite and positive, got ${inverseMetric[i]}`,
      );
    }
  }
}

/**
 * The state of a full-batch Hamiltonian sampler (HMC, NUTS): the position with its cached log
 * density and gradient, and the tuning it runs with. Step size and metric live in the state (as
 * data) so that warm-up adaptation is a pure function of states.
 */
export interface HamiltonianState {
  readonly position: Vec;
  readonly logDensity: number;
  readonly grad: Vec;
  /** Leapfrog step size ε. */
  readonly stepSize: number;
  /** Diagonal of M⁻¹, the inverse mass matrix (in warm-up: the regularised posterior variances). */
  readonly inverseMetric: Vec;
}

/** What a Hamiltonian step reports (Stan's sampler diagnostics plus the StepInfo contract). */
export interface HamiltonianInfo {
  stepSize: number;
  /** ‖∇ log π‖ at the returned position. */
  gradNorm: number;
  /** Full-batch samplers inject no gradient noise: always 0. */
  noiseNorm: number;
  /** Acceptance statistic used for step-size adaptation (NUTS: mean Metropolis probability over the trajectory). */
  acceptProb: number;
  /** NUTS tree depth (number of doublings); 0 for HMC. */
  treeDepth: number;
  /** Number of gradient evaluations (leapfrog steps) this step. */
  numGradEvals: number;
  /** True when the energy error exceeded the divergence threshold (default 1000). */
  diverging: boolean;
  /** H(θ, p) of the returned phase point (for E-BFMI). */
  energy: number;
}
