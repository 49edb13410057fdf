import { describe, expect, it } from 'vitest';
import { iasg, polyakAveraging, windowAveraging } from '../src/samplers/averaging.js';
import { constantSgd } from '../src/samplers/constantSgd.js';
import { sgld } from '../src/samplers/sgld.js';
import { linearRegression } from '../src/models/linear.js';
import { foldIn, key, normal } from '../src/core/random.js';
import type { Dataset } from '../src/core/types.js';
import { batchAt } from './samplers.helpers.js';

function regression(seed: number, rows: number): Dataset {
  const x = normal(key(seed), 2 * rows);
  const e = normal(key(seed + 1), rows);
  const y = Float64Array.from(e, (v, n) => 0.3 + x[2 * n] - 0.5 * x[2 * n + 1] + 0.5 * v);
  return { x, y, rows, cols: 2, featureNames: ['x1', 'x2'], targetName: 'y', source: 'synthetic' };
}

describe('iterate averaging', () => {
  const N = 1000;
  const S = 10;
  const model = linearRegression(regression(31, N), { priorPrecision: 1, noisePrecision: 4 });
  const d = model.dim;
  const posterior = model.exactPosterior();

  it('Polyak averaging keeps the running mean of the iterates after burn-in, leaving the iterates alone', () => {
    const inner = sgld(model, { stepSize: 1e-4 });
    const averaged = polyakAveraging(inner, { burnIn: 3 });
    let state = averaged.init(Float64Array.of(0, 0, 0), key(0));
    let plain = inner.init(Float64Array.of(0, 0, 0), key(0));
    const kept: Float64Array[] = [];
    for (let t = 0; t < 10; t++) {
      const before = state;
      const beforeAverage = Array.from(before.average);
      const [next, info] = averaged.step(foldIn(key(1), t), state, batchAt(1, t, N, 5));
      [plain] = inner.step(foldIn(key(1), t), plain, batchAt(1, t, N, 5));
      expect(Array.from(next.position)).toEqual(Array.from(plain.position));
      expect(Array.from(before.average)).toEqual(beforeAverage);
      if (t >= 3) kept.push(next.position);
      expect(info.averageCount).toBe(kept.length);
      state = next;
    }
    for (let i = 0; i < d; i++) {
      const mean = kept.reduce((a, p) => a + p[i], 0) / kept.length;
      expect(state.average[i]).toBeCloseTo(mean, 14);
    }
  });

  it('window averaging emits the mean of each window of T iterates', () => {
    const inner = constantSgd(model, { preconditioner: { kind: 'scalar', rate: 0.01 } });
    const wrapped = windowAveraging(inner, { window: 4 });
    let state = wrapped.init(Float64Array.of(0.1, 0.1, 0.1), key(0));
    const window: Float64Array[] = [];
    let emitted = 0;
    for (let t = 0; t < 12; t++) {
      const [next, info] = wrapped.step(key(0), state, batchAt(2, t, N, S));
      window.push(next.position);
      expect(info.emitted).toBe((t + 1) % 4 === 0);
      if (info.emitted) {
        emitted += 1;
        for (let i = 0; i < d; i++) expect(info.average![i]).toBeCloseTo(window.reduce((a, p) => a + p[i], 0) / 4, 14);
        window.length = 0;
      } else expect(info.average).toBeUndefined();
      state = next;
    }
    expect(state.emittedCount).toBe(emitted);
    expect(() => windowAveraging(inner, { window: 0 })).toThrow(/window must be an integer ≥ 1, got 0/);
  });

  it('IASG (Algorithm 1): one sample per pass whose spread is the posterior’s, unlike the iterates', () => {
    // With A ≈ BBᵀ (well-specified, near-isotropic features) the mean of T = N/S iterates has
    // covariance ≈ (1/(TS)) A⁻¹BBᵀA⁻¹ ≈ A⁻¹/N, the posterior's (Sec. 6). The rate ε = 0.05 makes the
    // relaxation time 1/(ελ) ≈ 5 steps ≪ T = 100, so the finite-window bias is ≈ 1/(Tελ) ≈ 5%.
    const sampler = iasg(model, { preconditioner: { kind: 'scalar', rate: 0.05 } });
    let state = sampler.init(posterior.mean, key(0));
    const samples: Float64Array[] = [];
    const iterateSq = new Float64Array(d);
    const steps = 60_000;
    for (let t = 0; t < steps; t++) {
      const [next, info] = sampler.step(key(0), state, batchAt(3, t, N, S));
      if (info.emitted) samples.push(info.average!);
      for (let i = 0; i < d; i++) iterateSq[i] += (next.position[i] - posterior.mean[i]) ** 2 / steps;
      state = next;
    }
    expect(state.window).toBe(N / S);
    expect(samples.length).toBe(steps / (N / S));
    for (let i = 0; i < d; i++) {
      const variance = samples.reduce((a, p) => a + (p[i] - posterior.mean[i]) ** 2, 0) / samples.length;
      const ratio = variance / posterior.cov[i * d + i];
      if (process.env.SGBAYES_DEBUG) console.log(i, ratio, iterateSq[i] / posterior.cov[i * d + i]);
      // 600 nearly independent samples: the variance's relative SE is √(2/600) ≈ 6%; allow 4 SE + the 5% bias + 5% for A ≠ BBᵀ.
      expect(Math.abs(ratio - 1), `coordinate ${i}: variance ratio ${ratio}`).toBeLessThan(0.35);
      // The iterates themselves spread ≈ εNλ/(2S) ≈ 10 times the posterior variance (λ ≈ τ = 4).
      expect(iterateSq[i] / posterior.cov[i * d + i]).toBeGreaterThan(5);
    }
  });
});
