/**
 * KL minimisation over an exponential family by gradient descent in θ, in η, and natural gradient
 * descent, in continuous time (adaptive Dormand–Prince) and discrete time, with optional gradient
 * noise and linear reparameterisations (Datar & Ay 2025, "Convergence Properties of Natural
 * Gradient Descent for Minimizing KL Divergence", TMLR, arXiv 2504.19259).
 *
 * Objectives, with target θ* (η* = ∇A(θ*)) and model θ (η = ∇A(θ)):
 *   forward  L = KL(p_θ* ‖ p_θ) = A(θ) − A(θ*) − ⟨θ − θ*, η*⟩,  ∇_θ L = η − η*,  ∇_η L = G(η)(η − η*);
 *   reverse  L = KL(p_θ ‖ p_θ*) = A*(η) − A*(η*) − ⟨θ*, η − η*⟩, ∇_θ L = F(θ)(θ − θ*), ∇_η L = θ − θ*.
 * Flows (u the state coordinates):  θ-GD θ̇ = −∇_θ L;  η-GD η̇ = −∇_η L;  natural u̇ = −F_u⁻¹ ∇_u L,
 * where natural gradient descent is the same flow in any coordinates (η̇ = −(η − η*) for the forward KL,
 * θ̇ = −(θ − θ*) for the reverse KL).
 *
 * Linear reparameterisation: θ̃ = Mθ with the dual η̃ = M⁻ᵀη (so ⟨θ̃, η̃⟩ = ⟨θ, η⟩); the Fisher
 * matrices become F̃ = M⁻ᵀ F M⁻¹ and G̃ = M G Mᵀ. An affine offset does not change any gradient.
 */
import { foldIn, normal, type Key } from '../core/random.js';
import { scheduleValue, type Schedule, type Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkNatural, checkVector, klDivergence, meanSufficientStatistic, type ExponentialFamily } from './family.js';
import {
  choleskySolve,
  cholesky,
  identityMatrix,
  inverseGeneral,
  matMul,
  matTVec,
  matVec,
  symmetricEigen,
  symmetricMatrixFunction,
  transpose,
  type SquareMatrix,
} from './linalg.js';
import { dormandPrince } from './ode.js';

/** Which KL is minimised: forward KL(p_target ‖ q) or reverse KL(q ‖ p_target). */
export type KLDirection = 'forward' | 'reverse';
/** Gradient descent in natural coordinates θ, in expectation coordinates η, or natural gradient descent. */
export type FlowMethod = 'theta-gd' | 'eta-gd' | 'natural';
/** All flow methods, in table order. */
export const FLOW_METHODS: readonly FlowMethod[] = ['theta-gd', 'eta-gd', 'natural'];

/** A KL minimisation problem over a family with a fixed target member. */
export interface KLProblem {
  readonly family: ExponentialFamily;
  readonly targetNatural: Vec;
  readonly targetMean: Vec;
  readonly direction: KLDirection;
}

/** The problem of minimising the forward or reverse KL to the member θ* of `family`. */
export function klProblem(family: ExponentialFamily, targetNatural: Vec, direction: KLDirection = 'forward'): KLProblem {
  checkNatural(family, targetNatural, 'klProblem: target');
  if (direction !== 'forward' && direction !== 'reverse') {
    throw new ExponentialFamilyError(`klProblem: direction must be 'forward' or 'reverse', got '${String(direction)}'`);
  }
  return {
    family,
    targetNatural: Float64Array.from(targetNatural),
    targetMean: family.meanFromNatural(targetNatural),
    direction,
  };
}

/** The objective: KL(p_θ* ‖ p_θ) (forward) or KL(p_θ ‖ p_θ*) (reverse). */
export function klObjective(problem: KLProblem, theta: Vec): number {
  return problem.direction === 'forward'
    ? klDivergence(problem.family, problem.targetNatural, theta)
    : klDivergence(problem.family, theta, problem.targetNatural);
}

function checkOverride(problem: KLProblem, targetMean: Vec | undefined, where: string): Vec {
  if (targetMean === undefined) return problem.targetMean;
  if (problem.direction !== 'forward') {
    throw new ExponentialFamilyError(`${where}: a sampled target mean only defines a gradient for the forward KL`);
  }
  checkVector(targetMean, problem.family.dim, `${where}: target mean`);
  return targetMean;
}

/**
 * ∇_θ L: η(θ) − η* (forward) or F(θ)(θ − θ*) (reverse). For the forward KL, `targetMean` may
 * replace η* by a sample mean of T(x), giving the gradient of the average negative log likelihood.
 */
export function klGradientNatural(problem: KLProblem, theta: Vec, targetMean?: Vec): Vec {
  const { family } = problem;
  const k = family.dim;
  if (problem.direction === 'forward') {
    const target = checkOverride(problem, targetMean, 'klGradientNatural');
    const eta = family.meanFromNatural(theta);
    for (let i = 0; i < k; i++) eta[i] -= target[i];
    return eta;
  }
  checkOverride(problem, targetMean, 'klGradientNatural');
  const diff = new Float64Array(k);
  for (let i = 0; i < k; i++) diff[i] = theta[i] - problem.targetNatural[i];
  return matVec(family.fisherNatural(theta), k, diff);
}

/** ∇_η L: G(η)(η − η*) = F(θ(η))⁻¹(η − η*) (forward) or θ(η) − θ* (reverse). */
export function klGradientMean(problem: KLProblem, eta: Vec, targetMean?: Vec): Vec {
  const { family } = problem;
  const k = family.dim;
  const theta = family.naturalFromMean(eta);
  if (problem.direction === 'forward') {
    const target = checkOverride(problem, targetMean, 'klGradientMean');
    const diff = new Float64Array(k);
    for (let i = 0; i < k; i++) diff[i] = eta[i] - target[i];
    return choleskySolve(cholesky(family.fisherNatural(theta), k, 'klGradientMean: Fisher'), k, diff);
  }
  checkOverride(problem, targetMean, 'klGradientMean');
  for (let i = 0; i < k; i++) theta[i] -= problem.targetNatural[i];
  return theta;
}

/** A linear change of coordinates θ̃ = Mθ, η̃ = M⁻ᵀη. */
export interface LinearReparameterisation {
  readonly dim: number;
  /** M (k×k row-major). */
  readonly thetaMap: SquareMatrix;
  /** M⁻¹. */
  readonly thetaMapInverse: SquareMatrix;
}

/** The reparameterisation θ̃ = Mθ, η̃ = M⁻ᵀη for an invertible k×k matrix M (row-major). */
export function linearReparameterisation(thetaMap: ArrayLike<number>, k: number): LinearReparameterisation {
  checkVector(thetaMap, k * k, 'linearReparameterisation: M (k×k row-major)');
  const m = Float64Array.from(thetaMap);
  return { dim: k, thetaMap: m, thetaMapInverse: inverseGeneral(m, k, 'linearReparameterisation: M') };
}

/**
 * The reparameterisation that makes the coordinate gradient flows' rates 2c and 2/c
 * (Datar & Ay 2025, abstract; our derivation): θ̃ = Mθ, η̃ = M⁻ᵀη with M = c^{-1/2} F*^{1/2},
 * F* = F(θ*). Then F̃(θ̃*) = c I and G̃(η̃*) = I/c, so θ̃-GD decays at KL rate 2c, η̃-GD at 2/c, NGD at 2.
 * (The notes' form η̃ = Mη, θ̃ = M⁻ᵀθ with the same M gives F̃ = F*²/c instead; see docs/natural-gradient.md.)
 */
export function fisherScaledReparameterisation(problem: KLProblem, c: number): LinearReparameterisation {
  if (!(c > 0 && Number.isFinite(c))) throw new ExponentialFamilyError(`fisherScaledReparameterisation: c must be > 0, got ${c}`);
  const k = problem.family.dim;
  const f = problem.family.fisherNatural(problem.targetNatural);
  const m = symmetricMatrixFunction(f, k, (x) => Math.sqrt(x / c));
  const mInv = symmetricMatrixFunction(f, k, (x) => Math.sqrt(c / x));
  return { dim: k, thetaMap: m, thetaMapInverse: mInv };
}

/** How a flow is built: the method, an optional reparameterisation, and where NGD steps. */
export interface FlowSpec {
  method: FlowMethod;
  reparameterisation?: LinearReparameterisation;
  /**
   * Coordinates that natural gradient descent steps in (matters in discrete time only). Default:
   * η for the forward KL (where the natural gradient η − η* is linear and a unit step lands on the
   * target), θ for the reverse KL (where it is θ − θ*).
   */
  naturalCoordinates?: 'theta' | 'eta';
}

/** Options of one evaluation of a flow's direction. */
export interface DirectionOptions {
  /** Added to the gradient in state coordinates before preconditioning (additive gradient noise). */
  gradientNoise?: Vec;
  /** Forward KL only: replaces η* (e.g. by a minibatch mean of T(x)). */
  targetMean?: Vec;
}

/** A gradient flow u̇ = −d(u) in state coordinates u (θ̃ = Mθ or η̃ = M⁻ᵀη). */
export interface Flow {
  readonly problem: KLProblem;
  readonly method: FlowMethod;
  /** Whether the state holds (transformed) natural or expectation parameters. */
  readonly coordinates: 'theta' | 'eta';
  readonly dim: number;
  /** State coordinates of natural parameters θ. */
  toState(theta: Vec): Vec;
  /** Natural parameters θ of a state. */
  toNatural(state: Vec): Vec;
  /** Whether a state lies in the family's domain. */
  isStateValid(state: Vec): boolean;
  /** The step direction d(u): the gradient in state coordinates, preconditioned by F_u⁻¹ for NGD. */
  direction(state: Vec, options?: DirectionOptions): Vec;
  /** The state at the optimum. */
  optimum(): Vec;
  /** Q = ∂d/∂u at the optimum (symmetric): F̃ for θ-GD, G̃ for η-GD, I for NGD. */
  jacobianAtOptimum(): SquareMatrix;
}

/** Build the flow of `spec` for `problem`. */
export function makeFlow(problem: KLProblem, spec: FlowSpec): Flow {
  const { family } = problem;
  const k = family.dim;
  const method = spec.method;
  if (!FLOW_METHODS.includes(method)) {
    throw new ExponentialFamilyError(`makeFlow: method must be one of ${FLOW_METHODS.join(', ')}, got '${String(method)}'`);
  }
  const rep = spec.reparameterisation;
  if (rep !== undefined && rep.dim !== k) {
    throw new ExponentialFamilyError(`makeFlow: reparameterisation has dimension ${rep.dim}, family ${family.name} has ${k}`);
  }
  const coordinates: 'theta' | 'eta' =
    method === 'theta-gd' ? 'theta' : method === 'eta-gd' ? 'eta' : (spec.naturalCoordinates ?? (problem.direction === 'forward' ? 'eta' : 'theta'));
  const m = rep?.thetaMap;
  const mInv = rep?.thetaMapInverse;
  // Base coordinates (θ or η) of a state, and back.
  const toBase = (u: Vec): Vec => (m === undefined ? Float64Array.from(u) : coordinates === 'theta' ? matVec(mInv!, k, u) : matTVec(m, k, u));
  const fromBase = (x: Vec): Vec => (m === undefined ? Float64Array.from(x) : coordinates === 'theta' ? matVec(m, k, x) : matTVec(mInv!, k, x));
  // Gradient in state coordinates from a gradient in base coordinates: M⁻ᵀg (θ) or Mg (η).
  const gradToState = (g: Vec): Vec => (m === undefined ? g : coordinates === 'theta' ? matTVec(mInv!, k, g) : matVec(m, k, g));
  // Inverse of that map applied to a vector in state coordinates: Mᵀv (θ) or M⁻¹v (η).
  const stateToGrad = (v: Vec): Vec => (m === undefined ? v : coordinates === 'theta' ? matTVec(m, k, v) : matVec(mInv!, k, v));

  const flow: Flow = {
    problem,
    method,
    coordinates,
    dim: k,
    toState(theta) {
      return fromBase(coordinates === 'theta' ? theta : family.meanFromNatural(theta));
    },
    toNatural(u) {
      const x = toBase(u);
      return coordinates === 'theta' ? x : family.naturalFromMean(x);
    },
    isStateValid(u) {
      for (let i = 0; i < u.length; i++) if (!Number.isFinite(u[i])) return false;
      const x = toBase(u);
      return coordinates === 'theta' ? family.isNaturalValid(x) : family.isMeanValid(x);
    },
    direction(u, options = {}) {
      const x = toBase(u);
      const g = coordinates === 'theta' ? klGradientNatural(problem, x, options.targetMean) : klGradientMean(problem, x, options.targetMean);
      let gu = gradToState(g);
      if (options.gradientNoise !== undefined) {
        checkVector(options.gradientNoise, k, 'Flow.direction: gradient noise');
        gu = Float64Array.from(gu);
        for (let i = 0; i < k; i++) gu[i] += options.gradientNoise[i];
      }
      if (method !== 'natural') return gu;
      // F_u⁻¹ g_u = M F⁻¹ Mᵀ g_u (θ) or M⁻ᵀ F M⁻¹ g_u (η), with F = F(θ) the Fisher in θ.
      const theta = coordinates === 'theta' ? x : family.naturalFromMean(x);
      const f = family.fisherNatural(theta);
      const back = stateToGrad(gu);
      const pre = coordinates === 'theta' ? choleskySolve(cholesky(f, k, 'natural gradient: Fisher'), k, back) : matVec(f, k, back);
      return coordinates === 'theta' ? (m === undefined ? pre : matVec(m, k, pre)) : m === undefined ? pre : matTVec(mInv!, k, pre);
    },
    optimum() {
      return flow.toState(problem.targetNatural);
    },
    jacobianAtOptimum() {
      if (method === 'natural') return identityMatrix(k);
      const f = family.fisherNatural(problem.targetNatural);
      const base = coordinates === 'theta' ? f : symmetricMatrixFunction(f, k, (x) => 1 / x);
      if (m === undefined) return base;
      // F̃ = M⁻ᵀ F M⁻¹ or G̃ = M G Mᵀ.
      const q = coordinates === 'theta' ? matMul(matMul(transpose(mInv!, k), base, k), mInv!, k) : matMul(matMul(m, base, k), transpose(m, k), k);
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++) {
          const s = 0.5 * (q[i * k + j] + q[j * k + i]);
          q[i * k + j] = s;
          q[j * k + i] = s;
        }
      }
      return q;
    },
  };
  return flow;
}

/** Local predictions for a flow, from Q = ∂d/∂u at the optimum (Datar & Ay 2025; notes [derived]). */
export interface FlowPrediction {
  /** Asymptotic decay rate of the KL in continuous time: 2 λ_min(Q). */
  rate: number;
  /** Largest stable step of u ← u − α d(u): 2 / λ_max(Q). */
  largestStableStep: number;
  /** cond(Q) = λ_max(Q) / λ_min(Q). */
  conditionNumber: number;
  /** Step 2 / (λ_min + λ_max) with the best linear contraction (κ − 1)/(κ + 1). */
  optimalStep: number;
  /** The best contraction factor per step (κ − 1)/(κ + 1). */
  bestContraction: number;
}

/** Predicted rate, largest stable step and condition number of a flow from its linearisation. */
export function predictFlow(flow: Flow): FlowPrediction {
  const { values } = symmetricEigen(flow.jacobianAtOptimum(), flow.dim);
  const lo = values[0];
  const hi = values[values.length - 1];
  const kappa = hi / lo;
  return { rate: 2 * lo, largestStableStep: 2 / hi, conditionNumber: kappa, optimalStep: 2 / (lo + hi), bestContraction: (kappa - 1) / (kappa + 1) };
}

/**
 * Predicted stationary mean KL of u ← u − α d(u) under `samples` noise with minibatch size B, in
 * the linear regime: Σ_i α q_i / (2B (2 − α q_i)) over the eigenvalues q_i of Q (our derivation:
 * the minibatch gradient noise has covariance Q/B in the metric where the KL's Hessian is Q, and
 * the discrete Lyapunov equation is diagonal in Q's eigenbasis; NGD has q_i = 1). Infinity when
 * α ≥ 2/λ_max(Q).
 */
export function predictedStationaryKL(flow: Flow, stepSize: number, batchSize: number): number {
  if (!(stepSize > 0)) throw new ExponentialFamilyError(`predictedStationaryKL: stepSize must be > 0, got ${stepSize}`);
  if (!(batchSize > 0)) throw new ExponentialFamilyError(`predictedStationaryKL: batchSize must be > 0, got ${batchSize}`);
  const { values } = symmetricEigen(flow.jacobianAtOptimum(), flow.dim);
  let s = 0;
  for (const q of values) {
    const r = stepSize * q;
    if (r >= 2) return Infinity;
    s += r / (2 * batchSize * (2 - r));
  }
  return s;
}

/** The paper's predicted continuous-time KL rates per method, and the Fisher spectrum at the target. */
export interface PaperRates {
  'theta-gd': number;
  'eta-gd': number;
  natural: number;
  fisherMin: number;
  fisherMax: number;
  /** cond(F(θ*)). */
  fisherCondition: number;
}

/**
 * Predicted local KL decay rates (Datar & Ay 2025, abstract; notes [derived]): in the original
 * coordinates θ-GD 2λ_min(F*), NGD 2, η-GD 2/λ_max(F*); after the reparameterisation by c
 * (`fisherScaledReparameterisation`) θ-GD 2c, NGD 2, η-GD 2/c.
 */
export function paperPredictedRates(problem: KLProblem, c?: number): PaperRates {
  const k = problem.family.dim;
  const { values } = symmetricEigen(problem.family.fisherNatural(problem.targetNatural), k);
  const fisherMin = values[0];
  const fisherMax = values[k - 1];
  const base = { natural: 2, fisherMin, fisherMax, fisherCondition: fisherMax / fisherMin };
  if (c === undefined) return { 'theta-gd': 2 * fisherMin, 'eta-gd': 2 / fisherMax, ...base };
  return { 'theta-gd': 2 * c, 'eta-gd': 2 / c, ...base };
}

/**
 * A start θ₀ = θ* + sδ near the target with objective ≈ `kl`: δ ~ N(0, I) from `key`, s solved by
 * a few secant-free rescalings of the quadratic approximation ½ s² δᵀF*δ.
 */
export function perturbedStart(problem: KLProblem, key: Key, kl: number): Vec {
  if (!(kl > 0)) throw new ExponentialFamilyError(`perturbedStart: kl must be > 0, got ${kl}`);
  const { family } = problem;
  const k = family.dim;
  const delta = normal(key, k);
  const fd = matVec(family.fisherNatural(problem.targetNatural), k, delta);
  let quad = 0;
  for (let i = 0; i < k; i++) quad += delta[i] * fd[i];
  let s = Math.sqrt((2 * kl) / quad);
  const at = (scale: number): Vec => {
    const theta = new Float64Array(k);
    for (let i = 0; i < k; i++) theta[i] = problem.targetNatural[i] + scale * delta[i];
    return theta;
  };
  for (let iter = 0; iter < 60; iter++) {
    const theta = at(s);
    if (!family.isNaturalValid(theta)) {
      s *= 0.5;
      continue;
    }
    const value = klObjective(problem, theta);
    if (Math.abs(value / kl - 1) < 1e-6) break;
    // KL grows roughly like s²; damp the correction far from quadratic.
    s *= Math.min(2, Math.max(0.5, Math.sqrt(kl / value)));
  }
  const theta = at(s);
  checkNatural(family, theta, 'perturbedStart');
  return theta;
}

/**
 * The KL's quadratic approximation at the target, ½ δθᵀ F(θ*) δθ with δθ = θ − θ* (the same for
 * both directions). It has the KL's asymptotic decay rate but, unlike A(θ) − A(θ*) − …, no
 * cancellation, so rates can be read off far deeper in the tail.
 */
export function localKL(problem: KLProblem, theta: Vec): number {
  const k = problem.family.dim;
  const delta = new Float64Array(k);
  for (let i = 0; i < k; i++) delta[i] = theta[i] - problem.targetNatural[i];
  const fd = matVec(problem.family.fisherNatural(problem.targetNatural), k, delta);
  let s = 0;
  for (let i = 0; i < k; i++) s += delta[i] * fd[i];
  return 0.5 * s;
}

/** Options of `integrateFlow`. */
export interface IntegrateOptions {
  /** Final time (default 1e6). */
  tEnd?: number;
  /** Stop once `localKL` falls to this value (default 1e-22). */
  localKLStop?: number;
  /** Relative tolerance of the integrator on the deviation u − u* (default 1e-9). */
  rtol?: number;
  /** Absolute tolerance as a fraction of max|u₀ − u*| (default 1e-14). */
  atolRelative?: number;
  /** Step limit of the integrator (default 1e6). */
  maxSteps?: number;
}

/** A continuous-time trajectory at the integrator's accepted steps. */
export interface ContinuousTrajectory {
  times: number[];
  /** The objective (KL) at each time. */
  kl: number[];
  /** `localKL` at each time (for rates deep in the tail). */
  localKL: number[];
  finalNatural: Vec;
  acceptedSteps: number;
  rejectedSteps: number;
  /** Whether `localKL` reached `localKLStop` before `tEnd`. */
  reachedTarget: boolean;
}

/**
 * Integrate the flow u̇ = −d(u) from θ₀ with adaptive Dormand–Prince 5(4), recording the KL and
 * `localKL` at every accepted step, until `localKL` reaches `localKLStop` or t = `tEnd`. The
 * integrator runs on the deviation v = u − u*, so its tolerances stay relative to the shrinking
 * deviation rather than to |u*| (otherwise fast modes could drift unchecked in the far tail).
 */
export function integrateFlow(problem: KLProblem, spec: FlowSpec, theta0: Vec, options: IntegrateOptions = {}): ContinuousTrajectory {
  checkNatural(problem.family, theta0, 'integrateFlow: start');
  const flow = makeFlow(problem, spec);
  const stop = options.localKLStop ?? 1e-22;
  const optimum = flow.optimum();
  const k = flow.dim;
  const v0 = flow.toState(theta0);
  let scale = 0;
  for (let i = 0; i < k; i++) {
    v0[i] -= optimum[i];
    scale = Math.max(scale, Math.abs(v0[i]));
  }
  const u = new Float64Array(k);
  const shift = (v: Vec): Vec => {
    for (let i = 0; i < k; i++) u[i] = optimum[i] + v[i];
    return u;
  };
  const times: number[] = [];
  const kl: number[] = [];
  const local: number[] = [];
  const result = dormandPrince(
    (_t, v, out) => {
      const d = flow.direction(shift(v));
      for (let i = 0; i < k; i++) out[i] = -d[i];
    },
    v0,
    0,
    options.tEnd ?? 1e6,
    {
      rtol: options.rtol ?? 1e-9,
      atol: (options.atolRelative ?? 1e-14) * Math.max(scale, 1e-300),
      maxSteps: options.maxSteps ?? 1_000_000,
      isValid: (v) => flow.isStateValid(shift(v)),
      onStep: (t, v) => {
        const theta = flow.toNatural(shift(v));
        times.push(t);
        kl.push(klObjective(problem, theta));
        const q = localKL(problem, theta);
        local.push(q);
        return q <= stop;
      },
    },
  );
  return {
    times,
    kl,
    localKL: local,
    finalNatural: flow.toNatural(shift(result.y)),
    acceptedSteps: result.acceptedSteps,
    rejectedSteps: result.rejectedSteps,
    reachedTarget: result.stoppedByEvent,
  };
}

/** Options of `measureLocalRate`. */
export interface LocalRateOptions extends IntegrateOptions {
  /** Number of renormalised segments after the first (default 2). */
  restarts?: number;
  /** `localKL` each segment restarts from (default 1e-10, the linear regime). */
  restartLocalKL?: number;
  /** Fit window on `localKL` of the last segment (defaults 1e-11 and 1e-20). */
  upper?: number;
  lower?: number;
}

/**
 * The asymptotic KL decay rate of a flow near the optimum, read from the trajectory: integrate
 * from θ₀ until `localKL` ≤ `localKLStop`, then repeatedly rescale the deviation θ − θ* back up to
 * `localKL` = `restartLocalKL` and continue (renormalisation, as in Benettin's method for Lyapunov
 * exponents), so the slowest mode dominates although double precision only spans ~20 decades of
 * KL; the rate is −slope of log localKL over the last segment's window.
 */
export function measureLocalRate(problem: KLProblem, spec: FlowSpec, theta0: Vec, options: LocalRateOptions = {}): number {
  const restarts = options.restarts ?? 2;
  const restartLocalKL = options.restartLocalKL ?? 1e-10;
  const k = problem.family.dim;
  let trajectory = integrateFlow(problem, spec, theta0, options);
  for (let r = 0; r < restarts; r++) {
    if (!trajectory.reachedTarget) break;
    const end = trajectory.finalNatural;
    const scale = Math.sqrt(restartLocalKL / localKL(problem, end));
    const restart = new Float64Array(k);
    for (let i = 0; i < k; i++) restart[i] = problem.targetNatural[i] + scale * (end[i] - problem.targetNatural[i]);
    trajectory = integrateFlow(problem, spec, restart, options);
  }
  if (!trajectory.reachedTarget) {
    throw new ExponentialFamilyError(`measureLocalRate: ${spec.method} on ${problem.family.name} did not reach localKL ${options.localKLStop ?? 1e-22} by t = ${options.tEnd ?? 1e6}`);
  }
  return measureDecayRate(trajectory.times, trajectory.localKL, { upper: options.upper ?? 1e-11, lower: options.lower ?? 1e-20 });
}

/**
 * Additive gradient noise: `gaussian` adds scale·ξ, ξ ~ N(0, I), to the gradient in state
 * coordinates; `samples` (forward KL only) replaces η* by the mean of T(x) over `batchSize` fresh
 * draws from the target, i.e. the stochastic gradient of the minibatch negative log likelihood.
 */
export type GradientNoise = { kind: 'gaussian'; scale: number } | { kind: 'samples'; batchSize: number };

/** Options of `iterateFlow`. */
export interface IterateOptions {
  /** Step size α (or a schedule over the iteration index). */
  stepSize: Schedule;
  iterations: number;
  noise?: GradientNoise;
  /** Key of the noise; required with `noise`. Iteration i uses foldIn(key, i). */
  key?: Key;
  /** Stop as diverged once the KL exceeds this multiple of max(initial KL, 0.01) (default 1e8). */
  divergenceFactor?: number;
}

/** A discrete-time trajectory. */
export interface DiscreteTrajectory {
  /** KL after each iteration, kl[0] at the start; Infinity after divergence. */
  kl: Float64Array;
  finalNatural: Vec;
  diverged: boolean;
  /** Iteration at which the state left the domain or blew up, or −1. */
  divergedAt: number;
}

/** Run u_{i+1} = u_i − α_i d(u_i) (+ noise) from θ₀; see `GradientNoise`. Does not mutate θ₀. */
export function iterateFlow(problem: KLProblem, spec: FlowSpec, theta0: Vec, options: IterateOptions): DiscreteTrajectory {
  checkNatural(problem.family, theta0, 'iterateFlow: start');
  const { iterations, noise } = options;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new ExponentialFamilyError(`iterateFlow: iterations must be a non-negative integer, got ${iterations}`);
  }
  if (noise !== undefined && options.key === undefined) throw new ExponentialFamilyError('iterateFlow: noise needs a key');
  if (noise?.kind === 'samples') {
    if (problem.direction !== 'forward') throw new ExponentialFamilyError("iterateFlow: 'samples' noise applies to the forward KL only");
    if (!Number.isInteger(noise.batchSize) || noise.batchSize < 1) {
      throw new ExponentialFamilyError(`iterateFlow: batchSize must be a positive integer, got ${noise.batchSize}`);
    }
  }
  if (noise?.kind === 'gaussian' && !(noise.scale >= 0)) {
    throw new ExponentialFamilyError(`iterateFlow: noise scale must be ≥ 0, got ${noise.scale}`);
  }
  const flow = makeFlow(problem, spec);
  const divergenceFactor = options.divergenceFactor ?? 1e8;
  const kl = new Float64Array(iterations + 1).fill(Infinity);
  let u = flow.toState(theta0);
  kl[0] = klObjective(problem, theta0);
  // Relative to at least 0.01 so that runs started at (or very near) the target are judged sensibly.
  const limit = Math.max(kl[0], 1e-2) * divergenceFactor;
  let divergedAt = -1;
  for (let i = 0; i < iterations; i++) {
    const alpha = scheduleValue(options.stepSize, i);
    const directionOptions: DirectionOptions = {};
    if (noise?.kind === 'gaussian') {
      const xi = normal(foldIn(options.key!, i), flow.dim);
      for (let j = 0; j < xi.length; j++) xi[j] *= noise.scale;
      directionOptions.gradientNoise = xi;
    } else if (noise?.kind === 'samples') {
      const x = problem.family.sample(foldIn(options.key!, i), problem.targetNatural, noise.batchSize);
      directionOptions.targetMean = meanSufficientStatistic(problem.family, x);
    }
    let next: Vec | null;
    try {
      const d = flow.direction(u, directionOptions);
      next = new Float64Array(flow.dim);
      for (let j = 0; j < flow.dim; j++) next[j] = u[j] - alpha * d[j];
      if (!flow.isStateValid(next)) next = null;
    } catch (error) {
      if (!(error instanceof ExponentialFamilyError)) throw error;
      next = null;
    }
    const value = next === null ? Infinity : klObjective(problem, flow.toNatural(next));
    if (next === null || !(value <= limit)) {
      divergedAt = i + 1;
      break;
    }
    u = next;
    kl[i + 1] = value;
  }
  return { kl, finalNatural: flow.toNatural(u), diverged: divergedAt >= 0, divergedAt };
}

/** Options of `findLargestStableStep`. */
export interface StableStepOptions {
  /** Key of the start point. */
  key: Key;
  /** KL of the start point (default 1e-8: the linear regime). */
  initialKL?: number;
  /** Iterations per trial step (default 300). */
  iterations?: number;
  /** Relative precision of the bisection on log α (default 1e-3). */
  relativeTolerance?: number;
}

/**
 * The largest step α for which u ← u − α d(u), started near the optimum, shrinks the KL over
 * `iterations` steps: found by doubling from 1e-3 and bisecting on log α. Compare with the
 * linear prediction 2/λ_max(Q) of `predictFlow`.
 */
export function findLargestStableStep(problem: KLProblem, spec: FlowSpec, options: StableStepOptions): number {
  const theta0 = perturbedStart(problem, options.key, options.initialKL ?? 1e-8);
  const iterations = options.iterations ?? 300;
  const tol = options.relativeTolerance ?? 1e-3;
  const stable = (alpha: number): boolean => {
    const run = iterateFlow(problem, spec, theta0, { stepSize: alpha, iterations, divergenceFactor: 1e4 });
    return !run.diverged && run.kl[iterations] < run.kl[0];
  };
  let lo = 1e-3;
  let hi = lo;
  if (stable(lo)) {
    while (stable(hi * 2)) {
      hi *= 2;
      if (hi > 1e12) throw new ExponentialFamilyError('findLargestStableStep: every step up to 1e12 is stable');
    }
    lo = hi;
    hi *= 2;
  } else {
    while (!stable(lo / 2)) {
      lo /= 2;
      if (lo < 1e-12) throw new ExponentialFamilyError('findLargestStableStep: no stable step above 1e-12');
    }
    hi = lo;
    lo /= 2;
  }
  while (hi / lo > 1 + tol) {
    const mid = Math.sqrt(lo * hi);
    if (stable(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Options of `measureDecayRate`. */
export interface DecayRateOptions {
  /** Use points with value ≤ upper (default 1e-5). */
  upper?: number;
  /** Use points with value ≥ lower (default 1e-10). */
  lower?: number;
}

/**
 * The local exponential decay rate r of a trajectory v(t) ≈ C e^{−rt}: minus the least-squares
 * slope of log v against t over the tail window lower ≤ v ≤ upper.
 */
export function measureDecayRate(times: ArrayLike<number>, values: ArrayLike<number>, options: DecayRateOptions = {}): number {
  if (times.length !== values.length) {
    throw new ExponentialFamilyError(`measureDecayRate: ${times.length} times but ${values.length} values`);
  }
  const upper = options.upper ?? 1e-5;
  const lower = options.lower ?? 1e-10;
  let n = 0, st = 0, sy = 0, stt = 0, sty = 0;
  for (let i = 0; i < times.length; i++) {
    const v = values[i];
    if (!(v >= lower && v <= upper)) continue;
    const y = Math.log(v);
    n++;
    st += times[i];
    sy += y;
    stt += times[i] * times[i];
    sty += times[i] * y;
  }
  if (n < 3) {
    throw new ExponentialFamilyError(`measureDecayRate: only ${n} points lie in the window [${lower}, ${upper}]; need at least 3`);
  }
  const slope = (n * sty - st * sy) / (n * stt - st * st);
  return -slope;
}
