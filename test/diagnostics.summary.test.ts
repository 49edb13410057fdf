import { describe, expect, it } from 'vitest';
import { foldIn, key, normal } from '../src/core/random.js';
import { DrawsShapeError, essBulk, essTail, mcseMean, rhat } from '../src/diagnostics/convergence.js';
import { formatSummary, summary } from '../src/diagnostics/summary.js';

/** 3 chains × 200 draws × 2 parameters: θ₀ ~ N(1, 1), θ₁ ~ N(−2, 0.5²). */
function nestedTrace(): number[][][] {
  return [0, 1, 2].map((c) => {
    const z = normal(foldIn(key(4), c), 400);
    return Array.from({ length: 200 }, (_, s) => [1 + z[2 * s], -2 + 0.5 * z[2 * s + 1]]);
  });
}

describe('summary', () => {
  it('per-parameter columns equal the diagnostics computed one by one', () => {
    const trace = nestedTrace();
    const rows = summary(trace, { names: ['a', 'b'] });
    expect(rows.map((r) => r.name)).toEqual(['a', 'b']);
    rows.forEach((row, j) => {
      const chains = trace.map((chain) => chain.map((draw) => draw[j]));
      const all = chains.flat();
      const mean = all.reduce((s, x) => s + x, 0) / all.length;
      const sd = Math.sqrt(all.reduce((s, x) => s + (x - mean) ** 2, 0) / (all.length - 1));
      expect(row.mean).toBeCloseTo(mean, 12);
      expect(row.sd).toBeCloseTo(sd, 12);
      expect(row.rhat).toBe(rhat(chains));
      expect(row.essBulk).toBe(essBulk(chains));
      expect(row.essTail).toBe(essTail(chains));
      expect(row.mcseMean).toBe(mcseMean(chains));
    });
    // 600 iid draws: the means are within 4 standard errors of the truth.
    expect(Math.abs(rows[0].mean - 1)).toBeLessThan(4 / Math.sqrt(600));
    expect(Math.abs(rows[1].mean + 2)).toBeLessThan(4 * 0.5 / Math.sqrt(600));
  });
  it('quantiles are type-7 over all draws, by hand', () => {
    // One parameter, 2 chains: draws 1…10 pooled; q0.05: h = 0.45 → 1.45; q0.25: h = 2.25 → 3.25.
    const trace = [[1, 2, 3, 4, 5].map((x) => [x]), [6, 7, 8, 9, 10].map((x) => [x])];
    const [row] = summary(trace);
    expect(row.name).toBe('θ[0]');
    expect(row.q5).toBeCloseTo(1.45, 14);
    expect(row.q25).toBeCloseTo(3.25, 14);
    expect(row.median).toBeCloseTo(5.5, 14);
    expect(row.q75).toBeCloseTo(7.75, 14);
    expect(row.q95).toBeCloseTo(9.55, 14);
  });
  it('flat per-chain Float64Array traces (draws × dim) give the same table', () => {
    const trace = nestedTrace();
    const flat = trace.map((chain) => Float64Array.from(chain.flat()));
    expect(summary(flat, { dim: 2 })).toEqual(summary(trace));
  });
  it('bad shapes are reported with what and where', () => {
    const flat = [new Float64Array(10), new Float64Array(10)];
    expect(() => summary(flat)).toThrow(/needs options.dim/);
    expect(() => summary([new Float64Array(10), new Float64Array(8)], { dim: 2 })).toThrow(/chain 1 has 8 values/);
    expect(() => summary([[[1, 2]], [[1]]])).toThrow(DrawsShapeError);
    expect(() => summary(nestedTrace(), { names: ['only-one'] })).toThrow(/1 names for 2 parameters/);
  });
  it('formats a text table with one line per parameter', () => {
    const text = formatSummary(summary(nestedTrace(), { names: ['alpha', 'beta'] }));
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/name\s+mean\s+sd/);
    expect(lines[1].startsWith('alpha')).toBe(true);
  });
});
