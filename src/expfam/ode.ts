/**
 * Adaptive Dormand–Prince 5(4) integrator for y' = f(t, y) (Dormand & Prince 1980, "A family of
 * embedded Runge–Kutta formulae", J. Comput. Appl. Math. 6; Hairer, Nørsett & Wanner, "Solving
 * ODEs I", §II.5), with local extrapolation, FSAL and the standard error-per-step controller.
 *
 * Written here because the gradient flows need a small, dependency-free, browser-safe integrator
 * whose accuracy is set by tolerances (so measured decay rates reflect the flow, not Euler's
 * O(Δt) bias) and which can stop on an event (the KL falling below a threshold); the tableau is
 * 30 lines and is checked against closed-form solutions in the tests.
 */
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';

/** Right-hand side: write f(t, y) into `out`; may throw or write non-finite values outside its domain. */
export type OdeRightHandSide = (t: number, y: Vec, out: Vec) => void;

/** Options of `dormandPrince`. */
export interface OdeOptions {
  /** Relative tolerance per component (default 1e-9). */
  rtol?: number;
  /** Absolute tolerance per component (default 1e-12). */
  atol?: number;
  /** First trial step (default from the tolerances and |f(t0, y0)|). */
  initialStep?: number;
  /** Largest step (default: the whole interval). */
  maxStep?: number;
  /** Give up after this many accepted plus rejected steps (default 1e6). */
  maxSteps?: number;
  /** Called after each accepted step (and at t0) with the new state; return true to stop. */
  onStep?: (t: number, y: Vec) => boolean | void;
  /** Whether a state is inside the domain of f; a step landing outside is rejected and shrunk. */
  isValid?: (y: Vec) => boolean;
}

/** Result of `dormandPrince`. */
export interface OdeResult {
  /** Time reached. */
  t: number;
  /** State at `t`. */
  y: Vec;
  acceptedSteps: number;
  rejectedSteps: number;
  /** True when `onStep` asked to stop before tEnd. */
  stoppedByEvent: boolean;
}

// Dormand–Prince 5(4) Butcher tableau.
const C2 = 1 / 5, C3 = 3 / 10, C4 = 4 / 5, C5 = 8 / 9;
const A21 = 1 / 5;
const A31 = 3 / 40, A32 = 9 / 40;
const A41 = 44 / 45, A42 = -56 / 15, A43 = 32 / 9;
const A51 = 19372 / 6561, A52 = -25360 / 2187, A53 = 64448 / 6561, A54 = -212 / 729;
const A61 = 9017 / 3168, A62 = -355 / 33, A63 = 46732 / 5247, A64 = 49 / 176, A65 = -5103 / 18656;
const B1 = 35 / 384, B3 = 500 / 1113, B4 = 125 / 192, B5 = -2187 / 6784, B6 = 11 / 84;
// Error weights: 5th-order minus embedded 4th-order solution.
const E1 = 71 / 57600, E3 = -71 / 16695, E4 = 71 / 1920, E5 = -17253 / 339200, E6 = 22 / 525, E7 = -1 / 40;

function allFinite(v: Vec): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/**
 * Integrate y' = f(t, y) from (t0, y0) to tEnd with Dormand–Prince 5(4): the 5th-order solution
 * is propagated; the step is accepted when the RMS of err_i / (atol + rtol·max(|y_i|, |ŷ_i|)) ≤ 1
 * and the next step is h·min(5, max(0.2, 0.9·err^{-1/5})). Does not mutate y0.
 */
export function dormandPrince(f: OdeRightHandSide, y0: Vec, t0: number, tEnd: number, options: OdeOptions = {}): OdeResult {
  const rtol = options.rtol ?? 1e-9;
  const atol = options.atol ?? 1e-12;
  const maxSteps = options.maxSteps ?? 1_000_000;
  const maxStep = options.maxStep ?? Math.abs(tEnd - t0);
  if (!(rtol > 0) || !(atol > 0)) throw new ExponentialFamilyError(`dormandPrince: tolerances must be > 0 (rtol ${rtol}, atol ${atol})`);
  if (!(tEnd > t0)) throw new ExponentialFamilyError(`dormandPrince: tEnd (${tEnd}) must exceed t0 (${t0})`);
  if (!allFinite(y0)) throw new ExponentialFamilyError('dormandPrince: initial state has non-finite entries');
  const n = y0.length;
  let y = Float64Array.from(y0);
  let t = t0;
  const k1 = new Float64Array(n), k2 = new Float64Array(n), k3 = new Float64Array(n), k4 = new Float64Array(n);
  const k5 = new Float64Array(n), k6 = new Float64Array(n);
  const k7 = new Float64Array(n);
  const stage = new Float64Array(n);
  let yNew = new Float64Array(n);
  const isValid = options.isValid ?? (() => true);

  f(t, y, k1);
  if (!allFinite(k1)) throw new ExponentialFamilyError('dormandPrince: right-hand side is not finite at the initial state');
  if (options.onStep?.(t, y)) return { t, y, acceptedSteps: 0, rejectedSteps: 0, stoppedByEvent: true };

  let h = options.initialStep ?? 0;
  if (!(h > 0)) {
    let yNorm = 0, fNorm = 0;
    for (let i = 0; i < n; i++) {
      const sc = atol + rtol * Math.abs(y[i]);
      yNorm += (y[i] / sc) ** 2;
      fNorm += (k1[i] / sc) ** 2;
    }
    yNorm = Math.sqrt(yNorm / n);
    fNorm = Math.sqrt(fNorm / n);
    h = yNorm < 1e-5 || fNorm < 1e-5 ? 1e-6 : 0.01 * (yNorm / fNorm);
  }
  h = Math.min(h, maxStep, tEnd - t);

  let accepted = 0, rejected = 0;
  const tryStage = (coeffs: number[], ks: Vec[], tStage: number, out: Vec): boolean => {
    for (let i = 0; i < n; i++) {
      let s = y[i];
      for (let c = 0; c < coeffs.length; c++) s += h * coeffs[c] * ks[c][i];
      stage[i] = s;
    }
    if (!allFinite(stage) || !isValid(stage)) return false;
    try {
      f(tStage, stage, out);
    } catch {
      return false;
    }
    return allFinite(out);
  };

  while (t < tEnd) {
    if (accepted + rejected >= maxSteps) {
      throw new ExponentialFamilyError(`dormandPrince: exceeded ${maxSteps} steps at t = ${t} (tEnd ${tEnd})`);
    }
    const last = t + h >= tEnd;
    if (last) h = tEnd - t;
    const ok =
      tryStage([A21], [k1], t + C2 * h, k2) &&
      tryStage([A31, A32], [k1, k2], t + C3 * h, k3) &&
      tryStage([A41, A42, A43], [k1, k2, k3], t + C4 * h, k4) &&
      tryStage([A51, A52, A53, A54], [k1, k2, k3, k4], t + C5 * h, k5) &&
      tryStage([A61, A62, A63, A64, A65], [k1, k2, k3, k4, k5], t + h, k6) &&
      tryStage([B1, 0, B3, B4, B5, B6], [k1, k2, k3, k4, k5, k6], t + h, k7);
    let err = Infinity;
    if (ok) {
      yNew.set(stage);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const e = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
        const sc = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i]));
        sum += (e / sc) ** 2;
      }
      err = Math.sqrt(sum / n);
    }
    if (err <= 1) {
      t = last ? tEnd : t + h;
      [y, yNew] = [yNew, y];
      // FSAL: the last stage is f at the accepted point.
      k1.set(k7);
      accepted++;
      if (options.onStep?.(t, y)) return { t, y, acceptedSteps: accepted, rejectedSteps: rejected, stoppedByEvent: true };
      const factor = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
      h = Math.min(h * factor, maxStep);
    } else {
      rejected++;
      h *= Number.isFinite(err) ? Math.max(0.2, 0.9 * err ** -0.2) : 0.25;
      if (!(h > 1e-14 * Math.max(1, Math.abs(t)))) {
        throw new ExponentialFamilyError(`dormandPrince: step size underflow at t = ${t} (state leaves the domain or the problem is stiff)`);
      }
    }
  }
  return { t, y, acceptedSteps: accepted, rejectedSteps: rejected, stoppedByEvent: false };
}
