import { describe, expect, it } from 'vitest';
import { key, normal, foldIn } from '../src/core/random.js';
import { mlpLayout } from '../src/nn/mlp.js';
import { MatrixGaussianLayer, MeanFieldLayer, type GradientEstimator, type VariationalLayer } from '../src/vi/layers.js';

const n = 32;
const layout = mlpLayout([5, 3]);
const shape = layout.layers[0];
const input = normal(key(1), n * shape.rows);
const target = normal(key(2), n * shape.outputs);

/**
 * Gradients of L = −½ Σ_ij (y_ij − z_ij)² (the Gaussian data term of one fixed layer) over `draws`
 * keys; returns per-draw gradients (draws × paramCount) of the layer's own slice.
 */
function gradientDraws(make: (estimator: GradientEstimator) => VariationalLayer, estimator: GradientEstimator, draws: number): Float64Array[] {
  const layer = make(estimator);
  const phi = new Float64Array(layer.paramCount);
  layer.init(phi, key(3));
  const out = new Float64Array(n * shape.outputs);
  const dOut = new Float64Array(n * shape.outputs);
  const result: Float64Array[] = [];
  for (let d = 0; d < draws; d++) {
    layer.forward(phi, input, n, foldIn(key(4), d), true, out);
    for (let i = 0; i < out.length; i++) dOut[i] = target[i] - out[i];
    const grad = new Float64Array(layer.paramCount);
    layer.backward(phi, dOut, grad, null);
    result.push(grad);
  }
  return result;
}

/** Per-coordinate mean, variance and the MCSE of the variance, √((m₄ − s⁴)/K), summed over `coords`. */
function summed(draws: Float64Array[], coords: number[]) {
  const K = draws.length;
  let variance = 0;
  let varianceSe2 = 0;
  const means: number[] = [];
  const meanSe: number[] = [];
  for (const c of coords) {
    let m = 0;
    for (const g of draws) m += g[c] / K;
    let s2 = 0;
    let m4 = 0;
    for (const g of draws) {
      const d = g[c] - m;
      s2 += (d * d) / (K - 1);
      m4 += d ** 4 / K;
    }
    variance += s2;
    varianceSe2 += Math.max(0, m4 - s2 * s2) / K;
    means.push(m);
    meanSe.push(Math.sqrt(s2 / K));
  }
  return { variance, varianceSe: Math.sqrt(varianceSe2), means, meanSe };
}

const families: [string, (e: GradientEstimator) => VariationalLayer, number[], number[]][] = [
  [
    'matrix-variate Gaussian',
    (estimator) => new MatrixGaussianLayer(shape, 0, { estimator, initialVariance: 0.5 }),
    Array.from({ length: shape.size }, (_, i) => i),
    Array.from({ length: shape.rows + shape.outputs }, (_, i) => shape.size + i),
  ],
  [
    'mean-field Gaussian',
    (estimator) => new MeanFieldLayer(shape, 0, { estimator, initialVariance: 0.5 }),
    Array.from({ length: shape.size }, (_, i) => i),
    Array.from({ length: shape.size }, (_, i) => shape.size + i),
  ],
];

describe('local reparameterisation', () => {
  for (const [name, make, meanCoords, varianceCoords] of families) {
    it(`has lower gradient variance than weight sampling on a fixed ${name} layer (batch 32), with the same mean`, () => {
      const K = 1500;
      const local = gradientDraws(make, 'local', K);
      const weights = gradientDraws(make, 'weights', K);
      for (const coords of [meanCoords, varianceCoords]) {
        const l = summed(local, coords);
        const w = summed(weights, coords);
        // The difference of the two (independent) trace-variance estimates must exceed 4 of its MCSEs.
        const margin = 4 * Math.hypot(l.varianceSe, w.varianceSe);
        expect(w.variance - l.variance).toBeGreaterThan(margin);
        // Both estimators are unbiased for the same gradient: means agree within 4.5 MCSE per coordinate.
        coords.forEach((_, i) => {
          expect(Math.abs(l.means[i] - w.means[i])).toBeLessThan(4.5 * Math.hypot(l.meanSe[i], w.meanSe[i]) + 1e-12);
        });
      }
    });
  }
});
