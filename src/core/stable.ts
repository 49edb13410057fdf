/**
 * α-stable random variables and vectors, for Lévy-driven Langevin dynamics
 * (Dupuis & Viallard 2023, arXiv 2312.00427; Şimşekli, Sagun & Gürbüzbalaban 2019).
 *
 * Parameterisation: S_α(σ, β, μ) of Samorodnitsky & Taqqu (1994, Def. 1.1.6), whose characteristic
 * function is, for α ≠ 1,
 *
 *   E exp(itX) = exp(−σ^α |t|^α (1 − iβ sign(t) tan(πα/2)) + iμt),
 *
 * and for α = 1, exp(−σ|t| (1 + iβ (2/π) sign(t) log|t|) + iμt). The symmetric case (β = 0, μ = 0)
 * has E cos(tX) = exp(−|σt|^α); α = 2 is N(0, 2σ²) and α = 1 is Cauchy with scale σ.
 *
 * Every generator is counter-based: draw i is a pure function of (key, i), built from the uniforms of
 * `src/core/random.ts` at counter i under keys split from the caller's key.
 */
import type { Key } from './random.js';
import { normal, split, uniform } from './random.js';

/** Thrown for an invalid α-stable parameter or size; the message names the function and the value. */
export class StableParameterError extends RangeError {
  override name = 'StableParameterError';
}

/** Parameters of S_α(σ, β, μ): stability α ∈ (0, 2], skewness β ∈ [−1, 1], scale σ > 0, location μ. */
export interface StableParameters {
  /** Stability index α ∈ (0, 2]; smaller is heavier-tailed (P(|X| > x) ~ x^{−α} for α < 2). */
  alpha: number;
  /** Skewness β ∈ [−1, 1] (default 0, symmetric). */
  beta?: number;
  /** Scale σ > 0 (default 1). */
  scale?: number;
  /** Location μ (default 0). */
  loc?: number;
}

const HALF_PI = Math.PI / 2;
// Shifts the 53-bit uniform grid k/2^53 to its cell midpoints, so V never hits ±π/2 and W never 0.
const HALF_CELL = 2 ** -54;

function checkCount(what: string, n: number, out: Float64Array | undefined): Float64Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new StableParameterError(`${what}: size must be a non-negative integer, got ${n}`);
  }
  if (out === undefined) return new Float64Array(n);
  if (out.length < n) {
    throw new StableParameterError(`${what}: out has length ${out.length}, smaller than the size ${n}`);
  }
  return out;
}

function checkAlpha(what: string, alpha: number): void {
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 2)) {
    throw new StableParameterError(`${what}: alpha must be in (0, 2], got ${alpha}`);
  }
}

/**
 * One standard S_α(1, β, 0) variate from V ~ U(−π/2, π/2) and W ~ Exp(1) by the
 * Chambers–Mallows–Stuck method with Weron's correction (Chambers, Mallows & Stuck 1976, JASA 71;
 * Weron 1996, Stat. Probab. Lett. 28). For α ≠ 1, with b = β tan(πα/2), B = arctan(b)/α,
 * S = (1 + b²)^{1/(2α)}:
 *
 *   X = S · sin(α(V + B)) / (cos V)^{1/α} · [cos(V − α(V + B)) / W]^{(1−α)/α};
 *
 * for α = 1: X = (2/π) [(π/2 + βV) tan V − β log((π/2) W cos V / (π/2 + βV))].
 */
function standardStable(alpha: number, beta: number, v: number, w: number): number {
  if (alpha === 1) {
    const shifted = HALF_PI + beta * v;
    if (beta === 0) return Math.tan(v);
    return (2 / Math.PI) * (shifted * Math.tan(v) - beta * Math.log((HALF_PI * w * Math.cos(v)) / shifted));
  }
  if (beta === 0) {
    // Symmetric branch: B = 0 and S = 1.
    const inner = Math.max(Math.cos((1 - alpha) * v), 0) / w;
    return (Math.sin(alpha * v) / Math.cos(v) ** (1 / alpha)) * inner ** ((1 - alpha) / alpha);
  }
  const b = beta * Math.tan(HALF_PI * alpha);
  const shift = Math.atan(b) / alpha;
  const s = (1 + b * b) ** (1 / (2 * alpha));
  // Rounding can push cos a hair below 0 at the edges of V's range; its true value is ≥ 0.
  const inner = Math.max(Math.cos(v - alpha * (v + shift)), 0) / w;
  return ((s * Math.sin(alpha * (v + shift))) / Math.cos(v) ** (1 / alpha)) * inner ** ((1 - alpha) / alpha);
}

/**
 * `n` draws of S_α(σ, β, μ) by Chambers–Mallows–Stuck with Weron's correction (see the module note
 * for the characteristic function):
 *
 *   α ≠ 1: X = σ Z + μ,   α = 1: X = σ Z + (2/π) β σ log σ + μ,   Z ~ S_α(1, β, 0)
 *
 * (Samorodnitsky & Taqqu 1994, Prop. 1.2.2 and 1.2.3; Weron 1996). Draw i depends only on the key
 * and i. Near α = 1 with β ≠ 0 the parameterisation itself is discontinuous (tan(πα/2) → ∞), which
 * is a property of S_α(σ, β, μ), not a numerical fault.
 *
 * @example
 * const x = stable(key(0), 1000, { alpha: 1.5, beta: 0.5, scale: 2 });
 */
export function stable(key: Key, n: number, params: StableParameters, out?: Float64Array): Float64Array {
  const { alpha, beta = 0, scale = 1, loc = 0 } = params;
  checkAlpha('stable', alpha);
  if (!(Number.isFinite(beta) && beta >= -1 && beta <= 1)) {
    throw new StableParameterError(`stable: beta must be in [-1, 1], got ${beta}`);
  }
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw new StableParameterError(`stable: scale must be a finite number > 0, got ${scale}`);
  }
  if (!Number.isFinite(loc)) throw new StableParameterError(`stable: loc must be finite, got ${loc}`);
  const result = checkCount('stable', n, out);
  const [keyAngle, keyExp] = split(key, 2);
  const angles = uniform(keyAngle, n);
  const exps = uniform(keyExp, n);
  const shift = alpha === 1 ? (2 / Math.PI) * beta * scale * Math.log(scale) + loc : loc;
  for (let i = 0; i < n; i++) {
    const v = Math.PI * (angles[i] + HALF_CELL - 0.5);
    const w = -Math.log(exps[i] + HALF_CELL);
    result[i] = scale * standardStable(alpha, beta, v, w) + shift;
  }
  return result;
}

/**
 * `n` draws of the symmetric α-stable law S_α(σ, 0, 0), with E cos(tX) = exp(−|σt|^α).
 * α = 2 gives N(0, 2σ²), α = 1 the Cauchy law with scale σ. Same bits as
 * `stable(key, n, { alpha, scale })`.
 */
export function symmetricStable(
  key: Key,
  n: number,
  alpha: number,
  scale = 1,
  out?: Float64Array,
): Float64Array {
  return stable(key, n, { alpha, beta: 0, scale }, out);
}

/**
 * The scale of the positive (α/2)-stable mixing variable φ that makes the sub-Gaussian vector
 * L = √φ · G, G ~ N(0, I_d), have unit-scale projections: 2 · cos(πα/4)^{2/α}.
 *
 * Why: for φ ~ S_{α/2}(s, 1, 0) with α < 2, E exp(−λφ) = exp(−s^{α/2} λ^{α/2} / cos(πα/4))
 * (Samorodnitsky & Taqqu 1994, Prop. 1.2.12), so for any unit vector u,
 * E exp(it uᵀL) = E exp(−t²φ/2) = exp(−(s^{α/2}/cos(πα/4)) 2^{−α/2} |t|^α), which is exp(−|t|^α)
 * exactly when s = 2 cos(πα/4)^{2/α} (S&T Prop. 2.5.2 uses cos(πα/4)^{2/α}, giving scale 2^{−1/2}).
 */
export function subGaussianMixingScale(alpha: number): number {
  checkAlpha('subGaussianMixingScale', alpha);
  return 2 * Math.cos((Math.PI * alpha) / 4) ** (2 / alpha);
}

/**
 * One isotropic d-dimensional α-stable vector by the sub-Gaussian construction
 * (Samorodnitsky & Taqqu 1994, Sec. 2.5; the increments of Dupuis & Viallard 2023):
 *
 *   L = √φ · G,   φ ~ S_{α/2}(2 cos(πα/4)^{2/α}, 1, 0),   G ~ N(0, I_d),
 *
 * so that E exp(i⟨θ, L⟩) = exp(−‖θ‖^α) for every θ ∈ R^d: every projection ⟨u, L⟩ on a unit vector
 * u has the characteristic function exp(−|t|^α), the law of one coordinate of `coordinatewiseStable`
 * (see `subGaussianMixingScale` for the derivation of the scale). α = 2 gives N(0, 2 I_d) (φ ≡ 2). The coordinates share φ, so they are
 * dependent (uncorrelated-looking but jointly heavy-tailed) unless α = 2.
 */
export function isotropicStable(key: Key, d: number, alpha: number, out?: Float64Array): Float64Array {
  checkAlpha('isotropicStable', alpha);
  const result = checkCount('isotropicStable', d, out);
  const [keyMixing, keyGauss] = split(key, 2);
  normal(keyGauss, d, result);
  let radius = Math.SQRT2;
  if (alpha < 2) {
    const phi = stable(keyMixing, 1, { alpha: alpha / 2, beta: 1, scale: subGaussianMixingScale(alpha) })[0];
    // φ > 0 in exact arithmetic (totally skewed with α/2 < 1); clamp rounding at the left edge.
    radius = Math.sqrt(Math.max(phi, 0));
  }
  for (let i = 0; i < d; i++) result[i] *= radius;
  return result;
}

/**
 * A d-dimensional vector of independent S_α(1, 0, 0) coordinates (E cos(t L_i) = exp(−|t|^α)),
 * the coordinate-wise Lévy noise of Şimşekli, Sagun & Gürbüzbalaban 2019. α = 2 gives N(0, 2 I_d),
 * the same law as `isotropicStable` at α = 2.
 */
export function coordinatewiseStable(key: Key, d: number, alpha: number, out?: Float64Array): Float64Array {
  checkAlpha('coordinatewiseStable', alpha);
  return stable(key, d, { alpha }, out);
}
