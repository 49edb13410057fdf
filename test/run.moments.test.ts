import { describe, expect, it } from 'vitest';
import { OnlineMoments, MomentsError } from '../src/run/moments.js';
import { key, normal } from '../src/core/random.js';

/** Two-pass mean and sample covariance (n − 1), the reference the online moments must equal. */
function batchMoments(rows: Float64Array[], dim: number): { mean: Float64Array; cov: Float64Array } {
  const n = rows.length;
  const mean = new Float64Array(dim);
  for (const row of rows) for (let i = 0; i < dim; i++) mean[i] += row[i] / n;
  const cov = new Float64Array(dim * dim);
  for (const row of rows) {
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) cov[i * dim + j] += ((row[i] - mean[i]) * (row[j] - mean[j])) / (n - 1);
    }
  }
  return { mean, cov };
}

/** Correlated draws with a large offset, so that a naive Σx² formula would lose digits. */
function draws(seed: number, n: number, dim: number): Float64Array[] {
  const rows: Float64Array[] = [];
  const z = normal(key(seed), n * dim);
  for (let r = 0; r < n; r++) {
    const row = new Float64Array(dim);
    for (let i = 0; i < dim; i++) row[i] = 1e6 + (i + 1) * z[r * dim + i] + (i > 0 ? 0.5 * z[r * dim] : 0);
    rows.push(row);
  }
  return rows;
}

function expectClose(actual: Float64Array, expected: Float64Array, relative: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(expected[i])));
  }
}

describe('OnlineMoments', () => {
  const dim = 3;
  const rows = draws(7, 500, dim);
  const reference = batchMoments(rows, dim);

  it('equals the two-pass batch mean and covariance', () => {
    const acc = new OnlineMoments(dim);
    for (const row of rows) acc.push(row);
    expect(acc.count).toBe(500);
    // Rounding only: means near 1e6 carry ~1e-16 relative error per operation.
    expectClose(acc.mean(), reference.mean, 1e-12);
    expectClose(acc.covariance(), reference.cov, 1e-9);
    const cov = acc.covariance();
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) expect(cov[i * dim + j]).toBe(cov[j * dim + i]);
  });

  it('keeps only variances in diagonal mode, equal to the full diagonal', () => {
    const full = new OnlineMoments(dim);
    const diagonal = new OnlineMoments(dim, 'diagonal');
    for (const row of rows) {
      full.push(row);
      diagonal.push(row);
    }
    expectClose(diagonal.variance(), full.variance(), 1e-12);
    expectClose(diagonal.variance(0), Float64Array.from(full.variance(), (v) => (v * 499) / 500), 1e-12);
    expect(() => diagonal.covariance()).toThrow(MomentsError);
  });

  it('merges two accumulators exactly (Chan et al.), leaving the inputs unchanged', () => {
    for (const cut of [1, 137, 499]) {
      const a = new OnlineMoments(dim);
      const b = new OnlineMoments(dim);
      rows.slice(0, cut).forEach((row) => a.push(row));
      rows.slice(cut).forEach((row) => b.push(row));
      const aMeanBefore = a.mean();
      const merged = a.merge(b);
      expect(merged.count).toBe(500);
      expectClose(merged.mean(), reference.mean, 1e-12);
      expectClose(merged.covariance(), reference.cov, 1e-9);
      expect(a.count).toBe(cut);
      expect(Array.from(a.mean())).toEqual(Array.from(aMeanBefore));
    }
  });

  it('merges with an empty accumulator as the identity, and mergeAll pools many parts', () => {
    const a = new OnlineMoments(dim);
    rows.forEach((row) => a.push(row));
    const empty = new OnlineMoments(dim);
    expectClose(empty.merge(a).covariance(), a.covariance(), 0);
    expectClose(a.merge(empty).mean(), a.mean(), 0);
    const parts = [0, 1, 2, 3].map(() => new OnlineMoments(dim));
    rows.forEach((row, r) => parts[r % 4].push(row));
    const pooled = OnlineMoments.mergeAll(parts);
    expectClose(pooled.covariance(), reference.cov, 1e-9);
    expect(OnlineMoments.mergeAll([], dim).count).toBe(0);
  });

  it('rejects bad input with messages naming what is wrong', () => {
    expect(() => new OnlineMoments(0)).toThrow(/dim must be a positive integer/);
    const acc = new OnlineMoments(2);
    expect(() => acc.push([1, 2, 3])).toThrow(/length 2, got 3/);
    acc.push([1, 2]);
    expect(() => acc.covariance()).toThrow(/needs more than 1 draw/);
    expect(() => acc.merge(new OnlineMoments(3))).toThrow(/differ/);
  });
});
