/**
 * Bernoulli family on {0, 1}: T(x) = x, θ = log(p / (1 − p)), η = p, A(θ) = log(1 + e^θ),
 * F(θ) = p(1 − p), G(η) = 1 / (η(1 − η)).
 */
import { uniform, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkMean, checkNatural, checkVector, type ExponentialFamily } from './family.js';

/** The Bernoulli family, with a helper from the success probability. */
export interface BernoulliFamily extends ExponentialFamily {
  /** Natural parameters θ = [log(p / (1 − p))] of success probability p ∈ (0, 1). */
  fromProbability(p: number): Vec;
}

function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

/** The Bernoulli family (k = 1). */
export function bernoulli(): BernoulliFamily {
  const name = 'bernoulli';
  const family: BernoulliFamily = {
    name,
    dim: 1,
    sampleDim: 1,
    logPartition(theta) {
      checkVector(theta, 1, `${name}.logPartition`);
      return softplus(theta[0]);
    },
    meanFromNatural(theta) {
      checkVector(theta, 1, `${name}.meanFromNatural`);
      return Float64Array.of(sigmoid(theta[0]));
    },
    naturalFromMean(eta) {
      checkMean(family, eta, `${name}.naturalFromMean`);
      return Float64Array.of(Math.log(eta[0]) - Math.log1p(-eta[0]));
    },
    fisherNatural(theta) {
      checkVector(theta, 1, `${name}.fisherNatural`);
      const p = sigmoid(theta[0]);
      return Float64Array.of(p * (1 - p));
    },
    fisherMean(eta) {
      checkMean(family, eta, `${name}.fisherMean`);
      return Float64Array.of(1 / (eta[0] * (1 - eta[0])));
    },
    sufficientStatistic(x, out = new Float64Array(1)) {
      out[0] = x[0];
      return out;
    },
    logBaseMeasure(x) {
      return x[0] === 0 || x[0] === 1 ? 0 : -Infinity;
    },
    sample(key: Key, theta, n) {
      checkNatural(family, theta, `${name}.sample`);
      const p = sigmoid(theta[0]);
      const u = uniform(key, n);
      for (let i = 0; i < n; i++) u[i] = u[i] < p ? 1 : 0;
      return u;
    },
    isNaturalValid(theta) {
      return theta.length === 1 && Number.isFinite(theta[0]);
    },
    isMeanValid(eta) {
      return eta.length === 1 && eta[0] > 0 && eta[0] < 1;
    },
    fromProbability(p) {
      if (!(p > 0 && p < 1)) throw new ExponentialFamilyError(`${name}.fromProbability: p must lie in (0, 1), got ${p}`);
      return Float64Array.of(Math.log(p) - Math.log1p(-p));
    },
  };
  return family;
}
