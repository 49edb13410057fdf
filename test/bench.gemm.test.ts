import { describe, expect, it } from 'vitest';
import { GemmShapeError } from '../src/nn/gemm.js';
import { blockedGemmEngine, gemmBlocked, sizeDispatch, type GemmFunction } from '../src/nn/gemm-blocked.js';
import { gemmModelBytes, loadNativeGemm, NativeGemmUnavailableError } from '../src/nn/gemm-native.js';
import { key, uniform } from '../src/core/random.js';

/** Textbook triple loop: C ← α op(A) op(B) + β C. */
function naiveGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  beta: number,
  c: Float64Array,
  cOffset: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOffset + p * m + i] : a[aOffset + i * k + p];
        const bv = transB ? b[bOffset + j * k + p] : b[bOffset + p * n + j];
        s += av * bv;
      }
      const at = cOffset + i * n + j;
      c[at] = (beta === 0 ? 0 : beta * c[at]) + alpha * s;
    }
  }
}

function randomMatrix(seed: number, length: number): Float64Array {
  const u = uniform(key(seed), length);
  return u.map((v) => 2 * v - 1);
}

interface Case {
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
}

// Shapes cross every block edge of the kernel: MR = NR = 4, MC = 64, KC = 256, NC = 256.
const shapes: Case[] = [
  { m: 1, n: 1, k: 1, alpha: 1, beta: 0 },
  { m: 3, n: 5, k: 7, alpha: 0.5, beta: 1 },
  { m: 4, n: 4, k: 4, alpha: 1, beta: 0 },
  { m: 65, n: 9, k: 257, alpha: -1.5, beta: 0.25 },
  { m: 17, n: 259, k: 33, alpha: 1, beta: 1 },
  { m: 100, n: 10, k: 401, alpha: 1, beta: 0 },
];

/** Max |C_engine − C_naive| over one random case; tolerance: k·ulp-scale rounding of both sums. */
function compare(engine: GemmFunction, c: Case, transA: boolean, transB: boolean, seed: number, tolPerTerm: number): void {
  const aOffset = 3;
  const bOffset = 5;
  const cOffset = 2;
  const a = randomMatrix(seed, aOffset + c.m * c.k);
  const b = randomMatrix(seed + 1, bOffset + c.k * c.n);
  const c0 = randomMatrix(seed + 2, cOffset + c.m * c.n + 4);
  if (c.beta === 0) c0.fill(NaN, cOffset, cOffset + c.m * c.n); // β = 0 must discard NaNs in C
  const want = Float64Array.from(c0);
  const got = Float64Array.from(c0);
  naiveGemm(transA, transB, c.m, c.n, c.k, c.alpha, a, aOffset, b, bOffset, c.beta, want, cOffset);
  engine(transA, transB, c.m, c.n, c.k, c.alpha, a, aOffset, b, bOffset, c.beta, got, cOffset);
  // Entries outside C's block are untouched.
  for (let i = 0; i < cOffset; i++) expect(Object.is(got[i], c0[i])).toBe(true);
  for (let i = cOffset + c.m * c.n; i < got.length; i++) expect(got[i]).toBe(c0[i]);
  let err = 0;
  for (let i = cOffset; i < cOffset + c.m * c.n; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  // Each |term| ≤ |α|, so the sum's rounding error is below k · |α| · tolPerTerm.
  expect(err).toBeLessThanOrEqual(c.k * Math.max(1, Math.abs(c.alpha)) * tolPerTerm + 1e-300);
}

describe('gemmBlocked', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matches the naive product (transA=${transA}, transB=${transB}) across block edges`, () => {
        shapes.forEach((c, i) => compare(gemmBlocked, c, transA, transB, 10 * i + (transA ? 1000 : 0) + (transB ? 2000 : 0), 1e-15));
      });
    }
  }

  it('α = 0 only scales C by β', () => {
    const c = Float64Array.from([1, 2, 3, 4]);
    gemmBlocked(false, false, 2, 2, 3, 0, new Float64Array(6).fill(NaN), 0, new Float64Array(6), 0, 2, c, 0);
    expect(Array.from(c)).toEqual([2, 4, 6, 8]);
  });

  it('refuses buffers too short for the shapes, naming them', () => {
    expect(() => gemmBlocked(false, false, 2, 2, 2, 1, new Float64Array(3), 0, new Float64Array(4), 0, 0, new Float64Array(4), 0)).toThrow(GemmShapeError);
    expect(() => gemmBlocked(false, false, 2, 2, 2, 1, new Float64Array(4), 0, new Float64Array(4), 0, 0, new Float64Array(4), 1)).toThrow(/C 4 from 1/);
    expect(() => gemmBlocked(false, false, -1, 2, 2, 1, new Float64Array(4), 0, new Float64Array(4), 0, 0, new Float64Array(4), 0)).toThrow(/m must be an integer/);
  });

  it('sizeDispatch sends each product to the kernel its size calls for', () => {
    const calls: string[] = [];
    const tag =
      (name: string): GemmFunction =>
      (...args) => {
        calls.push(name);
        blockedGemmEngine.gemm(...args);
      };
    const dispatch = sizeDispatch(tag('small'), tag('large'), 64);
    const a = randomMatrix(1, 64);
    const c = new Float64Array(64);
    dispatch(false, false, 4, 4, 4, 1, a, 0, a, 0, 0, c, 0);
    dispatch(false, false, 3, 4, 4, 1, a, 0, a, 0, 0, c, 0);
    expect(calls).toEqual(['large', 'small']);
  });
});

describe('gemmModelBytes', () => {
  it('encodes a Gemm node with the transpose attributes asked for', () => {
    const text = new TextDecoder('latin1').decode(gemmModelBytes('float32', true, false));
    expect(text).toContain('Gemm');
    expect(text).toContain('transA');
    expect(text).not.toContain('transB');
  });
});

// The native engine needs the optional onnxruntime-node; without it only the error is checked.
let native: Awaited<ReturnType<typeof loadNativeGemm>> | null = null;
let nativeError: unknown = null;
try {
  native = await loadNativeGemm({ minWork: 0 });
} catch (error) {
  nativeError = error;
}

describe('loadNativeGemm', () => {
  it.skipIf(native !== null)('explains how to install onnxruntime-node when it is missing', () => {
    expect(nativeError).toBeInstanceOf(NativeGemmUnavailableError);
    expect((nativeError as Error).message).toMatch(/onnxruntime-node-install=skip/);
  });

  it('refuses bad options', async () => {
    await expect(loadNativeGemm({ threads: 0 })).rejects.toThrow(/threads/);
    await expect(loadNativeGemm({ precision: 'float16' as 'float32' })).rejects.toThrow(/precision/);
  });

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it.skipIf(native === null)(`float64 matches the naive product (transA=${transA}, transB=${transB})`, () => {
        shapes.forEach((c, i) => compare(native!.gemm, c, transA, transB, 7 * i + 1, 1e-15));
      });
    }
  }

  it.skipIf(native === null)('float32 matches to single precision', async () => {
    const engine32 = await loadNativeGemm({ precision: 'float32', minWork: 0 });
    try {
      // Rounding A and B to float32 costs ≈ 2⁻²⁴ relative per term: 1.2e-7 per unit term, doubled for safety.
      shapes.forEach((c, i) => compare(engine32.gemm, c, i % 2 === 0, i % 3 === 0, 5 * i + 3, 2.4e-7));
    } finally {
      engine32.dispose();
    }
  });
});
