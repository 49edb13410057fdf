/**
 * Plane geometry for the plots: the contour ellipses of a 2-D Gaussian. Browser-safe (the web demo
 * draws the OU-predicted covariance with it).
 */

/** Thrown when a 2×2 covariance is not symmetric positive definite. */
export class EllipseError extends RangeError {
  override name = 'EllipseError';
}

/**
 * Points on the ellipse {x : (x − m)ᵀ Σ⁻¹ (x − m) = r²} of a 2-D Gaussian N(m, Σ), as a closed
 * polyline of `points` + 1 vertices [x₀, y₀, x₁, y₁, …]: x = m + r·V diag(√λ) (cos t, sin t) with
 * Σ = V diag(λ) Vᵀ. For r² the χ²₂ quantile of p, −2 log(1 − p), it holds probability p.
 *
 * @param cov - Σ as [σ₁₁, σ₁₂, σ₂₁, σ₂₂] (row-major 2×2).
 * @throws EllipseError when Σ is not symmetric positive definite.
 */
export function gaussianEllipse(mean: ArrayLike<number>, cov: ArrayLike<number>, radius: number, points = 64): number[] {
  const [a, b, c, d] = [cov[0], cov[1], cov[2], cov[3]];
  if (![a, b, c, d, mean[0], mean[1], radius].every(Number.isFinite)) {
    throw new EllipseError(`gaussianEllipse: mean, covariance and radius must be finite, got mean [${mean[0]}, ${mean[1]}], cov [${a}, ${b}, ${c}, ${d}], radius ${radius}`);
  }
  if (Math.abs(b - c) > 1e-9 * (Math.abs(b) + Math.abs(c) + 1e-300)) throw new EllipseError(`gaussianEllipse: covariance is not symmetric (${b} vs ${c})`);
  if (!(a > 0 && d > 0 && a * d - b * b > 0)) throw new EllipseError(`gaussianEllipse: covariance [${a}, ${b}; ${c}, ${d}] is not positive definite`);
  // Closed-form eigen-decomposition of a symmetric 2×2 matrix.
  const half = 0.5 * (a + d);
  const spread = Math.hypot(0.5 * (a - d), b);
  const large = half + spread;
  const small = Math.max(half - spread, 0);
  const angle = 0.5 * Math.atan2(2 * b, a - d);
  const cosA = Math.cos(angle);
  const sinA = Math.sin(angle);
  const u = radius * Math.sqrt(large);
  const v = radius * Math.sqrt(small);
  const out: number[] = [];
  for (let k = 0; k <= points; k++) {
    const t = (2 * Math.PI * k) / points;
    const x = u * Math.cos(t);
    const y = v * Math.sin(t);
    out.push(mean[0] + cosA * x - sinA * y, mean[1] + sinA * x + cosA * y);
  }
  return out;
}

/** r with P(χ²₂ ≤ r²) = p: the radius of the Gaussian ellipse holding probability p. */
export function ellipseRadius(probability: number): number {
  if (!(probability > 0 && probability < 1)) throw new EllipseError(`ellipseRadius: probability must be in (0, 1), got ${probability}`);
  return Math.sqrt(-2 * Math.log(1 - probability));
}
