/**
 * Fully connected ReLU networks over a flat parameter vector, with fused forward and backward
 * kernels on preallocated buffers, and the network targets (Gaussian regression with a learned or
 * fixed noise precision, softmax classification) that SGLD and constant SGD sample.
 *
 * Layout (shared with the variational networks of src/vi, whose means use the same layout): layer
 * l maps `sizes[l]` inputs to `sizes[l+1]` outputs with a weight matrix W_l of shape
 * (sizes[l] + 1) × sizes[l+1], stored row-major, the last row holding the biases (the paper's
 * "append a column of ones" to the layer input). The layers are concatenated in order.
 *
 * Every layer input, with its column of ones, is divided by √(sizes[l] + 1) before the product
 * (Louizos & Welling 2016, Sec. 5: "every layer input divided by √dim"), so a unit-variance prior
 * on W gives pre-activations of unit scale whatever the width:
 *
 *   ā_l = [h_l, 1] / √(sizes[l] + 1),   z_l = ā_l W_l,   h_{l+1} = ReLU(z_l)  (no ReLU on the output).
 */
import type { Dataset, IndexBatch, Target, ValueGrad, Vec } from '../core/types.js';
import { normal, type Key } from '../core/random.js';
import { lgamma } from '../core/distributions.js';
import { gemm, sgemm } from './gemm.js';
import { registerFusedLogPosterior } from '../models/estimator.js';

/** Bad input to a network: wrong sizes, a θ of the wrong length, a row index out of range, bad options. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

/** The shape of one layer inside the flat parameter vector. */
export interface MlpLayerShape {
  /** Number of inputs (without the column of ones). */
  readonly inputs: number;
  /** Number of outputs. */
  readonly outputs: number;
  /** Rows of W: inputs + 1 (the last row is the bias). */
  readonly rows: number;
  /** Index of W[0, 0] in the flat vector. */
  readonly offset: number;
  /** rows × outputs. */
  readonly size: number;
  /** The factor the augmented input [h, 1] is multiplied by: 1/√rows, or 1 without input scaling. */
  readonly inputScale: number;
}

/** The parameter layout of a network. */
export interface MlpLayout {
  /** Widths: input, hidden..., output. */
  readonly sizes: readonly number[];
  readonly layers: readonly MlpLayerShape[];
  /** Total number of weights and biases. */
  readonly dim: number;
}

/** Options of `mlpLayout`. */
export interface MlpLayoutOptions {
  /** Divide each layer's augmented input by √(inputs + 1) (default true, as in the paper). */
  scaleInputs?: boolean;
}

/**
 * The layout of a network with the given widths `[input, hidden..., output]`.
 *
 * @throws NetworkError unless there are at least two widths, each a positive integer.
 */
export function mlpLayout(sizes: readonly number[], options: MlpLayoutOptions = {}): MlpLayout {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new NetworkError(`mlpLayout: sizes must list at least an input and an output width, got [${String(sizes)}]`);
  }
  sizes.forEach((s, i) => {
    if (!Number.isSafeInteger(s) || s < 1) throw new NetworkError(`mlpLayout: sizes[${i}] must be a positive integer, got ${s}`);
  });
  const scale = options.scaleInputs ?? true;
  const layers: MlpLayerShape[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const rows = sizes[l] + 1;
    const size = rows * sizes[l + 1];
    layers.push({ inputs: sizes[l], outputs: sizes[l + 1], rows, offset, size, inputScale: scale ? 1 / Math.sqrt(rows) : 1 });
    offset += size;
  }
  return { sizes: [...sizes], layers, dim: offset };
}

/**
 * He initialisation of the weights with respect to the scaled inputs: W_ij ~ N(0, 2 / (rows · s²))
 * for input scale s, so z = ā W has the variance of He et al. (2015) for unit-variance inputs;
 * the bias row starts at 0. Writes into `out` from `offset` (default a fresh vector).
 */
export function heInit(layout: MlpLayout, key: Key, out: Vec = new Float64Array(layout.dim), offset = 0): Vec {
  const draws = normal(key, layout.dim);
  for (const layer of layout.layers) {
    const sd = Math.sqrt(2 / layer.rows) / layer.inputScale;
    for (let r = 0; r < layer.rows; r++) {
      for (let j = 0; j < layer.outputs; j++) {
        const i = layer.offset + r * layer.outputs + j;
        out[offset + i] = r === layer.inputs ? 0 : sd * draws[i];
      }
    }
  }
  return out;
}

/**
 * ā = [h, 1] · scale for `n` rows of width `width` (row-major), into `out` (n × (width + 1)).
 * `rows` selects rows of `h` (an index batch into a data matrix); null takes rows 0..n−1.
 */
export function augmentInput(
  h: Float64Array,
  width: number,
  rows: IndexBatch | null,
  n: number,
  scale: number,
  out: Float64Array,
): void {
  const w1 = width + 1;
  for (let i = 0; i < n; i++) {
    const src = (rows === null ? i : rows[i]) * width;
    const dst = i * w1;
    for (let k = 0; k < width; k++) out[dst + k] = h[src + k] * scale;
    out[dst + width] = scale;
  }
}

/**
 * ā_{l+1} = [ReLU(z_l), 1] · scale: the next layer's augmented input from the pre-activations
 * z_l (n × width), into `out` (n × (width + 1)).
 */
export function reluAugment(z: Float64Array, width: number, n: number, scale: number, out: Float64Array): void {
  const w1 = width + 1;
  for (let i = 0; i < n; i++) {
    const src = i * width;
    const dst = i * w1;
    for (let k = 0; k < width; k++) {
      const v = z[src + k];
      out[dst + k] = v > 0 ? v * scale : 0;
    }
    out[dst + width] = scale;
  }
}

/**
 * Back through ā = [ReLU(z), 1] · scale: given ∂L/∂ā (n × (width + 1)), writes
 * ∂L/∂z = scale · ∂L/∂ā[:, :width] ∘ 1[z > 0] into `out` (n × width).
 */
export function reluAugmentBackward(
  dAug: Float64Array,
  z: Float64Array,
  width: number,
  n: number,
  scale: number,
  out: Float64Array,
): void {
  const w1 = width + 1;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < width; k++) out[i * width + k] = z[i * width + k] > 0 ? scale * dAug[i * w1 + k] : 0;
  }
}

/** A workspace's per-layer buffers for `n` rows: layer inputs, pre-activations, their gradients, and the augmented-input gradient. */
function layerBuffers<A>(layers: readonly MlpLayerShape[], n: number, make: (length: number) => A): { inputs: A[]; pre: A[]; dPre: A[]; dAug: A } {
  return {
    inputs: layers.map((l) => make(n * l.rows)),
    pre: layers.map((l) => make(n * l.outputs)),
    dPre: layers.map((l) => make(n * l.outputs)),
    dAug: make(n * Math.max(...layers.map((l) => l.rows))),
  };
}

/**
 * Forward and backward passes of a deterministic network over a batch, on buffers allocated once
 * for `capacity` rows (grown on demand). `forward` keeps the layer inputs and pre-activations that
 * `backward` needs.
 */
export class MlpWorkspace {
  private capacity = 0;
  private inputs: Float64Array[] = [];
  private pre: Float64Array[] = [];
  private dPre: Float64Array[] = [];
  private dAug = new Float64Array(0);
  private batchRows = 0;

  constructor(
    readonly layout: MlpLayout,
    capacity = 1,
  ) {
    this.ensure(capacity);
  }

  /** Make room for `n` rows. */
  ensure(n: number): void {
    if (n <= this.capacity) return;
    const { layers } = this.layout;
    this.capacity = n;
    ({ inputs: this.inputs, pre: this.pre, dPre: this.dPre, dAug: this.dAug } = layerBuffers(layers, n, (length) => new Float64Array(length)));
  }

  /**
   * The network outputs f(x_i; θ) for the rows `rows` of `x` (row-major, `sizes[0]` columns), or
   * rows 0..n−1 when `rows` is null: a view (n × outputs) valid until the next call. θ is read
   * from `offset`.
   */
  forward(theta: Vec, x: Float64Array, rows: IndexBatch | null, n: number, offset = 0): Float64Array {
    this.ensure(n);
    const { layers } = this.layout;
    augmentInput(x, layers[0].inputs, rows, n, layers[0].inputScale, this.inputs[0]);
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      gemm(false, false, n, L.outputs, L.rows, 1, this.inputs[l], 0, theta, offset + L.offset, 0, this.pre[l], 0);
      if (l + 1 < layers.length) reluAugment(this.pre[l], L.outputs, n, layers[l + 1].inputScale, this.inputs[l + 1]);
    }
    this.batchRows = n;
    const last = layers.length - 1;
    return this.pre[last].subarray(0, n * layers[last].outputs);
  }

  /**
   * Accumulates ∂L/∂θ into `grad` (from `offset`) given ∂L/∂f (n × outputs) for the batch of the
   * last `forward`: ∂L/∂W_l = ā_lᵀ ∂L/∂z_l, ∂L/∂ā_l = ∂L/∂z_l W_lᵀ, then back through the ReLU.
   */
  backward(theta: Vec, dOut: Float64Array, grad: Vec, offset = 0): void {
    const n = this.batchRows;
    const { layers } = this.layout;
    let g = dOut;
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l];
      gemm(true, false, L.rows, L.outputs, n, 1, this.inputs[l], 0, g, 0, 1, grad, offset + L.offset);
      if (l === 0) break;
      gemm(false, true, n, L.rows, L.outputs, 1, g, 0, theta, offset + L.offset, 0, this.dAug, 0);
      const prev = layers[l - 1];
      reluAugmentBackward(this.dAug, this.pre[l - 1], prev.outputs, n, L.inputScale, this.dPre[l - 1]);
      g = this.dPre[l - 1];
    }
  }
}

/** Normalise `hidden` to a list of widths. */
export function hiddenWidths(where: string, hidden: number | readonly number[] | undefined, fallback: number): number[] {
  const list = hidden === undefined ? [fallback] : typeof hidden === 'number' ? [hidden] : [...hidden];
  list.forEach((h, i) => {
    if (!Number.isSafeInteger(h) || h < 1) throw new NetworkError(`${where}: hidden[${i}] must be a positive integer, got ${h}`);
  });
  return list;
}

function checkData(where: string, data: Dataset): void {
  if (data.rows < 1 || data.cols < 1) throw new NetworkError(`${where}: dataset ${data.source} is empty (${data.rows} × ${data.cols})`);
  if (data.x.length !== data.rows * data.cols || data.y.length !== data.rows) {
    throw new NetworkError(`${where}: dataset ${data.source} has x of length ${data.x.length} and y of length ${data.y.length} for ${data.rows} × ${data.cols}`);
  }
}

function checkThetaLength(where: string, theta: Vec, dim: number): void {
  if (!(theta instanceof Float64Array) || theta.length !== dim) {
    throw new NetworkError(`${where}: theta must be a Float64Array of length ${dim}, got ${theta instanceof Float64Array ? `length ${theta.length}` : typeof theta}`);
  }
}

function checkRows(where: string, batch: IndexBatch, rows: number): void {
  if (!(batch instanceof Int32Array)) throw new NetworkError(`${where}: batch must be an Int32Array of row indices`);
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    if (r < 0 || r >= rows) throw new NetworkError(`${where}: batch[${i}] = ${r} is not a row index in 0..${rows - 1}`);
  }
}

function allRows(n: number): IndexBatch {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/** The noise model of `mlpRegression`. */
export type NoiseModel =
  | { kind: 'learned'; shape?: number; rate?: number }
  | { kind: 'fixed'; precision: number };

/** Options of `mlpRegression`. */
export interface MlpRegressionOptions {
  /** Hidden widths (default one layer of 50 units). */
  hidden?: number | readonly number[];
  /** λ of the prior W ~ N(0, λ⁻¹ I) on every weight and bias (default 1). */
  priorPrecision?: number;
  /**
   * The Gaussian noise precision τ: learned with a Gamma(shape, rate) prior (default Gamma(6, 6),
   * as in Louizos & Welling 2016), stored as log τ in the last entry of θ; or fixed.
   */
  noise?: NoiseModel;
  /** Divide layer inputs by √dim (default true). */
  scaleInputs?: boolean;
}

/** A network regression target; θ = [weights (see `mlpLayout`), log τ if the noise is learned]. */
export interface MlpRegressionModel extends Target<IndexBatch> {
  readonly layout: MlpLayout;
  /** Index of log τ in θ, or −1 when τ is fixed. */
  readonly logNoiseIndex: number;
  /** The noise precision τ at θ. */
  noisePrecision(theta: Vec): number;
  /** Network means f(x; θ) for `n` rows of `x` (row-major, dataset.cols columns). */
  predict(theta: Vec, x: Float64Array, n: number): Float64Array;
  /** He-initialised weights and τ at its prior mean. */
  initialPosition(key: Key): Vec;
}

/**
 * A Bayesian regression network as a `Target<IndexBatch>`:
 *
 *   y_i ~ N(f(x_i; W), τ⁻¹),   W ~ N(0, λ⁻¹ I),   τ ~ Gamma(a, b)  (or τ fixed),
 *
 * with log τ as the sampled coordinate when learned, so the prior on it carries the Jacobian:
 * log p(log τ) = a log τ − b τ + a log b − log Γ(a). Both prior and likelihood are normalised.
 */
export function mlpRegression(data: Dataset, options: MlpRegressionOptions = {}): MlpRegressionModel {
  const where = 'mlpRegression';
  checkData(where, data);
  const hidden = hiddenWidths(where, options.hidden, 50);
  const lambda = options.priorPrecision ?? 1;
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new NetworkError(`${where}: priorPrecision must be a finite number > 0, got ${lambda}`);
  const noise: NoiseModel = options.noise ?? { kind: 'learned' };
  const layout = mlpLayout([data.cols, ...hidden, 1], { scaleInputs: options.scaleInputs });
  const learned = noise.kind === 'learned';
  const shape = learned ? (noise.shape ?? 6) : 0;
  const rate = learned ? (noise.rate ?? 6) : 0;
  if (learned && !(shape > 0 && rate > 0)) throw new NetworkError(`${where}: noise shape and rate must be > 0, got ${shape}, ${rate}`);
  if (!learned && !(noise.precision > 0 && Number.isFinite(noise.precision))) {
    throw new NetworkError(`${where}: fixed noise precision must be a finite number > 0, got ${noise.precision}`);
  }
  const dim = layout.dim + (learned ? 1 : 0);
  const logNoiseIndex = learned ? layout.dim : -1;
  const work = new MlpWorkspace(layout, 128);
  let dOut = new Float64Array(128);
  const full = allRows(data.rows);
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  const priorConst = 0.5 * layout.dim * Math.log(lambda / (2 * Math.PI)) + (learned ? shape * Math.log(rate) - lgamma(shape) : 0);
  const tauAt = (theta: Vec): number => (learned ? Math.exp(theta[logNoiseIndex]) : (noise as { precision: number }).precision);
  /** log p(θ) with its gradient written into `grad`. */
  const logPriorInto = (theta: Vec, grad: Vec): number => {
    let sq = 0;
    for (let i = 0; i < layout.dim; i++) {
      sq += theta[i] * theta[i];
      grad[i] = -lambda * theta[i];
    }
    let value = priorConst - 0.5 * lambda * sq;
    if (learned) {
      const logTau = theta[logNoiseIndex];
      const tau = Math.exp(logTau);
      value += shape * logTau - rate * tau;
      grad[logNoiseIndex] = shape - rate * tau;
    }
    return value;
  };
  /** Σ_batch log p(y | x, θ) with its gradient accumulated into `grad` (zeros on entry). */
  const logLikelihoodInto = (theta: Vec, batch: IndexBatch, grad: Vec): number => {
    checkRows(`${where}.logLikelihood`, batch, data.rows);
    const n = batch.length;
    const f = work.forward(theta, data.x, batch, n);
    if (dOut.length < n) dOut = new Float64Array(n);
    const tau = tauAt(theta);
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const r = data.y[batch[i]] - f[i];
      sq += r * r;
      dOut[i] = tau * r;
    }
    work.backward(theta, dOut, grad);
    const logTau = Math.log(tau);
    if (learned) grad[logNoiseIndex] = 0.5 * n - 0.5 * tau * sq;
    return n * (0.5 * logTau - halfLog2Pi) - 0.5 * tau * sq;
  };

  const model: MlpRegressionModel = {
    dim,
    dataSize: data.rows,
    layout,
    logNoiseIndex,
    noisePrecision(theta) {
      checkThetaLength(`${where}.noisePrecision`, theta, dim);
      return tauAt(theta);
    },
    logPrior(theta): ValueGrad {
      checkThetaLength(`${where}.logPrior`, theta, dim);
      const grad = new Float64Array(dim);
      return { value: logPriorInto(theta, grad), grad };
    },
    logLikelihood(theta, batch): ValueGrad {
      checkThetaLength(`${where}.logLikelihood`, theta, dim);
      const grad = new Float64Array(dim);
      return { value: logLikelihoodInto(theta, batch, grad), grad };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => full,
    predict(theta, x, n) {
      checkThetaLength(`${where}.predict`, theta, dim);
      if (x.length < n * data.cols) throw new NetworkError(`${where}.predict: x has ${x.length} entries, needs ${n} × ${data.cols}`);
      return Float64Array.from(work.forward(theta, x, null, n));
    },
    initialPosition(key) {
      const theta = new Float64Array(dim);
      heInit(layout, key, theta);
      if (learned) theta[logNoiseIndex] = Math.log(shape / rate);
      return theta;
    },
  };
  registerFusedLogPosterior(model, (theta) => checkThetaLength(`${where}.logPrior`, theta, model.dim), logPriorInto, logLikelihoodInto);
  return model;
}

/** Options of `mlpClassifier`. */
export interface MlpClassifierOptions {
  /** Hidden widths (default one layer of 50 units). */
  hidden?: number | readonly number[];
  /** Number of classes K; labels are 0..K−1 (default 1 + the largest label). */
  classes?: number;
  /** λ of the prior W ~ N(0, λ⁻¹ I) (default 1). */
  priorPrecision?: number;
  /** Divide layer inputs by √dim (default true). */
  scaleInputs?: boolean;
  /**
   * 'float64' (default) or 'float32': the likelihood is computed by `float32MlpClassifier` (θ
   * rounded to single precision, float32 products through `sgemm`) and its gradient widened back.
   */
  precision?: 'float64' | 'float32';
}

/** A softmax classification network; θ holds the weights only (see `mlpLayout`). */
export interface MlpClassifierModel extends Target<IndexBatch> {
  readonly layout: MlpLayout;
  readonly classes: number;
  /** Class probabilities (n × K, row-major) for `n` rows of `x`. */
  predictProba(theta: Vec, x: Float64Array, n: number): Float64Array;
  /** He-initialised weights. */
  initialPosition(key: Key): Vec;
}

/**
 * In place: row i of `logits` (n × K) becomes softmax probabilities; returns Σ_i log p(y_i) when
 * `labels` is given (rows of `labels` via `rows`, or 0..n−1).
 */
export function softmaxRows(logits: Float64Array, n: number, classes: number, labels?: Float64Array, rows?: IndexBatch | null): number {
  let logLik = 0;
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) if (logits[o + k] > max) max = logits[o + k];
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[o + k] - max);
    const logSum = max + Math.log(sum);
    if (labels) logLik += logits[o + labels[rows ? rows[i] : i]] - logSum;
    for (let k = 0; k < classes; k++) logits[o + k] = Math.exp(logits[o + k] - logSum);
  }
  return logLik;
}

/** Validated data, labels, classes, prior precision and layout of a classification network. */
function classifierSetup(where: string, data: Dataset, options: MlpClassifierOptions): { layout: MlpLayout; classes: number; lambda: number } {
  checkData(where, data);
  const hidden = hiddenWidths(where, options.hidden, 50);
  let maxLabel = 0;
  for (let i = 0; i < data.rows; i++) {
    const y = data.y[i];
    if (!Number.isInteger(y) || y < 0) throw new NetworkError(`${where}: ${data.source} row ${i + 1}: label ${y} is not a class index ≥ 0`);
    if (y > maxLabel) maxLabel = y;
  }
  const classes = options.classes ?? maxLabel + 1;
  if (!Number.isSafeInteger(classes) || classes < 2) throw new NetworkError(`${where}: classes must be an integer ≥ 2, got ${classes}`);
  if (maxLabel >= classes) throw new NetworkError(`${where}: ${data.source} has label ${maxLabel}, outside 0..${classes - 1}`);
  const lambda = options.priorPrecision ?? 1;
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new NetworkError(`${where}: priorPrecision must be a finite number > 0, got ${lambda}`);
  return { layout: mlpLayout([data.cols, ...hidden, classes], { scaleInputs: options.scaleInputs }), classes, lambda };
}

/**
 * A Bayesian softmax classification network as a `Target<IndexBatch>`:
 * p(y_i = k | x_i, W) = softmax(f(x_i; W))_k, W ~ N(0, λ⁻¹ I).
 *
 * @throws NetworkError if a label is not an integer in 0..K−1.
 */
export function mlpClassifier(data: Dataset, options: MlpClassifierOptions = {}): MlpClassifierModel {
  const where = 'mlpClassifier';
  const { layout, classes, lambda } = classifierSetup(where, data, options);
  const dim = layout.dim;
  if (options.precision !== undefined && options.precision !== 'float64' && options.precision !== 'float32') {
    throw new NetworkError(`${where}: precision must be 'float64' or 'float32', got '${String(options.precision)}'`);
  }
  const single = options.precision === 'float32' ? float32MlpClassifier(data, options) : null;
  const theta32 = single ? new Float32Array(dim) : null;
  const grad32 = single ? new Float32Array(dim) : null;
  const work = new MlpWorkspace(layout, 128);
  let dOut = new Float64Array(128 * classes);
  const full = allRows(data.rows);
  const priorConst = 0.5 * dim * Math.log(lambda / (2 * Math.PI));
  /** log p(θ) with its gradient written into `grad`. */
  const logPriorInto = (theta: Vec, grad: Vec): number => {
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      sq += theta[i] * theta[i];
      grad[i] = -lambda * theta[i];
    }
    return priorConst - 0.5 * lambda * sq;
  };
  /** Σ_batch log p(y | x, θ) with its gradient accumulated into `grad` (zeros on entry). */
  const logLikelihoodInto = (theta: Vec, batch: IndexBatch, grad: Vec): number => {
    if (single && theta32 && grad32) {
      theta32.set(theta);
      const value = single.logLikelihood(theta32, batch, grad32);
      grad.set(grad32);
      return value;
    }
    checkRows(`${where}.logLikelihood`, batch, data.rows);
    const n = batch.length;
    const logits = work.forward(theta, data.x, batch, n);
    if (dOut.length < n * classes) dOut = new Float64Array(n * classes);
    dOut.set(logits);
    const value = softmaxRows(dOut, n, classes, data.y, batch);
    // ∂ log p(y | f)/∂f = onehot(y) − softmax(f)
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < classes; k++) dOut[i * classes + k] = -dOut[i * classes + k];
      dOut[i * classes + data.y[batch[i]]] += 1;
    }
    work.backward(theta, dOut, grad);
    return value;
  };
  const model: MlpClassifierModel = {
    dim,
    dataSize: data.rows,
    layout,
    classes,
    logPrior(theta): ValueGrad {
      checkThetaLength(`${where}.logPrior`, theta, dim);
      const grad = new Float64Array(dim);
      return { value: logPriorInto(theta, grad), grad };
    },
    logLikelihood(theta, batch): ValueGrad {
      checkThetaLength(`${where}.logLikelihood`, theta, dim);
      const grad = new Float64Array(dim);
      return { value: logLikelihoodInto(theta, batch, grad), grad };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => full,
    predictProba(theta, x, n) {
      checkThetaLength(`${where}.predictProba`, theta, dim);
      if (x.length < n * data.cols) throw new NetworkError(`${where}.predictProba: x has ${x.length} entries, needs ${n} × ${data.cols}`);
      if (single && theta32) {
        theta32.set(theta);
        return Float64Array.from(single.predictProba(theta32, x, n));
      }
      const p = Float64Array.from(work.forward(theta, x, null, n));
      softmaxRows(p, n, classes);
      return p;
    },
    initialPosition: (key) => heInit(layout, key),
  };
  registerFusedLogPosterior(model, (theta) => checkThetaLength(`${where}.logPrior`, theta, model.dim), logPriorInto, logLikelihoodInto);
  return model;
}

/**
 * The float32 counterpart of `MlpWorkspace`: the same network (layout, input scaling, ReLU) with
 * weights, activations and gradients in Float32Arrays and every product through `sgemm`, so a
 * native float32 engine (`setSgemmEngine`) reads and writes these buffers directly. Sums inside a
 * product follow the engine; elementwise passes compute in float64 and round on store.
 */
export class Float32MlpWorkspace {
  private capacity = 0;
  private inputs: Float32Array[] = [];
  private pre: Float32Array[] = [];
  private dPre: Float32Array[] = [];
  private dAug = new Float32Array(0);
  private batchRows = 0;

  constructor(
    readonly layout: MlpLayout,
    capacity = 1,
  ) {
    this.ensure(capacity);
  }

  /** Make room for `n` rows. */
  ensure(n: number): void {
    if (n <= this.capacity) return;
    const { layers } = this.layout;
    this.capacity = n;
    ({ inputs: this.inputs, pre: this.pre, dPre: this.dPre, dAug: this.dAug } = layerBuffers(layers, n, (length) => new Float32Array(length)));
  }

  /**
   * The network outputs f(x_i; θ) (n × outputs, a view valid until the next call) for the rows
   * `rows` of `x` (row-major, `sizes[0]` columns; float64 data is rounded as it is gathered), or
   * rows 0..n−1 when `rows` is null. θ is read from `offset`.
   */
  forward(theta: Float32Array, x: Float32Array | Float64Array, rows: IndexBatch | null, n: number, offset = 0): Float32Array {
    this.ensure(n);
    const { layers } = this.layout;
    const first = layers[0];
    const input = this.inputs[0];
    const w0 = first.inputs;
    // The first layer input is stored as [x, 1] (a native row copy) and its scale goes to α.
    for (let i = 0; i < n; i++) {
      const src = (rows === null ? i : rows[i]) * w0;
      input.set(x.subarray(src, src + w0), i * first.rows);
      input[i * first.rows + w0] = 1;
    }
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      const z = this.pre[l];
      sgemm(false, false, n, L.outputs, L.rows, l === 0 ? L.inputScale : 1, this.inputs[l], 0, theta, offset + L.offset, 0, z, 0);
      if (l + 1 === layers.length) break;
      // ā_{l+1} = [ReLU(z_l), 1] · scale
      const next = this.inputs[l + 1];
      const scale = layers[l + 1].inputScale;
      const width = L.outputs;
      for (let i = 0; i < n; i++) {
        const src = i * width;
        const dst = i * (width + 1);
        for (let k = 0; k < width; k++) {
          const v = z[src + k];
          next[dst + k] = v > 0 ? v * scale : 0;
        }
        next[dst + width] = scale;
      }
    }
    this.batchRows = n;
    const last = layers.length - 1;
    return this.pre[last].subarray(0, n * layers[last].outputs);
  }

  /**
   * grad ← α ∂L/∂θ + β grad (from `offset`), given ∂L/∂f (n × outputs) for the batch of the last
   * `forward`: ∂L/∂W_l = ā_lᵀ ∂L/∂z_l, ∂L/∂ā_l = ∂L/∂z_l W_lᵀ, then back through the ReLU. The
   * default α = 1, β = 0 overwrites the gradient (so a native engine writes it in place; unlike
   * `MlpWorkspace.backward`, which accumulates). Each layer's W_l is read before its gradient is
   * written, so `grad` may be θ itself: α = η, β = 1 − ηλ is then an in-place gradient step.
   */
  backward(theta: Float32Array, dOut: Float32Array, grad: Float32Array, offset = 0, alpha = 1, beta = 0): void {
    const n = this.batchRows;
    const { layers } = this.layout;
    let g = dOut;
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l];
      if (l > 0) {
        const dAug = this.dAug;
        sgemm(false, true, n, L.rows, L.outputs, 1, g, 0, theta, offset + L.offset, 0, dAug, 0);
        sgemm(true, false, L.rows, L.outputs, n, alpha, this.inputs[l], 0, g, 0, beta, grad, offset + L.offset);
        // ∂L/∂z = scale · ∂L/∂ā[:, :width] ∘ 1[z > 0]
        const width = layers[l - 1].outputs;
        const z = this.pre[l - 1];
        const dz = this.dPre[l - 1];
        const scale = L.inputScale;
        for (let i = 0; i < n; i++) {
          const at = i * width;
          const from = i * (width + 1);
          for (let k = 0; k < width; k++) dz[at + k] = z[at + k] > 0 ? scale * dAug[from + k] : 0;
        }
        g = dz;
      } else {
        sgemm(true, false, L.rows, L.outputs, n, alpha * L.inputScale, this.inputs[l], 0, g, 0, beta, grad, offset + L.offset);
      }
    }
  }
}

/** Options of `Float32MlpClassifier.sgdStep`. */
export interface Float32SgdStepOptions {
  /** η > 0. */
  learningRate: number;
  /** s, the weight of the batch likelihood: N/|B| for an unbiased full-data estimate (default 1). */
  likelihoodScale?: number;
  /** Where θ' goes (default: θ itself, updated in place). */
  out?: Float32Array;
}

/** A softmax classification network computed in float32; θ and gradients are Float32Arrays. */
export interface Float32MlpClassifier {
  readonly layout: MlpLayout;
  readonly classes: number;
  /** Number of weights and biases. */
  readonly dim: number;
  /** N, the number of rows of the data. */
  readonly dataSize: number;
  /** λ of the prior W ~ N(0, λ⁻¹ I). */
  readonly priorPrecision: number;
  /** log N(θ; 0, λ⁻¹ I); writes its gradient −λθ into `grad` when given. */
  logPrior(theta: Float32Array, grad?: Float32Array): number;
  /** Σ_{i∈B} log p(y_i | x_i, θ); writes its gradient into `grad` (overwritten, length dim). */
  logLikelihood(theta: Float32Array, batch: IndexBatch, grad: Float32Array): number;
  /**
   * One gradient step on the log posterior, θ' = θ + η (∇ log p(θ) + s ∇ log p(y_B | θ)), with
   * the prior term fused into the update pass; returns log p(θ) + s log p(y_B | θ) at the input θ.
   */
  sgdStep(theta: Float32Array, batch: IndexBatch, options: Float32SgdStepOptions): number;
  /** Class probabilities (n × K, row-major) for `n` rows of `x`. */
  predictProba(theta: Float32Array, x: Float32Array | Float64Array, n: number): Float32Array;
  /** He-initialised weights, rounded to float32. */
  initialPosition(key: Key): Float32Array;
}

function checkTheta32(where: string, name: string, theta: Float32Array, dim: number): void {
  if (!(theta instanceof Float32Array) || theta.length !== dim) {
    throw new NetworkError(`${where}: ${name} must be a Float32Array of length ${dim}, got ${theta instanceof Float32Array ? `length ${theta.length}` : typeof theta}`);
  }
}

/**
 * The softmax classification network of `mlpClassifier`, p(y_i = k | x_i, W) = softmax(f(x_i; W))_k
 * with W ~ N(0, λ⁻¹ I), in float32 end to end: weights, activations and gradients are
 * Float32Arrays, products go through `sgemm` (zero-copy into a native engine set by
 * `setSgemmEngine`), and `sgdStep` fuses the prior gradient and the update into one pass. This is
 * the training mode that matches a float32 PyTorch network; the log-sum-exp of each row and all
 * scalar sums are kept in float64.
 *
 * @throws NetworkError if a label is not an integer in 0..K−1, or an option is out of range.
 */
export function float32MlpClassifier(data: Dataset, options: MlpClassifierOptions = {}): Float32MlpClassifier {
  const where = 'float32MlpClassifier';
  const { layout, classes, lambda } = classifierSetup(where, data, options);
  const dim = layout.dim;
  const work = new Float32MlpWorkspace(layout, 128);
  let logits = new Float64Array(128 * classes);
  let dOut = new Float32Array(128 * classes);
  const priorConst = 0.5 * dim * Math.log(lambda / (2 * Math.PI));

  /** Forward pass and ∂ log p(y_B | f)/∂f into dOut; returns log p(y_B | θ). */
  const forwardAndOutputGradient = (caller: string, theta: Float32Array, batch: IndexBatch): number => {
    checkTheta32(caller, 'theta', theta, dim);
    checkRows(caller, batch, data.rows);
    const n = batch.length;
    const f = work.forward(theta, data.x, batch, n);
    if (logits.length < n * classes) {
      logits = new Float64Array(n * classes);
      dOut = new Float32Array(n * classes);
    }
    logits.set(f);
    const value = softmaxRows(logits, n, classes, data.y, batch);
    // ∂ log p(y | f)/∂f = onehot(y) − softmax(f)
    for (let i = 0; i < n; i++) {
      const o = i * classes;
      const label = data.y[batch[i]];
      for (let k = 0; k < classes; k++) dOut[o + k] = (k === label ? 1 : 0) - logits[o + k];
    }
    return value;
  };
  const sumOfSquares = new Float32Array(1);

  return {
    layout,
    classes,
    dim,
    dataSize: data.rows,
    priorPrecision: lambda,
    logPrior(theta, grad) {
      checkTheta32(`${where}.logPrior`, 'theta', theta, dim);
      if (grad !== undefined) checkTheta32(`${where}.logPrior`, 'grad', grad, dim);
      let sq = 0;
      for (let i = 0; i < dim; i++) sq += theta[i] * theta[i];
      if (grad) for (let i = 0; i < dim; i++) grad[i] = -lambda * theta[i];
      return priorConst - 0.5 * lambda * sq;
    },
    logLikelihood(theta, batch, grad) {
      checkTheta32(`${where}.logLikelihood`, 'grad', grad, dim);
      const value = forwardAndOutputGradient(`${where}.logLikelihood`, theta, batch);
      work.backward(theta, dOut, grad);
      return value;
    },
    sgdStep(theta, batch, stepOptions) {
      const { learningRate, likelihoodScale = 1 } = stepOptions;
      const out = stepOptions.out ?? theta;
      if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new NetworkError(`${where}.sgdStep: learningRate must be a finite number > 0, got ${learningRate}`);
      if (!Number.isFinite(likelihoodScale)) throw new NetworkError(`${where}.sgdStep: likelihoodScale must be finite, got ${likelihoodScale}`);
      checkTheta32(`${where}.sgdStep`, 'out', out, dim);
      // Σθ² = θᵀθ as a 1×1 product, so a native engine computes it; before θ may be overwritten.
      sgemm(false, true, 1, 1, dim, 1, theta, 0, theta, 0, 0, sumOfSquares, 0);
      if (out !== theta) out.set(theta);
      const logLik = forwardAndOutputGradient(`${where}.sgdStep`, theta, batch);
      // θ' = (1 − ηλ) θ + η s ∇ log p(y_B | θ), written by the weight-gradient products themselves.
      work.backward(theta, dOut, out, 0, learningRate * likelihoodScale, 1 - learningRate * lambda);
      return priorConst - 0.5 * lambda * sumOfSquares[0] + likelihoodScale * logLik;
    },
    predictProba(theta, x, n) {
      checkTheta32(`${where}.predictProba`, 'theta', theta, dim);
      if (x.length < n * data.cols) throw new NetworkError(`${where}.predictProba: x has ${x.length} entries, needs ${n} × ${data.cols}`);
      const p = Float64Array.from(work.forward(theta, x, null, n));
      softmaxRows(p, n, classes);
      return Float32Array.from(p);
    },
    initialPosition: (key) => Float32Array.from(heInit(layout, key)),
  };
}
