/**
 * The basis and spectrum of the parameter space H of the Hilbert-space Langevin dynamics
 * (Suzuki 2020, "Generalization bound of globally optimal non-convex neural network training:
 * transportation map estimation by infinite dimensional Langevin dynamics", NeurIPS, Assumption 1).
 *
 * The paper fixes no concrete orthonormal basis (e_k) or eigenvalues μ_k, only μ_k non-increasing with
 * μ_k ≤ c_μ (k+1)^{-2}. Our choice, **neuron-indexed modes**: H = ℓ²(ℕ; ℝ^p), one block of p
 * coordinates per hidden unit m = 1, 2, … (its output weight, input weights and bias), e_{m,j} the
 * coordinate vectors, and every coordinate of unit m has the same eigenvalue
 *
 *   μ_m = c_μ m^{-decay}   (decay = 2 by default),
 *
 * so the regulariser A e_{m,j} = (λ/μ_m) e_{m,j} damps high-index units more and more, and the
 * Gaussian reference measure N(0, (βA)^{-1}) gives unit m the variance μ_m/(βλ). Ordering the
 * coordinates unit by unit, coordinate k sits in unit m = ⌈k/p⌉, so μ_k ≤ c_μ p² (k+1)^{-2}: the
 * paper's assumption holds with constant c_μ p².
 *
 * Why this basis: the operator is diagonal in the parameter coordinates, so (I + ηA)^{-1} costs O(1)
 * per coordinate and the width M is simply the truncation level. Alternatives (not implemented):
 * a Fourier or Hermite basis of the transport map W(w) for a continuous ρ0 (smoothness of W in w,
 * the paper's Sobolev example H_K = W_2^{a+d/2}), which needs a basis transform per step; or a
 * uniform spectrum μ_m = const, which is ordinary weight decay and has no infinite-width limit.
 */
import { HilbertError, integerAtLeast, positiveFinite } from './errors.js';

/** Options of {@link neuronSpectrum}. */
export interface NeuronSpectrumOptions {
  /** M, the number of hidden units kept (the truncation level). */
  width: number;
  /** p, the number of coordinates of each unit (all share the unit's eigenvalue). */
  paramsPerNeuron: number;
  /** c_μ > 0 (default 1): μ_1. */
  scale?: number;
  /** The exponent of μ_m = c_μ m^{-decay}, ≥ 1 (default 2, the paper's rate; larger damps faster). */
  decay?: number;
}

/**
 * The eigenvalues μ of the neuron-indexed basis, one per coordinate (unit-major): coordinates
 * (m−1)p … mp−1 all get μ_m = c_μ m^{-decay}, m = 1…M (Suzuki 2020, Assumption 1(i), with our basis).
 */
export function neuronSpectrum(options: NeuronSpectrumOptions): Float64Array {
  const where = 'neuronSpectrum';
  const width = integerAtLeast(where, 'width', options.width, 1);
  const p = integerAtLeast(where, 'paramsPerNeuron', options.paramsPerNeuron, 1);
  const scale = positiveFinite(where, 'scale', options.scale ?? 1);
  const decay = options.decay ?? 2;
  if (!Number.isFinite(decay) || decay < 1) throw new HilbertError(`${where}: decay must be a finite number ≥ 1, got ${decay}`);
  const spectrum = new Float64Array(width * p);
  for (let m = 0; m < width; m++) spectrum.fill(scale * (m + 1) ** -decay, m * p, (m + 1) * p);
  return spectrum;
}

/**
 * The diagonal of the operator A in the basis: A e_k = (λ/μ_k) e_k (Suzuki 2020, Sec. 3, A = (λ/2)∇‖·‖²_{H_K}).
 * @throws HilbertError for λ < 0 or a μ_k that is not finite and > 0.
 */
export function operatorDiagonal(spectrum: Float64Array, lambda: number): Float64Array {
  if (!Number.isFinite(lambda) || lambda < 0) throw new HilbertError(`operatorDiagonal: lambda must be a finite number ≥ 0, got ${lambda}`);
  const out = new Float64Array(spectrum.length);
  for (let k = 0; k < spectrum.length; k++) {
    const mu = spectrum[k];
    if (!(mu > 0) || !Number.isFinite(mu)) throw new HilbertError(`operatorDiagonal: spectrum[${k}] = ${mu} must be finite and > 0`);
    out[k] = lambda / mu;
  }
  return out;
}

/**
 * The largest step at which explicit Euler for dW = −AW dt is stable, η < 2 / max_k(λ/μ_k) =
 * 2 min_k μ_k / λ [derived]: for μ_M = c_μ M^{-2} it shrinks like M^{-2}, while the semi-implicit
 * scheme's factor 1/(1 + ηλ/μ_k) < 1 for every η > 0. Infinity when λ = 0.
 */
export function explicitStepLimit(spectrum: Float64Array, lambda: number): number {
  let largest = 0;
  const diagonal = operatorDiagonal(spectrum, lambda);
  for (let k = 0; k < diagonal.length; k++) if (diagonal[k] > largest) largest = diagonal[k];
  return largest === 0 ? Infinity : 2 / largest;
}
