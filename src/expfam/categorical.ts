/**
 * Categorical family on n + 1 outcomes {0, …, n}, outcome n the reference (Datar & Ay 2025, §2):
 *   T(x)_i = [x = i] (i < n),   θ_i = log(p_i / p_n),   η_i = p_i,
 *   A(θ) = log(1 + Σ_i e^{θ_i}),   F(θ) = diag(η) − ηηᵀ,
 *   G(η) = F⁻¹ = diag(1/η) + 11ᵀ / (1 − Σ_i η_i)   (Sherman–Morrison).
 */
import { uniform, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkMean, checkNatural, checkVector, type ExponentialFamily } from './family.js';

/** The categorical family, with helpers to and from outcome probabilities. */
export interface CategoricalFamily extends ExponentialFamily {
  /** Number of outcomes n + 1. */
  readonly numOutcomes: number;
  /** Natural parameters from the n + 1 outcome probabilities (positive, summing to 1). */
  fromProbabilities(p: ArrayLike<number>): Vec;
  /** The n + 1 outcome probabilities of θ. */
  probabilities(theta: Vec): Vec;
}

/**
 * The categorical family on `numOutcomes` = n + 1 ≥ 2 outcomes (k = n natural parameters).
 * Observations are outcome indices 0 … n stored as numbers.
 */
export function categorical(numOutcomes: number): CategoricalFamily {
  if (!Number.isInteger(numOutcomes) || numOutcomes < 2) {
    throw new ExponentialFamilyError(`categorical(numOutcomes): need an integer ≥ 2, got ${numOutcomes}`);
  }
  const n = numOutcomes - 1;
  const name = `categorical(${numOutcomes})`;
  const logPartition = (theta: Vec): number => {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, theta[i]);
    let s = Math.exp(-m);
    for (let i = 0; i < n; i++) s += Math.exp(theta[i] - m);
    return m + Math.log(s);
  };
  const family: CategoricalFamily = {
    name,
    dim: n,
    sampleDim: 1,
    numOutcomes,
    logPartition(theta) {
      checkVector(theta, n, `${name}.logPartition`);
      return logPartition(theta);
    },
    meanFromNatural(theta) {
      checkVector(theta, n, `${name}.meanFromNatural`);
      const a = logPartition(theta);
      const eta = new Float64Array(n);
      for (let i = 0; i < n; i++) eta[i] = Math.exp(theta[i] - a);
      return eta;
    },
    naturalFromMean(eta) {
      checkMean(family, eta, `${name}.naturalFromMean`);
      let rest = 1;
      for (let i = 0; i < n; i++) rest -= eta[i];
      const logRest = Math.log(rest);
      const theta = new Float64Array(n);
      for (let i = 0; i < n; i++) theta[i] = Math.log(eta[i]) - logRest;
      return theta;
    },
    fisherNatural(theta) {
      const eta = family.meanFromNatural(theta);
      const f = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) f[i * n + j] = (i === j ? eta[i] : 0) - eta[i] * eta[j];
      }
      return f;
    },
    fisherMean(eta) {
      checkMean(family, eta, `${name}.fisherMean`);
      let rest = 1;
      for (let i = 0; i < n; i++) rest -= eta[i];
      const g = new Float64Array(n * n).fill(1 / rest);
      for (let i = 0; i < n; i++) g[i * n + i] += 1 / eta[i];
      return g;
    },
    sufficientStatistic(x, out = new Float64Array(n)) {
      out.fill(0, 0, n);
      const c = x[0];
      if (c < n) out[c] = 1;
      return out;
    },
    logBaseMeasure(x) {
      return Number.isInteger(x[0]) && x[0] >= 0 && x[0] <= n ? 0 : -Infinity;
    },
    sample(key: Key, theta, count) {
      checkNatural(family, theta, `${name}.sample`);
      const p = family.probabilities(theta);
      const u = uniform(key, count);
      for (let s = 0; s < count; s++) {
        let c = 0;
        let cum = p[0];
        while (u[s] >= cum && c < n) cum += p[++c];
        u[s] = c;
      }
      return u;
    },
    isNaturalValid(theta) {
      if (theta.length !== n) return false;
      for (let i = 0; i < n; i++) if (!Number.isFinite(theta[i])) return false;
      return true;
    },
    isMeanValid(eta) {
      if (eta.length !== n) return false;
      let rest = 1;
      for (let i = 0; i < n; i++) {
        if (!(eta[i] > 0)) return false;
        rest -= eta[i];
      }
      return rest > 0;
    },
    fromProbabilities(p) {
      if (p.length !== numOutcomes) {
        throw new ExponentialFamilyError(`${name}.fromProbabilities: expected ${numOutcomes} probabilities, got ${p.length}`);
      }
      let total = 0;
      for (let i = 0; i < numOutcomes; i++) {
        if (!(p[i] > 0)) throw new ExponentialFamilyError(`${name}.fromProbabilities: probability ${i} must be > 0, got ${p[i]}`);
        total += p[i];
      }
      if (Math.abs(total - 1) > 1e-9) {
        throw new ExponentialFamilyError(`${name}.fromProbabilities: probabilities sum to ${total}, not 1`);
      }
      const theta = new Float64Array(n);
      for (let i = 0; i < n; i++) theta[i] = Math.log(p[i]) - Math.log(p[n]);
      return theta;
    },
    probabilities(theta) {
      const eta = family.meanFromNatural(theta);
      const p = new Float64Array(numOutcomes);
      p.set(eta);
      p[n] = Math.exp(-logPartition(theta));
      return p;
    },
  };
  return family;
}
