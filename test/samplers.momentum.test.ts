import { describe, expect, it } from 'vitest';
import { momentumSgd } from '../src/samplers/momentumSgd.js';
import { constantSgd, ConstantSgdOptionError } from '../src/samplers/constantSgd.js';
import { linearRegression } from '../src/models/linear.js';
import { exactNoiseCovariance } from '../src/noise/estimator.js';
import { optimalMomentumRatio } from '../src/noise/optimal.js';
import { key, normal } from '../src/core/random.js';
import type { Dataset, IndexBatch, Sampler, StepInfo, Vec } from '../src/core/types.js';
import { batchAt, lossGradientByHand } from './samplers.helpers.js';

function regression(seed: number, rows: number): Dataset {
  const z = normal(key(seed), 2 * rows);
  const e = normal(key(seed + 1), rows);
  const x = Float64Array.from(z, (v, i) => (i % 2 === 0 ? 2 * v : v));
  const y = Float64Array.from(e, (v, n) => 0.3 + x[2 * n] - 0.5 * x[2 * n + 1] + 0.5 * v);
  return { x, y, rows, cols: 2, featureNames: ['x1', 'x2'], targetName: 'y', source: 'synthetic' };
}

describe('momentumSgd', () => {
  const N = 1000;
  const S = 10;
  const model = linearRegression(regression(21, N), { priorPrecision: 1, noisePrecision: 4 });
  const d = model.dim;
  const posterior = model.exactPosterior();

  it('takes v ← (1−μ)v − εĝ_S, θ ← θ + v exactly', () => {
    const epsilon = 0.02;
    const mu = 0.3;
    const sampler = momentumSgd(model, { learningRate: epsilon, momentum: mu });
    const s0 = sampler.init(Float64Array.of(0.1, 0.2, -0.3), key(0));
    const b1 = Int32Array.of(1, 5, 9);
    const b2 = Int32Array.of(2, 4);
    const [s1, info1] = sampler.step(key(0), s0, b1);
    const g1 = lossGradientByHand(model, s0.position, b1);
    const v1 = g1.map((g) => -epsilon * g);
    for (let i = 0; i < d; i++) expect(s1.position[i]).toBeCloseTo(s0.position[i] + v1[i], 15);
    const [s2] = sampler.step(key(0), s1, b2);
    const g2 = lossGradientByHand(model, s1.position, b2);
    for (let i = 0; i < d; i++) {
      const v2 = (1 - mu) * v1[i] - epsilon * g2[i];
      expect(s2.velocity[i]).toBeCloseTo(v2, 15);
      expect(s2.position[i]).toBeCloseTo(s1.position[i] + v2, 15);
    }
    expect(info1.effectiveRate).toBeCloseTo(epsilon / mu, 15);
    expect(info1.stepSize).toBe(epsilon);
    expect(Array.from(s0.velocity)).toEqual([0, 0, 0]); // the input state is untouched
  });

  it('samples a covariance that depends on ε/μ only (Eq. 25): momentum at ε = μ·r matches constant SGD at rate r', () => {
    // r = ε/μ from the Theorem-1 analogue, using the exact noise at the posterior mean.
    const noise = exactNoiseCovariance(model, posterior.mean);
    const ratio = optimalMomentumRatio(noise, { batchSize: S, dataSize: N });
    const steps = 60_000;
    const traceOf = (sampler: Sampler<{ position: Vec }, StepInfo, IndexBatch>, seed: number) => {
      let state = sampler.init(posterior.mean, key(0));
      // Batch means of the squared distance to the stationary mean (the posterior mean): 60 batches of
      // 1000 steps, ≫ the ≈ 30-step relaxation time.
      const means: number[] = [];
      let sum = 0;
      for (let t = 0; t < steps; t++) {
        [state] = sampler.step(key(0), state, batchAt(seed, t, N, S));
        let sq = 0;
        for (let i = 0; i < d; i++) sq += (state.position[i] - posterior.mean[i]) ** 2;
        sum += sq;
        if ((t + 1) % 1000 === 0) {
          means.push(sum / 1000);
          sum = 0;
        }
      }
      const m = means.reduce((a, v) => a + v, 0) / means.length;
      const se = Math.sqrt(means.reduce((a, v) => a + (v - m) ** 2, 0) / (means.length - 1) / means.length);
      return { m, se };
    };
    const plain = traceOf(constantSgd(model, { preconditioner: { kind: 'scalar', rate: ratio } }), 1);
    const heavy = traceOf(momentumSgd(model, { learningRate: 0.2 * ratio, momentum: 0.2 }), 2);
    if (process.env.SGBAYES_DEBUG) console.log(plain, heavy);
    // Equal within 4 combined MCSEs plus 5% for the discrete-time difference of the two schemes.
    expect(Math.abs(plain.m - heavy.m)).toBeLessThan(4 * Math.hypot(plain.se, heavy.se) + 0.05 * plain.m);
  });

  it('rejects bad momentum and learning rates', () => {
    expect(() => momentumSgd(model, { learningRate: 0.1, momentum: 0 })).toThrow(/momentum μ must be in \(0, 1\], got 0/);
    expect(() => momentumSgd(model, { learningRate: -1, momentum: 0.5 })).toThrow(ConstantSgdOptionError);
    const late = momentumSgd(model, { learningRate: (t) => (t < 1 ? 0.1 : Number.NaN), momentum: 0.5 });
    const s = late.init(new Float64Array(3), key(0));
    const [s1] = late.step(key(0), s, Int32Array.of(0, 1));
    expect(() => late.step(key(0), s1, Int32Array.of(0, 1))).toThrow(/learningRate at step 1 must be a finite number > 0, got NaN/);
  });
});
