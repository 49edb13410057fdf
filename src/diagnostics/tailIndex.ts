/**
 * Tail-index (α) estimators for heavy-tailed samples: gradient noise and iterates of stochastic
 * optimisation (Şimşekli, Sagun & Gürbüzbalaban 2019, "A tail-index analysis of stochastic gradient
 * noise in deep neural networks", ICML; Dupuis & Viallard 2023, arXiv 2312.00427).
 *
 * - `blockSumTailIndex`: the block-sum estimator of Mohammadi, Mohammadpour & Ogata 2015
 *   (Metrika 78, Cor. 2.4), the estimator Şimşekli et al. use; for vectors, pooled over coordinates
 *   or on Euclidean norms.
 * - `orderStatisticTailIndex`: the same scaling identity read off medians instead of mean logs.
 * - `hillTailIndex`: the Hill (1975) estimator on the k largest |X|.
 *
 * All assume the samples are independent; the block-sum estimators also assume a strictly stable
 * (symmetric, centred) law, so that a sum of m draws has the law of m^{1/α} times one draw.
 */
import type { IndexBatch, Target, Vec } from '../core/types.js';
import type { Key } from '../core/random.js';
import { foldIn, uniform } from '../core/random.js';

/** Thrown for samples or options the estimators cannot use; the message names the function and value. */
export class TailIndexError extends RangeError {
  override name = 'TailIndexError';
}

/** Machine epsilon, added inside logs as in the notes so zero samples do not give −∞. */
const LOG_EPSILON = 2 ** -52;

/** Options of the block-sum estimators. */
export interface BlockSumOptions {
  /**
   * Block length K₁ ≥ 2 (default `defaultBlockSize(count)`). Samples past K₁·⌊K/K₁⌋ are dropped.
   */
  blockSize?: number;
}

/** Options of the vector block-sum estimator. */
export interface VectorBlockSumOptions extends BlockSumOptions {
  /**
   * 'pooled' (default): every coordinate is a scalar sample blocked along the draws, and the log
   * averages are pooled over coordinates (Şimşekli et al. 2019 treat the coordinates of the noise
   * as draws of one law). 'norm': the estimator on Euclidean norms ‖X_k‖ and ‖Y_i‖, valid for any
   * strictly α-stable vector (isotropic or not), since Σ_{j≤m} X_j has the law of m^{1/α} X.
   */
  mode?: 'pooled' | 'norm';
  /**
   * Subtract a per-coordinate centre before estimating (default 'none'): 'median' is the robust
   * choice for iterates, whose mean may not exist for α ≤ 1.
   */
  centre?: 'none' | 'mean' | 'median';
}

/**
 * The default block length for K samples: the largest divisor of K not above √K (the notes' choice,
 * so no sample is dropped); if that divisor is below √K/2 (K prime or nearly), ⌊√K⌋ instead, which
 * drops fewer than √K trailing samples. Balancing K₁ ≈ K₂ ≈ √K trades the log K₁ denominator against
 * the 1/√K₂ noise of the block average.
 */
export function defaultBlockSize(count: number): number {
  if (!Number.isSafeInteger(count) || count < 4) {
    throw new TailIndexError(`defaultBlockSize: need at least 4 samples, got ${count}`);
  }
  const root = Math.floor(Math.sqrt(count));
  for (let m = root; m >= 2; m--) {
    if (count % m === 0) return 2 * m >= root ? m : root;
  }
  return root;
}

function resolveBlockSize(what: string, count: number, blockSize: number | undefined): number {
  if (count < 4) throw new TailIndexError(`${what}: need at least 4 samples, got ${count}`);
  const m = blockSize ?? defaultBlockSize(count);
  if (!Number.isSafeInteger(m) || m < 2 || m > count / 2) {
    throw new TailIndexError(`${what}: blockSize must be an integer in [2, ${Math.floor(count / 2)}], got ${m}`);
  }
  return m;
}

function checkFinite(what: string, samples: ArrayLike<number>): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new TailIndexError(`${what}: sample ${i} is not finite (${samples[i]})`);
    }
  }
}

/**
 * The block-sum tail-index estimator (Mohammadi, Mohammadpour & Ogata 2015, Cor. 2.4; Şimşekli et
 * al. 2019, Sec. 3). From K = K₁K₂ samples X_k and block sums Y_i = Σ_{j=1}^{K₁} X_{(i−1)K₁+j}:
 *
 *   1/α̂ = (1 / log K₁) · [ (1/K₂) Σ_i log|Y_i| − (1/K) Σ_k log|X_k| ],
 *
 * which is consistent because Y_i has the law of K₁^{1/α} X for a strictly α-stable X. The samples
 * must be centred (symmetric about 0). Returns α̂, not clipped: values above 2 mean light tails
 * (Gaussian noise gives α̂ ≈ 2 up to sampling error); a non-positive bracket gives +∞.
 */
export function blockSumTailIndex(samples: ArrayLike<number>, options: BlockSumOptions = {}): number {
  checkFinite('blockSumTailIndex', samples);
  const m = resolveBlockSize('blockSumTailIndex', samples.length, options.blockSize);
  const blocks = Math.floor(samples.length / m);
  let logSamples = 0;
  let logBlocks = 0;
  for (let i = 0; i < blocks; i++) {
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const x = samples[i * m + j];
      sum += x;
      logSamples += Math.log(Math.abs(x) + LOG_EPSILON);
    }
    logBlocks += Math.log(Math.abs(sum) + LOG_EPSILON);
  }
  return inverse((logBlocks / blocks - logSamples / (blocks * m)) / Math.log(m));
}

function inverse(invAlpha: number): number {
  return invAlpha > 0 ? 1 / invAlpha : Number.POSITIVE_INFINITY;
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function centred(samples: Float64Array, count: number, dim: number, centre: 'none' | 'mean' | 'median'): Float64Array {
  if (centre === 'none') return samples;
  const out = Float64Array.from(samples.subarray(0, count * dim));
  const column = new Float64Array(count);
  for (let c = 0; c < dim; c++) {
    for (let k = 0; k < count; k++) column[k] = out[k * dim + c];
    let middle: number;
    if (centre === 'mean') {
      middle = 0;
      for (let k = 0; k < count; k++) middle += column[k];
      middle /= count;
    } else {
      middle = median(column);
    }
    for (let k = 0; k < count; k++) out[k * dim + c] -= middle;
  }
  return out;
}

/**
 * The block-sum estimator for K draws of a d-dimensional vector, `samples` row-major K × d (one draw
 * per row). Blocks run along the draws, never across coordinates of one draw (those may be
 * dependent). Pooled mode (default): with Y_{i,c} = Σ_{j≤K₁} X_{(i−1)K₁+j, c},
 *
 *   1/α̂ = (1 / log K₁) · [ (1/(K₂d)) Σ_{i,c} log|Y_{i,c}| − (1/(Kd)) Σ_{k,c} log|X_{k,c}| ];
 *
 * norm mode: the same with log‖Y_i‖ and log‖X_k‖ (Mohammadi et al. 2015, Cor. 2.4, on norms).
 * Use `centre` for samples not centred at 0 (iterates). Iterates of a chain are correlated, which
 * breaks the identity (positively correlated blocks have inflated sums, so α̂ is biased low): thin
 * them to near-independence first.
 */
export function blockSumTailIndexVectors(
  samples: Float64Array,
  dim: number,
  options: VectorBlockSumOptions = {},
): number {
  const what = 'blockSumTailIndexVectors';
  if (!Number.isSafeInteger(dim) || dim < 1) throw new TailIndexError(`${what}: dim must be a positive integer, got ${dim}`);
  if (samples.length % dim !== 0) {
    throw new TailIndexError(`${what}: samples has length ${samples.length}, not a multiple of dim ${dim}`);
  }
  checkFinite(what, samples);
  const count = samples.length / dim;
  const m = resolveBlockSize(what, count, options.blockSize);
  const blocks = Math.floor(count / m);
  const x = centred(samples, count, dim, options.centre ?? 'none');
  const mode = options.mode ?? 'pooled';
  const blockSum = new Float64Array(dim);
  let logSamples = 0;
  let logBlocks = 0;
  for (let i = 0; i < blocks; i++) {
    blockSum.fill(0);
    for (let j = 0; j < m; j++) {
      const row = (i * m + j) * dim;
      let squared = 0;
      for (let c = 0; c < dim; c++) {
        const v = x[row + c];
        blockSum[c] += v;
        if (mode === 'pooled') logSamples += Math.log(Math.abs(v) + LOG_EPSILON);
        else squared += v * v;
      }
      if (mode === 'norm') logSamples += Math.log(Math.sqrt(squared) + LOG_EPSILON);
    }
    if (mode === 'pooled') {
      for (let c = 0; c < dim; c++) logBlocks += Math.log(Math.abs(blockSum[c]) + LOG_EPSILON);
    } else {
      let squared = 0;
      for (let c = 0; c < dim; c++) squared += blockSum[c] * blockSum[c];
      logBlocks += Math.log(Math.sqrt(squared) + LOG_EPSILON);
    }
  }
  const perBlock = mode === 'pooled' ? blocks * dim : blocks;
  return inverse((logBlocks / perBlock - logSamples / (perBlock * m)) / Math.log(m));
}

/**
 * The order-statistic variant of the block-sum estimator: the same identity Y =ᵈ K₁^{1/α} X read
 * off medians (sample order statistics) of |Y_i| and |X_k| instead of mean logs,
 *
 *   1/α̂ = (log median|Y| − log median|X|) / log K₁,
 *
 * a cross-check that ignores the extreme samples entirely (after the order-statistic form of
 * Mohammadi et al. 2015, Cor. 2.2, as summarised in the project's paper notes). Centred samples only.
 */
export function orderStatisticTailIndex(samples: ArrayLike<number>, options: BlockSumOptions = {}): number {
  checkFinite('orderStatisticTailIndex', samples);
  const m = resolveBlockSize('orderStatisticTailIndex', samples.length, options.blockSize);
  const blocks = Math.floor(samples.length / m);
  const absSamples = new Float64Array(blocks * m);
  const absBlocks = new Float64Array(blocks);
  for (let i = 0; i < blocks; i++) {
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const x = samples[i * m + j];
      sum += x;
      absSamples[i * m + j] = Math.abs(x);
    }
    absBlocks[i] = Math.abs(sum);
  }
  return inverse((Math.log(median(absBlocks) + LOG_EPSILON) - Math.log(median(absSamples) + LOG_EPSILON)) / Math.log(m));
}

/** Options of the Hill estimator. */
export interface HillOptions {
  /** Number k of upper order statistics (default ⌊√n⌋, a standard rule that lets k → ∞ and k/n → 0). */
  k?: number;
}

/**
 * The Hill (1975) estimator of the tail index of |X|: with |X|_(1) ≥ |X|_(2) ≥ … the order
 * statistics,
 *
 *   1/α̂ = (1/k) Σ_{i=1}^{k} log |X|_(i) − log |X|_(k+1)
 *
 * (Hill 1975, Ann. Statist. 3, Eq. 1.3). Exact for Pareto tails (k α̂⁻¹ α ~ Gamma(k, 1)); for α-stable
 * laws with α near 2 the tail is Pareto only far out and k = √n overestimates α.
 */
export function hillTailIndex(samples: ArrayLike<number>, options: HillOptions = {}): number {
  checkFinite('hillTailIndex', samples);
  const n = samples.length;
  if (n < 3) throw new TailIndexError(`hillTailIndex: need at least 3 samples, got ${n}`);
  const k = options.k ?? Math.floor(Math.sqrt(n));
  if (!Number.isSafeInteger(k) || k < 1 || k >= n) {
    throw new TailIndexError(`hillTailIndex: k must be an integer in [1, ${n - 1}], got ${k}`);
  }
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = Math.abs(samples[i]);
  sorted.sort();
  const threshold = sorted[n - 1 - k];
  if (threshold <= 0) {
    throw new TailIndexError(`hillTailIndex: the (k+1)-th largest |x| is 0; choose a smaller k than ${k}`);
  }
  let logSum = 0;
  for (let i = 0; i < k; i++) logSum += Math.log(sorted[n - 1 - i]);
  return inverse(logSum / k - Math.log(threshold));
}

/** Options of the gradient-noise diagnostics. */
export interface GradientNoiseOptions {
  /** Minibatch size S (drawn uniformly without replacement from `target.fullBatch()`). */
  batchSize: number;
  /** Number of minibatch gradients to draw (≥ 4; ~10⁴ gives α̂ to about ±0.05 in moderate d). */
  samples: number;
  /** Block length of the block-sum estimators (default `defaultBlockSize(samples)`). */
  blockSize?: number;
}

/** The tail index of a target's gradient noise at θ, by several estimators. */
export interface GradientNoiseTailIndex {
  /** Block-sum estimate pooled over coordinates (the Şimşekli et al. 2019 statistic). */
  alpha: number;
  /** Block-sum estimate on the noise vectors' Euclidean norms. */
  alphaNorm: number;
  /** Hill estimate on the pooled |coordinates| with k = √(samples · dim). */
  alphaHill: number;
  batchSize: number;
  samples: number;
  dim: number;
}

/**
 * `samples` draws of the minibatch gradient noise of the empirical risk at θ, row-major samples × d:
 *
 *   ξ_s = ∇F̂_{B_s}(θ) − ∇F̂_S(θ),   F̂_B(θ) = −(1/|B|) Σ_{i∈B} log p(x_i | θ),
 *
 * B_s a uniform minibatch (without replacement) of `target.fullBatch()`, drawn from `foldIn(key, s)`
 * only; the prior cancels in the difference. This is the noise SGD adds to the gradient flow
 * (Şimşekli et al. 2019, Eq. 3).
 */
export function gradientNoiseSamples(
  target: Target<IndexBatch>,
  theta: Vec,
  key: Key,
  options: Pick<GradientNoiseOptions, 'batchSize' | 'samples'>,
): Float64Array {
  const what = 'gradientNoiseSamples';
  const { batchSize, samples } = options;
  const dim = target.dim;
  if (theta.length !== dim) throw new TailIndexError(`${what}: theta has length ${theta.length}, target.dim is ${dim}`);
  const full = target.fullBatch();
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > full.length) {
    throw new TailIndexError(`${what}: batchSize must be an integer in [1, ${full.length}], got ${batchSize}`);
  }
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new TailIndexError(`${what}: samples must be a positive integer, got ${samples}`);
  }
  const fullGrad = target.logLikelihood(theta, full).grad;
  const fullScale = -1 / full.length;
  const batchScale = -1 / batchSize;
  const out = new Float64Array(samples * dim);
  // One permutation, partially shuffled per sample and then restored, so each batch costs O(S).
  const order = Int32Array.from({ length: full.length }, (_, i) => i);
  const swapped = new Int32Array(batchSize);
  const batch = new Int32Array(batchSize);
  const u = new Float64Array(batchSize);
  for (let s = 0; s < samples; s++) {
    uniform(foldIn(key, s), batchSize, u);
    for (let j = 0; j < batchSize; j++) {
      const pick = j + Math.floor(u[j] * (full.length - j));
      swapped[j] = pick;
      const tmp = order[j];
      order[j] = order[pick];
      order[pick] = tmp;
      batch[j] = full[order[j]];
    }
    for (let j = batchSize - 1; j >= 0; j--) {
      const pick = swapped[j];
      const tmp = order[j];
      order[j] = order[pick];
      order[pick] = tmp;
    }
    const grad = target.logLikelihood(theta, batch).grad;
    const row = s * dim;
    for (let c = 0; c < dim; c++) out[row + c] = batchScale * grad[c] - fullScale * fullGrad[c];
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new TailIndexError(`${what}: gradient noise sample ${Math.floor(i / dim)} coordinate ${i % dim} is not finite`);
    }
  }
  return out;
}

/**
 * The diagnostic every run exposes: the tail index of the minibatch gradient noise at θ
 * (Şimşekli, Sagun & Gürbüzbalaban 2019). Draws `samples` noise vectors with
 * `gradientNoiseSamples` and estimates α by the pooled and norm block-sum estimators and by Hill.
 * α̂ well below 2 means heavy-tailed SGD noise; note that with a finite training set the noise is
 * bounded, so α̂ measures the apparent tail at this sample size, not an asymptotic one.
 */
export function gradientNoiseTailIndex(
  target: Target<IndexBatch>,
  theta: Vec,
  key: Key,
  options: GradientNoiseOptions,
): GradientNoiseTailIndex {
  const noise = gradientNoiseSamples(target, theta, key, options);
  const dim = target.dim;
  const blockSize = options.blockSize;
  return {
    alpha: blockSumTailIndexVectors(noise, dim, { blockSize, mode: 'pooled' }),
    alphaNorm: blockSumTailIndexVectors(noise, dim, { blockSize, mode: 'norm' }),
    alphaHill: hillTailIndex(noise),
    batchSize: options.batchSize,
    samples: options.samples,
    dim,
  };
}
