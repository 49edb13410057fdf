import { describe, expect, it } from 'vitest';
import { key, normal, uniform, foldIn } from '../src/core/random.js';
import { BayesianMlp, type WeightFamily } from '../src/vi/bnn.js';
import type { GradientEstimator } from '../src/vi/layers.js';

/** Random regression/classification data: n rows of d features. */
function data(n: number, d: number, classes = 0) {
  const x = normal(key(11), n * d);
  const y = classes > 0 ? Float64Array.from(uniform(key(12), n), (u) => Math.floor(u * classes)) : normal(key(13), n);
  const batch = Int32Array.from({ length: n }, (_, i) => i);
  return { x, y, batch };
}

/** φ from init, then jittered so that no parameter sits at a special value (priors, zeros). */
function jittered(net: BayesianMlp, seed: number): Float64Array {
  const phi = net.init(key(seed));
  const noise = normal(foldIn(key(seed), 99), phi.length);
  for (let i = 0; i < phi.length; i++) phi[i] += 0.3 * noise[i];
  return phi;
}

const cases: [WeightFamily, GradientEstimator, 'gaussian' | 'softmax'][] = [
  ['mvg', 'local', 'gaussian'],
  ['mvg', 'weights', 'gaussian'],
  ['meanfield', 'local', 'gaussian'],
  ['meanfield', 'weights', 'gaussian'],
  ['mvg-pseudo', 'local', 'gaussian'],
  ['mvg', 'local', 'softmax'],
  ['meanfield', 'local', 'softmax'],
  ['mvg-pseudo', 'local', 'softmax'],
];

describe('BayesianMlp ELBO gradient', () => {
  for (const [family, estimator, likelihood] of cases) {
    it(`matches central finite differences with a fixed key (${family}, ${estimator}, ${likelihood})`, () => {
      const classes = likelihood === 'softmax' ? 3 : 0;
      const { x, y, batch } = data(7, 3, classes);
      const net = new BayesianMlp({
        sizes: [3, 5, 4, likelihood === 'softmax' ? 3 : 1],
        family,
        likelihood,
        estimator,
        pseudoPairs: 3,
        initialVariance: 0.05,
        maxPseudoNoise: 0.2,
      });
      const phi = jittered(net, 5);
      const k = key(3);
      const grad = new Float64Array(net.dim);
      const scratch = new Float64Array(net.dim);
      net.elbo(phi, k, x, y, batch, 50, grad);
      const f = (p: Float64Array) => net.elbo(p, k, x, y, batch, 50, scratch).elbo;
      let worst = 0;
      for (let i = 0; i < net.dim; i++) {
        const h = 1e-5 * Math.max(1, Math.abs(phi[i]));
        const p = Float64Array.from(phi);
        p[i] = phi[i] + h;
        const up = f(p);
        p[i] = phi[i] - h;
        const down = f(p);
        const fd = (up - down) / (2 * h);
        // Central differences: error O(h²·f''') plus rounding O(ε/h) ≈ 1e-11/1e-5; 1e-6 absolute
        // and relative leaves room for both.
        const err = Math.abs(fd - grad[i]) / (1e-6 + 1e-6 * Math.abs(fd));
        worst = Math.max(worst, err);
        if (err > 1) expect.fail(`φ[${i}]: analytic ${grad[i]}, finite difference ${fd}`);
      }
      expect(worst).toBeLessThan(1);
    });
  }
});

describe('trainVi', () => {
  it('closed-form noise update sets q(τ) to Gamma(a₀ + N/2, b₀ + (N/2)·MSE); averaging returns finite parameters', async () => {
    const { trainVi } = await import('../src/vi/train.js');
    const { x, y } = data(40, 3);
    const net = new BayesianMlp({ sizes: [3, 6, 1], family: 'mvg', likelihood: 'gaussian' });
    const result = trainVi(net, x, y, 40, { epochs: 3, batchSize: 10, noisePrecision: 'closed-form' });
    const q = net.noisePosterior(result.phi);
    expect(q.shape).toBeCloseTo(6 + 20, 9);
    expect(q.rate).toBeGreaterThan(6);
    expect(net.noisePosterior(result.last).shape).toBeCloseTo(26, 9);
    expect(result.elboTrace).toHaveLength(3);
    expect(result.phi.every(Number.isFinite)).toBe(true);
    expect(() => trainVi(net, x, y, 40, { epochs: 0, batchSize: 10 })).toThrow(/epochs must be a positive integer/);
  });
});
