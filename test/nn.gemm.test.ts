import { describe, expect, it } from 'vitest';
import { key, normal, foldIn } from '../src/core/random.js';
import { gemm, GemmShapeError, setGemmEngine } from '../src/nn/gemm.js';

/** Reference C = α op(A) op(B) + β C by the definition, one entry at a time. */
function naive(tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: Float64Array, b: Float64Array, beta: number, c: Float64Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = alpha * s + beta * c[i * n + j];
    }
  }
  return out;
}

describe('gemm', () => {
  it('matches the definition for every transpose case, odd shapes, offsets, α and β', () => {
    let seed = 0;
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const [m, n, k] of [[1, 1, 1], [3, 5, 7], [6, 2, 9], [4, 4, 4], [2, 7, 13]]) {
        for (const [alpha, beta] of [[1, 0], [-0.5, 1], [2, 0.3]]) {
          const base = key(seed++);
          const a = normal(foldIn(base, 1), m * k + 3);
          const b = normal(foldIn(base, 2), k * n + 2);
          const c = normal(foldIn(base, 3), m * n + 1);
          const expected = naive(tA, tB, m, n, k, alpha, a.subarray(3), b.subarray(2), beta, c.subarray(1));
          gemm(tA, tB, m, n, k, alpha, a, 3, b, 2, beta, c, 1);
          for (let i = 0; i < m * n; i++) expect(c[1 + i]).toBeCloseTo(expected[i], 12);
        }
      }
    }
  });

  it('with β = 0 discards NaN already in C, and rejects buffers too short for the shape', () => {
    const c = new Float64Array([NaN, NaN]);
    gemm(false, false, 1, 2, 1, 1, new Float64Array([2]), 0, new Float64Array([3, 4]), 0, 0, c, 0);
    expect(Array.from(c)).toEqual([6, 8]);
    expect(() => gemm(false, false, 2, 2, 2, 1, new Float64Array(3), 0, new Float64Array(4), 0, 0, new Float64Array(4), 0)).toThrow(GemmShapeError);
  });

  it('large products (the cache-blocked path) match the definition too', () => {
    const [m, n, k] = [40, 37, 33]; // 48 840 multiply-adds: above the blocked threshold
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = normal(key(91), m * k);
      const b = normal(key(92), k * n);
      const c = normal(key(93), m * n);
      const expected = naive(tA, tB, m, n, k, 0.7, a, b, 0.4, c);
      gemm(tA, tB, m, n, k, 0.7, a, 0, b, 0, 0.4, c, 0);
      for (let i = 0; i < m * n; i++) expect(c[i]).toBeCloseTo(expected[i], 10);
    }
  });

  it('setGemmEngine routes every call to the given engine, and null restores the built-in kernels', () => {
    const calls: number[][] = [];
    setGemmEngine((_tA, _tB, m, n, k, _alpha, _a, _aOff, _b, _bOff, _beta, c, cOff) => {
      calls.push([m, n, k]);
      c.fill(42, cOff, cOff + m * n);
    });
    try {
      const c = new Float64Array(2);
      gemm(false, false, 1, 2, 1, 1, new Float64Array([2]), 0, new Float64Array([3, 4]), 0, 0, c, 0);
      expect(calls).toEqual([[1, 2, 1]]);
      expect(Array.from(c)).toEqual([42, 42]);
    } finally {
      setGemmEngine(null);
    }
    const c = new Float64Array(2);
    gemm(false, false, 1, 2, 1, 1, new Float64Array([2]), 0, new Float64Array([3, 4]), 0, 0, c, 0);
    expect(Array.from(c)).toEqual([6, 8]);
  });
});
