/**
 * Variational Bayesian fully connected ReLU networks: a stack of stochastic layers (matrix-variate
 * Gaussian, its pseudo-data variant, or mean-field Gaussian; see ./layers.ts) over one flat
 * variational parameter vector φ, with a Gaussian likelihood whose noise precision has a Gamma
 * posterior, or a softmax likelihood. Gives the minibatch ELBO and its reparameterised gradient,
 * and Monte Carlo predictive draws.
 */
import { split, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { augmentInput, mlpLayout, reluAugment, reluAugmentBackward, softmaxRows, type MlpLayout } from '../nn/mlp.js';
import { digamma, gammaKl, trigamma } from './special.js';
import {
  MatrixGaussianLayer,
  MeanFieldLayer,
  PseudoDataLayer,
  VariationalError,
  type GammaPrior,
  type GradientEstimator,
  type VariationalLayer,
} from './layers.js';

/** The weight posterior family of every layer. */
export type WeightFamily = 'mvg' | 'mvg-pseudo' | 'meanfield';

/** Options of `BayesianMlp`. */
export interface BayesianMlpOptions {
  /** Widths [input, hidden..., output]. */
  sizes: readonly number[];
  family: WeightFamily;
  /** 'gaussian' regression (one output) or 'softmax' classification. */
  likelihood: 'gaussian' | 'softmax';
  /** Local reparameterisation (default) or weight sampling ('mvg' and 'meanfield' only). */
  estimator?: GradientEstimator;
  /** Prior of the layer precisions τ_r, τ_c (default Gamma(1, 0.5), shape–rate). */
  weightPrecisionPrior?: GammaPrior;
  /** Prior of the noise precision τ (default Gamma(6, 6), shape–rate). */
  noisePrior?: GammaPrior;
  /** Pseudo pairs per layer for 'mvg-pseudo' (default 10). */
  pseudoPairs?: number;
  /** Largest multiplicative noise variance of the pseudo data (default 0.01). */
  maxPseudoNoise?: number;
  /** Initial posterior variance of each weight (default 0.01). */
  initialVariance?: number;
  /** Divide layer inputs by √dim (default true). */
  scaleInputs?: boolean;
}

/** What one ELBO evaluation reports (per training example). */
export interface ElboValue {
  /** ELBO / N = (1/S) Σ_batch E log p(y|x, W) − (klWeight/N) KL. */
  elbo: number;
  /** (1/S) Σ_batch of the sampled expected log likelihood. */
  logLikelihood: number;
  /** The total KL (not divided by N). */
  kl: number;
  /** Gaussian likelihood: (1/S) Σ_batch (y_i − f_i)² at the drawn weights (NaN for softmax). */
  meanSquaredError: number;
}

/**
 * A variational Bayesian network (Louizos & Welling 2016; Blundell et al. 2015).
 *
 * φ layout: the layers' slices in order (see the layer classes), then, for the Gaussian
 * likelihood, (log a, log b) of the noise-precision posterior q(τ) = Gamma(a, b).
 *
 * The expected log likelihood integrates τ exactly: E_q(τ) log N(y; f, τ⁻¹) =
 * ½(ψ(a) − log b) − ½ log 2π − ½ (a/b)(y − f)², so only the weights are sampled.
 */
export class BayesianMlp {
  readonly layout: MlpLayout;
  readonly layers: readonly VariationalLayer[];
  /** Length of φ. */
  readonly dim: number;
  /** Index of log a of q(τ) in φ, or −1 for the softmax likelihood. */
  readonly noiseOffset: number;
  readonly likelihood: 'gaussian' | 'softmax';
  readonly family: WeightFamily;
  /** The Gamma prior of the noise precision (shape–rate). */
  readonly noisePrior: GammaPrior;
  private capacity = 0;
  private inputs: Float64Array[] = [];
  private pre: Float64Array[] = [];
  private dPre: Float64Array[] = [];
  private dAug = new Float64Array(0);

  constructor(options: BayesianMlpOptions) {
    const { sizes, family, likelihood } = options;
    if (!['mvg', 'mvg-pseudo', 'meanfield'].includes(family)) throw new VariationalError(`BayesianMlp: unknown family '${family}' (mvg, mvg-pseudo, meanfield)`);
    if (likelihood !== 'gaussian' && likelihood !== 'softmax') throw new VariationalError(`BayesianMlp: unknown likelihood '${likelihood}' (gaussian, softmax)`);
    this.layout = mlpLayout(sizes, { scaleInputs: options.scaleInputs });
    const outputs = sizes[sizes.length - 1];
    if (likelihood === 'gaussian' && outputs !== 1) throw new VariationalError(`BayesianMlp: the Gaussian likelihood needs one output, got ${outputs}`);
    if (likelihood === 'softmax' && outputs < 2) throw new VariationalError(`BayesianMlp: the softmax likelihood needs at least 2 outputs, got ${outputs}`);
    if (family === 'mvg-pseudo' && options.estimator === 'weights') {
      throw new VariationalError('BayesianMlp: the pseudo-data family samples by local reparameterisation only');
    }
    this.family = family;
    this.likelihood = likelihood;
    this.noisePrior = options.noisePrior ?? { shape: 6, rate: 6 };
    let offset = 0;
    const layers: VariationalLayer[] = [];
    const common = {
      weightPrecisionPrior: options.weightPrecisionPrior,
      estimator: options.estimator,
      initialVariance: options.initialVariance,
    };
    for (const shape of this.layout.layers) {
      const layer =
        family === 'mvg'
          ? new MatrixGaussianLayer(shape, offset, common)
          : family === 'meanfield'
            ? new MeanFieldLayer(shape, offset, common)
            : new PseudoDataLayer(shape, offset, { ...common, pseudoPairs: options.pseudoPairs, maxPseudoNoise: options.maxPseudoNoise });
      layers.push(layer);
      offset += layer.paramCount;
    }
    this.layers = layers;
    this.noiseOffset = likelihood === 'gaussian' ? offset : -1;
    this.dim = offset + (likelihood === 'gaussian' ? 2 : 0);
    this.ensure(128);
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = n;
    const shapes = this.layout.layers;
    this.inputs = shapes.map((l) => new Float64Array(n * l.rows));
    this.pre = shapes.map((l) => new Float64Array(n * l.outputs));
    this.dPre = shapes.map((l) => new Float64Array(n * l.outputs));
    this.dAug = new Float64Array(n * Math.max(...shapes.map((l) => l.rows)));
  }

  /** Initial φ: He-initialised means, small variances, every Gamma posterior at its prior. */
  init(key: Key): Vec {
    const phi = new Float64Array(this.dim);
    const keys = split(key, this.layers.length);
    this.layers.forEach((layer, l) => layer.init(phi, keys[l]));
    if (this.noiseOffset >= 0) {
      phi[this.noiseOffset] = Math.log(this.noisePrior.shape);
      phi[this.noiseOffset + 1] = Math.log(this.noisePrior.rate);
    }
    return phi;
  }

  /** The noise-precision posterior q(τ) = Gamma(shape, rate) (Gaussian likelihood only). */
  noisePosterior(phi: Vec): GammaPrior {
    if (this.noiseOffset < 0) throw new VariationalError('BayesianMlp.noisePosterior: the softmax likelihood has no noise precision');
    return { shape: Math.exp(phi[this.noiseOffset]), rate: Math.exp(phi[this.noiseOffset + 1]) };
  }

  /** The posterior means M of every layer as a flat weight vector in the layout of src/nn/mlp.ts. */
  meanWeights(phi: Vec): Vec {
    const out = new Float64Array(this.layout.dim);
    this.layers.forEach((layer, l) => {
      const shape = this.layout.layers[l];
      out.set(phi.subarray(layer.meanOffset, layer.meanOffset + shape.size), shape.offset);
    });
    return out;
  }

  private checkPhi(where: string, phi: Vec): void {
    if (!(phi instanceof Float64Array) || phi.length !== this.dim) {
      throw new VariationalError(`BayesianMlp.${where}: phi must be a Float64Array of length ${this.dim}, got ${phi instanceof Float64Array ? `length ${phi.length}` : typeof phi}`);
    }
  }

  /**
   * Network outputs for `n` rows of `x` (selected by `rows`, or 0..n−1): a reparameterised draw from
   * `key` when `sample`, the mean network otherwise. Returns a view (n × outputs) valid until the
   * next call.
   */
  outputs(phi: Vec, x: Float64Array, rows: Int32Array | null, n: number, key: Key, sample = true): Float64Array {
    this.ensure(n);
    const shapes = this.layout.layers;
    augmentInput(x, shapes[0].inputs, rows, n, shapes[0].inputScale, this.inputs[0]);
    const keys = split(key, this.layers.length);
    for (let l = 0; l < this.layers.length; l++) {
      this.layers[l].forward(phi, this.inputs[l], n, keys[l], sample, this.pre[l]);
      if (l + 1 < this.layers.length) reluAugment(this.pre[l], shapes[l].outputs, n, shapes[l + 1].inputScale, this.inputs[l + 1]);
    }
    const last = shapes.length - 1;
    return this.pre[last].subarray(0, n * shapes[last].outputs);
  }

  /** Sum of the layers' KL terms and the noise-precision KL; with `grad`, adds `scale` × ∂KL/∂φ. */
  kl(phi: Vec, grad: Vec | null = null, scale = 1): number {
    this.checkPhi('kl', phi);
    let value = 0;
    for (const layer of this.layers) value += layer.kl(phi, grad, scale);
    if (this.noiseOffset >= 0) {
      const { shape, rate } = this.noisePosterior(phi);
      value += gammaKl(shape, rate, this.noisePrior.shape, this.noisePrior.rate, grad ?? undefined, this.noiseOffset, scale);
    }
    return value;
  }

  /**
   * The per-example ELBO estimate from one posterior draw (Louizos & Welling 2016, Eq. 2;
   * Kingma & Welling 2014's reparameterisation), and its gradient written into `grad`:
   *
   *   L(φ)/N = (1/S) Σ_{i∈batch} E_q log p(y_i | x_i, W) − (klWeight/N) KL(q ‖ p),
   *
   * with one draw of the pre-activations (or weights) from `key`. `x` is row-major with
   * `sizes[0]` columns; `y` holds targets (regression) or class indices (softmax); `batch` selects
   * rows; `dataSize` is N. With a fixed key the estimate is a deterministic function of φ.
   */
  elbo(phi: Vec, key: Key, x: Float64Array, y: Float64Array, batch: Int32Array, dataSize: number, grad: Vec, klWeight = 1): ElboValue {
    this.checkPhi('elbo', phi);
    if (grad.length !== this.dim) throw new VariationalError(`BayesianMlp.elbo: grad must have length ${this.dim}, got ${grad.length}`);
    const n = batch.length;
    if (n < 1) throw new VariationalError('BayesianMlp.elbo: the batch is empty');
    if (!(dataSize >= n)) throw new VariationalError(`BayesianMlp.elbo: dataSize ${dataSize} is smaller than the batch (${n})`);
    grad.fill(0);
    const f = this.outputs(phi, x, batch, n, key, true);
    const shapes = this.layout.layers;
    const last = shapes.length - 1;
    const dOut = this.dPre[last];
    let logLik: number;
    let meanSquaredError = Number.NaN;
    if (this.likelihood === 'gaussian') {
      const a = Math.exp(phi[this.noiseOffset]);
      const b = Math.exp(phi[this.noiseOffset + 1]);
      const tau = a / b;
      const meanLogTau = digamma(a) - Math.log(b);
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const r = y[batch[i]] - f[i];
        sq += r * r;
        dOut[i] = (tau * r) / n;
      }
      logLik = 0.5 * meanLogTau - 0.5 * Math.log(2 * Math.PI) - (0.5 * tau * sq) / n;
      meanSquaredError = sq / n;
      // ∂/∂E log τ = ½, ∂/∂E τ = −½ mean r²; chained to (log a, log b).
      const dMean = (-0.5 * sq) / n;
      grad[this.noiseOffset] += dMean * tau + 0.5 * a * trigamma(a);
      grad[this.noiseOffset + 1] += -dMean * tau - 0.5;
    } else {
      const classes = shapes[last].outputs;
      dOut.set(f);
      logLik = softmaxRows(dOut, n, classes, y, batch) / n;
      for (let i = 0; i < n * classes; i++) dOut[i] = -dOut[i] / n;
      for (let i = 0; i < n; i++) dOut[i * classes + y[batch[i]]] += 1 / n;
    }
    let g = dOut;
    for (let l = last; l >= 0; l--) {
      const needInput = l > 0;
      this.layers[l].backward(phi, g, grad, needInput ? this.dAug : null);
      if (!needInput) break;
      reluAugmentBackward(this.dAug, this.pre[l - 1], shapes[l - 1].outputs, n, shapes[l].inputScale, this.dPre[l - 1]);
      g = this.dPre[l - 1];
    }
    // Ascent direction of the ELBO: the KL enters with −klWeight/N.
    const klValue = this.kl(phi, grad, -klWeight / dataSize);
    return { elbo: logLik - (klWeight * klValue) / dataSize, logLikelihood: logLik, kl: klValue, meanSquaredError };
  }
}
