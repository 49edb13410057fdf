/**
 * Stochastic gradient Hamiltonian Monte Carlo (Chen, Fox & Guestrin 2014, "Stochastic gradient
 * Hamiltonian Monte Carlo", ICML): a second-order Langevin diffusion with friction, simulated with
 * minibatch gradients and no Metropolis correction.
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import type { Key } from '../core/random.js';
import { normal } from '../core/random.js';
import { minibatchGradient } from '../models/estimator.js';
import { kineticEnergy, velocity } from './integrators.js';

/** The state of an SGHMC chain: data only, never mutated by a step. */
export interface SghmcState {
  /** θ_t. */
  readonly position: Vec;
  /** r_t, the momentum. */
  readonly momentum: Vec;
  /** t, the number of steps taken; schedules are evaluated at it. */
  readonly step: number;
}

/** What one SGHMC step reports. */
export interface SghmcInfo extends StepInfo {
  /** ε_t. */
  stepSize: number;
  /** ‖ĝ(θ_t)‖, the minibatch estimate of ∇ log posterior. */
  gradNorm: number;
  /** ‖N(0, 2(C − B̂)ε T)‖, the injected momentum noise (0 at temperature 0). */
  noiseNorm: number;
  /** T. */
  temperature: number;
  /** ½ r_{t+1}ᵀ M⁻¹ r_{t+1} after the step. */
  kineticEnergy: number;
}

/** A positive number for every coordinate, or one vector entry per coordinate. */
export type DiagonalOption = number | Vec;

/** Options of {@link sghmc}. */
export interface SghmcOptions {
  /** ε: a constant or a schedule of the step. */
  stepSize: Schedule;
  /** C, the friction (diagonal; default 1). */
  friction?: DiagonalOption;
  /** B̂, an estimate of the gradient-noise term ½ε V̂ (diagonal; default 0). Must satisfy C − B̂ ≥ 0. */
  noiseEstimate?: DiagonalOption;
  /** M, the mass (diagonal; default 1). */
  mass?: DiagonalOption;
  /** T ≥ 0 scaling the injected noise variance (default 1). */
  temperature?: Schedule;
  /** Initial momentum: 'zero' (default; the first step is then a gradient step) or a draw r ~ N(0, M). */
  initialMomentum?: 'zero' | 'sample';
}

/** Thrown when SGHMC gets an invalid option or per-step value. */
export class SghmcOptionError extends RangeError {
  override name = 'SghmcOptionError';
}

function checked(schedule: Schedule, step: number, what: string, allowZero: boolean): number {
  const value = scheduleValue(schedule, step);
  if (!(Number.isFinite(value) && (allowZero ? value >= 0 : value > 0))) {
    throw new SghmcOptionError(`sghmc: ${what} at step ${step} must be a finite number ${allowZero ? '≥' : '>'} 0, got ${value}`);
  }
  return value;
}

function diagonal(option: DiagonalOption | undefined, fallback: number, dim: number, name: string, allowZero: boolean): Float64Array {
  const out = new Float64Array(dim);
  if (option === undefined) return out.fill(fallback);
  if (typeof option === 'number') out.fill(option);
  else {
    if (!(option instanceof Float64Array) || option.length !== dim) {
      throw new SghmcOptionError(`sghmc: ${name} must be a number or a Float64Array of length ${dim}, got length ${option?.length}`);
    }
    out.set(option);
  }
  for (let i = 0; i < dim; i++) {
    if (!(Number.isFinite(out[i]) && (allowZero ? out[i] >= 0 : out[i] > 0))) {
      throw new SghmcOptionError(`sghmc: ${name}[${i}] must be a finite number ${allowZero ? '≥' : '>'} 0, got ${out[i]}`);
    }
  }
  return out;
}

/**
 * SGHMC (Chen, Fox & Guestrin 2014, Eq. 13, "SGHMC with friction"), one step at t = state.step:
 *
 *   r_{t+1} = r_t + ε ĝ(θ_t) − ε C M⁻¹ r_t + N(0, 2(C − B̂) ε T),
 *   θ_{t+1} = θ_t + ε M⁻¹ r_{t+1},
 *
 * with ĝ = ∇log p(θ) + (N/S) Σ_batch ∇log p(x|θ), diagonal friction C, noise estimate B̂ and mass M.
 * The momentum is updated before the position (a symplectic-Euler ordering of the paper's Eq. 13,
 * as in its SGD-with-momentum form Eq. 15: v = εM⁻¹r, η = ε²M⁻¹, α = εCM⁻¹), so from r = 0 and at
 * T = 0 the first step is the gradient step θ + ε² M⁻¹ ĝ. T scales the injected variance; T = 1
 * targets the posterior (as ε → 0 and when B̂ matches the minibatch noise).
 */
export function sghmc<Batch = IndexBatch>(target: Target<Batch>, options: SghmcOptions): Sampler<SghmcState, SghmcInfo, Batch> {
  const dim = target.dim;
  if (typeof options.stepSize === 'number') checked(options.stepSize, 0, 'stepSize', false);
  const temperatureSchedule = options.temperature ?? 1;
  if (typeof temperatureSchedule === 'number') checked(temperatureSchedule, 0, 'temperature', true);
  const friction = diagonal(options.friction, 1, dim, 'friction', false);
  const noiseEstimate = diagonal(options.noiseEstimate, 0, dim, 'noiseEstimate', true);
  const mass = diagonal(options.mass, 1, dim, 'mass', false);
  const inverseMass = mass.map((m) => 1 / m);
  const diffusion = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    diffusion[i] = 2 * (friction[i] - noiseEstimate[i]);
    if (diffusion[i] < 0) {
      throw new SghmcOptionError(`sghmc: friction[${i}] = ${friction[i]} is below noiseEstimate[${i}] = ${noiseEstimate[i]}; C − B̂ must be ≥ 0`);
    }
  }
  const initialMomentum = options.initialMomentum ?? 'zero';
  const gradient = new Float64Array(dim);
  const noise = new Float64Array(dim);
  const move = new Float64Array(dim);
  return {
    init(position: Vec, key: Key): SghmcState {
      if (position.length !== dim) throw new SghmcOptionError(`sghmc.init: position has length ${position.length}, target.dim is ${dim}`);
      const momentum = new Float64Array(dim);
      if (initialMomentum === 'sample') {
        normal(key, dim, momentum);
        for (let i = 0; i < dim; i++) momentum[i] *= Math.sqrt(mass[i]);
      }
      return { position: Float64Array.from(position), momentum, step: 0 };
    },
    step(key: Key, state: Readonly<SghmcState>, batch: Batch): readonly [SghmcState, SghmcInfo] {
      const t = state.step;
      if (state.position.length !== dim || state.momentum.length !== dim) {
        throw new SghmcOptionError(`sghmc: state.position and state.momentum must have length target.dim = ${dim}`);
      }
      const stepSize = checked(options.stepSize, t, 'stepSize', false);
      const temperature = checked(temperatureSchedule, t, 'temperature', true);
      const grad = minibatchGradient(target, state.position, batch, gradient).grad;
      if (temperature > 0) normal(key, dim, noise);
      const oldVelocity = velocity(state.momentum, inverseMass, move);
      const momentum = new Float64Array(dim);
      let gradSq = 0;
      let noiseSq = 0;
      for (let i = 0; i < dim; i++) {
        gradSq += grad[i] * grad[i];
        const injected = temperature > 0 ? Math.sqrt(diffusion[i] * stepSize * temperature) * noise[i] : 0;
        noiseSq += injected * injected;
        momentum[i] = state.momentum[i] + stepSize * grad[i] - stepSize * friction[i] * oldVelocity[i] + injected;
      }
      const newVelocity = velocity(momentum, inverseMass, move);
      const position = new Float64Array(dim);
      for (let i = 0; i < dim; i++) position[i] = state.position[i] + stepSize * newVelocity[i];
      const info: SghmcInfo = {
        stepSize,
        gradNorm: Math.sqrt(gradSq),
        noiseNorm: Math.sqrt(noiseSq),
        temperature,
        kineticEnergy: kineticEnergy(momentum, inverseMass),
      };
      return [{ position, momentum, step: t + 1 }, info] as const;
    },
  };
}
