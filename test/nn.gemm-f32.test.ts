import { afterAll, describe, expect, it } from 'vitest';
import { key, uniform } from '../src/core/random.js';
import { GemmShapeError, setSgemmEngine, sgemm, sgemmLoops, type SgemmFunction } from '../src/nn/gemm.js';
import { loadNativeGemm } from '../src/nn/gemm-native.js';

/** C ← α op(A) op(B) + β C by the definition, in float64, from float32 inputs. */
function naive(tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, beta: number, c: Float64Array, cOff: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[aOff + p * m + i] : a[aOff + i * k + p]) * (tB ? b[bOff + j * k + p] : b[bOff + p * n + j]);
      const at = cOff + i * n + j;
      c[at] = (beta === 0 ? 0 : beta * c[at]) + alpha * s;
    }
  }
}

function randomMatrix32(seed: number, length: number): Float32Array {
  return Float32Array.from(uniform(key(seed), length), (u) => 2 * u - 1);
}

const shapes = [
  { m: 1, n: 1, k: 1, alpha: 1, beta: 0 },
  { m: 3, n: 5, k: 7, alpha: 0.5, beta: 1 },
  { m: 6, n: 2, k: 9, alpha: -1.5, beta: 0.25 },
  { m: 40, n: 37, k: 33, alpha: 1, beta: 0 },
  { m: 33, n: 40, k: 41, alpha: 2, beta: 1 },
];

/** Runs `engine` against the definition with offsets around A, B and C; returns the worst error over the per-entry bound. */
function worstRelativeError(engine: SgemmFunction, shape: (typeof shapes)[number], tA: boolean, tB: boolean, seed: number): number {
  const { m, n, k, alpha, beta } = shape;
  const [aOff, bOff, cOff] = [3, 1, 2];
  const a = randomMatrix32(seed, aOff + m * k);
  const b = randomMatrix32(seed + 1, bOff + k * n);
  const c = randomMatrix32(seed + 2, cOff + m * n + 3);
  if (beta === 0) c.fill(NaN, cOff, cOff + m * n); // β = 0 discards NaNs in C
  const want = Float64Array.from(c);
  naive(tA, tB, m, n, k, alpha, a, aOff, b, bOff, beta, want, cOff);
  const before = Float32Array.from(c);
  engine(tA, tB, m, n, k, alpha, a, aOff, b, bOff, beta, c, cOff);
  for (let i = 0; i < cOff; i++) expect(c[i]).toBe(before[i]);
  for (let i = cOff + m * n; i < c.length; i++) expect(c[i]).toBe(before[i]);
  // |terms| ≤ |α|, |β C| ≤ |β|: float32 rounding of the k products, the sum and the store stays
  // below (k + 2)·2⁻²³·(|α| + |β|) per entry; the bound is 4× that.
  const bound = 4 * (k + 2) * 2 ** -23 * (Math.abs(alpha) + Math.abs(beta));
  let worst = 0;
  for (let i = cOff; i < cOff + m * n; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]) / bound);
  return worst;
}

describe('sgemm (float32)', () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`JavaScript loops match the definition (transA=${tA}, transB=${tB}), with offsets, α and β`, () => {
      shapes.forEach((s, i) => expect(worstRelativeError(sgemm, s, tA, tB, 100 * i + (tA ? 7 : 0) + (tB ? 13 : 0))).toBeLessThan(1));
    });
  }

  it('rejects shapes the buffers cannot hold, naming the sizes', () => {
    expect(() => sgemm(false, false, 2, 2, 2, 1, new Float32Array(3), 0, new Float32Array(4), 0, 0, new Float32Array(4), 0)).toThrow(GemmShapeError);
    expect(() => sgemm(false, false, 2, 2, 2, 1, new Float32Array(4), 0, new Float32Array(4), 0, 0, new Float32Array(4), 1)).toThrow(/C 4 from 1/);
    expect(() => sgemm(false, false, 1.5, 2, 2, 1, new Float32Array(4), 0, new Float32Array(4), 0, 0, new Float32Array(4), 0)).toThrow(/m must be an integer/);
  });

  it('setSgemmEngine routes every call to the engine, and null restores the loops', () => {
    const calls: number[][] = [];
    setSgemmEngine((...args) => {
      calls.push([args[2], args[3], args[4]]);
      args[11].fill(42, args[12], args[12] + args[2] * args[3]);
    });
    const c = new Float32Array(2);
    try {
      sgemm(false, false, 1, 2, 1, 1, new Float32Array([2]), 0, new Float32Array([3, 4]), 0, 0, c, 0);
    } finally {
      setSgemmEngine(null);
    }
    expect(calls).toEqual([[1, 2, 1]]);
    expect(Array.from(c)).toEqual([42, 42]);
    sgemm(false, false, 1, 2, 1, 1, new Float32Array([2]), 0, new Float32Array([3, 4]), 0, 0, c, 0);
    expect(Array.from(c)).toEqual([6, 8]);
  });

  it('α = 0 only scales C by β (the A and B values are not read)', () => {
    const c = Float32Array.from([1, 2, 3, 4]);
    sgemmLoops(false, false, 2, 2, 3, 0, new Float32Array(6).fill(NaN), 0, new Float32Array(6), 0, 2, c, 0);
    expect(Array.from(c)).toEqual([2, 4, 6, 8]);
  });
});

// The native engine needs the optional onnxruntime-node (bench.gemm.test.ts checks the error without it).
let native: Awaited<ReturnType<typeof loadNativeGemm>> | null = null;
try {
  native = await loadNativeGemm({ sgemmMinWork: 0 });
} catch {
  native = null;
}
afterAll(() => native?.dispose());

describe.skipIf(native === null)('native sgemm (onnxruntime float32)', () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`matches the definition (transA=${tA}, transB=${tB}), writing only C's block, on first use of α, β (epilogue) and after (in place)`, () => {
      // The second call with the same α, β runs a session with them built in, C updated in place.
      for (const round of [0, 1]) {
        shapes.forEach((s, i) => expect(worstRelativeError(native!.sgemm, s, tA, tB, 100 * i + 50 + round + (tA ? 7 : 0) + (tB ? 13 : 0))).toBeLessThan(1));
      }
    });
  }

  it('sends products below sgemmMinWork to the JavaScript loops with the same result', async () => {
    const big = await loadNativeGemm({ sgemmMinWork: 1e12 });
    try {
      const a = randomMatrix32(1, 12);
      const b = randomMatrix32(2, 12);
      const viaLoops = new Float32Array(9);
      const viaNative = new Float32Array(9);
      big.sgemm(false, false, 3, 3, 4, 1, a, 0, b, 0, 0, viaLoops, 0);
      native!.sgemm(false, false, 3, 3, 4, 1, a, 0, b, 0, 0, viaNative, 0);
      for (let i = 0; i < 9; i++) expect(viaNative[i]).toBeCloseTo(viaLoops[i], 5);
    } finally {
      big.dispose();
    }
  });

  it('checks shapes before calling the native kernel', () => {
    expect(() => native!.sgemm(false, false, 2, 2, 2, 1, new Float32Array(3), 0, new Float32Array(4), 0, 0, new Float32Array(4), 0)).toThrow(GemmShapeError);
  });
});

describe.skipIf(native === null)('native gemm (onnxruntime float64) with α and β', () => {
  it('keeps float64 accuracy whether α, β are built into a session (exact in float32) or applied after', async () => {
    const engine = await loadNativeGemm({ precision: 'float64', minWork: 0 });
    try {
      const [m, n, k] = [9, 7, 11];
      for (const [alpha, beta] of [[0.5, 1], [0.3, 0.7], [-2, 0]]) {
        for (const round of [0, 1]) {
          const a = Float64Array.from(uniform(key(round + 1), m * k + 1));
          const b = Float64Array.from(uniform(key(round + 3), k * n));
          const c = Float64Array.from(uniform(key(round + 5), m * n + 2));
          const want = Float64Array.from(c);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let sum = 0;
              for (let p = 0; p < k; p++) sum += a[1 + p * m + i] * b[p * n + j];
              want[2 + i * n + j] = (beta === 0 ? 0 : beta * c[2 + i * n + j]) + alpha * sum;
            }
          }
          engine.gemm(true, false, m, n, k, alpha, a, 1, b, 0, beta, c, 2);
          // Float64 rounding of k terms of size ≤ 1: a few k·2⁻⁵³; 1e-13 would catch float32 α or β (≈ 1e-8).
          for (let i = 0; i < c.length; i++) expect(Math.abs(c[i] - want[i])).toBeLessThan(1e-13);
        }
      }
    } finally {
      engine.dispose();
    }
  });
});
