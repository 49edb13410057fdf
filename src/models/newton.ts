/**
 * Mode finding for the strongly log-concave built-in posteriors: damped Newton, and a fixed-curvature
 * bound-optimisation (minorise–maximise) iteration for when the Hessian is too big to factor.
 */
import type { ValueGrad, Vec } from '../core/types.js';
import { NotPositiveDefiniteError, cholesky, choleskySolve } from '../core/linalg.js';
import { ModelError, type ModeOptions, type ModeResult } from './common.js';

/** What a mode search needs from a model: the full-data log posterior and, for Newton, its Hessian. */
export interface ModeProblem {
  /** The model name, for errors. */
  name: string;
  dim: number;
  /** N, which scales the gradient tolerance. */
  dataSize: number;
  /** log posterior (full data) and its gradient. */
  logPosterior(theta: Vec): ValueGrad;
  /** ∇² log posterior, dim × dim row-major (negative definite). */
  hessian(theta: Vec): Float64Array;
}

function maxAbs(v: Vec): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

function norm2(v: Vec): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function startingPoint(problem: { name: string; dim: number }, options: ModeOptions): Float64Array {
  if (options.initial === undefined) return new Float64Array(problem.dim);
  if (!(options.initial instanceof Float64Array) || options.initial.length !== problem.dim) {
    throw new ModelError(`${problem.name}.mode: options.initial must be a Float64Array of length ${problem.dim}`);
  }
  return Float64Array.from(options.initial);
}

/**
 * Damped Newton ascent θ ← θ + t (−H)⁻¹ ∇ log p(θ | y), t halved until the log posterior does not
 * decrease (Armijo backtracking; Nocedal & Wright 2006, Alg. 3.1). For a strongly concave log
 * posterior this converges globally and quadratically near the mode.
 */
export function newtonMode(problem: ModeProblem, options: ModeOptions = {}): ModeResult {
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = (options.tolerance ?? 1e-10) * (1 + problem.dataSize);
  let theta = startingPoint(problem, options);
  let current = problem.logPosterior(theta);
  const trial = new Float64Array(problem.dim);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(current.grad) <= tolerance) {
      return { theta, logPosterior: current.value, gradNorm: norm2(current.grad), iterations: iteration, converged: true };
    }
    const negH = problem.hessian(theta);
    for (let i = 0; i < negH.length; i++) negH[i] = -negH[i];
    let L: Float64Array;
    try {
      L = cholesky(negH, problem.dim);
    } catch (error) {
      if (error instanceof NotPositiveDefiniteError) {
        throw new ModelError(`${problem.name}.mode: the Hessian is not negative definite at iteration ${iteration} (${error.message})`);
      }
      throw error;
    }
    const direction = choleskySolve(L, current.grad, problem.dim);
    let slope = 0;
    for (let i = 0; i < direction.length; i++) slope += direction[i] * current.grad[i];
    let step = 1;
    let accepted: ValueGrad | undefined;
    for (let halving = 0; halving < 60; halving++) {
      for (let i = 0; i < trial.length; i++) trial[i] = theta[i] + step * direction[i];
      const candidate = problem.logPosterior(trial);
      // The allowance of a few ulps of the value keeps rounding from rejecting steps at the mode.
      const allowance = 8 * Number.EPSILON * Math.abs(current.value);
      if (candidate.value >= current.value + 1e-4 * step * slope - allowance) {
        accepted = candidate;
        break;
      }
      step /= 2;
    }
    if (accepted === undefined) {
      const converged = maxAbs(current.grad) <= tolerance;
      return { theta, logPosterior: current.value, gradNorm: norm2(current.grad), iterations: iteration, converged };
    }
    theta = Float64Array.from(trial);
    current = accepted;
  }
  const converged = maxAbs(current.grad) <= tolerance;
  return { theta, logPosterior: current.value, gradNorm: norm2(current.grad), iterations: maxIterations, converged };
}

/**
 * Bound optimisation with a fixed curvature B ⪰ −∇² log p(θ | y) everywhere:
 *   θ ← θ + B⁻¹ ∇ log p(θ | y),
 * which increases the log posterior monotonically (Böhning & Lindsay 1988, "Monotonicity of
 * quadratic-approximation algorithms", Ann. Inst. Statist. Math. 40). `solveCurvature(g)` returns
 * B⁻¹g (B factored once by the caller). Converges linearly; stops when the gradient test of
 * `options.tolerance` passes or after `maxIterations` (then `converged` is false).
 */
export function boundOptimisationMode(
  problem: Omit<ModeProblem, 'hessian'>,
  solveCurvature: (gradient: Vec) => Float64Array,
  options: ModeOptions = {},
): ModeResult {
  const maxIterations = options.maxIterations ?? 5000;
  const tolerance = (options.tolerance ?? 1e-10) * (1 + problem.dataSize);
  let theta = startingPoint(problem, options);
  let current = problem.logPosterior(theta);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(current.grad) <= tolerance) {
      return { theta, logPosterior: current.value, gradNorm: norm2(current.grad), iterations: iteration, converged: true };
    }
    const direction = solveCurvature(current.grad);
    const next = new Float64Array(theta.length);
    for (let i = 0; i < next.length; i++) next[i] = theta[i] + direction[i];
    // Every step is taken: the bound guarantees ascent, and near the mode the gain is below the
    // rounding of the value, so comparing values would stop early.
    theta = next;
    current = problem.logPosterior(next);
  }
  const converged = maxAbs(current.grad) <= tolerance;
  return { theta, logPosterior: current.value, gradNorm: norm2(current.grad), iterations: maxIterations, converged };
}
