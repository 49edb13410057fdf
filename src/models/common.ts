/**
 * Shared pieces of the built-in models: the error type, input checks that name what and where,
 * and numerically stable scalar functions.
 */
import type { Dataset, IndexBatch, Vec } from '../core/types.js';
import { embeddedWasm } from './wasm/embedded.js';
import { ROW_GATHER_BLOCK, ROW_GATHER_WASM_BASE64 } from './wasm/row-gather-module.js';

/** Bad input to a model: a θ of the wrong length, a row index out of range, bad data or options. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** ½ log(2π), the Gaussian normalising constant per dimension. */
export const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** A positive finite option value, or a `ModelError` naming the model and the option. */
export function positiveOption(model: string, option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelError(`${model}: option ${option} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks a dataset's shape and that every cell of x and y is finite; the error names the source,
 * the row (1-based, as in the file) and the feature.
 */
export function checkDataset(model: string, data: Dataset): void {
  const { rows, cols, x, y, source } = data;
  if (!Number.isInteger(rows) || rows < 1) {
    throw new ModelError(`${model}: dataset ${source} must have at least one row, has ${rows}`);
  }
  if (!Number.isInteger(cols) || cols < 0) {
    throw new ModelError(`${model}: dataset ${source} has an invalid column count ${cols}`);
  }
  if (x.length !== rows * cols) {
    throw new ModelError(`${model}: dataset ${source}: x has ${x.length} entries, expected rows × cols = ${rows} × ${cols}`);
  }
  if (y.length !== rows) {
    throw new ModelError(`${model}: dataset ${source}: y has ${y.length} entries, expected one per row (${rows})`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const row = Math.floor(i / cols);
      const col = i - row * cols;
      const name = data.featureNames[col] ?? `column ${col + 1}`;
      throw new ModelError(`${model}: dataset ${source}: row ${row + 1}, feature "${name}" is ${x[i]} (must be finite)`);
    }
  }
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(y[i])) {
      throw new ModelError(`${model}: dataset ${source}: row ${i + 1}, target "${data.targetName}" is ${y[i]} (must be finite)`);
    }
  }
}

/** Throws unless θ is a `Float64Array` of length `dim`; `layout` describes the expected parts. */
export function checkTheta(where: string, theta: Vec, dim: number, layout: string): void {
  if (!(theta instanceof Float64Array)) {
    throw new ModelError(`${where}: theta must be a Float64Array, got ${Object.prototype.toString.call(theta)}`);
  }
  if (theta.length !== dim) {
    throw new ModelError(`${where}: theta has length ${theta.length}, expected ${dim} (${layout})`);
  }
}

/** Throws unless the batch is an `Int32Array`; indices themselves are checked in the kernels. */
export function checkBatch(where: string, batch: IndexBatch): void {
  if (!(batch instanceof Int32Array)) {
    throw new ModelError(`${where}: batch must be an Int32Array of row indices, got ${Object.prototype.toString.call(batch)}`);
  }
}

/** The error for a row index outside 0..rows−1, thrown from inside a kernel's loop. */
export function badIndex(where: string, batch: IndexBatch, position: number, rows: number): ModelError {
  return new ModelError(`${where}: batch[${position}] = ${batch[position]} is not a row index in 0..${rows - 1}`);
}

/** Throws unless `out` can hold `size` numbers. */
export function checkOut(where: string, out: Float64Array, size: number, shape: string): void {
  if (!(out instanceof Float64Array) || out.length < size) {
    throw new ModelError(`${where}: out must be a Float64Array of at least ${size} entries (${shape}), got length ${out?.length}`);
  }
}

/** The rows 0..n−1 as an index batch. */
export function allRows(n: number): IndexBatch {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/**
 * z_i = x̃_{b_i}ᵀθ for each row index b_i of `batch` (x row-major N × p, x̃ = (x, 1) when
 * `intercept`, the intercept θ_p added first), written into `z`. Four rows share each load of θ_j,
 * and each row's sum runs in the same order as a plain loop, so the bits are those of one.
 *
 * @throws ModelError naming `where` and the position of the first index outside 0..N−1.
 */
export function batchLinearPredictors(
  where: string,
  x: Float64Array,
  p: number,
  rows: number,
  intercept: boolean,
  theta: Vec,
  batch: IndexBatch,
  z: Float64Array,
): void {
  const S = batch.length;
  const start = intercept ? theta[p] : 0;
  let i = 0;
  for (; i + 3 < S; i += 4) {
    const n0 = batch[i];
    const n1 = batch[i + 1];
    const n2 = batch[i + 2];
    const n3 = batch[i + 3];
    // One unsigned compare per row: negative indices wrap to huge values.
    if (n0 >>> 0 >= rows || n1 >>> 0 >= rows || n2 >>> 0 >= rows || n3 >>> 0 >= rows) {
      for (let k = i; k < i + 4; k++) if (batch[k] >>> 0 >= rows) throw badIndex(where, batch, k, rows);
    }
    const o0 = n0 * p;
    const o1 = n1 * p;
    const o2 = n2 * p;
    const o3 = n3 * p;
    let s0 = start;
    let s1 = start;
    let s2 = start;
    let s3 = start;
    for (let j = 0; j < p; j++) {
      const t = theta[j];
      s0 += t * x[o0 + j];
      s1 += t * x[o1 + j];
      s2 += t * x[o2 + j];
      s3 += t * x[o3 + j];
    }
    z[i] = s0;
    z[i + 1] = s1;
    z[i + 2] = s2;
    z[i + 3] = s3;
  }
  for (; i < S; i++) {
    const n = batch[i];
    if (n >>> 0 >= rows) throw badIndex(where, batch, i, rows);
    const o = n * p;
    let s = start;
    for (let j = 0; j < p; j++) s += theta[j] * x[o + j];
    z[i] = s;
  }
}

/**
 * grad_j += Σ_i w_i x̃_{b_i, j} (and grad_p += Σ_i w_i when `intercept`), summed in batch order
 * for every j (the bits of a row-by-row loop), four rows per pass over `grad`. Indices must
 * already be checked (e.g. by {@link batchLinearPredictors}).
 */
export function accumulateWeightedRows(
  x: Float64Array,
  p: number,
  intercept: boolean,
  batch: IndexBatch,
  weights: Float64Array,
  grad: Float64Array,
): void {
  const S = batch.length;
  let i = 0;
  for (; i + 3 < S; i += 4) {
    const o0 = batch[i] * p;
    const o1 = batch[i + 1] * p;
    const o2 = batch[i + 2] * p;
    const o3 = batch[i + 3] * p;
    const w0 = weights[i];
    const w1 = weights[i + 1];
    const w2 = weights[i + 2];
    const w3 = weights[i + 3];
    for (let j = 0; j < p; j++) grad[j] = grad[j] + w0 * x[o0 + j] + w1 * x[o1 + j] + w2 * x[o2 + j] + w3 * x[o3 + j];
    if (intercept) grad[p] = grad[p] + w0 + w1 + w2 + w3;
  }
  for (; i < S; i++) {
    const o = batch[i] * p;
    const w = weights[i];
    for (let j = 0; j < p; j++) grad[j] += w * x[o + j];
    if (intercept) grad[p] += w;
  }
}

/** A scratch array of at least `size` entries: `current` when it is long enough, else a larger one. */
export function scratchOf(current: Float64Array, size: number): Float64Array {
  return current.length >= size ? current : new Float64Array(Math.max(size, 2 * current.length));
}

/** log(1 + eᶻ) without overflow for large z or loss of digits for very negative z. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** σ(z) = 1 / (1 + e⁻ᶻ), evaluated on the side where the exponential cannot overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * log Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 terms; relative error ~1e-15), with
 * the reflection formula below ½.
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let series = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_G + 2; i++) series += LANCZOS_COEFFICIENTS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/** The result of a mode search (Newton or a bound-optimisation method). */
export interface ModeResult {
  /** The maximiser of the log posterior (a fresh array). */
  theta: Vec;
  /** log p(θ) + log p(y | θ) at `theta` (full data, with normalising constants). */
  logPosterior: number;
  /** ‖∇ log posterior‖₂ at `theta`. */
  gradNorm: number;
  /** Iterations taken. */
  iterations: number;
  /** Whether the stopping rule was met before `maxIterations`. */
  converged: boolean;
}

/** Options of a model's `mode()` search. */
export interface ModeOptions {
  /** Starting point (default zeros). */
  initial?: Vec;
  /** Iteration cap (default 100 for Newton, 5000 for bound optimisation). */
  maxIterations?: number;
  /** Stop when ‖∇ log posterior‖∞ ≤ tolerance · (1 + N) (default 1e-10). */
  tolerance?: number;
}

// ---------------------------------------------------------------------------------------------
// Row gathers in WebAssembly

/** Bytes of x above which {@link rowGather} keeps to the JavaScript loops rather than copy x. */
const WASM_MAX_X_BYTES = 256 * 1024 * 1024;

/**
 * Bytes of x above which the batch's rows are touched before the products. An x that fits in L2
 * gains nothing (touching cost 5–10% of a batch-32 gradient at p = 4–11, wine's shape); from
 * 16 MiB it saved 6–20%, and in between it was neutral within SGLD steps (AMD EPYC, 1 MiB L2).
 */
const TOUCH_MIN_X_BYTES = 1024 * 1024;

/**
 * Features below which {@link rowGather} keeps to the JavaScript loops: the WebAssembly path pays
 * ≈ 0.15 µs per call to copy θ, the batch and the weights in and out, which a batch of 32 rows wins
 * back only on wider rows (JS/WebAssembly time 0.7 at p = 4, 0.93 at 11, 1.4 at 50; AMD EPYC).
 */
export const ROW_GATHER_MIN_FEATURES = 16;

/**
 * The two loops of {@link batchLinearPredictors} and {@link accumulateWeightedRows} as WebAssembly
 * (wasm/row-gather-wat.ts, generated into src/models/wasm/row-gather-module.ts by
 * `npm run build:wasm`): the same operations in the same order, so the same bits. Exports
 * `dot(theta, batch, count, p, z, start)`, `acc(grad, batch, count, p, w, intercept)` and
 * `touch(batch, count, p, sink)` over byte offsets into the imported memory; x lives at offset 0
 * and `count` is a multiple of `ROW_GATHER_BLOCK`.
 */
const rowGatherWasm = embeddedWasm(ROW_GATHER_WASM_BASE64);

/** The gathers of a batch's rows of one design matrix: linear predictors and weighted row sums. */
export interface RowGather {
  /** As {@link batchLinearPredictors} on this matrix (same bits, same errors). */
  linearPredictors(where: string, intercept: boolean, theta: Vec, batch: IndexBatch, z: Float64Array): void;
  /** As {@link accumulateWeightedRows} on this matrix (same bits); indices must be checked already. */
  accumulateWeightedRows(intercept: boolean, batch: IndexBatch, weights: Float64Array, grad: Float64Array): void;
}

/**
 * The row gathers over `x` (row-major rows × p): in WebAssembly over a copy of x where that is
 * available, x is at most 256 MiB and has at least `minFeatures` columns (default
 * {@link ROW_GATHER_MIN_FEATURES}), the JavaScript loops otherwise. Both give the same bits.
 * The copy is taken here, so later changes to `x` are not seen (the models validate x once, at
 * construction, and treat it as fixed).
 */
export function rowGather(x: Float64Array, p: number, rows: number, minFeatures = ROW_GATHER_MIN_FEATURES): RowGather {
  const module = x.length * 8 <= WASM_MAX_X_BYTES && p > 0 && p >= minFeatures ? rowGatherWasm.moduleOrNull() : null;
  if (module === null) {
    return {
      linearPredictors: (where, intercept, theta, batch, z) => batchLinearPredictors(where, x, p, rows, intercept, theta, batch, z),
      accumulateWeightedRows: (intercept, batch, weights, grad) => accumulateWeightedRows(x, p, intercept, batch, weights, grad),
    };
  }
  return new WasmRowGather(module, x, p, rows);
}

const WASM_PAGE = 65536;

type DotExport = (theta: number, batch: number, count: number, p: number, z: number, start: number) => void;
type AccExport = (grad: number, batch: number, count: number, p: number, w: number, intercept: number) => void;
type TouchExport = (batch: number, count: number, p: number, sink: number) => void;

/** {@link RowGather} over a copy of x in WebAssembly memory; scratch for θ, z, w and the batch after it. */
class WasmRowGather implements RowGather {
  private readonly memory: WebAssembly.Memory;
  private readonly dot: DotExport;
  private readonly acc: AccExport;
  // Only an x beyond the caches gains from touching the rows first (the bits do not depend on it).
  private readonly touch: TouchExport | null;
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  private capacity = 0;
  // Byte offsets of the scratch regions (θ or the gradient, then z or w, then the batch).
  private readonly vectorAt: number;
  private rowsAt = 0;
  private batchAt = 0;

  constructor(
    module: WebAssembly.Module,
    private readonly x: Float64Array,
    private readonly p: number,
    private readonly rows: number,
  ) {
    this.vectorAt = x.length * 8;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((this.vectorAt + 8 * (p + 1)) / WASM_PAGE) + 1 });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    const exports = instance.exports as unknown as { dot: DotExport; acc: AccExport; touch: TouchExport };
    this.dot = exports.dot;
    this.acc = exports.acc;
    this.touch = x.length * 8 > TOUCH_MIN_X_BYTES ? exports.touch : null;
    this.ensureCapacity(64);
    this.f64.set(x);
  }

  /** Room for `size` rows of scratch; growing the memory replaces the views. */
  private ensureCapacity(size: number): void {
    if (size <= this.capacity) return;
    const capacity = Math.max(size, 2 * this.capacity);
    const rowsAt = this.vectorAt + 8 * (this.p + 1);
    const batchAt = rowsAt + 8 * capacity;
    const needed = batchAt + 4 * capacity;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / WASM_PAGE));
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.capacity = capacity;
    this.rowsAt = rowsAt;
    this.batchAt = batchAt;
  }

  linearPredictors(where: string, intercept: boolean, theta: Vec, batch: IndexBatch, z: Float64Array): void {
    const { p, rows } = this;
    const S = batch.length;
    const blocked = S - (S % ROW_GATHER_BLOCK);
    this.ensureCapacity(S);
    const { f64, i32 } = this;
    const batchIndex = this.batchAt >> 2;
    // Same rule as the JavaScript loop: the first bad index of the first block that has one.
    for (let i = 0; i < S; i++) {
      const n = batch[i];
      if (n >>> 0 >= rows) throw badIndex(where, batch, i, rows);
      i32[batchIndex + i] = n;
    }
    const thetaIndex = this.vectorAt >> 3;
    for (let j = 0; j < p; j++) f64[thetaIndex + j] = theta[j];
    const start = intercept ? theta[p] : 0;
    // The touch's sum goes to θ's unused intercept slot.
    if (this.touch !== null) this.touch(this.batchAt, blocked, p, this.vectorAt + 8 * p);
    this.dot(this.vectorAt, this.batchAt, blocked, p, this.rowsAt, start);
    const zIndex = this.rowsAt >> 3;
    for (let i = 0; i < blocked; i++) z[i] = f64[zIndex + i];
    const x = this.x;
    for (let i = blocked; i < S; i++) {
      const o = batch[i] * p;
      let s = start;
      for (let j = 0; j < p; j++) s += theta[j] * x[o + j];
      z[i] = s;
    }
  }

  accumulateWeightedRows(intercept: boolean, batch: IndexBatch, weights: Float64Array, grad: Float64Array): void {
    const p = this.p;
    const S = batch.length;
    const blocked = S - (S % ROW_GATHER_BLOCK);
    this.ensureCapacity(S);
    const { f64, i32 } = this;
    const batchIndex = this.batchAt >> 2;
    const wIndex = this.rowsAt >> 3;
    for (let i = 0; i < blocked; i++) {
      i32[batchIndex + i] = batch[i];
      f64[wIndex + i] = weights[i];
    }
    const gradIndex = this.vectorAt >> 3;
    const dim = p + (intercept ? 1 : 0);
    for (let j = 0; j < dim; j++) f64[gradIndex + j] = grad[j];
    this.acc(this.vectorAt, this.batchAt, blocked, p, this.rowsAt, intercept ? 1 : 0);
    for (let j = 0; j < dim; j++) grad[j] = f64[gradIndex + j];
    const x = this.x;
    for (let i = blocked; i < S; i++) {
      const o = batch[i] * p;
      const w = weights[i];
      for (let j = 0; j < p; j++) grad[j] += w * x[o + j];
      if (intercept) grad[p] += w;
    }
  }
}
