/**
 * Hamiltonian Monte Carlo with a fixed integration time (Duane, Kennedy, Pendleton & Roweth 1987;
 * Neal 2011, "MCMC using Hamiltonian dynamics"), full batch, diagonal metric. The reference
 * sampler against which stochastic-gradient samplers are compared.
 */
import { split, uniform1, type Key } from '../core/random.js';
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
  hamiltonian,
  leapfrogInPlace,
  logDensityOf,
  type HamiltonianInfo,
  type HamiltonianState,
  type LogDensityModel,
  type PhasePoint,
} from './integrators.js';

/** Options of {@link hmc}. */
export interface HmcOptions extends HamiltonianOptions {
  /**
   * Integration time T; each step takes L = max(1, ⌊T/ε⌋) leapfrog steps (Stan's static HMC).
   * Default π/2: a quarter period of a unit-scale Gaussian, where successive draws decorrelate.
   */
  pathLength?: number;
  /** A fixed number of leapfrog steps L instead of a path length. */
  numIntegrationSteps?: number;
  /** Upper bound on L when it is derived from a small ε (1024). */
  maxIntegrationSteps?: number;
}

function positiveOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v)) throw new HamiltonianInputError(`hmc options: ${name} must be finite and positive, got ${v}`);
  return v;
}

/**
 * A full-batch HMC sampler on a target's log posterior log p(θ) + log p(D | θ) (or on a
 * {@link LogDensityModel}). Each step draws p ~ N(0, M), integrates L leapfrog steps of size ε,
 * and accepts the end point with probability min(1, exp(H₀ − H_L)) (Neal 2011, §5.3.2.1). The
 * batch argument of `step` is ignored.
 */
export function hmc<B>(model: LogDensityModel | Target<B>, options: HmcOptions = {}): HamiltonianSampler {
  const logDensity = logDensityOf(model);
  const dim = model.dim;
  const pathLength = positiveOption(options.pathLength, Math.PI / 2, 'pathLength');
  const maxSteps = positiveOption(options.maxIntegrationSteps, 1024, 'maxIntegrationSteps');
  const maxEnergyError = positiveOption(options.maxEnergyError, 1000, 'maxEnergyError');
  const fixedSteps = options.numIntegrationSteps;
  if (fixedSteps !== undefined && (!Number.isInteger(fixedSteps) || fixedSteps < 1)) {
    throw new HamiltonianInputError(`hmc options: numIntegrationSteps must be a positive integer, got ${fixedSteps}`);
  }
  return {
    dim,
    logDensity,
    init(position: Vec, k: Key): HamiltonianState {
      return initialHamiltonianState(logDensity, dim, position, k, options, 'hmc');
    },
    step(k: Key, state: Readonly<HamiltonianState>): readonly [HamiltonianState, HamiltonianInfo] {
      const [momentumKey, acceptKey] = split(k, 2);
      const { stepSize, inverseMetric } = state;
      const numSteps = fixedSteps ?? Math.min(maxSteps, Math.max(1, Math.floor(pathLength / stepSize)));
      const point: PhasePoint = {
        position: Float64Array.from(state.position),
        momentum: sampleMomentum(momentumKey, inverseMetric),
        logDensity: state.logDensity,
        grad: Float64Array.from(state.grad),
      };
      const h0 = hamiltonian(point, inverseMetric);
      let diverging = false;
      let numGradEvals = 0;
      for (let s = 0; s < numSteps; s++) {
        leapfrogInPlace(logDensity, point, stepSize, inverseMetric);
        numGradEvals++;
        // Stop integrating once the energy has blown up: the proposal is rejected anyway.
        if (hamiltonian(point, inverseMetric) - h0 > maxEnergyError) {
          diverging = true;
          break;
        }
      }
      const h = hamiltonian(point, inverseMetric);
      const acceptProb = diverging ? 0 : Math.min(1, Math.exp(h0 - h));
      const accepted = uniform1(acceptKey) < acceptProb;
      const next: HamiltonianState = accepted
        ? { position: point.position, logDensity: point.logDensity, grad: point.grad, stepSize, inverseMetric }
        : { ...state };
      const info: HamiltonianInfo = {
        stepSize,
        gradNorm: norm(next.grad),
        noiseNorm: 0,
        acceptProb,
        treeDepth: 0,
        numGradEvals,
        diverging,
        energy: accepted ? h : h0,
      };
      return [next, info];
    },
  };
}

/**
 * Run warm-up (Stan's windowed adaptation) and sampling of fixed-path-length HMC for several
 * chains; see {@link runAdaptiveChains}.
 */
export function sampleHmc<B>(
  model: LogDensityModel | Target<B>,
  options: HmcOptions & AdaptiveRunOptions = {},
): HamiltonianRun {
  return runAdaptiveChains(hmc(model, options), options);
}
