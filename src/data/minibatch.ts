/**
 * Minibatches drawn without replacement per epoch, as a pure function of (key, step): epoch
 * e = ⌊step / batchesPerEpoch⌋ uses the permutation drawn from `foldIn(key, e)`, so a resumed run
 * sees exactly the batches of an uninterrupted one.
 */
import { foldIn, uniform, type Key } from '../core/random.js';

/** Options of `minibatchAt` and `Minibatcher`. */
export interface MinibatchOptions {
  /**
   * Drop the last, smaller batch of an epoch when `batchSize` does not divide `n` (default true,
   * so every batch has the same size and the N/S likelihood scaling is constant).
   */
  dropLast?: boolean;
}

function checkArguments(n: number, batchSize: number, caller: string): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${caller}: n must be a positive integer, got ${n}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > n) {
    throw new RangeError(`${caller}: batchSize must be an integer in [1, n = ${n}], got ${batchSize}`);
  }
}

function checkStep(step: number, caller: string): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`${caller}: step must be a non-negative integer, got ${step}`);
}

/** Number of batches in one epoch of `n` examples. */
export function batchesPerEpoch(n: number, batchSize: number, options: MinibatchOptions = {}): number {
  checkArguments(n, batchSize, 'batchesPerEpoch');
  return (options.dropLast ?? true) ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * The permutation of 0..n−1 for epoch `epoch`: Fisher–Yates driven by the counter-based uniforms
 * u_i of `foldIn(key, epoch)`; for i = n−1 … 1 swap entry i with entry j = ⌊u_i (i + 1)⌋.
 */
export function epochPermutation(key: Key, n: number, epoch: number, out: Int32Array = new Int32Array(n)): Int32Array {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`epochPermutation: n must be a positive integer, got ${n}`);
  checkStep(epoch, 'epochPermutation');
  const u = uniform(foldIn(key, epoch), n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

function batchFrom(permutation: Int32Array, n: number, batchSize: number, perEpoch: number, step: number): Int32Array {
  const start = (step % perEpoch) * batchSize;
  return permutation.slice(start, Math.min(start + batchSize, n));
}

/**
 * The minibatch (0-based row indices) at `step` of a run over `n` examples: batch
 * b = step mod batchesPerEpoch of epoch e = ⌊step / batchesPerEpoch⌋, i.e. entries
 * [bS, (b+1)S) of `epochPermutation(key, n, e)`. Pure: recomputes the permutation (O(n)); use a
 * `Minibatcher` in loops.
 */
export function minibatchAt(key: Key, n: number, batchSize: number, step: number, options: MinibatchOptions = {}): Int32Array {
  const perEpoch = batchesPerEpoch(n, batchSize, options);
  checkStep(step, 'minibatchAt');
  const permutation = epochPermutation(key, n, Math.floor(step / perEpoch));
  return batchFrom(permutation, n, batchSize, perEpoch, step);
}

/**
 * `minibatchAt` with the current epoch's permutation cached: the same batches, O(batchSize) per
 * step within an epoch. Steps may come in any order (a resumed run starts anywhere).
 */
export class Minibatcher {
  /** Number of batches in one epoch. */
  readonly batchesPerEpoch: number;
  private cachedEpoch = -1;
  private readonly permutation: Int32Array;

  constructor(
    readonly key: Key,
    readonly n: number,
    readonly batchSize: number,
    readonly options: MinibatchOptions = {},
  ) {
    this.batchesPerEpoch = batchesPerEpoch(n, batchSize, options);
    this.permutation = new Int32Array(n);
  }

  /** The epoch that `step` falls in. */
  epochOf(step: number): number {
    return Math.floor(step / this.batchesPerEpoch);
  }

  /** The minibatch at `step`: a fresh array, equal to `minibatchAt(key, n, batchSize, step)`. */
  at(step: number): Int32Array {
    checkStep(step, 'Minibatcher.at');
    const epoch = this.epochOf(step);
    if (epoch !== this.cachedEpoch) {
      epochPermutation(this.key, this.n, epoch, this.permutation);
      this.cachedEpoch = epoch;
    }
    return batchFrom(this.permutation, this.n, this.batchSize, this.batchesPerEpoch, step);
  }
}
