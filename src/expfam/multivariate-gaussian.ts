/**
 * Multivariate Gaussian family on R^d in a minimal parameterisation (k = d + d(d+1)/2):
 *   T(x) = (x, (x_i x_j)_{i≤j}),   θ = (Λμ, (θ_ij)_{i≤j}) with θ_ii = −½Λ_ii, θ_ij = −Λ_ij (i<j),
 *   η = (μ, (Σ_ij + μ_iμ_j)_{i≤j}),   A(θ) = ½ hᵀΛ⁻¹h − ½ log det Λ  (h = Λμ, base (2π)^{-d/2}),
 *   F(θ) = Cov[T(x)] by Isserlis' theorem:
 *     Cov(x_i, x_j) = Σ_ij,  Cov(x_i, x_k x_l) = μ_k Σ_il + μ_l Σ_ik,
 *     Cov(x_i x_j, x_k x_l) = Σ_ik Σ_jl + Σ_il Σ_jk + μ_iμ_k Σ_jl + μ_iμ_l Σ_jk + μ_jμ_k Σ_il + μ_jμ_l Σ_ik,
 *   G(η) = F(θ(η))⁻¹.
 * The index pairs (i, j), i ≤ j, run row by row through the upper triangle.
 */
import { normal, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';
import { checkMean, checkVector, type ExponentialFamily } from './family.js';
import { choleskyOrNull, cholesky, inverseSPD, logDetSPD, type SquareMatrix } from './linalg.js';

/** The multivariate Gaussian family, with helpers to and from mean and covariance. */
export interface MultivariateGaussianFamily extends ExponentialFamily {
  /** Dimension d of an observation. */
  readonly dataDim: number;
  /** Natural parameters of N(mean, covariance); covariance is d×d row-major, symmetric positive definite. */
  fromMeanCovariance(mean: ArrayLike<number>, covariance: ArrayLike<number>): Vec;
  /** Mean and covariance (d×d row-major) of θ. */
  toMeanCovariance(theta: Vec): { mean: Vec; covariance: SquareMatrix };
}

/** The multivariate Gaussian family on R^d (k = d + d(d+1)/2 natural parameters). */
export function multivariateGaussian(d: number): MultivariateGaussianFamily {
  if (!Number.isInteger(d) || d < 1) throw new ExponentialFamilyError(`multivariateGaussian(d): need an integer ≥ 1, got ${d}`);
  const name = `multivariateGaussian(${d})`;
  const k = d + (d * (d + 1)) / 2;
  const pairI: number[] = [];
  const pairJ: number[] = [];
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      pairI.push(i);
      pairJ.push(j);
    }
  }
  const npairs = pairI.length;

  const precisionOf = (theta: Vec): SquareMatrix => {
    const lam = new Float64Array(d * d);
    for (let p = 0; p < npairs; p++) {
      const i = pairI[p];
      const j = pairJ[p];
      if (i === j) lam[i * d + i] = -2 * theta[d + p];
      else {
        lam[i * d + j] = -theta[d + p];
        lam[j * d + i] = -theta[d + p];
      }
    }
    return lam;
  };
  const moments = (theta: Vec, where: string): { mean: Vec; covariance: SquareMatrix } => {
    checkVector(theta, k, `${where}: natural parameters of ${name}`);
    const lam = precisionOf(theta);
    if (choleskyOrNull(lam, d) === null) {
      throw new ExponentialFamilyError(`${where}: natural parameters of ${name} give a precision matrix that is not positive definite`);
    }
    const covariance = inverseSPD(lam, d, where);
    const mean = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += covariance[i * d + j] * theta[j];
      mean[i] = s;
    }
    return { mean, covariance };
  };
  const covarianceFromMean = (eta: Vec): SquareMatrix => {
    const cov = new Float64Array(d * d);
    for (let p = 0; p < npairs; p++) {
      const i = pairI[p];
      const j = pairJ[p];
      const c = eta[d + p] - eta[i] * eta[j];
      cov[i * d + j] = c;
      cov[j * d + i] = c;
    }
    return cov;
  };
  const naturalFromMoments = (mean: ArrayLike<number>, covariance: SquareMatrix, where: string): Vec => {
    const lam = inverseSPD(covariance, d, where);
    const theta = new Float64Array(k);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += lam[i * d + j] * mean[j];
      theta[i] = s;
    }
    for (let p = 0; p < npairs; p++) {
      const i = pairI[p];
      const j = pairJ[p];
      theta[d + p] = i === j ? -0.5 * lam[i * d + i] : -lam[i * d + j];
    }
    return theta;
  };

  const family: MultivariateGaussianFamily = {
    name,
    dim: k,
    sampleDim: d,
    dataDim: d,
    logPartition(theta) {
      const { covariance } = moments(theta, `${name}.logPartition`);
      let quad = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) quad += theta[i] * covariance[i * d + j] * theta[j];
      return 0.5 * quad + 0.5 * logDetSPD(covariance, d, `${name}.logPartition`);
    },
    meanFromNatural(theta) {
      const { mean, covariance } = moments(theta, `${name}.meanFromNatural`);
      const eta = new Float64Array(k);
      eta.set(mean);
      for (let p = 0; p < npairs; p++) {
        const i = pairI[p];
        const j = pairJ[p];
        eta[d + p] = covariance[i * d + j] + mean[i] * mean[j];
      }
      return eta;
    },
    naturalFromMean(eta) {
      checkMean(family, eta, `${name}.naturalFromMean`);
      return naturalFromMoments(eta.subarray(0, d), covarianceFromMean(eta), `${name}.naturalFromMean`);
    },
    fisherNatural(theta) {
      const { mean: m, covariance: s } = moments(theta, `${name}.fisherNatural`);
      const f = new Float64Array(k * k);
      const S = (a: number, b: number): number => s[a * d + b];
      for (let a = 0; a < k; a++) {
        for (let b = a; b < k; b++) {
          let v: number;
          if (a < d && b < d) v = S(a, b);
          else if (a < d) {
            const kk = pairI[b - d];
            const l = pairJ[b - d];
            v = m[kk] * S(a, l) + m[l] * S(a, kk);
          } else {
            const i = pairI[a - d];
            const j = pairJ[a - d];
            const kk = pairI[b - d];
            const l = pairJ[b - d];
            v =
              S(i, kk) * S(j, l) +
              S(i, l) * S(j, kk) +
              m[i] * m[kk] * S(j, l) +
              m[i] * m[l] * S(j, kk) +
              m[j] * m[kk] * S(i, l) +
              m[j] * m[l] * S(i, kk);
          }
          f[a * k + b] = v;
          f[b * k + a] = v;
        }
      }
      return f;
    },
    fisherMean(eta) {
      checkMean(family, eta, `${name}.fisherMean`);
      return inverseSPD(family.fisherNatural(family.naturalFromMean(eta)), k, `${name}.fisherMean`);
    },
    sufficientStatistic(x, out = new Float64Array(k)) {
      for (let i = 0; i < d; i++) out[i] = x[i];
      for (let p = 0; p < npairs; p++) out[d + p] = x[pairI[p]] * x[pairJ[p]];
      return out;
    },
    logBaseMeasure() {
      return -0.5 * d * Math.log(2 * Math.PI);
    },
    sample(key: Key, theta, n) {
      const { mean, covariance } = moments(theta, `${name}.sample`);
      const l = cholesky(covariance, d, `${name}.sample`);
      const z = normal(key, n * d);
      const out = new Float64Array(n * d);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < d; i++) {
          let s = mean[i];
          for (let j = 0; j <= i; j++) s += l[i * d + j] * z[r * d + j];
          out[r * d + i] = s;
        }
      }
      return out;
    },
    isNaturalValid(theta) {
      if (theta.length !== k) return false;
      for (let i = 0; i < k; i++) if (!Number.isFinite(theta[i])) return false;
      return choleskyOrNull(precisionOf(theta), d) !== null;
    },
    isMeanValid(eta) {
      if (eta.length !== k) return false;
      for (let i = 0; i < k; i++) if (!Number.isFinite(eta[i])) return false;
      return choleskyOrNull(covarianceFromMean(eta), d) !== null;
    },
    fromMeanCovariance(mean, covariance) {
      checkVector(mean, d, `${name}.fromMeanCovariance: mean`);
      checkVector(covariance, d * d, `${name}.fromMeanCovariance: covariance (d×d row-major)`);
      for (let i = 0; i < d; i++) {
        for (let j = i + 1; j < d; j++) {
          if (Math.abs(covariance[i * d + j] - covariance[j * d + i]) > 1e-12 * (Math.abs(covariance[i * d + j]) + 1)) {
            throw new ExponentialFamilyError(`${name}.fromMeanCovariance: covariance is not symmetric at (${i}, ${j})`);
          }
        }
      }
      return naturalFromMoments(mean, Float64Array.from(covariance), `${name}.fromMeanCovariance: covariance`);
    },
    toMeanCovariance(theta) {
      return moments(theta, `${name}.toMeanCovariance`);
    },
  };
  return family;
}
