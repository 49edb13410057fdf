import { describe, expect, it } from 'vitest';
import { dormandPrince } from '../src/expfam/ode.js';
import { ExponentialFamilyError } from '../src/expfam/errors.js';

describe('dormandPrince', () => {
  it('solves y′ = −y to the requested accuracy, and tighter tolerances give smaller errors', () => {
    const errors = [1e-6, 1e-9, 1e-12].map((rtol) => {
      const r = dormandPrince((_t, y, out) => (out[0] = -y[0]), Float64Array.of(1), 0, 5, { rtol, atol: rtol * 1e-3 });
      expect(r.t).toBe(5);
      return Math.abs(r.y[0] - Math.exp(-5)) / Math.exp(-5);
    });
    expect(errors[0]).toBeLessThan(1e-5);
    expect(errors[1]).toBeLessThan(1e-8);
    expect(errors[2]).toBeLessThan(1e-10);
    expect(errors[2]).toBeLessThan(errors[0]);
  });

  it('integrates the harmonic oscillator over ten periods', () => {
    const f = (_t: number, y: Float64Array, out: Float64Array): void => {
      out[0] = y[1];
      out[1] = -y[0];
    };
    const tEnd = 20 * Math.PI;
    const r = dormandPrince(f, Float64Array.of(1, 0), 0, tEnd, { rtol: 1e-11, atol: 1e-13 });
    expect(Math.abs(r.y[0] - Math.cos(tEnd))).toBeLessThan(1e-8);
    expect(Math.abs(r.y[1] + Math.sin(tEnd))).toBeLessThan(1e-8);
  });

  it('handles time-dependent right-hand sides (y′ = t, y = t²/2)', () => {
    const r = dormandPrince((t, _y, out) => (out[0] = t), Float64Array.of(0), 0, 3);
    expect(r.y[0]).toBeCloseTo(4.5, 12);
  });

  it('stops on the event and does not mutate the start', () => {
    const y0 = Float64Array.of(1);
    const r = dormandPrince((_t, y, out) => (out[0] = -2 * y[0]), y0, 0, 100, { onStep: (_t, y) => y[0] < 1e-3 });
    expect(r.stoppedByEvent).toBe(true);
    expect(r.y[0]).toBeLessThan(1e-3);
    expect(r.t).toBeLessThan(100);
    expect(y0[0]).toBe(1);
  });

  it('shrinks steps that leave the domain instead of failing', () => {
    // y′ = −1/(2y) with y(0) = 1 has y = √(1 − t), defined only for y > 0; stop before t = 1.
    const r = dormandPrince((_t, y, out) => (out[0] = -1 / (2 * y[0])), Float64Array.of(1), 0, 0.99, {
      isValid: (y) => y[0] > 0,
      rtol: 1e-10,
    });
    expect(r.y[0]).toBeCloseTo(Math.sqrt(0.01), 7);
  });

  it('rejects bad input with a clear error', () => {
    const f = (_t: number, y: Float64Array, out: Float64Array): void => void (out[0] = y[0]);
    expect(() => dormandPrince(f, Float64Array.of(1), 1, 0)).toThrow(ExponentialFamilyError);
    expect(() => dormandPrince(f, Float64Array.of(NaN), 0, 1)).toThrow(/initial state/);
    expect(() => dormandPrince(f, Float64Array.of(1), 0, 1, { rtol: 0 })).toThrow(/tolerances/);
    expect(() => dormandPrince(f, Float64Array.of(1), 0, 1e6, { maxSteps: 5 })).toThrow(/exceeded 5 steps/);
  });
});
