/**
 * The No-U-Turn Sampler (Hoffman & Gelman 2014, JMLR 15) in the form Stan uses: multinomial
 * sampling of the trajectory (uniform progressive sampling inside subtrees, biased progressive
 * sampling when a new subtree is merged), the generalised no-U-turn criterion on p♯ = M⁻¹p with
 * the extra checks across neighbouring subtrees (Betancourt 2017, "A conceptual introduction to
 * Hamiltonian Monte Carlo", §A.4), a maximum tree depth and divergence detection. Full batch,
 * diagonal metric.
 */
import { foldIn, split, uniform1, type Key } from '../core/random.js';
import type { Target, Vec } from '../core/types.js';
import { norm } from '../core/vec.js';
import {
  initialHamiltonianState,
  runAdaptiveChains,
  sampleMomentum,
  type AdaptiveRunOptions,
  type HamiltonianOptions,
  type HamiltonianRun,
  type HamiltonianSampler,
} from './adaptation.js';
import {
  HamiltonianInputError,
  copyPhasePoint,
  hamiltonian,
  leapfrogInPlace,
  logDensityOf,
  velocity,
  type HamiltonianInfo,
  type HamiltonianState,
  type LogDensityModel,
  type PhasePoint,
} from './integrators.js';

/** Options of {@link nuts}. */
export interface NutsOptions extends HamiltonianOptions {
  /** Maximum number of trajectory doublings (10): at most 2^maxTreeDepth − 1 leapfrog steps. */
  maxTreeDepth?: number;
}

/** A point the trajectory may return: position with its cached density, gradient and energy. */
interface Candidate {
  position: Vec;
  logDensity: number;
  grad: Vec;
  energy: number;
}

/** A completed, valid subtree: its two boundary momenta, their velocities, Σp and proposal. */
interface Subtree {
  /** Log of the summed multinomial weights Σ exp(H₀ − H). */
  logSumWeight: number;
  candidate: Candidate;
  /** Momentum and velocity at the end adjacent to the existing trajectory ("beg") and at the far end. */
  momentumNear: Vec;
  velocityNear: Vec;
  momentumFar: Vec;
  velocityFar: Vec;
  /** ρ = Σ p over the subtree's points. */
  rho: Vec;
}

function logSumExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

function sum(a: Vec, b: Vec): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Generalised no-U-turn criterion: both boundary velocities point along ρ (p♯₋·ρ > 0 and p♯₊·ρ > 0). */
function noUTurn(velocityA: Vec, velocityB: Vec, rho: Vec): boolean {
  let a = 0;
  let b = 0;
  for (let i = 0; i < rho.length; i++) {
    a += velocityA[i] * rho[i];
    b += velocityB[i] * rho[i];
  }
  return a > 0 && b > 0;
}

/** {@link noUTurn} with ρ = ρ₁ + p, summed on the fly rather than into a new array. */
function noUTurnPlus(velocityA: Vec, velocityB: Vec, rho: Vec, momentum: Vec): boolean {
  let a = 0;
  let b = 0;
  for (let i = 0; i < rho.length; i++) {
    const r = rho[i] + momentum[i];
    a += velocityA[i] * r;
    b += velocityB[i] * r;
  }
  return a > 0 && b > 0;
}

/**
 * Whether the merge of tree A and tree B, built after A in the same direction, keeps going (A's
 * "near" end is the one away from B, B's "near" end is the one next to A):
 * the criterion over the merged span, and, to catch U-turns that fall between the two halves, over
 * A plus B's first point and over B plus A's last point (Stan ≥ 2.21; Betancourt's extra checks).
 */
function mergeKeepsGoing(a: Subtree, b: Subtree, rhoMerged: Vec): boolean {
  return (
    noUTurn(a.velocityNear, b.velocityFar, rhoMerged) &&
    noUTurnPlus(a.velocityNear, b.velocityNear, a.rho, b.momentumNear) &&
    noUTurnPlus(a.velocityFar, b.velocityFar, b.rho, a.momentumFar)
  );
}

/**
 * A full-batch NUTS sampler on a target's log posterior (or a {@link LogDensityModel}). Step:
 * draw p ~ N(0, M); repeatedly double the trajectory in a random direction; inside a new subtree
 * pick the candidate with probability proportional to w = exp(H₀ − H) (uniform progressive
 * sampling), and on merging take the subtree's candidate with probability min(1, W_new/W_old)
 * (biased progressive sampling, Betancourt 2017 §A.3.2); stop at a U-turn, at a divergence
 * (H − H₀ > 1000) or at the maximum depth. The acceptance statistic for adaptation is the mean of
 * min(1, exp(H₀ − H)) over all leapfrog steps of the step (Stan). The batch argument is ignored.
 */
export function nuts<B>(model: LogDensityModel | Target<B>, options: NutsOptions = {}): HamiltonianSampler {
  const logDensity = logDensityOf(model);
  const dim = model.dim;
  const maxTreeDepth = options.maxTreeDepth ?? 10;
  if (!Number.isInteger(maxTreeDepth) || maxTreeDepth < 1 || maxTreeDepth > 30) {
    throw new HamiltonianInputError(`nuts options: maxTreeDepth must be an integer in [1, 30], got ${maxTreeDepth}`);
  }
  const maxEnergyError = options.maxEnergyError ?? 1000;
  if (!(maxEnergyError > 0)) {
    throw new HamiltonianInputError(`nuts options: maxEnergyError must be positive, got ${maxEnergyError}`);
  }

  function step(k: Key, state: Readonly<HamiltonianState>): readonly [HamiltonianState, HamiltonianInfo] {
    const { stepSize, inverseMetric } = state;
    const [momentumKey, uniformKey] = split(k, 2);
    let uniformCounter = 0;
    const nextUniform = (): number => uniform1(foldIn(uniformKey, uniformCounter++));

    const start: PhasePoint = {
      position: state.position,
      momentum: sampleMomentum(momentumKey, inverseMetric),
      logDensity: state.logDensity,
      grad: state.grad,
    };
    const h0 = hamiltonian(start, inverseMetric);
    let numGradEvals = 0;
    let sumAcceptProb = 0;
    let diverging = false;

    // The working point that leapfrog moves; restored to the relevant trajectory end before each doubling.
    let working: PhasePoint = copyPhasePoint(start);

    /** Build 2^depth leapfrog steps from `working` in direction `sign`; null when invalid (divergent or U-turn). */
    function buildTree(depth: number, sign: number): Subtree | null {
      if (depth === 0) {
        leapfrogInPlace(logDensity, working, sign * stepSize, inverseMetric);
        numGradEvals++;
        const h = hamiltonian(working, inverseMetric);
        if (h - h0 > maxEnergyError) diverging = true;
        const logWeight = h0 - h;
        sumAcceptProb += logWeight > 0 ? 1 : Math.exp(logWeight);
        if (diverging) return null;
        const momentum = Float64Array.from(working.momentum);
        const v = velocity(momentum, inverseMetric);
        return {
          logSumWeight: logWeight,
          candidate: {
            position: Float64Array.from(working.position),
            logDensity: working.logDensity,
            grad: Float64Array.from(working.grad),
            energy: h,
          },
          momentumNear: momentum,
          velocityNear: v,
          momentumFar: momentum,
          velocityFar: v,
          // Subtree arrays are never written after creation, so a leaf's ρ = p can share p.
          rho: momentum,
        };
      }
      const inner = buildTree(depth - 1, sign);
      if (inner === null) return null;
      const outer = buildTree(depth - 1, sign);
      if (outer === null) return null;
      const logSumWeight = logSumExp(inner.logSumWeight, outer.logSumWeight);
      // Uniform progressive sampling: the outer half's candidate with probability W_outer / (W_inner + W_outer).
      const takeOuter = nextUniform() < Math.exp(outer.logSumWeight - logSumWeight);
      const rho = sum(inner.rho, outer.rho);
      if (!mergeKeepsGoing(inner, outer, rho)) return null;
      return {
        logSumWeight,
        candidate: takeOuter ? outer.candidate : inner.candidate,
        momentumNear: inner.momentumNear,
        velocityNear: inner.velocityNear,
        momentumFar: outer.momentumFar,
        velocityFar: outer.velocityFar,
        rho,
      };
    }

    // The trajectory so far, as its backward and forward ends; it starts as the single initial point.
    const startVelocity = velocity(start.momentum, inverseMetric);
    let backwardEnd: PhasePoint = start;
    let forwardEnd: PhasePoint = start;
    let backwardMomentum: Vec = start.momentum;
    let backwardVelocity: Vec = startVelocity;
    let forwardMomentum: Vec = start.momentum;
    let forwardVelocity: Vec = startVelocity;
    let rho: Vec = Float64Array.from(start.momentum);
    let logSumWeight = 0;
    let sample: Candidate = { position: state.position, logDensity: state.logDensity, grad: state.grad, energy: h0 };
    let treeDepth = 0;

    while (treeDepth < maxTreeDepth) {
      const forward = nextUniform() > 0.5;
      working = copyPhasePoint(forward ? forwardEnd : backwardEnd);
      const subtree = buildTree(treeDepth, forward ? 1 : -1);
      if (subtree === null) break;
      treeDepth++;
      // Biased progressive sampling: prefer the new subtree when it carries more weight than the old trajectory.
      if (subtree.logSumWeight > logSumWeight || nextUniform() < Math.exp(subtree.logSumWeight - logSumWeight)) {
        sample = subtree.candidate;
      }
      logSumWeight = logSumExp(logSumWeight, subtree.logSumWeight);
      const existing: Subtree = forward
        ? { logSumWeight, candidate: sample, momentumNear: backwardMomentum, velocityNear: backwardVelocity, momentumFar: forwardMomentum, velocityFar: forwardVelocity, rho }
        : { logSumWeight, candidate: sample, momentumNear: forwardMomentum, velocityNear: forwardVelocity, momentumFar: backwardMomentum, velocityFar: backwardVelocity, rho };
      const merged = sum(rho, subtree.rho);
      const keepGoing = mergeKeepsGoing(existing, subtree, merged);
      rho = merged;
      if (forward) {
        forwardEnd = working;
        forwardMomentum = subtree.momentumFar;
        forwardVelocity = subtree.velocityFar;
      } else {
        backwardEnd = working;
        backwardMomentum = subtree.momentumFar;
        backwardVelocity = subtree.velocityFar;
      }
      if (!keepGoing) break;
    }

    const next: HamiltonianState = {
      position: sample.position,
      logDensity: sample.logDensity,
      grad: sample.grad,
      stepSize,
      inverseMetric,
    };
    const info: HamiltonianInfo = {
      stepSize,
      gradNorm: norm(sample.grad),
      noiseNorm: 0,
      acceptProb: numGradEvals > 0 ? Math.min(1, Math.max(0, sumAcceptProb / numGradEvals)) : 0,
      treeDepth,
      numGradEvals,
      diverging,
      energy: sample.energy,
    };
    return [next, info];
  }

  return {
    dim,
    logDensity,
    init(position: Vec, k: Key): HamiltonianState {
      return initialHamiltonianState(logDensity, dim, position, k, options, 'nuts');
    },
    step,
  };
}

/**
 * Run NUTS with Stan's warm-up for several chains: dual-averaging step size (target acceptance
 * 0.8, γ = 0.05, t₀ = 10, κ = 0.75) and a windowed diagonal metric, then `draws` kept iterations
 * per chain; see {@link runAdaptiveChains}.
 *
 * @example
 * const run = sampleNuts(densityTarget(2, gaussianLogDensity), { chains: 4, warmup: 500, draws: 500, seed: 1 });
 */
export function sampleNuts<B>(
  model: LogDensityModel | Target<B>,
  options: NutsOptions & AdaptiveRunOptions = {},
): HamiltonianRun {
  return runAdaptiveChains(nuts(model, options), options);
}
