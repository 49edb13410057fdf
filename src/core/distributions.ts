/**
 * Counter-based samplers for the standard distributions, log densities, and the special functions
 * they need (log-gamma, regularised incomplete gamma).
 *
 * Every sampler is a pure function of its key: draw i depends only on (key, i), so the same key
 * gives the same draws whatever `n` is asked for, and draws can be regenerated one at a time.
 */
import { foldIn, normal, threefry2x32, uniform, type Key } from './random.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

function checkCount(where: string, n: number, out: Float64Array | undefined): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${where}: n must be a non-negative integer, got ${n}`);
  if (out === undefined) return new Float64Array(n);
  if (out.length < n) throw new RangeError(`${where}: out has length ${out.length}, needs at least n = ${n}`);
  return out;
}

function checkPositive(where: string, name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${where}: ${name} must be positive and finite, got ${value}`);
  }
}

function checkFinite(where: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${where}: ${name} must be finite, got ${value}`);
}

/**
 * `n` draws uniform on [lo, hi): x_i = lo + (hi − lo) u_i.
 *
 * @throws RangeError unless lo < hi, both finite.
 */
export function uniformRange(key: Key, n: number, lo: number, hi: number, out?: Float64Array): Float64Array {
  const res = checkCount('uniformRange', n, out);
  checkFinite('uniformRange', 'lo', lo);
  checkFinite('uniformRange', 'hi', hi);
  if (!(lo < hi)) throw new RangeError(`uniformRange: need lo < hi, got lo = ${lo}, hi = ${hi}`);
  uniform(key, n, res);
  const width = hi - lo;
  for (let i = 0; i < n; i++) {
    const x = lo + width * res[i];
    // Rounding can land exactly on hi; keep the interval half-open.
    res[i] = x < hi ? x : lo;
  }
  return res;
}

/**
 * `n` exponential draws with the given rate (mean 1/rate) by inversion: x = −log(1 − u) / rate.
 *
 * @throws RangeError unless rate > 0 and finite.
 */
export function exponential(key: Key, n: number, rate = 1, out?: Float64Array): Float64Array {
  const res = checkCount('exponential', n, out);
  checkPositive('exponential', 'rate', rate);
  uniform(key, n, res);
  // u ∈ [0, 1) ⇒ 1 − u ∈ (0, 1]: log1p(−u) is finite.
  for (let i = 0; i < n; i++) res[i] = -Math.log1p(-res[i]) / rate;
  return res;
}

/**
 * `n` normal draws x_i = mean_i + sd_i z_i with z_i standard normal; `mean` and `sd` are scalars or
 * per-coordinate arrays of length n.
 *
 * @throws RangeError for a negative or non-finite sd, or arrays of the wrong length.
 */
export function normalScaled(
  key: Key,
  n: number,
  mean: number | ArrayLike<number>,
  sd: number | ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const res = checkCount('normalScaled', n, out);
  for (const [name, p] of [['mean', mean], ['sd', sd]] as const) {
    if (typeof p !== 'number' && p.length !== n) {
      throw new RangeError(`normalScaled: ${name} has length ${p.length}, expected n = ${n}`);
    }
  }
  normal(key, n, res);
  for (let i = 0; i < n; i++) {
    const m = typeof mean === 'number' ? mean : mean[i];
    const s = typeof sd === 'number' ? sd : sd[i];
    if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`normalScaled: sd[${i}] must be ≥ 0 and finite, got ${s}`);
    res[i] = m + s * res[i];
  }
  return res;
}

/**
 * One draw from N(mean, L Lᵀ): x = mean + L z, z ~ N(0, I), with L the lower-triangular Cholesky
 * factor of the covariance (flat row-major d×d; only its lower triangle is read).
 *
 * @throws RangeError if `choleskyLower` is not d×d for d = mean.length.
 */
export function mvNormal(
  key: Key,
  mean: ArrayLike<number>,
  choleskyLower: Float64Array,
  out?: Float64Array,
): Float64Array {
  const d = mean.length;
  if (choleskyLower.length !== d * d) {
    throw new RangeError(`mvNormal: choleskyLower has length ${choleskyLower.length}, expected ${d}×${d} = ${d * d}`);
  }
  const res = checkCount('mvNormal', d, out);
  const z = normal(key, d);
  for (let i = 0; i < d; i++) {
    let s = mean[i];
    for (let j = 0; j <= i; j++) s += choleskyLower[i * d + j] * z[j];
    res[i] = s;
  }
  return res;
}

// Counter tags inside a gamma draw's own key, so tries and the shape-boost uniform never collide.
const TAG_GAMMA_TRY = 0;
const TAG_GAMMA_BOOST = 1;
const MAX_GAMMA_TRIES = 1 << 20;
const bits = new Uint32Array(2);

function uniformAt(k: Key, counter: number, tag: number): number {
  threefry2x32(k.hi, k.lo, counter, tag, bits);
  return ((bits[0] >>> 5) * 67108864 + (bits[1] >>> 6)) / 9007199254740992;
}

/**
 * `n` Gamma(shape, scale) draws (mean shape·scale) by the Marsaglia–Tsang squeeze method
 * (Marsaglia & Tsang 2000, "A simple method for generating gamma variables", ACM TOMS 26(3)):
 * with d = a − 1/3, c = 1/√(9d), z ~ N(0,1), v = (1 + cz)³, u ~ U(0,1), accept x = d v when
 * v > 0 and u < 1 − 0.0331 z⁴ or log u < z²/2 + d(1 − v + log v). For a < 1 the draw is
 * boosted: X_a = X_{a+1} U^{1/a} (their Section 6).
 *
 * Rejection takes a variable number of uniforms, so draw i uses its own key foldIn(key, i) and
 * try t uses counters 3t, 3t+1, 3t+2 under it: draw i depends only on (key, i).
 *
 * @throws RangeError unless shape > 0 and scale > 0, both finite.
 */
export function gamma(key: Key, n: number, shape: number, scale = 1, out?: Float64Array): Float64Array {
  const res = checkCount('gamma', n, out);
  checkPositive('gamma', 'shape', shape);
  checkPositive('gamma', 'scale', scale);
  const boosted = shape < 1;
  const d = (boosted ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let i = 0; i < n; i++) {
    const k = foldIn(key, i);
    let x = NaN;
    for (let t = 0; t < MAX_GAMMA_TRIES; t++) {
      // Box–Muller with u1 ∈ (0, 1] so the log is finite.
      const u1 = 1 - uniformAt(k, 3 * t, TAG_GAMMA_TRY);
      const u2 = uniformAt(k, 3 * t + 1, TAG_GAMMA_TRY);
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      const w = 1 + c * z;
      if (w <= 0) continue;
      const v = w * w * w;
      const u = uniformAt(k, 3 * t + 2, TAG_GAMMA_TRY);
      const z2 = z * z;
      if (u < 1 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) {
        x = d * v;
        break;
      }
    }
    if (Number.isNaN(x)) throw new Error(`gamma: draw ${i} was rejected ${MAX_GAMMA_TRIES} times (shape ${shape})`);
    if (boosted) {
      // Work in logs: U^{1/a} underflows for tiny shapes long before the product does.
      const u = 1 - uniformAt(k, 0, TAG_GAMMA_BOOST);
      x = Math.exp(Math.log(x) + Math.log(u) / shape);
    }
    res[i] = x * scale;
  }
  return res;
}

// Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients; relative error below 1e-15).
const LANCZOS_G = 7;
const LANCZOS_COEF = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * log |Γ(x)| by the Lanczos approximation (Lanczos 1964, SIAM J. Numer. Anal. B 1; g = 7, 9 terms):
 * Γ(x + 1) = √(2π) (x + g + ½)^{x+½} e^{−(x+g+½)} A_g(x), with the reflection formula
 * Γ(x) Γ(1 − x) = π / sin(πx) for x < ½. Returns +∞ at the poles x = 0, −1, −2, …
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity;
    // sin(πx) computed from the fractional part keeps precision for large negative x.
    const s = Math.sin(Math.PI * (x - 2 * Math.floor(x / 2)));
    return Math.log(Math.PI / Math.abs(s)) - lgamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS_COEF[0];
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS_G + 2; i++) a += LANCZOS_COEF[i] / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log N(x; mean, sd²) = −½((x − mean)/sd)² − log sd − ½ log 2π. */
export function logNormalPdf(x: number, mean = 0, sd = 1): number {
  checkPositive('logNormalPdf', 'sd', sd);
  const z = (x - mean) / sd;
  return -0.5 * z * z - Math.log(sd) - LOG_SQRT_2PI;
}

/**
 * log Gamma(x; shape a, scale θ) = (a − 1) log x − x/θ − log Γ(a) − a log θ for x > 0 (−∞ for x < 0).
 */
export function logGammaPdf(x: number, shape: number, scale = 1): number {
  checkPositive('logGammaPdf', 'shape', shape);
  checkPositive('logGammaPdf', 'scale', scale);
  if (x < 0) return -Infinity;
  if (x === 0) return shape < 1 ? Infinity : shape === 1 ? -Math.log(scale) : -Infinity;
  return (shape - 1) * Math.log(x) - x / scale - lgamma(shape) - shape * Math.log(scale);
}

/**
 * The regularised lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), by its power series
 * for x < a + 1 and by the Legendre continued fraction for Q = 1 − P otherwise (modified Lentz),
 * each to relative accuracy about 1e-15 (Abramowitz & Stegun 6.5.29 and 6.5.31).
 *
 * @throws RangeError unless a > 0 and finite, and x ≥ 0.
 */
export function regularizedGammaP(a: number, x: number): number {
  checkPositive('regularizedGammaP', 'a', a);
  if (!(x >= 0)) throw new RangeError(`regularizedGammaP: x must be ≥ 0, got ${x}`);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  const logPrefactor = a * Math.log(x) - x - lgamma(a);
  if (x < a + 1) {
    // γ(a, x) = e^{−x} x^a Σ_k x^k / (a (a+1) … (a+k)).
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < 10000; k++) {
      term *= x / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, sum * Math.exp(logPrefactor));
  }
  // Γ(a, x) = e^{−x} x^a / (x + 1 − a − 1·(1−a)/(x + 3 − a − 2(2−a)/(x + 5 − a − …))).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(logPrefactor) * h);
}

/** CDF of Gamma(shape, scale) at x: P(shape, x/scale). */
export function gammaCdf(x: number, shape: number, scale = 1): number {
  checkPositive('gammaCdf', 'scale', scale);
  if (Number.isNaN(x)) throw new RangeError('gammaCdf: x is NaN');
  return x <= 0 ? 0 : regularizedGammaP(shape, x / scale);
}

