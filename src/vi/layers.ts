/**
 * Stochastic fully connected layers for variational Bayesian networks (Louizos & Welling 2016,
 * "Structured and efficient variational deep learning with matrix Gaussian posteriors", ICML):
 * the matrix-variate Gaussian posterior, its pseudo-data variant, and the mean-field Gaussian
 * (Blundell et al. 2015, "Weight uncertainty in neural networks", Bayes by Backprop).
 *
 * Each layer owns a slice of the flat variational parameter vector φ, samples pre-activations
 * for a batch of (scaled, augmented) inputs ā (n × r, see src/nn/mlp.ts), back-propagates
 * through the sample, and gives its closed-form KL to the hierarchical prior
 *
 *   W ~ MN(0, τ_r⁻¹ I_r, τ_c⁻¹ I_c),  τ_r, τ_c ~ Gamma(a₀, b₀) (default Gamma(1, 0.5), shape–rate),
 *
 * with Gamma posteriors q(τ_r) = Gamma(a_r, b_r), q(τ_c) = Gamma(a_c, b_c) stored as log a, log b.
 * The regulariser is E_q(τ) KL(q(W) ‖ p(W | τ)) + KL(q(τ_r) ‖ p(τ_r)) + KL(q(τ_c) ‖ p(τ_c)),
 * every term in closed form.
 *
 * Buffers are allocated once for `capacity` rows and grown on demand: no allocation per step.
 */
import { cholesky, NotPositiveDefiniteError } from '../core/linalg.js';
import { normal, split, uniform, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { gemm } from '../nn/gemm.js';
import type { MlpLayerShape } from '../nn/mlp.js';
import { digamma, gammaKl, trigamma } from './special.js';

/** Bad input or options of a variational layer or network. */
export class VariationalError extends Error {
  override readonly name = 'VariationalError';
}

/** How a layer turns posterior noise into pre-activations. */
export type GradientEstimator = 'local' | 'weights';

/** Shape–rate parameters of a Gamma prior. */
export interface GammaPrior {
  shape: number;
  rate: number;
}

/** A stochastic layer over its slice of φ. */
export interface VariationalLayer {
  readonly shape: MlpLayerShape;
  /** Number of entries of φ the layer owns. */
  readonly paramCount: number;
  /** Index of the layer's first entry in φ. */
  readonly offset: number;
  /** Index of the posterior mean M (rows × outputs, the layout of src/nn/mlp.ts) in φ. */
  readonly meanOffset: number;
  /** Writes the initial parameters into φ. */
  init(phi: Vec, key: Key): void;
  /**
   * Pre-activations for `n` rows of ā (n × rows) into `out` (n × outputs): a reparameterised draw
   * from `key` when `sample`, the mean-network output otherwise. Keeps what `backward` needs.
   */
  forward(phi: Vec, input: Float64Array, n: number, key: Key, sample: boolean, out: Float64Array): void;
  /**
   * Adds ∂L/∂φ into `grad` given ∂L/∂z (n × outputs) for the last `forward` (with `sample`), and,
   * when `dInput` is given, writes ∂L/∂ā (n × rows) into it.
   */
  backward(phi: Vec, dOut: Float64Array, grad: Vec, dInput: Float64Array | null): void;
  /** The layer's KL term; with `grad`, adds `scale` × ∂KL/∂φ. */
  kl(phi: Vec, grad: Vec | null, scale: number): number;
}

/** E τ = a/b and E log τ = ψ(a) − log b of Gamma(a, b) stored as (log a, log b) at φ[i], φ[i+1]. */
function gammaMoments(phi: Vec, i: number): { a: number; b: number; mean: number; meanLog: number } {
  const a = Math.exp(phi[i]);
  const b = Math.exp(phi[i + 1]);
  return { a, b, mean: a / b, meanLog: digamma(a) - Math.log(b) };
}

/**
 * Adds to grad[i], grad[i+1] the chain rule from ∂/∂E τ and ∂/∂E log τ to (log a, log b):
 * ∂Eτ/∂log a = Eτ, ∂Eτ/∂log b = −Eτ, ∂E log τ/∂log a = a ψ′(a), ∂E log τ/∂log b = −1.
 */
function gammaMomentsBackward(grad: Vec, i: number, a: number, mean: number, dMean: number, dMeanLog: number): void {
  grad[i] += dMean * mean + dMeanLog * a * trigamma(a);
  grad[i + 1] += -dMean * mean - dMeanLog;
}

function checkShape(shape: MlpLayerShape): void {
  if (!(shape.rows === shape.inputs + 1) || shape.outputs < 1) {
    throw new VariationalError(`variational layer: bad shape rows=${shape.rows}, inputs=${shape.inputs}, outputs=${shape.outputs}`);
  }
}

/** Options common to the layers. */
export interface LayerOptions {
  /** Prior of τ_r and τ_c (default Gamma(1, 0.5), as in Louizos & Welling 2016). */
  weightPrecisionPrior?: GammaPrior;
  /** Local reparameterisation (default) or one weight draw per batch. */
  estimator?: GradientEstimator;
  /** Initial posterior variance of each weight, σ_r²σ_c² or s² (default 0.01). */
  initialVariance?: number;
  /** Rows the buffers are first sized for (default 128). */
  capacity?: number;
}

/** He initialisation of M in ā-space: N(0, 2/(rows s²)) with the bias row 0 (see `heInit`). */
function initMean(phi: Vec, at: number, shape: MlpLayerShape, key: Key): void {
  const draws = normal(key, shape.size);
  const sd = Math.sqrt(2 / shape.rows) / shape.inputScale;
  for (let r = 0; r < shape.rows; r++) {
    for (let j = 0; j < shape.outputs; j++) {
      const i = r * shape.outputs + j;
      phi[at + i] = r === shape.inputs ? 0 : sd * draws[i];
    }
  }
}

/**
 * The matrix-variate Gaussian layer: q(W) = MN(M, diag σ_r², diag σ_c²) (Louizos & Welling 2016,
 * Sec. 2), r·c + r + c parameters plus the Gamma posteriors of τ_r, τ_c.
 *
 * φ slice: [M (r×c), log σ_r² (r), log σ_c² (c), log a_r, log b_r, log a_c, log b_c].
 *
 * Local reparameterisation (Sec. 3.1): B = ĀW ~ MN(ĀM, ĀUĀᵀ, V), so per row
 * z_ij = ā_i M_{:j} + √(Σ_k ā_ik² σ_rk²) σ_cj ε_ij. Weight sampling (Eq. 3):
 * W = M + diag(σ_r) E diag(σ_c), z = ĀW, one E per batch.
 */
export class MatrixGaussianLayer implements VariationalLayer {
  readonly paramCount: number;
  readonly meanOffset: number;
  protected readonly rowVarOffset: number;
  protected readonly colVarOffset: number;
  protected readonly rowGammaOffset: number;
  protected readonly colGammaOffset: number;
  protected readonly prior: GammaPrior;
  protected readonly estimator: GradientEstimator;
  protected readonly initialVariance: number;
  protected capacity = 0;
  protected input: Float64Array = new Float64Array(0);
  protected n = 0;
  protected eps = new Float64Array(0);
  protected stdRow = new Float64Array(0);
  protected sampled = false;
  protected readonly rowSd: Float64Array;
  protected readonly colSd: Float64Array;
  protected readonly weights: Float64Array;
  protected readonly dWeights: Float64Array;

  constructor(
    readonly shape: MlpLayerShape,
    readonly offset: number,
    options: LayerOptions = {},
    extraParams = 0,
  ) {
    checkShape(shape);
    const { rows, outputs } = shape;
    this.meanOffset = offset;
    this.rowVarOffset = offset + rows * outputs;
    this.colVarOffset = this.rowVarOffset + rows;
    this.rowGammaOffset = this.colVarOffset + outputs;
    this.colGammaOffset = this.rowGammaOffset + 2;
    this.paramCount = rows * outputs + rows + outputs + 4 + extraParams;
    this.prior = options.weightPrecisionPrior ?? { shape: 1, rate: 0.5 };
    this.estimator = options.estimator ?? 'local';
    this.initialVariance = options.initialVariance ?? 1e-2;
    if (!(this.initialVariance > 0)) throw new VariationalError(`MatrixGaussianLayer: initialVariance must be > 0, got ${this.initialVariance}`);
    this.rowSd = new Float64Array(rows);
    this.colSd = new Float64Array(outputs);
    this.weights = new Float64Array(rows * outputs);
    this.dWeights = new Float64Array(rows * outputs);
    this.ensure(options.capacity ?? 128);
  }

  protected ensure(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = n;
    this.eps = new Float64Array(Math.max(n * this.shape.outputs, this.shape.size));
    this.stdRow = new Float64Array(n);
    this.ensureExtra(n);
  }

  protected ensureExtra(_n: number): void {}

  init(phi: Vec, key: Key): void {
    const { rows, outputs } = this.shape;
    initMean(phi, this.meanOffset, this.shape, key);
    // Split the variance evenly between the row and column factors.
    const half = 0.5 * Math.log(this.initialVariance);
    for (let k = 0; k < rows; k++) phi[this.rowVarOffset + k] = half;
    for (let j = 0; j < outputs; j++) phi[this.colVarOffset + j] = half;
    for (const at of [this.rowGammaOffset, this.colGammaOffset]) {
      phi[at] = Math.log(this.prior.shape);
      phi[at + 1] = Math.log(this.prior.rate);
    }
  }

  protected loadScales(phi: Vec): void {
    for (let k = 0; k < this.shape.rows; k++) this.rowSd[k] = Math.exp(0.5 * phi[this.rowVarOffset + k]);
    for (let j = 0; j < this.shape.outputs; j++) this.colSd[j] = Math.exp(0.5 * phi[this.colVarOffset + j]);
  }

  forward(phi: Vec, input: Float64Array, n: number, key: Key, sample: boolean, out: Float64Array): void {
    this.ensure(n);
    this.input = input;
    this.n = n;
    this.sampled = sample;
    const { rows, outputs } = this.shape;
    this.loadScales(phi);
    if (sample && this.estimator === 'weights') {
      normal(key, rows * outputs, this.eps);
      for (let k = 0; k < rows; k++) {
        for (let j = 0; j < outputs; j++) {
          const i = k * outputs + j;
          this.weights[i] = phi[this.meanOffset + i] + this.rowSd[k] * this.eps[i] * this.colSd[j];
        }
      }
      gemm(false, false, n, outputs, rows, 1, input, 0, this.weights, 0, 0, out, 0);
      return;
    }
    gemm(false, false, n, outputs, rows, 1, input, 0, phi, this.meanOffset, 0, out, 0);
    if (!sample) return;
    normal(key, n * outputs, this.eps);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = 0; k < rows; k++) {
        const a = input[i * rows + k] * this.rowSd[k];
        v += a * a;
      }
      const s = Math.sqrt(v);
      this.stdRow[i] = s;
      for (let j = 0; j < outputs; j++) out[i * outputs + j] += s * this.colSd[j] * this.eps[i * outputs + j];
    }
  }

  backward(phi: Vec, dOut: Float64Array, grad: Vec, dInput: Float64Array | null): void {
    const { rows, outputs } = this.shape;
    const n = this.n;
    const input = this.input;
    if (this.sampled && this.estimator === 'weights') {
      gemm(true, false, rows, outputs, n, 1, input, 0, dOut, 0, 0, this.dWeights, 0);
      for (let k = 0; k < rows; k++) {
        for (let j = 0; j < outputs; j++) {
          const i = k * outputs + j;
          const dw = this.dWeights[i];
          grad[this.meanOffset + i] += dw;
          // ∂W/∂log σ_r² = ½ σ_r ε σ_c, likewise for log σ_c².
          const t = 0.5 * dw * this.rowSd[k] * this.eps[i] * this.colSd[j];
          grad[this.rowVarOffset + k] += t;
          grad[this.colVarOffset + j] += t;
        }
      }
      if (dInput) gemm(false, true, n, rows, outputs, 1, dOut, 0, this.weights, 0, 0, dInput, 0);
      return;
    }
    gemm(true, false, rows, outputs, n, 1, input, 0, dOut, 0, 1, grad, this.meanOffset);
    if (dInput) gemm(false, true, n, rows, outputs, 1, dOut, 0, phi, this.meanOffset, 0, dInput, 0);
    if (!this.sampled) return;
    for (let i = 0; i < n; i++) {
      const s = this.stdRow[i];
      // z_ij = m_ij + s_i σ_cj ε_ij with s_i² = Σ_k ā_ik² σ_rk².
      let dS = 0;
      for (let j = 0; j < outputs; j++) {
        const ge = dOut[i * outputs + j] * this.eps[i * outputs + j] * this.colSd[j];
        dS += ge;
        grad[this.colVarOffset + j] += 0.5 * ge * s;
      }
      if (s <= 0) continue;
      const dVar = dS / (2 * s);
      for (let k = 0; k < rows; k++) {
        const a = input[i * rows + k];
        const u = this.rowSd[k] * this.rowSd[k];
        grad[this.rowVarOffset + k] += dVar * a * a * u;
        if (dInput) dInput[i * rows + k] += 2 * dVar * a * u;
      }
    }
  }

  /**
   * E_q(τ) KL(MN(M, U, V) ‖ MN(0, τ_r⁻¹I, τ_c⁻¹I)) + the two Gamma KLs, from the general matrix
   * normal KL (Louizos & Welling 2016, Eq. 4 generalised):
   *
   *   ½[E τ_r E τ_c (Σ_k σ_rk²)(Σ_j σ_cj²) + E τ_r E τ_c ‖M‖_F² − rc − rc(E log τ_r + E log τ_c)
   *     − c Σ_k log σ_rk² − r Σ_j log σ_cj²].
   */
  kl(phi: Vec, grad: Vec | null, scale: number): number {
    const { rows: r, outputs: c } = this.shape;
    const tr = gammaMoments(phi, this.rowGammaOffset);
    const tc = gammaMoments(phi, this.colGammaOffset);
    let sumU = 0;
    let sumLogU = 0;
    for (let k = 0; k < r; k++) {
      sumU += Math.exp(phi[this.rowVarOffset + k]);
      sumLogU += phi[this.rowVarOffset + k];
    }
    let sumV = 0;
    let sumLogV = 0;
    for (let j = 0; j < c; j++) {
      sumV += Math.exp(phi[this.colVarOffset + j]);
      sumLogV += phi[this.colVarOffset + j];
    }
    let mm = 0;
    for (let i = 0; i < r * c; i++) mm += phi[this.meanOffset + i] ** 2;
    const e = tr.mean * tc.mean;
    let value = 0.5 * (e * sumU * sumV + e * mm - r * c - r * c * (tr.meanLog + tc.meanLog) - c * sumLogU - r * sumLogV);
    value += gammaKl(tr.a, tr.b, this.prior.shape, this.prior.rate, grad ?? undefined, this.rowGammaOffset, scale);
    value += gammaKl(tc.a, tc.b, this.prior.shape, this.prior.rate, grad ?? undefined, this.colGammaOffset, scale);
    if (grad) {
      for (let i = 0; i < r * c; i++) grad[this.meanOffset + i] += scale * e * phi[this.meanOffset + i];
      for (let k = 0; k < r; k++) grad[this.rowVarOffset + k] += scale * 0.5 * (e * sumV * Math.exp(phi[this.rowVarOffset + k]) - c);
      for (let j = 0; j < c; j++) grad[this.colVarOffset + j] += scale * 0.5 * (e * sumU * Math.exp(phi[this.colVarOffset + j]) - r);
      const dE = 0.5 * (sumU * sumV + mm);
      gammaMomentsBackward(grad, this.rowGammaOffset, tr.a, tr.mean, scale * dE * tc.mean, -scale * 0.5 * r * c);
      gammaMomentsBackward(grad, this.colGammaOffset, tc.a, tc.mean, scale * dE * tr.mean, -scale * 0.5 * r * c);
    }
    return value;
  }
}

/**
 * The mean-field Gaussian layer of Bayes by Backprop (Blundell et al. 2015): W_kj ~ N(M_kj, s_kj²)
 * independently, under the same hierarchical prior W_kj ~ N(0, (τ_r τ_c)⁻¹) so that only the
 * posterior family differs from the matrix-variate layer.
 *
 * φ slice: [M (r×c), log s² (r×c), log a_r, log b_r, log a_c, log b_c].
 *
 * Local reparameterisation (Kingma, Salimans & Welling 2015): z_ij = ā_i M_{:j} +
 * √(Σ_k ā_ik² s_kj²) ε_ij. Weight sampling: W = M + s ∘ E, z = ĀW.
 */
export class MeanFieldLayer implements VariationalLayer {
  readonly paramCount: number;
  readonly meanOffset: number;
  private readonly varOffset: number;
  private readonly rowGammaOffset: number;
  private readonly colGammaOffset: number;
  private readonly prior: GammaPrior;
  private readonly estimator: GradientEstimator;
  private readonly initialVariance: number;
  private capacity = 0;
  private input: Float64Array = new Float64Array(0);
  private n = 0;
  private sampled = false;
  private eps = new Float64Array(0);
  private std = new Float64Array(0);
  private inputSq = new Float64Array(0);
  private dVar = new Float64Array(0);
  private readonly variance: Float64Array;
  private readonly weights: Float64Array;
  private readonly dWeights: Float64Array;

  constructor(
    readonly shape: MlpLayerShape,
    readonly offset: number,
    options: LayerOptions = {},
  ) {
    checkShape(shape);
    const size = shape.size;
    this.meanOffset = offset;
    this.varOffset = offset + size;
    this.rowGammaOffset = this.varOffset + size;
    this.colGammaOffset = this.rowGammaOffset + 2;
    this.paramCount = 2 * size + 4;
    this.prior = options.weightPrecisionPrior ?? { shape: 1, rate: 0.5 };
    this.estimator = options.estimator ?? 'local';
    this.initialVariance = options.initialVariance ?? 1e-2;
    if (!(this.initialVariance > 0)) throw new VariationalError(`MeanFieldLayer: initialVariance must be > 0, got ${this.initialVariance}`);
    this.variance = new Float64Array(size);
    this.weights = new Float64Array(size);
    this.dWeights = new Float64Array(size);
    this.ensure(options.capacity ?? 128);
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = n;
    const { rows, outputs } = this.shape;
    this.eps = new Float64Array(Math.max(n * outputs, this.shape.size));
    this.std = new Float64Array(n * outputs);
    this.inputSq = new Float64Array(n * rows);
    this.dVar = new Float64Array(n * outputs);
  }

  init(phi: Vec, key: Key): void {
    initMean(phi, this.meanOffset, this.shape, key);
    phi.fill(Math.log(this.initialVariance), this.varOffset, this.varOffset + this.shape.size);
    for (const at of [this.rowGammaOffset, this.colGammaOffset]) {
      phi[at] = Math.log(this.prior.shape);
      phi[at + 1] = Math.log(this.prior.rate);
    }
  }

  forward(phi: Vec, input: Float64Array, n: number, key: Key, sample: boolean, out: Float64Array): void {
    this.ensure(n);
    this.input = input;
    this.n = n;
    this.sampled = sample;
    const { rows, outputs, size } = this.shape;
    for (let i = 0; i < size; i++) this.variance[i] = Math.exp(phi[this.varOffset + i]);
    if (sample && this.estimator === 'weights') {
      normal(key, size, this.eps);
      for (let i = 0; i < size; i++) this.weights[i] = phi[this.meanOffset + i] + Math.sqrt(this.variance[i]) * this.eps[i];
      gemm(false, false, n, outputs, rows, 1, input, 0, this.weights, 0, 0, out, 0);
      return;
    }
    gemm(false, false, n, outputs, rows, 1, input, 0, phi, this.meanOffset, 0, out, 0);
    if (!sample) return;
    for (let i = 0; i < n * rows; i++) this.inputSq[i] = input[i] * input[i];
    // Var z = (Ā∘Ā) S: a second product over the variances.
    gemm(false, false, n, outputs, rows, 1, this.inputSq, 0, this.variance, 0, 0, this.std, 0);
    normal(key, n * outputs, this.eps);
    for (let i = 0; i < n * outputs; i++) {
      const s = Math.sqrt(this.std[i]);
      this.std[i] = s;
      out[i] += s * this.eps[i];
    }
  }

  backward(phi: Vec, dOut: Float64Array, grad: Vec, dInput: Float64Array | null): void {
    const { rows, outputs, size } = this.shape;
    const n = this.n;
    if (this.sampled && this.estimator === 'weights') {
      gemm(true, false, rows, outputs, n, 1, this.input, 0, dOut, 0, 0, this.dWeights, 0);
      for (let i = 0; i < size; i++) {
        grad[this.meanOffset + i] += this.dWeights[i];
        grad[this.varOffset + i] += 0.5 * this.dWeights[i] * Math.sqrt(this.variance[i]) * this.eps[i];
      }
      if (dInput) gemm(false, true, n, rows, outputs, 1, dOut, 0, this.weights, 0, 0, dInput, 0);
      return;
    }
    gemm(true, false, rows, outputs, n, 1, this.input, 0, dOut, 0, 1, grad, this.meanOffset);
    if (dInput) gemm(false, true, n, rows, outputs, 1, dOut, 0, phi, this.meanOffset, 0, dInput, 0);
    if (!this.sampled) return;
    for (let i = 0; i < n * outputs; i++) {
      const s = this.std[i];
      this.dVar[i] = s > 0 ? (dOut[i] * this.eps[i]) / (2 * s) : 0;
    }
    // ∂L/∂S = (Ā∘Ā)ᵀ ∂L/∂Var z; chain to log s² by the factor s².
    gemm(true, false, rows, outputs, n, 1, this.inputSq, 0, this.dVar, 0, 0, this.dWeights, 0);
    for (let i = 0; i < size; i++) grad[this.varOffset + i] += this.dWeights[i] * this.variance[i];
    if (dInput) {
      // ∂Var z_ij/∂ā_ik = 2 ā_ik S_kj.
      gemm(false, true, n, rows, outputs, 1, this.dVar, 0, this.variance, 0, 0, this.inputSq, 0);
      for (let i = 0; i < n * rows; i++) dInput[i] += 2 * this.input[i] * this.inputSq[i];
      // inputSq is scratch now; the next forward refills it.
    }
  }

  /**
   * E_q(τ) KL(N(M, diag s²) ‖ N(0, (τ_r τ_c)⁻¹ I)) + the two Gamma KLs:
   * ½ Σ_kj [E τ_r E τ_c (M_kj² + s_kj²) − 1 − E log τ_r − E log τ_c − log s_kj²].
   */
  kl(phi: Vec, grad: Vec | null, scale: number): number {
    const size = this.shape.size;
    const tr = gammaMoments(phi, this.rowGammaOffset);
    const tc = gammaMoments(phi, this.colGammaOffset);
    const e = tr.mean * tc.mean;
    let second = 0;
    let sumLog = 0;
    for (let i = 0; i < size; i++) {
      const m = phi[this.meanOffset + i];
      const logVar = phi[this.varOffset + i];
      second += m * m + Math.exp(logVar);
      sumLog += logVar;
    }
    let value = 0.5 * (e * second - size - size * (tr.meanLog + tc.meanLog) - sumLog);
    value += gammaKl(tr.a, tr.b, this.prior.shape, this.prior.rate, grad ?? undefined, this.rowGammaOffset, scale);
    value += gammaKl(tc.a, tc.b, this.prior.shape, this.prior.rate, grad ?? undefined, this.colGammaOffset, scale);
    if (grad) {
      for (let i = 0; i < size; i++) {
        grad[this.meanOffset + i] += scale * e * phi[this.meanOffset + i];
        grad[this.varOffset + i] += scale * 0.5 * (e * Math.exp(phi[this.varOffset + i]) - 1);
      }
      gammaMomentsBackward(grad, this.rowGammaOffset, tr.a, tr.mean, scale * 0.5 * second * tc.mean, -scale * 0.5 * size);
      gammaMomentsBackward(grad, this.colGammaOffset, tc.a, tc.mean, scale * 0.5 * second * tr.mean, -scale * 0.5 * size);
    }
    return value;
  }
}

/** The constants of Kingma, Salimans & Welling (2015, Eq. 13)'s approximation of −KL(q ‖ log-uniform). */
const C1 = 1.16145124;
const C2 = -1.50204118;
const C3 = 0.58629921;

/** ½ log α + c₁α + c₂α² + c₃α³ and its derivative in α. */
function dropoutNegKl(alpha: number): { value: number; dAlpha: number } {
  return {
    value: 0.5 * Math.log(alpha) + C1 * alpha + C2 * alpha * alpha + C3 * alpha * alpha * alpha,
    dAlpha: 0.5 / alpha + C1 + 2 * C2 * alpha + 3 * C3 * alpha * alpha,
  };
}

/** Options of the pseudo-data layer. */
export interface PseudoDataLayerOptions extends LayerOptions {
  /** Pseudo pairs N_p of the layer (default 10; the paper uses 5 on Yacht, 20 on Protein). */
  pseudoPairs?: number;
  /** The largest multiplicative noise variance α of the pseudo data (default 0.01). */
  maxPseudoNoise?: number;
  /** Jitter added to the diagonal of Σ₁₁ (default 1e-6). */
  jitter?: number;
}

/**
 * The pseudo-data matrix-variate Gaussian layer (Louizos & Welling 2016, Sec. 3.2, Eqs. 8–10):
 * the MVG posterior viewed as a Gaussian process with kernel ψ(z₁) U ψ(z₂)ᵀ ⊗ V, conditioned on
 * N_p learned pseudo-inputs Ã (N_p × r) and pseudo-outputs B̃ (N_p × c):
 *
 *   z_i ~ N(ā_i M + σ₁₂ᵀ Σ₁₁⁻¹ (B̃ − ÃM), (σ₂₂ − σ₁₂ᵀ Σ₁₁⁻¹ σ₁₂) V),
 *   Σ₁₁ = ÃUÃᵀ + δI,  σ₁₂ = ÃU ā_iᵀ,  σ₂₂ = ā_i U ā_iᵀ.
 *
 * Ã and B̃ get multiplicative Gaussian noise posteriors Ã = μ_Ã ∘ (1 + √α_Ã ε) (one α per matrix,
 * α ≤ `maxPseudoNoise` through α = α_max·sigmoid(ρ)) with log-uniform priors, regularised by the
 * variational-dropout approximation −KL ≈ ½ log α + c₁α + c₂α² + c₃α³ per entry (Kingma,
 * Salimans & Welling 2015), shifted to be 0 at α_max. The regulariser of W is the KL of the MVG
 * itself (as in `MatrixGaussianLayer`). Sampling is by local reparameterisation only.
 *
 * φ slice: the `MatrixGaussianLayer` slice, then [μ_Ã (N_p×r), μ_B̃ (N_p×c), ρ_Ã, ρ_B̃].
 */
export class PseudoDataLayer extends MatrixGaussianLayer {
  readonly pseudoPairs: number;
  private readonly pseudoInOffset: number;
  private readonly pseudoOutOffset: number;
  private readonly noiseInOffset: number;
  private readonly noiseOutOffset: number;
  private readonly maxNoise: number;
  private readonly jitter: number;
  // Per-step buffers (N_p = p, r rows, c outputs, n batch rows).
  private readonly zs: Float64Array; // sampled Ã, p×r
  private readonly bs: Float64Array; // sampled B̃, p×c
  private readonly epsZ: Float64Array;
  private readonly epsB: Float64Array;
  private readonly kInv: Float64Array; // p×p
  private readonly chol: Float64Array; // p×p
  private readonly q: Float64Array; // Σ₁₁⁻¹(B̃ − ÃM), p×c
  private readonly dQ: Float64Array;
  private readonly dR: Float64Array;
  private readonly dK: Float64Array;
  private readonly dZ: Float64Array; // p×r
  private readonly tmpPR: Float64Array; // p×r
  private readonly dU: Float64Array; // r
  private readonly uVec: Float64Array; // r
  private cross = new Float64Array(0); // ā U Ãᵀ, n×p
  private proj = new Float64Array(0); // cross Σ₁₁⁻¹, n×p
  private dCross = new Float64Array(0);
  private dVarRow = new Float64Array(0);
  private tmpNR = new Float64Array(0);
  private alphaIn = 0;
  private alphaOut = 0;

  constructor(shape: MlpLayerShape, offset: number, options: PseudoDataLayerOptions = {}) {
    const p = options.pseudoPairs ?? 10;
    if (!Number.isSafeInteger(p) || p < 1) throw new VariationalError(`PseudoDataLayer: pseudoPairs must be a positive integer, got ${p}`);
    super(shape, offset, { ...options, estimator: 'local' }, p * (shape.rows + shape.outputs) + 2);
    this.pseudoPairs = p;
    const { rows: r, outputs: c } = shape;
    this.pseudoInOffset = this.colGammaOffset + 2;
    this.pseudoOutOffset = this.pseudoInOffset + p * r;
    this.noiseInOffset = this.pseudoOutOffset + p * c;
    this.noiseOutOffset = this.noiseInOffset + 1;
    this.maxNoise = options.maxPseudoNoise ?? 0.01;
    this.jitter = options.jitter ?? 1e-6;
    if (!(this.maxNoise > 0 && this.maxNoise <= 1)) throw new VariationalError(`PseudoDataLayer: maxPseudoNoise must be in (0, 1], got ${this.maxNoise}`);
    if (!(this.jitter > 0)) throw new VariationalError(`PseudoDataLayer: jitter must be > 0, got ${this.jitter}`);
    this.zs = new Float64Array(p * r);
    this.bs = new Float64Array(p * c);
    this.epsZ = new Float64Array(p * r);
    this.epsB = new Float64Array(p * c);
    this.kInv = new Float64Array(p * p);
    this.chol = new Float64Array(p * p);
    this.q = new Float64Array(p * c);
    this.dQ = new Float64Array(p * c);
    this.dR = new Float64Array(p * c);
    this.dK = new Float64Array(p * p);
    this.dZ = new Float64Array(p * r);
    this.tmpPR = new Float64Array(p * r);
    this.dU = new Float64Array(r);
    this.uVec = new Float64Array(r);
    this.ensureExtra(Math.max(this.capacity, 1));
  }

  protected override ensureExtra(n: number): void {
    const p = this.pseudoPairs;
    if (p === undefined) return; // called from the base constructor before the fields exist
    if (this.cross.length >= n * p) return;
    this.cross = new Float64Array(n * p);
    this.proj = new Float64Array(n * p);
    this.dCross = new Float64Array(n * p);
    this.dVarRow = new Float64Array(n);
    this.tmpNR = new Float64Array(n * this.shape.rows);
  }

  override init(phi: Vec, key: Key): void {
    const [kBase, kIn, kOut] = split(key, 3);
    super.init(phi, kBase);
    const p = this.pseudoPairs;
    const { rows: r, outputs: c } = this.shape;
    // Small uniform pseudo data in ±0.01, as in the authors' set-up, so the first steps are the plain MVG.
    const u = uniform(kIn, p * r);
    for (let i = 0; i < p * r; i++) phi[this.pseudoInOffset + i] = 0.02 * u[i] - 0.01;
    const v = uniform(kOut, p * c);
    for (let i = 0; i < p * c; i++) phi[this.pseudoOutOffset + i] = 0.02 * v[i] - 0.01;
    // ρ = 2 gives α ≈ 0.88 α_max: start near the largest noise, as the authors do.
    phi[this.noiseInOffset] = 2;
    phi[this.noiseOutOffset] = 2;
  }

  private alphaOf(rho: number): number {
    return this.maxNoise / (1 + Math.exp(-rho));
  }

  /** In-place Cholesky of the p×p matrix in `chol` and its inverse into `kInv`. */
  private invertSpd(): void {
    const p = this.pseudoPairs;
    const L = this.chol;
    try {
      cholesky(L, p, L);
    } catch (error) {
      if (!(error instanceof NotPositiveDefiniteError)) throw error;
      throw new VariationalError(`PseudoDataLayer: Σ₁₁ is not positive definite (pivot ${error.pivotIndex} = ${error.pivotValue}); increase jitter`);
    }
    // Solve L Lᵀ X = I column by column.
    const inv = this.kInv;
    for (let col = 0; col < p; col++) {
      for (let i = 0; i < p; i++) {
        let s = i === col ? 1 : 0;
        for (let k = 0; k < i; k++) s -= L[i * p + k] * inv[k * p + col];
        inv[i * p + col] = s / L[i * p + i];
      }
      for (let i = p - 1; i >= 0; i--) {
        let s = inv[i * p + col];
        for (let k = i + 1; k < p; k++) s -= L[k * p + i] * inv[k * p + col];
        inv[i * p + col] = s / L[i * p + i];
      }
    }
  }

  override forward(phi: Vec, input: Float64Array, n: number, key: Key, sample: boolean, out: Float64Array): void {
    this.ensure(n);
    this.ensureExtra(n);
    this.input = input;
    this.n = n;
    this.sampled = sample;
    const p = this.pseudoPairs;
    const { rows: r, outputs: c } = this.shape;
    this.loadScales(phi);
    for (let k = 0; k < r; k++) this.uVec[k] = this.rowSd[k] * this.rowSd[k];
    const [kZ, kB, kOut] = split(key, 3);
    this.alphaIn = this.alphaOf(phi[this.noiseInOffset]);
    this.alphaOut = this.alphaOf(phi[this.noiseOutOffset]);
    if (sample) {
      normal(kZ, p * r, this.epsZ);
      normal(kB, p * c, this.epsB);
    } else {
      this.epsZ.fill(0);
      this.epsB.fill(0);
    }
    const sIn = Math.sqrt(this.alphaIn);
    const sOut = Math.sqrt(this.alphaOut);
    for (let i = 0; i < p * r; i++) this.zs[i] = phi[this.pseudoInOffset + i] * (1 + sIn * this.epsZ[i]);
    for (let i = 0; i < p * c; i++) this.bs[i] = phi[this.pseudoOutOffset + i] * (1 + sOut * this.epsB[i]);
    // Σ₁₁ = Ã U Ãᵀ + δI
    for (let i = 0; i < p * r; i++) this.tmpPR[i] = this.zs[i] * this.uVec[i % r];
    gemm(false, true, p, p, r, 1, this.tmpPR, 0, this.zs, 0, 0, this.chol, 0);
    for (let i = 0; i < p; i++) this.chol[i * p + i] += this.jitter;
    this.invertSpd();
    // Q = Σ₁₁⁻¹ (B̃ − ÃM)
    this.dR.set(this.bs);
    gemm(false, false, p, c, r, -1, this.zs, 0, phi, this.meanOffset, 1, this.dR, 0);
    gemm(false, false, p, c, p, 1, this.kInv, 0, this.dR, 0, 0, this.q, 0);
    // cross = ā U Ãᵀ (n×p), proj = cross Σ₁₁⁻¹
    gemm(false, true, n, p, r, 1, input, 0, this.tmpPR, 0, 0, this.cross, 0);
    gemm(false, false, n, p, p, 1, this.cross, 0, this.kInv, 0, 0, this.proj, 0);
    // μ = ā M + cross Q
    gemm(false, false, n, c, r, 1, input, 0, phi, this.meanOffset, 0, out, 0);
    gemm(false, false, n, c, p, 1, this.cross, 0, this.q, 0, 1, out, 0);
    if (!sample) return;
    normal(kOut, n * c, this.eps);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = 0; k < r; k++) {
        const a = input[i * r + k];
        v += a * a * this.uVec[k];
      }
      for (let j = 0; j < p; j++) v -= this.proj[i * p + j] * this.cross[i * p + j];
      // The conditional variance is ≥ 0 in exact arithmetic; rounding can push it just below.
      const s = v > 0 ? Math.sqrt(v) : 0;
      this.stdRow[i] = s;
      for (let j = 0; j < c; j++) out[i * c + j] += s * this.colSd[j] * this.eps[i * c + j];
    }
  }

  override backward(phi: Vec, dOut: Float64Array, grad: Vec, dInput: Float64Array | null): void {
    const n = this.n;
    const p = this.pseudoPairs;
    const { rows: r, outputs: c } = this.shape;
    const input = this.input;
    const M = this.meanOffset;
    this.dU.fill(0);
    // Mean path: μ = ā M + C Q.
    gemm(true, false, r, c, n, 1, input, 0, dOut, 0, 1, grad, M);
    if (dInput) gemm(false, true, n, r, c, 1, dOut, 0, phi, M, 0, dInput, 0);
    gemm(true, false, p, c, n, 1, this.cross, 0, dOut, 0, 0, this.dQ, 0);
    gemm(false, true, n, p, c, 1, dOut, 0, this.q, 0, 0, this.dCross, 0);
    this.dK.fill(0);
    if (this.sampled) {
      // Variance path: v_i = ā_i U ā_iᵀ − C_i Σ₁₁⁻¹ C_iᵀ, z_ij = μ_ij + √v_i σ_cj ε_ij.
      for (let i = 0; i < n; i++) {
        const s = this.stdRow[i];
        let dS = 0;
        for (let j = 0; j < c; j++) {
          const ge = dOut[i * c + j] * this.eps[i * c + j] * this.colSd[j];
          dS += ge;
          grad[this.colVarOffset + j] += 0.5 * ge * s;
        }
        const dv = s > 0 ? dS / (2 * s) : 0;
        this.dVarRow[i] = dv;
        if (dv === 0) continue;
        for (let k = 0; k < r; k++) {
          const a = input[i * r + k];
          this.dU[k] += dv * a * a;
          if (dInput) dInput[i * r + k] += 2 * dv * a * this.uVec[k];
        }
        for (let j = 0; j < p; j++) this.dCross[i * p + j] -= 2 * dv * this.proj[i * p + j];
      }
      // ∂/∂Σ₁₁ of −C Σ₁₁⁻¹ Cᵀ: + Pᵀ diag(dv) P.
      for (let i = 0; i < n; i++) {
        const dv = this.dVarRow[i];
        if (dv === 0) continue;
        for (let a = 0; a < p; a++) {
          const pa = dv * this.proj[i * p + a];
          for (let b = 0; b < p; b++) this.dK[a * p + b] += pa * this.proj[i * p + b];
        }
      }
    }
    // Q = Σ₁₁⁻¹ R: ∂R = Σ₁₁⁻¹ ∂Q, ∂Σ₁₁ −= ∂R Qᵀ.
    gemm(false, false, p, c, p, 1, this.kInv, 0, this.dQ, 0, 0, this.dR, 0);
    gemm(false, true, p, p, c, -1, this.dR, 0, this.q, 0, 1, this.dK, 0);
    // R = B̃ − Ã M: ∂B̃ = ∂R, ∂Ã = −∂R Mᵀ, ∂M −= Ãᵀ ∂R.
    gemm(false, true, p, r, c, -1, this.dR, 0, phi, M, 0, this.dZ, 0);
    gemm(true, false, r, c, p, -1, this.zs, 0, this.dR, 0, 1, grad, M);
    // C = ā U Ãᵀ: ∂ā += (∂C Ã) U, ∂Ã += (∂Cᵀ ā) U, ∂u_k += Σ (∂Cᵀ ā)_pk Ã_pk.
    if (dInput) {
      gemm(false, false, n, r, p, 1, this.dCross, 0, this.zs, 0, 0, this.tmpNR, 0);
      for (let i = 0; i < n * r; i++) dInput[i] += this.tmpNR[i] * this.uVec[i % r];
    }
    gemm(true, false, p, r, n, 1, this.dCross, 0, input, 0, 0, this.tmpPR, 0);
    for (let i = 0; i < p * r; i++) {
      const k = i % r;
      this.dZ[i] += this.tmpPR[i] * this.uVec[k];
      this.dU[k] += this.tmpPR[i] * this.zs[i];
    }
    // Σ₁₁ = Ã U Ãᵀ + δI with symmetric ∂Σ: ∂Ã += 2 ∂Σ Ã U, ∂u_k += Σ (∂Σ Ã)_pk Ã_pk.
    for (let a = 0; a < p; a++) {
      for (let b = a + 1; b < p; b++) {
        const s = 0.5 * (this.dK[a * p + b] + this.dK[b * p + a]);
        this.dK[a * p + b] = s;
        this.dK[b * p + a] = s;
      }
    }
    gemm(false, false, p, r, p, 1, this.dK, 0, this.zs, 0, 0, this.tmpPR, 0);
    for (let i = 0; i < p * r; i++) {
      const k = i % r;
      this.dZ[i] += 2 * this.tmpPR[i] * this.uVec[k];
      this.dU[k] += this.tmpPR[i] * this.zs[i];
    }
    for (let k = 0; k < r; k++) grad[this.rowVarOffset + k] += this.dU[k] * this.uVec[k];
    // Multiplicative noise: Ã = μ (1 + √α ε), α = α_max sigmoid(ρ), ∂α/∂ρ = α (1 − α/α_max).
    const sIn = Math.sqrt(this.alphaIn);
    let dSqrtIn = 0;
    for (let i = 0; i < p * r; i++) {
      const mu = phi[this.pseudoInOffset + i];
      grad[this.pseudoInOffset + i] += this.dZ[i] * (1 + sIn * this.epsZ[i]);
      dSqrtIn += this.dZ[i] * mu * this.epsZ[i];
    }
    const sOut = Math.sqrt(this.alphaOut);
    let dSqrtOut = 0;
    for (let i = 0; i < p * c; i++) {
      const mu = phi[this.pseudoOutOffset + i];
      grad[this.pseudoOutOffset + i] += this.dR[i] * (1 + sOut * this.epsB[i]);
      dSqrtOut += this.dR[i] * mu * this.epsB[i];
    }
    if (sIn > 0) grad[this.noiseInOffset] += (dSqrtIn / (2 * sIn)) * this.alphaIn * (1 - this.alphaIn / this.maxNoise);
    if (sOut > 0) grad[this.noiseOutOffset] += (dSqrtOut / (2 * sOut)) * this.alphaOut * (1 - this.alphaOut / this.maxNoise);
  }

  /** The MVG KL of the base layer plus the pseudo-data noise KL, 0 at α = α_max and ≥ 0 below it. */
  override kl(phi: Vec, grad: Vec | null, scale: number): number {
    let value = super.kl(phi, grad, scale);
    const p = this.pseudoPairs;
    const ref = dropoutNegKl(this.maxNoise).value;
    const parts: [number, number][] = [
      [this.noiseInOffset, p * this.shape.rows],
      [this.noiseOutOffset, p * this.shape.outputs],
    ];
    for (const [at, count] of parts) {
      const alpha = this.alphaOf(phi[at]);
      const term = dropoutNegKl(alpha);
      value += count * (ref - term.value);
      if (grad) grad[at] -= scale * count * term.dAlpha * alpha * (1 - alpha / this.maxNoise);
    }
    return value;
  }
}
