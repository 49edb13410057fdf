/**
 * Special functions of the Gamma variational posteriors: digamma, trigamma, and the closed-form
 * KL between Gamma distributions with its gradient in log-parameters.
 */
import { lgamma } from '../core/distributions.js';

/**
 * ψ(x) = d log Γ(x)/dx for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
 * asymptotic series ψ(x) ≈ log x − 1/(2x) − Σ B_{2k}/(2k x^{2k}) (Abramowitz & Stegun 6.3.18);
 * absolute error below 1e-11.
 */
export function digamma(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN;
  let shift = 0;
  while (x < 10) {
    shift -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))));
  return shift + Math.log(x) - 0.5 / x - series;
}

/**
 * ψ′(x) = d²log Γ(x)/dx² for x > 0: the recurrence ψ′(x) = ψ′(x + 1) + 1/x² up to x ≥ 10, then the
 * asymptotic series ψ′(x) ≈ 1/x + 1/(2x²) + Σ B_{2k}/x^{2k+1} (Abramowitz & Stegun 6.4.12).
 */
export function trigamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  let shift = 0;
  while (x < 10) {
    shift += 1 / (x * x);
    x += 1;
  }
  const f = 1 / (x * x);
  const series = (1 + f * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30))))) / x;
  return shift + series + 0.5 * f;
}

/**
 * KL(Gamma(a, b) ‖ Gamma(a₀, b₀)) for shape a and rate b:
 *
 *   (a − a₀) ψ(a) − log Γ(a) + log Γ(a₀) + a₀ (log b − log b₀) + a (b₀ − b)/b.
 *
 * With `grad` given, adds `scale` times the gradient in (log a, log b) to grad[0], grad[1]:
 * ∂/∂log a = a[(a − a₀) ψ′(a) + b₀/b − 1], ∂/∂log b = a₀ − a b₀/b.
 */
export function gammaKl(a: number, b: number, a0: number, b0: number, grad?: Float64Array, gradOffset = 0, scale = 1): number {
  const value = (a - a0) * digamma(a) - lgamma(a) + lgamma(a0) + a0 * (Math.log(b) - Math.log(b0)) + (a * (b0 - b)) / b;
  if (grad) {
    grad[gradOffset] += scale * a * ((a - a0) * trigamma(a) + b0 / b - 1);
    grad[gradOffset + 1] += scale * (a0 - (a * b0) / b);
  }
  return value;
}
