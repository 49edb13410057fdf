import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { foldIn, key, normal } from '../src/core/random.js';
import { gemm, GemmShapeError, setGemmEngine, type SgemmFunction } from '../src/nn/gemm.js';
import { loadWasmGemm, loadWasmGemmSync } from '../src/nn/gemm-wasm.js';
import type { GemmFunction } from '../src/nn/gemm-blocked.js';
import { assembleModule, GEMM_MODULE, generatedModuleSource } from '../wasm/assemble.js';

const CASES = [[false, false], [true, false], [false, true], [true, true]] as const;
/** Unit roundoff of float64 and float32. */
const U64 = 2 ** -53;
const U32 = 2 ** -24;

/**
 * The definition, entry by entry, with the deterministic rounding bound of each entry (Higham,
 * Accuracy and Stability of Numerical Algorithms, §3.1: |fl(Σ x_p y_p) − Σ x_p y_p| ≤ γ_k Σ |x_p y_p|).
 * `round` maps A and B before multiplying (Math.fround for the float32 mode's reference).
 */
function reference(
  tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number, beta: number, c: Float64Array, cOff: number,
  round: (v: number) => number = (v) => v,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = round(tA ? a[aOff + p * m + i] : a[aOff + i * k + p]);
        const y = round(tB ? b[bOff + j * k + p] : b[bOff + p * n + j]);
        s += x * y;
        abs += Math.abs(x * y);
      }
      const old = beta === 0 ? 0 : beta * c[cOff + i * n + j];
      value[i * n + j] = alpha * s + old;
      scale[i * n + j] = Math.abs(alpha) * abs + Math.abs(old);
    }
  }
  return { value, scale };
}

/** Runs `fn` and the reference on the same random inputs; returns the worst |error| / bound. */
function worstError(
  fn: GemmFunction, tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
  seed: number, unit: number, round?: (v: number) => number,
): number {
  const base = key(seed);
  const [aOff, bOff, cOff] = [3, 1, 2];
  const a = normal(foldIn(base, 1), aOff + m * k + 2);
  const b = normal(foldIn(base, 2), bOff + k * n + 2);
  const c = normal(foldIn(base, 3), cOff + m * n + 2);
  const { value, scale } = reference(tA, tB, m, n, k, alpha, a, aOff, b, bOff, beta, c, cOff, round);
  const before = c.slice();
  fn(tA, tB, m, n, k, alpha, a, aOff, b, bOff, beta, c, cOff);
  // Entries outside the m×n block at cOffset are untouched.
  for (let i = 0; i < cOff; i++) expect(c[i]).toBe(before[i]);
  for (let i = cOff + m * n; i < c.length; i++) expect(c[i]).toBe(before[i]);
  let worst = 0;
  for (let i = 0; i < m * n; i++) {
    // Both sums err by at most γ_k·scale each, plus a few roundings of α and β: (2k + 4)·u·scale.
    const bound = (2 * k + 4) * unit * scale[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(c[cOff + i] - value[i]) / bound);
  }
  return worst;
}

/** `worstError` for `sgemm`: the same inputs held in Float32Arrays, the reference in float64 on them. */
function worstSgemmError(
  fn: SgemmFunction, tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, beta: number, seed: number,
): number {
  const base = key(seed);
  const [aOff, bOff, cOff] = [1, 2, 3];
  const a = Float32Array.from(normal(foldIn(base, 1), aOff + m * k + 2));
  const b = Float32Array.from(normal(foldIn(base, 2), bOff + k * n + 2));
  const c = Float32Array.from(normal(foldIn(base, 3), cOff + m * n + 2));
  const { value, scale } = reference(tA, tB, m, n, k, alpha, Float64Array.from(a), aOff, Float64Array.from(b), bOff, beta, Float64Array.from(c), cOff);
  const before = c.slice();
  fn(tA, tB, m, n, k, alpha, a, aOff, b, bOff, beta, c, cOff);
  for (let i = 0; i < cOff; i++) expect(c[i]).toBe(before[i]);
  for (let i = cOff + m * n; i < c.length; i++) expect(c[i]).toBe(before[i]);
  let worst = 0;
  for (let i = 0; i < m * n; i++) {
    // Single-precision sums and the roundings of α·acc, β·C and the store: (2k + 6)·u₃₂·scale.
    const bound = (2 * k + 6) * U32 * scale[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(c[cOff + i] - value[i]) / bound);
  }
  return worst;
}

const SIZES = [1, 3, 17, 33, 65, 129];
/** Every size in every position (rotations), shapes that cross the MC, KC and NC block edges, and a dot product. */
const SHAPES: [number, number, number][] = [
  ...SIZES.map((_, r) => [SIZES[r], SIZES[(r + 1) % 6], SIZES[(r + 2) % 6]] as [number, number, number]),
  ...SIZES.map((_, r) => [SIZES[r], SIZES[(r + 3) % 6], SIZES[(r + 5) % 6]] as [number, number, number]),
  [129, 129, 129],
  [67, 9, 600],
  [5, 1030, 7],
  [1, 1, 1000],
];

describe('WebAssembly gemm engine', () => {
  it('the committed module is what wasm/gemm-wat.ts assembles to (npm run build:wasm regenerates it)', async () => {
    const bytes = await assembleModule(GEMM_MODULE);
    expect(readFileSync(GEMM_MODULE.outputPath, 'utf8')).toBe(generatedModuleSource(GEMM_MODULE, bytes));
  });

  it('float64 matches the definition within the rounding bound: four transpose cases, odd shapes, offsets, α and β', () => {
    const { gemm: wasm } = loadWasmGemmSync({ minWork: 0 });
    let seed = 100;
    for (const [tA, tB] of CASES) {
      for (const [m, n, k] of SHAPES) {
        const [alpha, beta] = [[1, 0], [-0.7, 1], [1.3, -0.4]][seed % 3];
        expect(worstError(wasm, tA, tB, m, n, k, alpha, beta, seed++, U64), `${tA} ${tB} ${m}×${n}×${k} α=${alpha} β=${beta}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('float32 rounds A and B to single precision and stays within the single-precision bound', () => {
    const { gemm: wasm32, precision } = loadWasmGemmSync({ precision: 'float32', minWork: 0 });
    expect(precision).toBe('float32');
    let seed = 500;
    for (const [tA, tB] of CASES) {
      for (const [m, n, k] of SHAPES) {
        const [alpha, beta] = [[1, 0], [0.5, 1], [-2, 0.25]][seed % 3];
        expect(worstError(wasm32, tA, tB, m, n, k, alpha, beta, seed++, U32, Math.fround), `${tA} ${tB} ${m}×${n}×${k}`).toBeLessThanOrEqual(1);
      }
    }
    // It really computes in single precision: against exact float64 inputs it misses the float64 bound.
    expect(worstError(wasm32, false, false, 33, 17, 129, 1, 0, 7, U64)).toBeGreaterThan(1e3);
  });

  it('sgemm on Float32Arrays matches the definition within the single-precision bound, and discards NaN in C when β = 0', () => {
    const { sgemm } = loadWasmGemmSync({ minWork: 0 });
    let seed = 900;
    for (const [tA, tB] of CASES) {
      for (const [m, n, k] of SHAPES) {
        const [alpha, beta] = [[1, 0], [0.5, 1], [-2, 0.25]][seed % 3];
        expect(worstSgemmError(sgemm, tA, tB, m, n, k, alpha, beta, seed++), `${tA} ${tB} ${m}×${n}×${k}`).toBeLessThanOrEqual(1);
      }
    }
    const c = new Float32Array(6).fill(NaN);
    sgemm(false, false, 2, 3, 2, 1, Float32Array.from([1, 2, 3, 4]), 0, Float32Array.from([1, 0, 2, 0, 1, 1]), 0, 0, c, 0);
    expect(Array.from(c)).toEqual([1, 2, 4, 3, 4, 10]);
    expect(() => sgemm(false, false, 2, 2, 2, 1, new Float32Array(3), 0, new Float32Array(4), 0, 0, new Float32Array(4), 0)).toThrow(/wasmSgemm: buffers too short/);
  });

  it('β = 0 discards NaN in C; α = 0 or k = 0 only scales C; results are the same bits on every call', () => {
    for (const precision of ['float64', 'float32'] as const) {
      const { gemm: wasm } = loadWasmGemmSync({ precision, minWork: 0 });
      const c = new Float64Array(2 * 5).fill(NaN);
      const a = normal(key(1), 2 * 9);
      const b = normal(key(2), 9 * 5);
      wasm(false, false, 2, 5, 9, 1, a, 0, b, 0, 0, c, 0);
      expect(c.every(Number.isFinite)).toBe(true);
      const again = new Float64Array(10).fill(NaN);
      wasm(false, false, 2, 5, 9, 1, a, 0, b, 0, 0, again, 0);
      expect(Array.from(again)).toEqual(Array.from(c));
      const scaled = Float64Array.from([1, NaN, 3]);
      wasm(false, false, 1, 3, 4, 0, a, 0, b, 0, 2, scaled, 0);
      expect(Array.from(scaled)).toEqual([2, NaN, 6]);
      const zeroed = Float64Array.from([1, NaN, 3]);
      wasm(true, true, 1, 3, 0, 1, a, 0, b, 0, 0, zeroed, 0);
      expect(Array.from(zeroed)).toEqual([0, 0, 0]);
    }
  });

  it('rejects buffers too short for the shape and bad options, naming the function', () => {
    const { gemm: wasm } = loadWasmGemmSync({ minWork: 0 });
    const short = (): void => wasm(false, false, 4, 4, 4, 1, new Float64Array(16), 1, new Float64Array(16), 0, 0, new Float64Array(16), 0);
    expect(short).toThrow(GemmShapeError);
    expect(short).toThrow(/wasmGemm: buffers too short for m=4, n=4, k=4/);
    expect(() => wasm(false, false, -1, 4, 4, 1, new Float64Array(16), 0, new Float64Array(16), 0, 0, new Float64Array(16), 0)).toThrow(/m must be an integer/);
    expect(() => loadWasmGemmSync({ precision: 'float16' as 'float32' })).toThrow(/precision must be 'float64' or 'float32'/);
    expect(() => loadWasmGemmSync({ minWork: NaN })).toThrow(/minWork must be a number ≥ 0/);
  });

  it('sends products below minWork to the small kernel and the rest to WebAssembly', () => {
    const seen: number[] = [];
    const small: GemmFunction = (_tA, _tB, m, n, k, _alpha, _a, _aOff, _b, _bOff, _beta, c, cOff) => {
      seen.push(m * n * k);
      c.fill(-1, cOff, cOff + m * n);
    };
    const smallSgemm: SgemmFunction = (_tA, _tB, m, n, k) => {
      seen.push(-m * n * k);
    };
    const { gemm: wasm, sgemm } = loadWasmGemmSync({ minWork: 64, small, smallSgemm });
    sgemm(false, false, 2, 2, 2, 1, new Float32Array(4), 0, new Float32Array(4), 0, 0, new Float32Array(4), 0);
    const a = normal(key(3), 64);
    const b = normal(key(4), 64);
    const c = new Float64Array(64);
    wasm(false, false, 3, 3, 3, 1, a, 0, b, 0, 0, c, 0);
    wasm(false, false, 4, 4, 4, 1, a, 0, b, 0, 0, c, 0);
    expect(seen).toEqual([-8, 27]);
    expect(c[0]).toBeCloseTo(a[0] * b[0] + a[1] * b[4] + a[2] * b[8] + a[3] * b[12], 14);
  });

  it('async loading gives the same bits as sync, and installs behind setGemmEngine', async () => {
    const asyncEngine = await loadWasmGemm();
    const syncEngine = loadWasmGemmSync();
    const [m, n, k] = [40, 30, 50];
    const a = normal(key(5), m * k);
    const b = normal(key(6), k * n);
    const viaAsync = new Float64Array(m * n);
    const viaSync = new Float64Array(m * n);
    asyncEngine.gemm(false, true, m, n, k, 1, a, 0, b, 0, 0, viaAsync, 0);
    syncEngine.gemm(false, true, m, n, k, 1, a, 0, b, 0, 0, viaSync, 0);
    expect(Array.from(viaAsync)).toEqual(Array.from(viaSync));
    const viaGemm = new Float64Array(m * n);
    setGemmEngine(asyncEngine.gemm);
    try {
      gemm(false, true, m, n, k, 1, a, 0, b, 0, 0, viaGemm, 0);
    } finally {
      setGemmEngine(null);
    }
    expect(Array.from(viaGemm)).toEqual(Array.from(viaSync));
  });
});
