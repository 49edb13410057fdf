/**
 * Shared pieces of the built-in models: the error type, input checks that name what and where,
 * and numerically stable scalar functions.
 */
import type { Dataset, IndexBatch, Vec } from '../core/types.js';

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
