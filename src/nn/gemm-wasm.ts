/**
 * A WebAssembly SIMD matrix-multiply engine for browsers and Node: the packed, register-blocked
 * kernels of wasm/gemm-wat.ts (Goto & van de Geijn 2008; f64x2 4×4 and f32x4 4×8 micro-tiles),
 * embedded as base64 in src/nn/wasm/gemm-module.ts, so it loads anywhere WebAssembly SIMD does with
 * no Node-only API and no build step. Its `gemm` has the signature of `gemm` (src/nn/gemm.ts) and its
 * `sgemm` the same on Float32Arrays; the caller's matrices are copied into the module's memory and C
 * is copied back (O(mk + kn + mn) next to the O(mnk) product), and products smaller than `minWork`
 * go to a JavaScript kernel instead.
 */
import { blockedGemmEngine, checkGemmShapes, scaleC, type GemmEngine, type GemmFunction } from './gemm-blocked.js';
import { sgemmLoops, type SgemmFunction } from './gemm.js';
import { embeddedWasm, hasWebAssembly } from '../models/wasm/embedded.js';
import { GEMM_BLOCKING_F32, GEMM_BLOCKING_F64, GEMM_WASM_BASE64 } from './wasm/gemm-module.js';

/** Thrown when the WebAssembly engine cannot be created (no WebAssembly or no SIMD support). */
export class WasmGemmUnavailableError extends Error {
  override readonly name = 'WasmGemmUnavailableError';
}

/** Options of {@link loadWasmGemm}. */
export interface WasmGemmOptions {
  /**
   * 'float64' (default, f64x2 kernels) or 'float32': A and B rounded to single precision and
   * multiplied in f32x4, each KC-deep partial sum widened to float64 as it is added into C.
   */
  precision?: 'float64' | 'float32';
  /**
   * Products with m·n·k below this go to `small` (default 2¹⁰: above it the module beats the JS
   * kernels here, copies included). Products with m = 1 or n = 1 always run as JS loops.
   */
  minWork?: number;
  /** The kernel for small products (default the blocked JavaScript kernel). */
  small?: GemmFunction;
  /** The kernel for Float32Array products below `minWork` (default `sgemmLoops` of src/nn/gemm.ts). */
  smallSgemm?: SgemmFunction;
}

/** The WebAssembly engine: `gemm` on Float64Arrays (in its precision) and `sgemm` on Float32Arrays (always float32). */
export interface WasmGemmEngine extends GemmEngine {
  readonly sgemm: SgemmFunction;
}

/** The module's export `gemm_f64` / `gemm_f32` (byte addresses into its memory; m, n, k ≥ 1). */
type ModuleGemm = (
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: number,
  b: number,
  beta: number,
  c: number,
  packA: number,
  packB: number,
  tile: number,
) => void;

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm_f64: ModuleGemm;
  gemm_f32: ModuleGemm;
  sgemm_f32: ModuleGemm;
}

const PAGE_BYTES = 65536;
/** wasm32 addresses are 32-bit; the module computes byte addresses in i32 arithmetic. */
const MAX_MEMORY_BYTES = 2 ** 32 - PAGE_BYTES;

const gemmWasm = embeddedWasm(GEMM_WASM_BASE64);

/** The embedded module's bytes (decoded once; callers must not modify them). */
export function wasmGemmModuleBytes(): Uint8Array<ArrayBuffer> {
  return gemmWasm.bytes();
}

function checkSupport(where: string): void {
  if (!hasWebAssembly()) {
    throw new WasmGemmUnavailableError(`${where}: this runtime has no WebAssembly`);
  }
  const bytes = wasmGemmModuleBytes();
  if (!WebAssembly.validate(bytes)) {
    throw new WasmGemmUnavailableError(`${where}: this runtime does not support WebAssembly SIMD (fixed-width simd128), which the gemm module needs`);
  }
}

interface CheckedOptions {
  precision: 'float64' | 'float32';
  minWork: number;
  small: GemmFunction;
  smallSgemm: SgemmFunction;
}

function checkOptions(where: string, options: WasmGemmOptions): CheckedOptions {
  const precision = options.precision ?? 'float64';
  if (precision !== 'float64' && precision !== 'float32') {
    throw new RangeError(`${where}: precision must be 'float64' or 'float32', got '${String(precision)}'`);
  }
  const minWork = options.minWork ?? 2 ** 10;
  if (!(minWork >= 0)) throw new RangeError(`${where}: minWork must be a number ≥ 0, got ${minWork}`);
  const small = options.small ?? blockedGemmEngine.gemm;
  if (typeof small !== 'function') throw new TypeError(`${where}: small must be a gemm function`);
  const smallSgemm = options.smallSgemm ?? sgemmLoops;
  if (typeof smallSgemm !== 'function') throw new TypeError(`${where}: smallSgemm must be an sgemm function`);
  return { precision, minWork, small, smallSgemm };
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * C ← α op(A) op(B) + β C when C is one row or one column (m = 1 or n = 1): matrix-vector work, where
 * padded micro-tiles would waste MR or NR times the arithmetic and packing would dominate. With
 * `round`, A and B are rounded to single precision first (the float32 engine's contract).
 */
function vectorGemm(
  round: boolean, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, beta: number, c: Float64Array, cOffset: number,
): void {
  scaleC(beta, c, cOffset, m * n);
  if (alpha === 0 || k === 0) return;
  // The output index o runs over C's long side; X is the matrix operand, v the vector one:
  // m = 1: c_j += α Σ_p a_p B(p, j);  n = 1: c_i += α Σ_p A(i, p) b_p.
  const rowOfC = m === 1;
  const count = rowOfC ? n : m;
  const x = rowOfC ? b : a;
  const xBase = rowOfC ? bOffset : aOffset;
  const xOut = rowOfC ? (transB ? k : 1) : transA ? 1 : k;
  const xDepth = rowOfC ? (transB ? 1 : n) : transA ? m : 1;
  const v = rowOfC ? a : b;
  const vBase = rowOfC ? aOffset : bOffset;
  const vDepth = rowOfC ? (transA ? m : 1) : transB ? 1 : n;
  if (xOut === 1) {
    // X's depth-p slice is contiguous over o: axpy passes.
    for (let p = 0; p < k; p++) {
      const vp = v[vBase + p * vDepth];
      const s = alpha * (round ? Math.fround(vp) : vp);
      const base = xBase + p * xDepth;
      if (round) for (let o = 0; o < count; o++) c[cOffset + o] += s * Math.fround(x[base + o]);
      else for (let o = 0; o < count; o++) c[cOffset + o] += s * x[base + o];
    }
    return;
  }
  // X's o-th line is contiguous over p: one dot product per output.
  for (let o = 0; o < count; o++) {
    const base = xBase + o * xOut;
    let sum = 0;
    if (round) for (let p = 0; p < k; p++) sum += Math.fround(v[vBase + p * vDepth]) * Math.fround(x[base + p * xDepth]);
    else for (let p = 0; p < k; p++) sum += v[vBase + p * vDepth] * x[base + p * xDepth];
    c[cOffset + o] += alpha * sum;
  }
}

/** One instance of the module (its own memory and scratch) wrapped as a `GemmFunction`. */
function engineFrom(module: WebAssembly.Module, options: CheckedOptions): WasmGemmEngine {
  const { precision, minWork, small, smallSgemm } = options;
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as GemmExports;
  const memory = exports.memory;
  const run = precision === 'float64' ? exports.gemm_f64 : exports.gemm_f32;
  // Scratch first, sized for both blockings (sgemm uses the f32 one): packed A (mc×kc), packed B
  // (kc×nc), one edge tile of mr×nr f64; the matrices follow.
  const [b64, b32] = [GEMM_BLOCKING_F64, GEMM_BLOCKING_F32];
  const packA = 0;
  const packB = align16(packA + Math.max(b64.mc * b64.kc * 8, b32.mc * b32.kc * 4));
  const tile = align16(packB + Math.max(b64.kc * b64.nc * 8, b32.kc * b32.nc * 4));
  const matrices = align16(tile + Math.max(b64.mr * b64.nr, b32.mr * b32.nr) * 8);
  let heap = new Float64Array(memory.buffer);
  let heap32 = new Float32Array(memory.buffer);

  const ensure = (bytes: number): void => {
    if (bytes > MAX_MEMORY_BYTES) {
      throw new RangeError(`wasmGemm: the product needs ${bytes} bytes of WebAssembly memory, more than the 4 GiB a wasm32 module can address`);
    }
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    // Growing detaches the old buffer, so the view is refreshed whenever the buffer changed.
    if (heap.buffer !== memory.buffer) {
      heap = new Float64Array(memory.buffer);
      heap32 = new Float32Array(memory.buffer);
    }
  };

  const wasm: GemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    checkGemmShapes('wasmGemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
    if (alpha === 0 || k === 0 || m === 0 || n === 0) {
      scaleC(beta, c, cOffset, m * n);
      return;
    }
    const aAt = matrices;
    const bAt = align16(aAt + m * k * 8);
    const cAt = align16(bAt + k * n * 8);
    ensure(cAt + m * n * 8);
    heap.set(a.subarray(aOffset, aOffset + m * k), aAt / 8);
    heap.set(b.subarray(bOffset, bOffset + k * n), bAt / 8);
    // With β = 0 the module never reads C, so NaNs in it are discarded as BLAS does.
    if (beta !== 0) heap.set(c.subarray(cOffset, cOffset + m * n), cAt / 8);
    run(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, aAt, bAt, beta, cAt, packA, packB, tile);
    c.set(heap.subarray(cAt / 8, cAt / 8 + m * n), cOffset);
  };

  const round = precision === 'float32';
  const gemm: GemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    if (m === 1 || n === 1) {
      checkGemmShapes('wasmGemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
      vectorGemm(round, transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
    } else {
      (m * n * k >= minWork ? wasm : small)(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
    }
  };

  const wasmSgemm: SgemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    checkGemmShapes('wasmSgemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
    if (alpha === 0 || k === 0 || m === 0 || n === 0) {
      sgemmLoops(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
      return;
    }
    const aAt = matrices;
    const bAt = align16(aAt + m * k * 4);
    const cAt = align16(bAt + k * n * 4);
    ensure(cAt + m * n * 4);
    heap32.set(a.subarray(aOffset, aOffset + m * k), aAt / 4);
    heap32.set(b.subarray(bOffset, bOffset + k * n), bAt / 4);
    if (beta !== 0) heap32.set(c.subarray(cOffset, cOffset + m * n), cAt / 4);
    exports.sgemm_f32(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, aAt, bAt, beta, cAt, packA, packB, tile);
    c.set(heap32.subarray(cAt / 4, cAt / 4 + m * n), cOffset);
  };

  // One-row or one-column products (matrix-vector work) go to the loops as well, as in `gemm`.
  const sgemm: SgemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    const large = m > 1 && n > 1 && m * n * k >= minWork;
    if (!large) checkGemmShapes('wasmSgemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
    (large ? wasmSgemm : smallSgemm)(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
  };

  return { name: `wasm-simd-${precision}`, precision, gemm, sgemm, dispose() {} };
}

/**
 * Creates the WebAssembly SIMD engine synchronously (for Node and workers; some browsers refuse
 * synchronous compilation on the main thread, where {@link loadWasmGemm} works). Its `gemm` has
 * the signature of src/nn/gemm.ts, C ← α op(A) op(B) + β C on row-major Float64Arrays, and can be
 * installed with `setGemmEngine(engine.gemm)`; its `sgemm` does the same on Float32Arrays in
 * single precision. Each call creates its own instance and memory.
 *
 * @throws WasmGemmUnavailableError if the runtime lacks WebAssembly SIMD; RangeError on bad options.
 */
export function loadWasmGemmSync(options: WasmGemmOptions = {}): WasmGemmEngine {
  const checked = checkOptions('loadWasmGemmSync', options);
  checkSupport('loadWasmGemmSync');
  return engineFrom(gemmWasm.moduleSync(), checked);
}

/**
 * Creates the WebAssembly SIMD engine, compiling the module asynchronously the first time
 * (see {@link loadWasmGemmSync}, which this matches apart from compilation).
 *
 * @throws WasmGemmUnavailableError if the runtime lacks WebAssembly SIMD; RangeError on bad options.
 */
export async function loadWasmGemm(options: WasmGemmOptions = {}): Promise<WasmGemmEngine> {
  const checked = checkOptions('loadWasmGemm', options);
  checkSupport('loadWasmGemm');
  return engineFrom(await gemmWasm.module(), checked);
}
