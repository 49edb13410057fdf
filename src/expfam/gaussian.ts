/**
 * Univariate Gaussian family: T(x) = (x, x²), h(x) = (2π)^{-1/2},
 *   θ = (μ/σ², −1/(2σ²)),   η = (μ, μ² + σ²),   A(θ) = −θ₁²/(4θ₂) − ½ log(−2θ₂),
 *   F(θ) = Cov[(x, x²)] = [[σ², 2μσ²], [2μσ², 2σ⁴ + 4μ²σ²]],
 *   G(η) = ∂θ/∂η = [[(s + 2η₁²)/s², −η₁/s²], [−η₁/s², 1/(2s²)]],  s = η₂ − η₁² = σ².
 */
import { normal, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkMean, checkNatural, checkVector, type ExponentialFamily } from './family.js';

/** The univariate Gaussian family, with helpers to and from mean and variance. */
export interface GaussianFamily extends ExponentialFamily {
  /** Natural parameters of N(mean, variance). */
  fromMeanVariance(mean: number, variance: number): Vec;
  /** Mean and variance of θ. */
  toMeanVariance(theta: Vec): { mean: number; variance: number };
}

/** The univariate Gaussian family (k = 2). */
export function gaussian(): GaussianFamily {
  const name = 'gaussian';
  const moments = (theta: Vec, where: string): { mean: number; variance: number } => {
    checkNatural(family, theta, where);
    const variance = -1 / (2 * theta[1]);
    return { mean: theta[0] * variance, variance };
  };
  const family: GaussianFamily = {
    name,
    dim: 2,
    sampleDim: 1,
    logPartition(theta) {
      checkNatural(family, theta, `${name}.logPartition`);
      return (-theta[0] * theta[0]) / (4 * theta[1]) - 0.5 * Math.log(-2 * theta[1]);
    },
    meanFromNatural(theta) {
      const { mean, variance } = moments(theta, `${name}.meanFromNatural`);
      return Float64Array.of(mean, mean * mean + variance);
    },
    naturalFromMean(eta) {
      checkMean(family, eta, `${name}.naturalFromMean`);
      const variance = eta[1] - eta[0] * eta[0];
      return Float64Array.of(eta[0] / variance, -1 / (2 * variance));
    },
    fisherNatural(theta) {
      const { mean: m, variance: v } = moments(theta, `${name}.fisherNatural`);
      return Float64Array.of(v, 2 * m * v, 2 * m * v, 2 * v * v + 4 * m * m * v);
    },
    fisherMean(eta) {
      checkMean(family, eta, `${name}.fisherMean`);
      const s = eta[1] - eta[0] * eta[0];
      const s2 = s * s;
      return Float64Array.of((s + 2 * eta[0] * eta[0]) / s2, -eta[0] / s2, -eta[0] / s2, 1 / (2 * s2));
    },
    sufficientStatistic(x, out = new Float64Array(2)) {
      out[0] = x[0];
      out[1] = x[0] * x[0];
      return out;
    },
    logBaseMeasure() {
      return -0.5 * Math.log(2 * Math.PI);
    },
    sample(key: Key, theta, n) {
      const { mean, variance } = moments(theta, `${name}.sample`);
      const sd = Math.sqrt(variance);
      const z = normal(key, n);
      for (let i = 0; i < n; i++) z[i] = mean + sd * z[i];
      return z;
    },
    isNaturalValid(theta) {
      return theta.length === 2 && Number.isFinite(theta[0]) && theta[1] < 0;
    },
    isMeanValid(eta) {
      return eta.length === 2 && Number.isFinite(eta[0]) && Number.isFinite(eta[1]) && eta[1] - eta[0] * eta[0] > 0;
    },
    fromMeanVariance(mean, variance) {
      if (!Number.isFinite(mean)) throw new ExponentialFamilyError(`${name}.fromMeanVariance: mean must be finite, got ${mean}`);
      if (!(variance > 0 && Number.isFinite(variance))) {
        throw new ExponentialFamilyError(`${name}.fromMeanVariance: variance must be > 0, got ${variance}`);
      }
      return Float64Array.of(mean / variance, -1 / (2 * variance));
    },
    toMeanVariance(theta) {
      checkVector(theta, 2, `${name}.toMeanVariance`);
      return moments(theta, `${name}.toMeanVariance`);
    },
  };
  return family;
}
