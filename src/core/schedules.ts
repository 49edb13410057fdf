/**
 * Step-size and temperature schedules: helpers that build {@link Schedule} values
 * (a constant, or a function of the 0-based step).
 *
 * Schedules returned as functions throw a RangeError for a negative or non-finite step, so an
 * off-by-one in a driver surfaces at once rather than as a silent NaN step size.
 */
import type { Schedule } from './types.js';

import { scheduleValue } from './types.js';

export { scheduleValue } from './types.js';
export type { Schedule } from './types.js';

function checkFinite(where: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${where}: ${name} must be finite, got ${value}`);
}

function checkPositive(where: string, name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${where}: ${name} must be positive and finite, got ${value}`);
  }
}

function checkStep(where: string, step: number): void {
  if (!(step >= 0) || !Number.isFinite(step)) {
    throw new RangeError(`${where}: step must be a non-negative finite number, got ${step}`);
  }
}

/** A constant schedule ε_t = value. */
export function constant(value: number): Schedule {
  checkFinite('constant', 'value', value);
  return value;
}

/**
 * Polynomial decay ε_t = a (b + t)^{−γ} (Welling & Teh 2011, "Bayesian learning via stochastic
 * gradient Langevin dynamics", ICML, Sec. 3). Robbins–Monro conditions Σε_t = ∞, Σε_t² < ∞ hold
 * for γ ∈ (½, 1]; other γ ≥ 0 are allowed for experiments.
 *
 * @throws RangeError unless a is finite, b > 0 and γ ≥ 0.
 */
export function polynomialDecay(a: number, b: number, gamma: number): Schedule {
  checkFinite('polynomialDecay', 'a', a);
  checkPositive('polynomialDecay', 'b', b);
  if (!(gamma >= 0) || !Number.isFinite(gamma)) {
    throw new RangeError(`polynomialDecay: gamma must be ≥ 0 and finite, got ${gamma}`);
  }
  return (step: number) => {
    checkStep('polynomialDecay', step);
    return a * Math.pow(b + step, -gamma);
  };
}

/**
 * Exponential decay ε_t = ε₀ · rate^{t / stepsPerDecay}; with `staircase` the exponent is
 * floored, so the value drops once every `stepsPerDecay` steps.
 *
 * @throws RangeError unless rate > 0 and stepsPerDecay > 0.
 */
export function exponentialDecay(
  initial: number,
  rate: number,
  stepsPerDecay = 1,
  options: { staircase?: boolean } = {},
): Schedule {
  checkFinite('exponentialDecay', 'initial', initial);
  checkPositive('exponentialDecay', 'rate', rate);
  checkPositive('exponentialDecay', 'stepsPerDecay', stepsPerDecay);
  const staircase = options.staircase ?? false;
  return (step: number) => {
    checkStep('exponentialDecay', step);
    const p = step / stepsPerDecay;
    return initial * Math.pow(rate, staircase ? Math.floor(p) : p);
  };
}

/**
 * Cosine decay from `initial` to `final` over `totalSteps` (Loshchilov & Hutter 2017, SGDR, Eq. 5
 * without restarts): ε_t = final + ½(initial − final)(1 + cos(π t / T)) for t ≤ T, then `final`.
 *
 * @throws RangeError unless totalSteps > 0.
 */
export function cosineDecay(initial: number, totalSteps: number, final = 0): Schedule {
  checkFinite('cosineDecay', 'initial', initial);
  checkFinite('cosineDecay', 'final', final);
  checkPositive('cosineDecay', 'totalSteps', totalSteps);
  return (step: number) => {
    checkStep('cosineDecay', step);
    if (step >= totalSteps) return final;
    return final + 0.5 * (initial - final) * (1 + Math.cos((Math.PI * step) / totalSteps));
  };
}

/**
 * Linear warm-up followed by another schedule: for t < W the value rises linearly from `start`
 * to the schedule's value at its step 0, ε_t = start + (s(0) − start) t / W; from t = W on it is
 * s(t − W), so the wrapped schedule starts its own clock when the warm-up ends.
 *
 * @throws RangeError unless warmupSteps is a non-negative integer.
 */
export function linearWarmup(schedule: Schedule, warmupSteps: number, start = 0): Schedule {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new RangeError(`linearWarmup: warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  }
  checkFinite('linearWarmup', 'start', start);
  if (typeof schedule === 'number') checkFinite('linearWarmup', 'schedule', schedule);
  const valueAt = (t: number) => (typeof schedule === 'number' ? schedule : schedule(t));
  const target = valueAt(0);
  return (step: number) => {
    checkStep('linearWarmup', step);
    if (step < warmupSteps) return start + ((target - start) * step) / warmupSteps;
    return valueAt(step - warmupSteps);
  };
}

/**
 * A schedule's value at `step`, checked to be finite and > 0 (or ≥ 0 with `allowZero`): the
 * samplers' per-step guard, so a bad step size or temperature stops with a message naming the
 * sampler, the option and the step instead of poisoning the chain with NaN.
 */
export function checkedScheduleValue(
  schedule: Schedule,
  step: number,
  where: string,
  what: string,
  allowZero: boolean,
  ErrorClass: new (message: string) => Error = RangeError,
): number {
  const value = scheduleValue(schedule, step);
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    const bound = allowZero ? 'a finite number ≥ 0' : 'a finite number > 0';
    throw new ErrorClass(`${where}: ${what} at step ${step} must be ${bound}, got ${value}`);
  }
  return value;
}
