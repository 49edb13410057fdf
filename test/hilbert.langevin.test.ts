import { describe, expect, it } from 'vitest';
import { foldIn, key, normal } from '../src/core/random.js';
import type { IndexBatch, Vec } from '../src/core/types.js';
import { HilbertError } from '../src/hilbert/errors.js';
import { gibbsTarget, hilbertLangevin, type RiskModel } from '../src/hilbert/langevin.js';
import { sgld } from '../src/samplers/sgld.js';

/**
 * A quadratic risk L̂(W) = (1/S) Σ_{i∈batch} ½ h_k (W_k − c_k − i/10)² summed over k: per-example
 * targets shift with the row index so minibatches matter; μ_k = scale · k^-2.
 */
function quadraticModel(dim: number, n: number, curvature: number, scale = 1): RiskModel<IndexBatch> {
  const spectrum = Float64Array.from({ length: dim }, (_, k) => scale * (k + 1) ** -2);
  return {
    dim,
    dataSize: n,
    spectrum,
    risk(theta: Vec, batch: IndexBatch, grad?: Vec): number {
      let value = 0;
      grad?.fill(0);
      for (const i of batch) {
        for (let k = 0; k < dim; k++) {
          const r = theta[k] - 0.5 - i / 10;
          value += 0.5 * curvature * r * r;
          if (grad) grad[k] += (curvature * r) / batch.length;
        }
      }
      return value / batch.length;
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: n }, (_, i) => i),
  };
}

describe('hilbertLangevin', () => {
  const model = quadraticModel(6, 10, 0.8, 2);
  const start = Float64Array.of(0.3, -1, 2, 0.5, -0.2, 1.1);
  const batch = Int32Array.of(2, 7, 4);

  it('takes the semi-implicit step of Suzuki 2020 Eq. 6: (W − ηg + √(2η/β)ε) / (1 + ηλ/μ_k)', () => {
    const [eta, beta, lambda] = [0.3, 50, 0.2];
    const sampler = hilbertLangevin(model, { stepSize: eta, beta, lambda });
    const stepKey = key(42);
    const [state, info] = sampler.step(stepKey, sampler.init(start, key(0)), batch);
    const grad = new Float64Array(6);
    const risk = model.risk(start, batch, grad);
    const eps = normal(stepKey, 6);
    for (let k = 0; k < 6; k++) {
      const expected = (start[k] - eta * grad[k] + Math.sqrt((2 * eta) / beta) * eps[k]) / (1 + (eta * lambda) / model.spectrum[k]);
      expect(state.position[k]).toBeCloseTo(expected, 14);
    }
    expect(state.step).toBe(1);
    expect(info.risk).toBe(risk);
    expect(info.stepSize).toBe(eta);
    expect(info.gradNorm).toBeCloseTo(Math.hypot(...grad), 14);
    expect(info.noiseNorm).toBeCloseTo(Math.sqrt((2 * eta) / beta) * Math.hypot(...eps), 14);
    expect(info.stiffness).toBeCloseTo((eta * lambda) / model.spectrum[5], 12);
  });

  it('is exactly SGLD with ε = 2η/β on the Gibbs target when explicit', () => {
    const [eta, beta, lambda] = [0.01, 40, 0.5];
    const ours = hilbertLangevin(model, { stepSize: eta, beta, lambda, scheme: 'explicit' });
    const theirs = sgld(gibbsTarget(model, { beta, lambda }), { stepSize: (2 * eta) / beta });
    let a = ours.init(start, key(0));
    let b = theirs.init(start, key(0));
    for (let t = 0; t < 5; t++) {
      const stepKey = foldIn(key(9), t);
      const stepBatch = Int32Array.of(t % 10, (3 * t + 1) % 10);
      a = ours.step(stepKey, a, stepBatch)[0];
      b = theirs.step(stepKey, b, stepBatch)[0];
    }
    for (let k = 0; k < 6; k++) expect(a.position[k]).toBeCloseTo(b.position[k], 12);
  });

  it('gives the same bits for the same key and never mutates its input state', () => {
    const sampler = hilbertLangevin(model, { stepSize: 0.1, beta: 10, lambda: 1 });
    const state = sampler.init(start, key(0));
    const copy = Float64Array.from(state.position);
    const [s1] = sampler.step(key(5), state, batch);
    const [s2] = sampler.step(key(5), state, batch);
    const [s3] = sampler.step(key(6), state, batch);
    expect(Array.from(s1.position)).toEqual(Array.from(s2.position));
    expect(Array.from(s3.position)).not.toEqual(Array.from(s1.position));
    expect(Array.from(state.position)).toEqual(Array.from(copy));
    expect(state.step).toBe(0);
    expect(sampler.init(start, key(0)).position).not.toBe(start);
  });

  it('is the noiseless proximal-gradient step at β = ∞', () => {
    const [eta, lambda] = [0.2, 0.3];
    const sampler = hilbertLangevin(model, { stepSize: eta, beta: Infinity, lambda });
    const [s1, info] = sampler.step(key(1), sampler.init(start, key(0)), batch);
    const [s2] = sampler.step(key(2), sampler.init(start, key(0)), batch);
    expect(info.noiseNorm).toBe(0);
    expect(Array.from(s1.position)).toEqual(Array.from(s2.position));
    const grad = new Float64Array(6);
    model.risk(start, batch, grad);
    for (let k = 0; k < 6; k++) {
      expect(s1.position[k]).toBeCloseTo((start[k] - eta * grad[k]) / (1 + (eta * lambda) / model.spectrum[k]), 14);
    }
  });

  it('has the stationary variance 1/(βa(1 ± ηa/2)) of the derived Gaussian recursion, semi-implicit (+) and explicit (−)', () => {
    // Pure regulariser (zero curvature): mode k is an AR(1) chain W' = ρW + sξ. Every mode gets the
    // same a = λ/μ so the 4000 coordinates are 4000 independent chains; after 60 steps they are
    // stationary to 1e-15 (|ρ| ≤ 0.56 here).
    const dim = 4000;
    const flat: RiskModel<IndexBatch> = {
      ...quadraticModel(1, 1, 0),
      dim,
      spectrum: new Float64Array(dim).fill(0.5),
      risk: (_theta, _batch, grad) => {
        grad?.fill(0);
        return 0;
      },
    };
    const [beta, lambda, eta] = [3, 1, 0.4]; // a = λ/μ = 2, ηa = 0.8
    const a = lambda / 0.5;
    for (const [scheme, expected] of [
      ['semi-implicit', 1 / (beta * a * (1 + (eta * a) / 2))],
      ['explicit', 1 / (beta * a * (1 - (eta * a) / 2))],
    ] as const) {
      const sampler = hilbertLangevin(flat, { stepSize: eta, beta, lambda, scheme });
      let state = sampler.init(new Float64Array(dim), key(0));
      for (let t = 0; t < 60; t++) state = sampler.step(foldIn(key(17), t), state, Int32Array.of(0))[0];
      const variance = state.position.reduce((s, v) => s + v * v, 0) / dim;
      // Mean-zero sample variance of 4000 normals: relative sd √(2/4000) ≈ 2.2%; allow 4 sd.
      expect(Math.abs(variance - expected)).toBeLessThan(4 * expected * Math.sqrt(2 / dim));
    }
  });

  it('stays bounded at a step where the explicit scheme diverges (μ_k = k^-2, 100 modes)', () => {
    const stiff = quadraticModel(100, 10, 0.5);
    const eta = 0.05; // explicit limit 2 min μ/λ = 2e-4
    const run = (scheme: 'semi-implicit' | 'explicit'): number => {
      const sampler = hilbertLangevin(stiff, { stepSize: eta, beta: 100, lambda: 1, scheme });
      let state = sampler.init(new Float64Array(100).fill(0.1), key(0));
      for (let t = 0; t < 40; t++) state = sampler.step(foldIn(key(3), t), state, Int32Array.of(t % 10))[0];
      return Math.max(...Array.from(state.position, Math.abs));
    };
    expect(run('semi-implicit')).toBeLessThan(5);
    expect(run('explicit')).toBeGreaterThan(1e20);
  });

  it('rejects bad options and states with errors that name them', () => {
    expect(() => hilbertLangevin(model, { stepSize: 0.1, beta: 0, lambda: 1 })).toThrow(/beta must be a number > 0/);
    expect(() => hilbertLangevin(model, { stepSize: 0.1, beta: 1, lambda: -1 })).toThrow(/lambda must be a finite number ≥ 0/);
    expect(() => hilbertLangevin(model, { stepSize: -1, beta: 1, lambda: 1 })).toThrow(/stepSize at step 0 must be a finite number > 0/);
    // @ts-expect-error: an unknown scheme is rejected at run time too
    expect(() => hilbertLangevin(model, { stepSize: 0.1, beta: 1, lambda: 1, scheme: 'implicit' })).toThrow(HilbertError);
    const sampler = hilbertLangevin(model, { stepSize: (t) => (t < 1 ? 0.1 : Number.NaN), beta: 1, lambda: 1 });
    expect(() => sampler.init(new Float64Array(2), key(0))).toThrow(/position has length 2, model.dim is 6/);
    const [s1] = sampler.step(key(1), sampler.init(start, key(0)), batch);
    expect(() => sampler.step(key(2), s1, batch)).toThrow(/stepSize at step 1 must be a finite number > 0, got NaN/);
    expect(() => gibbsTarget(model, { beta: Infinity, lambda: 1 })).toThrow(/gibbsTarget: beta must be a finite number > 0/);
  });
});
