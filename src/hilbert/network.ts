/**
 * The two-layer network of Suzuki 2020 ("Generalization bound of globally optimal non-convex neural
 * network training: transportation map estimation by infinite dimensional Langevin dynamics",
 * NeurIPS), in the paper's discrete-index variant with learned output weights and the clipped map:
 *
 *   f_W(x) = Σ_{m=1}^{M} ā_m tanh(w̄_mᵀx + b̄_m),   W̄ = R tanh(W/R) elementwise (identity without R),
 *
 * truncated at a user-chosen width M. The output weight a_m is part of the transported parameter
 * (the paper's W̄_2(a)), so both layers are damped together by the regulariser: unit m has prior
 * scale √μ_m ∝ 1/m on a_m and on w_m, the product ā_m·tanh(·) is O(m^{-2}) and the sum converges as
 * M → ∞ — the function, the risk and its gradient have a width-independent limit. No 1/M factor is
 * needed (unlike the mean-field Eq. 1), because the spectrum does the damping.
 *
 * tanh is 1-Lipschitz and C^∞, as the paper's Theorem 2 needs. The empirical risk is the mean loss
 * L̂(W) = (1/n) Σ_i ℓ(y_i, f_W(x_i)) with ℓ = ½(y − f)² (regression) or ℓ = log(1 + e^f) − y f,
 * y ∈ {0, 1} (logistic classification).
 *
 * θ layout (unit-major, p = d + 1 + [bias] numbers per unit): [a_m, w_m1 … w_md, b_m] for m = 1…M.
 */
import type { Dataset, IndexBatch, Vec } from '../core/types.js';
import { normal, type Key } from '../core/random.js';
import { neuronSpectrum } from './basis.js';
import { HilbertError, integerAtLeast, positiveFinite } from './errors.js';
import type { RiskModel } from './langevin.js';

/** The loss ℓ(y, f) of the network. */
export type HilbertLoss = 'squared' | 'logistic';

/** Options of {@link twoLayerNetwork}. */
export interface TwoLayerNetworkOptions {
  /** M, the number of hidden units (the truncation level of the infinite-dimensional model). */
  width: number;
  /** 'squared' (default): ½(y − f)²; 'logistic': log(1 + e^f) − y f with y ∈ {0, 1}. */
  loss?: HilbertLoss;
  /** Give each unit a bias b_m (default true). */
  bias?: boolean;
  /** R > 0: use the clipped map W̄ = R tanh(W/R) (Suzuki 2020, Sec. 4); absent: W̄ = W. */
  clip?: number;
  /** c_μ of the spectrum μ_m = c_μ m^{-decay} (default 1); see `neuronSpectrum`. */
  spectrumScale?: number;
  /** The decay exponent of the spectrum (default 2). */
  spectrumDecay?: number;
}

/** A two-layer network on a training set: a {@link RiskModel} with predictions and prior draws. */
export interface TwoLayerNetwork extends RiskModel<IndexBatch> {
  readonly data: Dataset;
  /** M. */
  readonly width: number;
  /** d, the number of input features. */
  readonly inputDim: number;
  /** p = d + 1 + [bias], the numbers per unit. */
  readonly paramsPerNeuron: number;
  readonly hasBias: boolean;
  /** R of the clipped map, or undefined. */
  readonly clip: number | undefined;
  readonly loss: HilbertLoss;
  /** A human-readable description of the θ layout. */
  readonly layout: string;
  /**
   * The mean loss over the batch, (1/S) Σ_{i∈batch} ℓ(y_i, f_W(x_i)) — an unbiased estimate of L̂(W)
   * for uniformly drawn batches — and, if `grad` is given, its gradient written into `grad`.
   */
  risk(theta: Vec, batch: IndexBatch, grad?: Vec): number;
  /** f_W(x) for each row of `x` (rows × d, row-major). */
  predict(theta: Vec, x: Float64Array, out?: Float64Array): Float64Array;
  /** The mean loss of f_W on other data (x rows × d, y one per row), e.g. a test set. */
  meanLoss(theta: Vec, x: Float64Array, y: Float64Array): number;
  /**
   * A draw from the Gaussian reference measure ν_β = N(0, (βA)^{-1}): coordinate k has variance
   * μ_k/precisionScale with precisionScale = βλ (1 with the paper's β = n, λ = 1/n).
   */
  priorDraw(key: Key, precisionScale?: number): Vec;
}

/**
 * f(x) = Σ_m a_m tanh(w_mᵀx + b_m) for each row of `x`, from raw (already clipped) parameters in the
 * unit-major layout of {@link TwoLayerNetwork}. Used for the student and the teacher alike.
 */
export function twoLayerForward(
  params: Vec,
  width: number,
  inputDim: number,
  hasBias: boolean,
  x: Float64Array,
  out: Float64Array = new Float64Array(Math.floor(x.length / Math.max(inputDim, 1))),
): Float64Array {
  const d = inputDim;
  const p = d + 1 + (hasBias ? 1 : 0);
  if (params.length !== width * p) {
    throw new HilbertError(`twoLayerForward: params has length ${params.length}, expected width × p = ${width} × ${p}`);
  }
  if (d < 1 || x.length % d !== 0) throw new HilbertError(`twoLayerForward: x has ${x.length} entries, not a multiple of inputDim = ${d}`);
  const rows = x.length / d;
  if (out.length < rows) throw new HilbertError(`twoLayerForward: out has ${out.length} entries, need ${rows}`);
  for (let i = 0; i < rows; i++) {
    const xo = i * d;
    let f = 0;
    for (let m = 0, o = 0; m < width; m++, o += p) {
      let z = hasBias ? params[o + p - 1] : 0;
      for (let j = 0; j < d; j++) z += params[o + 1 + j] * x[xo + j];
      f += params[o] * Math.tanh(z);
    }
    out[i] = f;
  }
  return out;
}

/** log(1 + e^f) without overflow. */
function softplus(f: number): number {
  return f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f));
}

/** ℓ(y, f) and dℓ/df written to `pair[0]`, `pair[1]`. */
function lossAndSlope(loss: HilbertLoss, y: number, f: number, pair: Float64Array): void {
  if (loss === 'squared') {
    const r = f - y;
    pair[0] = 0.5 * r * r;
    pair[1] = r;
  } else {
    pair[0] = softplus(f) - y * f;
    pair[1] = 1 / (1 + Math.exp(-f)) - y;
  }
}

function checkData(where: string, data: Dataset, loss: HilbertLoss): void {
  const { rows, cols, x, y, source } = data;
  integerAtLeast(where, `dataset ${source} rows`, rows, 1);
  integerAtLeast(where, `dataset ${source} cols`, cols, 1);
  if (x.length !== rows * cols) throw new HilbertError(`${where}: dataset ${source}: x has ${x.length} entries, expected ${rows} × ${cols}`);
  if (y.length !== rows) throw new HilbertError(`${where}: dataset ${source}: y has ${y.length} entries, expected ${rows}`);
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) {
      const row = Math.floor(k / cols);
      throw new HilbertError(`${where}: dataset ${source}: row ${row + 1}, feature ${k - row * cols + 1} is ${x[k]} (must be finite)`);
    }
  }
  for (let i = 0; i < rows; i++) {
    const ok = loss === 'squared' ? Number.isFinite(y[i]) : y[i] === 0 || y[i] === 1;
    if (!ok) {
      const need = loss === 'squared' ? 'finite' : '0 or 1 for the logistic loss';
      throw new HilbertError(`${where}: dataset ${source}: row ${i + 1}, target "${data.targetName}" is ${y[i]} (must be ${need})`);
    }
  }
}

/**
 * The two-layer network f_W(x) = Σ_{m=1}^{M} ā_m tanh(w̄_mᵀx + b̄_m) on `data`, with the neuron-indexed
 * spectrum μ_m = c_μ m^{-decay} of `neuronSpectrum` (Suzuki 2020, discrete-index variant of Sec. 2 with
 * the clipped map of Sec. 4). Forward and backward passes are fused loops over Float64Array: one pass
 * over the batch computes f, ℓ and ∇_W (1/S) Σ ℓ at O(S·M·d) cost, with scratch buffers reused.
 *
 * @throws HilbertError for a bad option, non-finite data, or labels not in {0, 1} with the logistic loss.
 */
export function twoLayerNetwork(data: Dataset, options: TwoLayerNetworkOptions): TwoLayerNetwork {
  const where = 'twoLayerNetwork';
  const loss: HilbertLoss = options.loss ?? 'squared';
  if (loss !== 'squared' && loss !== 'logistic') throw new HilbertError(`${where}: loss must be 'squared' or 'logistic', got '${String(loss)}'`);
  checkData(where, data, loss);
  const width = integerAtLeast(where, 'width', options.width, 1);
  const hasBias = options.bias ?? true;
  const clip = options.clip === undefined ? undefined : positiveFinite(where, 'clip', options.clip);
  const d = data.cols;
  const p = d + 1 + (hasBias ? 1 : 0);
  const dim = width * p;
  const spectrum = neuronSpectrum({ width, paramsPerNeuron: p, scale: options.spectrumScale, decay: options.spectrumDecay });
  const layout = `${width} units × [a_m, w_m (${d}),${hasBias ? ' b_m' : ''}] = ${dim} numbers, unit-major`;
  const clipped = new Float64Array(dim);
  const hidden = new Float64Array(width);
  const pair = new Float64Array(2);
  const { x, y, rows } = data;

  const checkTheta = (caller: string, theta: Vec): void => {
    if (!(theta instanceof Float64Array)) throw new HilbertError(`${caller}: theta must be a Float64Array`);
    if (theta.length !== dim) throw new HilbertError(`${caller}: theta has length ${theta.length}, expected ${dim} (${layout})`);
  };
  // The effective parameters W̄: θ itself, or R tanh(θ/R) in a reused buffer.
  const effective = (theta: Vec): Vec => {
    if (clip === undefined) return theta;
    for (let k = 0; k < dim; k++) clipped[k] = clip * Math.tanh(theta[k] / clip);
    return clipped;
  };

  const risk = (theta: Vec, batch: IndexBatch, grad?: Vec): number => {
    const caller = 'twoLayerNetwork.risk';
    checkTheta(caller, theta);
    if (!(batch instanceof Int32Array)) throw new HilbertError(`${caller}: batch must be an Int32Array of row indices`);
    const S = batch.length;
    if (S < 1) throw new HilbertError(`${caller}: the batch is empty`);
    if (grad !== undefined) {
      if (!(grad instanceof Float64Array) || grad.length !== dim) throw new HilbertError(`${caller}: grad must be a Float64Array of length ${dim}`);
      grad.fill(0);
    }
    const w = effective(theta);
    let total = 0;
    for (let b = 0; b < S; b++) {
      const i = batch[b];
      if (!(i >= 0 && i < rows)) throw new HilbertError(`${caller}: batch[${b}] = ${i} is not a row index in 0..${rows - 1}`);
      const xo = i * d;
      let f = 0;
      for (let m = 0, o = 0; m < width; m++, o += p) {
        let z = hasBias ? w[o + p - 1] : 0;
        for (let j = 0; j < d; j++) z += w[o + 1 + j] * x[xo + j];
        const h = Math.tanh(z);
        hidden[m] = h;
        f += w[o] * h;
      }
      lossAndSlope(loss, y[i], f, pair);
      total += pair[0];
      if (grad === undefined) continue;
      const slope = pair[1];
      for (let m = 0, o = 0; m < width; m++, o += p) {
        const h = hidden[m];
        grad[o] += slope * h;
        const g = slope * w[o] * (1 - h * h);
        for (let j = 0; j < d; j++) grad[o + 1 + j] += g * x[xo + j];
        if (hasBias) grad[o + p - 1] += g;
      }
    }
    if (grad !== undefined) {
      const inv = 1 / S;
      if (clip === undefined) {
        for (let k = 0; k < dim; k++) grad[k] *= inv;
      } else {
        // dW̄/dW = 1 − tanh²(W/R) = 1 − (W̄/R)².
        const invR = 1 / clip;
        for (let k = 0; k < dim; k++) {
          const t = w[k] * invR;
          grad[k] *= inv * (1 - t * t);
        }
      }
    }
    return total / S;
  };

  const predict = (theta: Vec, xs: Float64Array, out?: Float64Array): Float64Array => {
    checkTheta('twoLayerNetwork.predict', theta);
    if (xs.length % d !== 0) throw new HilbertError(`twoLayerNetwork.predict: x has ${xs.length} entries, not a multiple of d = ${d}`);
    return twoLayerForward(effective(theta), width, d, hasBias, xs, out ?? new Float64Array(xs.length / d));
  };

  const meanLoss = (theta: Vec, xs: Float64Array, ys: Float64Array): number => {
    const f = predict(theta, xs);
    if (ys.length !== f.length) throw new HilbertError(`twoLayerNetwork.meanLoss: y has ${ys.length} entries, x has ${f.length} rows`);
    let total = 0;
    for (let i = 0; i < f.length; i++) {
      lossAndSlope(loss, ys[i], f[i], pair);
      total += pair[0];
    }
    return total / f.length;
  };

  const priorDraw = (key: Key, precisionScale = 1): Vec => {
    positiveFinite('twoLayerNetwork.priorDraw', 'precisionScale', precisionScale);
    const theta = normal(key, dim);
    for (let k = 0; k < dim; k++) theta[k] *= Math.sqrt(spectrum[k] / precisionScale);
    return theta;
  };

  return {
    data,
    dim,
    dataSize: rows,
    spectrum,
    width,
    inputDim: d,
    paramsPerNeuron: p,
    hasBias,
    clip,
    loss,
    layout,
    risk,
    predict,
    meanLoss,
    priorDraw,
    batchSize: (batch: IndexBatch) => batch.length,
    fullBatch: () => Int32Array.from({ length: rows }, (_, i) => i),
  };
}
