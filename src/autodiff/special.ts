/**
 * Scalar special functions used by the autodiff ops and log densities: log-gamma, digamma,
 * trigamma, and numerically stable softplus / sigmoid.
 */

// Lanczos approximation, g = 7, n = 9 (coefficients as tabulated by Godfrey; ~1e-15 relative error).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log|Γ(x)|. Lanczos (1964) series for x ≥ 1/2, reflection Γ(x)Γ(1−x) = π / sin(πx) below;
 * +Infinity at the poles 0, −1, −2, ….
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity;
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  if (x === Infinity) return Infinity;
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * ψ(x) = d/dx log Γ(x). Recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 10, then the asymptotic series
 * ψ(x) ~ ln x − 1/(2x) − Σ B₂ₖ/(2k x²ᵏ) (Abramowitz & Stegun 6.3.18); reflection for x ≤ 0.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return NaN;
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  if (x === Infinity) return Infinity;
  let result = 0;
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  result +=
    Math.log(x) -
    0.5 * inv -
    inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))));
  return result;
}

/**
 * ψ₁(x) = d²/dx² log Γ(x). Recurrence ψ₁(x) = ψ₁(x+1) + 1/x² up to x ≥ 10, then
 * ψ₁(x) ~ 1/x + 1/(2x²) + Σ B₂ₖ/x²ᵏ⁺¹ (Abramowitz & Stegun 6.4.12); reflection for x ≤ 0.
 */
export function trigamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity;
    const s = Math.sin(Math.PI * x);
    return (Math.PI * Math.PI) / (s * s) - trigamma(1 - x);
  }
  if (x === Infinity) return 0;
  let result = 0;
  while (x < 10) {
    result += 1 / (x * x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  result +=
    inv +
    0.5 * inv2 +
    inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * (5 / 66)))));
  return result;
}

/** softplus(x) = log(1 + eˣ), without overflow for large x or loss of precision for very negative x. */
export function softplus1(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** σ(x) = 1 / (1 + e⁻ˣ), without overflow. */
export function sigmoid1(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
