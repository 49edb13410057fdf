import { describe, expect, it } from 'vitest';
import { key, normal, foldIn } from '../src/core/random.js';
import { lgamma } from '../src/core/distributions.js';
import { inverse } from '../src/core/linalg.js';
import { mlpLayout } from '../src/nn/mlp.js';
import { MatrixGaussianLayer, MeanFieldLayer, PseudoDataLayer } from '../src/vi/layers.js';
import { digamma, gammaKl, trigamma } from '../src/vi/special.js';
import { gammaMarginalLogDensity } from '../src/vi/train.js';

const EULER = 0.5772156649015329;

describe('special functions', () => {
  it('digamma and trigamma hit known values', () => {
    expect(digamma(1)).toBeCloseTo(-EULER, 11);
    expect(digamma(0.5)).toBeCloseTo(-EULER - 2 * Math.LN2, 11);
    expect(digamma(10.3) - digamma(9.3)).toBeCloseTo(1 / 9.3, 12);
    expect(trigamma(1)).toBeCloseTo(Math.PI ** 2 / 6, 11);
    expect(trigamma(0.5)).toBeCloseTo(Math.PI ** 2 / 2, 11);
    expect(trigamma(7.5) - trigamma(8.5)).toBeCloseTo(1 / 7.5 ** 2, 12);
  });

  it('gammaKl equals the KL integral by quadrature, and its log-parameter gradient matches finite differences', () => {
    const [a, b, a0, b0] = [3.7, 1.9, 1, 0.5];
    const logPdf = (t: number, s: number, r: number) => s * Math.log(r) - lgamma(s) + (s - 1) * Math.log(t) - r * t;
    // Trapezoid rule on log t over [e⁻¹⁵, e⁵] with 40 000 panels: the integrand is smooth and negligible at both ends.
    let integral = 0;
    const lo = -15;
    const hi = 5;
    const m = 40000;
    for (let i = 0; i <= m; i++) {
      const u = lo + ((hi - lo) * i) / m;
      const t = Math.exp(u);
      const w = i === 0 || i === m ? 0.5 : 1;
      integral += w * t * Math.exp(logPdf(t, a, b)) * (logPdf(t, a, b) - logPdf(t, a0, b0));
    }
    integral *= (hi - lo) / m;
    expect(gammaKl(a, b, a0, b0)).toBeCloseTo(integral, 8);
    const grad = new Float64Array(2);
    gammaKl(a, b, a0, b0, grad);
    const h = 1e-6;
    const f = (la: number, lb: number) => gammaKl(Math.exp(la), Math.exp(lb), a0, b0);
    expect(grad[0]).toBeCloseTo((f(Math.log(a) + h, Math.log(b)) - f(Math.log(a) - h, Math.log(b))) / (2 * h), 7);
    expect(grad[1]).toBeCloseTo((f(Math.log(a), Math.log(b) + h) - f(Math.log(a), Math.log(b) - h)) / (2 * h), 7);
  });

  it('the Gamma-marginal (Student-t) predictive density integrates to 1', () => {
    let total = 0;
    for (let y = -60; y <= 60; y += 0.001) total += Math.exp(gammaMarginalLogDensity(y, 0.3, 2.5, 1.7)) * 0.001;
    expect(total).toBeCloseTo(1, 4);
  });
});

describe('closed-form KL of the layers', () => {
  const shape = mlpLayout([3, 4]).layers[0];

  /**
   * E_q(τ) KL(q(W) ‖ N(0, (τ_r τ_c)⁻¹ I)) entry by entry from the diagonal Gaussian KL, with τ → E τ
   * and log τ → E log τ (the KL is linear in both), plus the two Gamma KLs.
   */
  function elementwiseKl(mean: (i: number) => number, variance: (i: number) => number, phi: Float64Array, gammaAt: number, size: number): number {
    const ar = Math.exp(phi[gammaAt]);
    const br = Math.exp(phi[gammaAt + 1]);
    const ac = Math.exp(phi[gammaAt + 2]);
    const bc = Math.exp(phi[gammaAt + 3]);
    const precision = (ar / br) * (ac / bc);
    const logPrecision = digamma(ar) - Math.log(br) + digamma(ac) - Math.log(bc);
    let kl = 0;
    for (let i = 0; i < size; i++) kl += 0.5 * (precision * (mean(i) ** 2 + variance(i)) - 1 - logPrecision - Math.log(variance(i)));
    return kl + gammaKl(ar, br, 1, 0.5) + gammaKl(ac, bc, 1, 0.5);
  }

  it('matrix-variate: Eq. 4 with hierarchical priors equals the entrywise Gaussian KL of vec W ~ N(vec M, V ⊗ U)', () => {
    const layer = new MatrixGaussianLayer(shape, 0);
    const phi = new Float64Array(layer.paramCount);
    layer.init(phi, key(1));
    const jitter = normal(key(2), phi.length);
    for (let i = 0; i < phi.length; i++) phi[i] += 0.4 * jitter[i];
    const { rows: r, outputs: c, size } = shape;
    const variance = (i: number) => Math.exp(phi[size + Math.floor(i / c)]) * Math.exp(phi[size + r + (i % c)]);
    const expected = elementwiseKl((i) => phi[i], variance, phi, size + r + c, size);
    expect(layer.kl(phi, null, 1)).toBeCloseTo(expected, 10);
  });

  it('mean-field: the layer KL equals the entrywise Gaussian KL', () => {
    const layer = new MeanFieldLayer(shape, 0);
    const phi = new Float64Array(layer.paramCount);
    layer.init(phi, key(3));
    const jitter = normal(key(4), phi.length);
    for (let i = 0; i < phi.length; i++) phi[i] += 0.4 * jitter[i];
    const size = shape.size;
    expect(layer.kl(phi, null, 1)).toBeCloseTo(elementwiseKl((i) => phi[i], (i) => Math.exp(phi[size + i]), phi, 2 * size, size), 10);
  });
});

describe('sampled pre-activations', () => {
  it('matrix-variate local reparameterisation: Var z_j = (Σ_k ā_k² σ_rk²) σ_cj², mean ā M', () => {
    const shape = mlpLayout([3, 2]).layers[0];
    const layer = new MatrixGaussianLayer(shape, 0, { initialVariance: 0.3 });
    const phi = new Float64Array(layer.paramCount);
    layer.init(phi, key(5));
    phi[shape.size] += 0.5; // unequal row variances
    const input = new Float64Array([0.7, -1.2, 0.4, 0.5]);
    const out = new Float64Array(2);
    const K = 20000;
    const sums = [0, 0];
    const squares = [0, 0];
    for (let d = 0; d < K; d++) {
      layer.forward(phi, input, 1, foldIn(key(6), d), true, out);
      for (let j = 0; j < 2; j++) {
        sums[j] += out[j];
        squares[j] += out[j] ** 2;
      }
    }
    let rowVar = 0;
    for (let k = 0; k < 4; k++) rowVar += input[k] ** 2 * Math.exp(phi[shape.size + k]);
    for (let j = 0; j < 2; j++) {
      let mean = 0;
      for (let k = 0; k < 4; k++) mean += input[k] * phi[k * 2 + j];
      const v = rowVar * Math.exp(phi[shape.size + 4 + j]);
      const sampleMean = sums[j] / K;
      const sampleVar = squares[j] / K - sampleMean ** 2;
      // MCSE: √(v/K) for the mean, v√(2/K) for the variance of Gaussian draws; 4 MCSE.
      expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(v / K));
      expect(Math.abs(sampleVar - v)).toBeLessThan(4 * v * Math.sqrt(2 / K));
    }
  });

  it('pseudo-data layer: mean and variance follow the conditional Gaussian of Eqs. 8–10 (pseudo noise off)', () => {
    const shape = mlpLayout([3, 2]).layers[0];
    const p = 2;
    const layer = new PseudoDataLayer(shape, 0, { pseudoPairs: p, initialVariance: 0.3 });
    const phi = new Float64Array(layer.paramCount);
    layer.init(phi, key(7));
    const { rows: r, outputs: c, size } = shape;
    const pseudoIn = size + r + c + 4;
    const pseudoOut = pseudoIn + p * r;
    const z = normal(key(8), p * r);
    const bt = normal(key(9), p * c);
    phi.set(z, pseudoIn);
    phi.set(bt, pseudoOut);
    // ρ = −60 makes α ≈ α_max e⁻⁶⁰: the pseudo data are effectively fixed.
    phi[pseudoOut + p * c] = -60;
    phi[pseudoOut + p * c + 1] = -60;
    const u = Array.from({ length: r }, (_, k) => Math.exp(phi[size + k]));
    const a = new Float64Array([0.3, -0.8, 1.1, 0.5]);
    // Dense Eq. 8: Σ₁₁ = ZUZᵀ + δI, σ₁₂ = ZUaᵀ, mean aM + σ₁₂ᵀΣ₁₁⁻¹(B̃ − ZM), var (aUaᵀ − σ₁₂ᵀΣ₁₁⁻¹σ₁₂) σ_c².
    const K11 = new Float64Array(p * p);
    const s12 = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      for (let k = 0; k < r; k++) s12[i] += z[i * r + k] * u[k] * a[k];
      for (let j = 0; j < p; j++) for (let k = 0; k < r; k++) K11[i * p + j] += z[i * r + k] * u[k] * z[j * r + k];
      K11[i * p + i] += 1e-6;
    }
    const Kinv = inverse(K11, p);
    const w = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => s12[j] * Kinv[j * p + i]).reduce((x, y) => x + y, 0));
    let condVar = a.reduce((s, ak, k) => s + ak * ak * u[k], 0);
    for (let i = 0; i < p; i++) condVar -= w[i] * s12[i];
    const out = new Float64Array(c);
    const K = 20000;
    const sums = new Array(c).fill(0);
    const squares = new Array(c).fill(0);
    for (let d = 0; d < K; d++) {
      layer.forward(phi, a, 1, foldIn(key(10), d), true, out);
      for (let j = 0; j < c; j++) {
        sums[j] += out[j];
        squares[j] += out[j] ** 2;
      }
    }
    for (let j = 0; j < c; j++) {
      let mean = 0;
      for (let k = 0; k < r; k++) mean += a[k] * phi[k * c + j];
      for (let i = 0; i < p; i++) {
        let resid = bt[i * c + j];
        for (let k = 0; k < r; k++) resid -= z[i * r + k] * phi[k * c + j];
        mean += w[i] * resid;
      }
      const v = condVar * Math.exp(phi[size + r + j]);
      const sampleMean = sums[j] / K;
      const sampleVar = squares[j] / K - sampleMean ** 2;
      expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(v / K));
      expect(Math.abs(sampleVar - v)).toBeLessThan(4 * v * Math.sqrt(2 / K));
    }
  });
});
