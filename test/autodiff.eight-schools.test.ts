import { describe, expect, it } from 'vitest';
import { key, normal } from '../src/core/random.js';
import { eightSchoolsModel, eightSchoolsReference, runEightSchools } from '../examples/eight-schools.js';

describe('examples/eight-schools (non-centred, NUTS)', () => {
  it('the quadrature reference has converged and matches the published values', () => {
    const r = eightSchoolsReference();
    const fine = eightSchoolsReference(200_000);
    expect(Math.abs(r.mu - fine.mu)).toBeLessThan(1e-9);
    expect(Math.abs(r.tau - fine.tau)).toBeLessThan(1e-9);
    // Widely quoted posterior means for this prior: μ ≈ 4.4, τ ≈ 3.6.
    expect(r.mu).toBeCloseTo(4.4, 1);
    expect(r.tau).toBeCloseTo(3.6, 1);
  });

  it('the model gradient matches finite differences', () => {
    const model = eightSchoolsModel();
    const theta = normal(key(3), model.dim);
    const f = (t: Float64Array) => model.logPosterior(t).value;
    const g = model.logPosterior(theta).grad;
    for (let i = 0; i < model.dim; i++) {
      const h = 1e-6;
      const up = Float64Array.from(theta);
      const dn = Float64Array.from(theta);
      up[i] += h;
      dn[i] -= h;
      // Central differences: error O(h²) ≈ 1e-12 plus rounding ≈ 1e-10 here.
      expect(Math.abs(g[i] - (f(up) - f(dn)) / (2 * h))).toBeLessThan(1e-6 * Math.max(1, Math.abs(g[i])));
    }
  });

  it('posterior means of μ and τ agree with the reference within Monte Carlo error', () => {
    const r = runEightSchools({ chains: 2, warmup: 500, draws: 1000, seed: 2 });
    // 4 MCSE: a false failure rate below 1e-4 per parameter at this fixed seed.
    expect(Math.abs(r.mu.mean - r.mu.reference)).toBeLessThan(4 * r.mu.mcse);
    expect(Math.abs(r.tau.mean - r.tau.reference)).toBeLessThan(4 * r.tau.mcse);
    expect(r.mu.rhat).toBeLessThan(1.01);
    expect(r.tau.rhat).toBeLessThan(1.01);
  });
});
