/**
 * Poisson family on {0, 1, 2, …}: T(x) = x, h(x) = 1/x!, θ = log λ, η = λ, A(θ) = e^θ,
 * F(θ) = e^θ, G(η) = 1/η.
 */
import { foldIn, uniform, uniform1, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkMean, checkNatural, checkVector, logFactorial, type ExponentialFamily } from './family.js';

/** The Poisson family, with a helper from the rate. */
export interface PoissonFamily extends ExponentialFamily {
  /** Natural parameters θ = [log λ] of rate λ > 0. */
  fromRate(rate: number): Vec;
}

/**
 * One Poisson(λ) draw for λ ≥ 10 by transformed rejection with squeeze (PTRS; Hörmann 1993,
 * "The transformed rejection method for generating Poisson random variables", Insurance Math.
 * Econom. 12), drawing the j-th pair of uniforms from foldIn(key, j).
 */
function poissonRejection(key: Key, lambda: number): number {
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  const pair = new Float64Array(2);
  for (let attempt = 0; ; attempt++) {
    uniform(foldIn(key, attempt), 2, pair);
    const u = pair[0] - 0.5;
    const v = pair[1];
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

/** One Poisson(λ) draw for λ < 10 by sequential inversion of the CDF with one uniform. */
function poissonInversion(key: Key, lambda: number): number {
  const u = uniform1(key);
  let x = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u >= cdf && p > 0) {
    x++;
    p *= lambda / x;
    cdf += p;
  }
  return x;
}

/** The Poisson family (k = 1). */
export function poisson(): PoissonFamily {
  const name = 'poisson';
  const family: PoissonFamily = {
    name,
    dim: 1,
    sampleDim: 1,
    logPartition(theta) {
      checkVector(theta, 1, `${name}.logPartition`);
      return Math.exp(theta[0]);
    },
    meanFromNatural(theta) {
      checkVector(theta, 1, `${name}.meanFromNatural`);
      return Float64Array.of(Math.exp(theta[0]));
    },
    naturalFromMean(eta) {
      checkMean(family, eta, `${name}.naturalFromMean`);
      return Float64Array.of(Math.log(eta[0]));
    },
    fisherNatural(theta) {
      checkVector(theta, 1, `${name}.fisherNatural`);
      return Float64Array.of(Math.exp(theta[0]));
    },
    fisherMean(eta) {
      checkMean(family, eta, `${name}.fisherMean`);
      return Float64Array.of(1 / eta[0]);
    },
    sufficientStatistic(x, out = new Float64Array(1)) {
      out[0] = x[0];
      return out;
    },
    logBaseMeasure(x) {
      return Number.isInteger(x[0]) && x[0] >= 0 ? -logFactorial(x[0]) : -Infinity;
    },
    sample(key: Key, theta, n) {
      checkNatural(family, theta, `${name}.sample`);
      const lambda = Math.exp(theta[0]);
      if (!(lambda < 1e15)) throw new ExponentialFamilyError(`${name}.sample: rate ${lambda} is too large to sample`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const ki = foldIn(key, i);
        out[i] = lambda < 10 ? poissonInversion(ki, lambda) : poissonRejection(ki, lambda);
      }
      return out;
    },
    isNaturalValid(theta) {
      return theta.length === 1 && Number.isFinite(theta[0]);
    },
    isMeanValid(eta) {
      return eta.length === 1 && eta[0] > 0 && Number.isFinite(eta[0]);
    },
    fromRate(rate) {
      if (!(rate > 0 && Number.isFinite(rate))) throw new ExponentialFamilyError(`${name}.fromRate: rate must be > 0, got ${rate}`);
      return Float64Array.of(Math.log(rate));
    },
  };
  return family;
}
