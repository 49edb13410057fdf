import { describe, expect, it } from 'vitest';
import {
  constant,
  cosineDecay,
  exponentialDecay,
  linearWarmup,
  polynomialDecay,
  scheduleValue,
} from '../src/core/schedules.js';

describe('schedules', () => {
  it('constant is the same value at every step', () => {
    const s = constant(0.1);
    expect(scheduleValue(s, 0)).toBe(0.1);
    expect(scheduleValue(s, 1e6)).toBe(0.1);
    expect(() => constant(NaN)).toThrow(/constant: value must be finite/);
  });

  it('polynomialDecay is a (b + t)^{−γ} and decreasing', () => {
    const s = polynomialDecay(0.5, 10, 0.55);
    expect(scheduleValue(s, 0)).toBeCloseTo(0.5 * 10 ** -0.55, 15);
    expect(scheduleValue(s, 90)).toBeCloseTo(0.5 * 100 ** -0.55, 15);
    for (let t = 1; t < 100; t++) expect(scheduleValue(s, t)).toBeLessThan(scheduleValue(s, t - 1));
    // γ = 1 halves the value when b + t doubles.
    const inv = polynomialDecay(1, 1, 1);
    expect(scheduleValue(inv, 3) / scheduleValue(inv, 1)).toBeCloseTo(0.5, 15);
  });

  it('polynomialDecay validates its parameters and the step', () => {
    expect(() => polynomialDecay(1, 0, 0.6)).toThrow(/b must be positive/);
    expect(() => polynomialDecay(1, 1, -0.1)).toThrow(/gamma must be ≥ 0/);
    expect(() => scheduleValue(polynomialDecay(1, 1, 1), -1)).toThrow(/step must be a non-negative/);
  });

  it('exponentialDecay, smooth and staircase', () => {
    const smooth = exponentialDecay(2, 0.5, 10);
    expect(scheduleValue(smooth, 0)).toBe(2);
    expect(scheduleValue(smooth, 10)).toBeCloseTo(1, 15);
    expect(scheduleValue(smooth, 5)).toBeCloseTo(2 * Math.SQRT1_2, 15);
    const stairs = exponentialDecay(2, 0.5, 10, { staircase: true });
    expect(scheduleValue(stairs, 9)).toBe(2);
    expect(scheduleValue(stairs, 10)).toBe(1);
    expect(scheduleValue(stairs, 25)).toBe(0.5);
    expect(() => exponentialDecay(1, 0)).toThrow(/rate must be positive/);
  });

  it('cosineDecay goes from initial through the midpoint to final and stays there', () => {
    const s = cosineDecay(1, 100, 0.1);
    expect(scheduleValue(s, 0)).toBe(1);
    expect(scheduleValue(s, 50)).toBeCloseTo(0.55, 15);
    expect(scheduleValue(s, 100)).toBe(0.1);
    expect(scheduleValue(s, 1000)).toBe(0.1);
    expect(() => cosineDecay(1, 0)).toThrow(/totalSteps must be positive/);
  });

  it('linearWarmup ramps to the wrapped schedule, which then starts its own clock', () => {
    const inner = polynomialDecay(1, 1, 1);
    const s = linearWarmup(inner, 10);
    expect(scheduleValue(s, 0)).toBe(0);
    expect(scheduleValue(s, 5)).toBeCloseTo(0.5, 15);
    expect(scheduleValue(s, 10)).toBe(scheduleValue(inner, 0));
    expect(scheduleValue(s, 13)).toBe(scheduleValue(inner, 3));
    const fromConst = linearWarmup(0.2, 4, 0.1);
    expect(scheduleValue(fromConst, 2)).toBeCloseTo(0.15, 15);
    expect(scheduleValue(fromConst, 4)).toBe(0.2);
    expect(scheduleValue(linearWarmup(0.3, 0), 0)).toBe(0.3);
    expect(() => linearWarmup(0.2, 1.5)).toThrow(/warmupSteps must be a non-negative integer/);
  });
});
