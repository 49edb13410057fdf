/**
 * Stochastic variational training of a `BayesianMlp`: Adam on the minibatch ELBO with temporal
 * averaging of the iterates, and the Monte Carlo predictive distribution.
 */
import { foldIn, key as makeKey, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { lgamma } from '../core/distributions.js';
import { Minibatcher } from '../data/minibatch.js';
import { adam } from '../transforms/adam.js';
import { softmaxRows } from '../nn/mlp.js';
import type { BayesianMlp } from './bnn.js';
import { VariationalError } from './layers.js';

/** Options of `trainVi`. */
export interface TrainViOptions {
  /** Passes over the data. */
  epochs: number;
  /** Minibatch size S (clipped to N). */
  batchSize: number;
  /** Adam learning rate (default 1e-3, as in Louizos & Welling 2016). */
  learningRate?: number;
  /** Seed of the run (default 0); batches and posterior draws derive from it. */
  seed?: number;
  /**
   * β₃ of the temporal averaging φ̄_t = β₃ φ̄_{t−1} + (1 − β₃) φ_t, reported with the bias
   * correction φ̄_t/(1 − β₃ᵗ) (Kingma & Ba 2015, Sec. 7.2); default 0.999, 0 turns it off.
   */
  averaging?: number;
  /**
   * Epochs over which the KL weight rises linearly from 0 to 1 (KL annealing); default 0: the
   * exact ELBO from the first step.
   */
  klAnnealingEpochs?: number;
  /**
   * How q(τ) of the Gaussian noise precision is fitted: 'gradient' (default, as in the authors'
   * code) leaves (log a, log b) to Adam with the other parameters; 'closed-form' sets q(τ) after each
   * epoch to its optimum given q(W), a = a₀ + N/2, b = b₀ + (N/2)·(mean over the epoch's batches of
   * (1/S) Σ (y − f)² at the drawn weights), the variational-Bayes update (Bishop 2006, Eq. 10.30).
   * Measured on Energy split 0 (mvg-pseudo, fixed Gamma(6, 6)): both reach E τ ≈ 35, but only the
   * closed form reaches the optimal shape a₀ + N/2 (351 against 55 by gradient); that E τ was set by
   * the prior (see `noisePriorRate`).
   */
  noisePrecision?: 'closed-form' | 'gradient';
  /**
   * The rate b₀ of the noise-precision prior Gamma(a₀, b₀): 'fixed' (default) keeps `net.noisePrior`;
   * 'empirical-bayes' fits b₀ by type-II maximum likelihood (the M-step of variational EM,
   * b₀ = a₀ / E_q τ), which at the joint optimum with the closed-form q(τ) gives
   * q(τ) = Gamma(a₀ + N/2, (a₀ + N/2)·m), E τ = 1/m, m the mean over the epoch's batches of
   * (1/S) Σ (y − f)². Needs `noisePrecision: 'closed-form'`. Why: a fixed rate in standardised
   * units acts as b₀ of extra squared error; Gamma(6, 6) adds 6 to the data's (N/2)·m ≈ 3.3 on
   * Energy and caps E τ at (a₀ + N/2)/b₀ ≈ 58 whatever the fit.
   */
  noisePriorRate?: 'empirical-bayes' | 'fixed';
  /**
   * After training, set q(τ) to its ELBO optimum given the returned (averaged) q(W): coordinate
   * ascent with E_q(W) Σ_i (y_i − f_i)² estimated over the training rows (see `refitNoisePosterior`).
   * Default true; it fixes that q(τ) was fitted to the iterates while the predictive uses their
   * average.
   */
  refitNoise?: boolean;
  /** Initial φ (default `net.init(key)`). */
  initial?: Vec;
  /** Called after each epoch with the epoch's mean ELBO per example. */
  onEpoch?: (epoch: number, meanElbo: number) => void;
}

/** The result of `trainVi`. */
export interface TrainViResult {
  /** The averaged parameters (the last iterate when averaging is off). */
  phi: Vec;
  /** The last iterate. */
  last: Vec;
  /** Mean ELBO per example of each epoch (its q(τ) KL always to `net.noisePrior`, also under empirical Bayes). */
  elboTrace: number[];
  steps: number;
}

/**
 * Maximise the ELBO of `net` on the rows of (x, y) with Adam (Kingma & Ba 2015), one posterior
 * draw per update (Louizos & Welling 2016, Sec. 5):
 *
 *   φ_{t+1} = φ_t + Adam(∇_φ [(1/S) Σ_batch log p(y_i | x_i, W_t) − (β_t/N) KL(q_φ ‖ p)]),  W_t ~ q_φ,
 *
 * β_t the KL weight (1 unless annealing is asked for), batches drawn without replacement per epoch
 * from the run's key, and the iterates averaged with β₃ (temporal averaging).
 */
export function trainVi(net: BayesianMlp, x: Float64Array, y: Float64Array, rows: number, options: TrainViOptions): TrainViResult {
  const where = 'trainVi';
  if (!Number.isSafeInteger(options.epochs) || options.epochs < 1) throw new VariationalError(`${where}: epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) throw new VariationalError(`${where}: batchSize must be a positive integer, got ${options.batchSize}`);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new VariationalError(`${where}: rows must be a positive integer, got ${rows}`);
  const inputs = net.layout.sizes[0];
  if (x.length < rows * inputs || y.length < rows) throw new VariationalError(`${where}: x (${x.length}) and y (${y.length}) are too short for ${rows} rows of ${inputs} features`);
  const lr = options.learningRate ?? 1e-3;
  const beta3 = options.averaging ?? 0.999;
  if (!(beta3 >= 0 && beta3 < 1)) throw new VariationalError(`${where}: averaging must be in [0, 1), got ${beta3}`);
  const anneal = options.klAnnealingEpochs ?? 0;
  const root = makeKey(options.seed ?? 0);
  const [batchKey, noiseKey, initKey] = [foldIn(root, 1), foldIn(root, 2), foldIn(root, 3)];
  let phi = options.initial ? Float64Array.from(options.initial) : net.init(initKey);
  if (phi.length !== net.dim) throw new VariationalError(`${where}: initial has length ${phi.length}, the network needs ${net.dim}`);
  const batchSize = Math.min(options.batchSize, rows);
  const batcher = new Minibatcher(batchKey, rows, batchSize);
  const optimiser = adam({ lr });
  let state = optimiser.init(phi);
  const grad = new Float64Array(net.dim);
  const negGrad = new Float64Array(net.dim);
  const average = new Float64Array(net.dim);
  const elboTrace: number[] = [];
  const perEpoch = batcher.batchesPerEpoch;
  const closedFormNoise = net.noiseOffset >= 0 && options.noisePrecision === 'closed-form';
  const empiricalBayes = options.noisePriorRate === 'empirical-bayes';
  if (empiricalBayes && options.noisePrecision !== 'closed-form') {
    throw new VariationalError(`${where}: noisePriorRate 'empirical-bayes' needs noisePrecision 'closed-form'`);
  }
  if (options.noisePriorRate !== undefined && options.noisePriorRate !== 'fixed' && !empiricalBayes) {
    throw new VariationalError(`${where}: noisePriorRate must be 'fixed' or 'empirical-bayes', got '${String(options.noisePriorRate)}'`);
  }
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let sum = 0;
    let squaredError = 0;
    const klWeight = anneal > 0 ? Math.min(1, (epoch + 1) / anneal) : 1;
    for (let b = 0; b < perEpoch; b++, step++) {
      const batch = batcher.at(step);
      const value = net.elbo(phi, foldIn(noiseKey, step), x, y, batch, rows, grad, klWeight);
      if (!Number.isFinite(value.elbo)) {
        throw new VariationalError(`${where}: the ELBO became ${value.elbo} at step ${step} (epoch ${epoch}); lower the learning rate`);
      }
      sum += value.elbo;
      if (closedFormNoise) {
        squaredError += value.meanSquaredError / perEpoch;
        grad[net.noiseOffset] = 0;
        grad[net.noiseOffset + 1] = 0;
      }
      // Adam descends a loss: hand it −∇ELBO.
      for (let i = 0; i < grad.length; i++) negGrad[i] = -grad[i];
      const [update, next] = optimiser.update(negGrad, state, phi, { step });
      state = next;
      const moved = new Float64Array(phi.length);
      for (let i = 0; i < phi.length; i++) {
        moved[i] = phi[i] + update[i];
        average[i] = beta3 * average[i] + (1 - beta3) * moved[i];
      }
      phi = moved;
    }
    if (closedFormNoise) {
      const shape = net.noisePrior.shape + rows / 2;
      // Empirical Bayes: the fixed point of b₀ = a₀/E τ and b = b₀ + (N/2)·m is b = shape·m.
      const rate = empiricalBayes ? shape * squaredError : net.noisePrior.rate + (rows / 2) * squaredError;
      phi[net.noiseOffset] = Math.log(shape);
      phi[net.noiseOffset + 1] = Math.log(rate);
      // The averaged iterate takes the same value: scale so the bias-corrected average equals it.
      const correction = beta3 > 0 ? 1 - beta3 ** step : 1;
      average[net.noiseOffset] = Math.log(shape) * correction;
      average[net.noiseOffset + 1] = Math.log(rate) * correction;
    }
    elboTrace.push(sum / perEpoch);
    options.onEpoch?.(epoch, sum / perEpoch);
  }
  let averaged = phi;
  if (beta3 > 0) {
    const correction = 1 - beta3 ** step;
    averaged = Float64Array.from(average, (v) => v / correction);
  }
  if (net.noiseOffset >= 0 && (options.refitNoise ?? true)) {
    averaged = refitNoisePosterior(net, averaged, x, y, rows, {
      key: foldIn(root, 4),
      priorRate: empiricalBayes ? 'empirical-bayes' : 'fixed',
      batchSize,
    });
  }
  return { phi: averaged, last: phi, elboTrace, steps: step };
}

/** Options of `refitNoisePosterior`. */
export interface RefitNoiseOptions {
  /** Key of the posterior draws. */
  key: Key;
  /** 'fixed' uses `net.noisePrior`; 'empirical-bayes' its rate at the type-II ML value (see `TrainViOptions`). */
  priorRate?: 'empirical-bayes' | 'fixed';
  /** Rows per forward pass (default 32, the training batch: the pseudo-data noise is drawn once per pass). */
  batchSize?: number;
  /** Least number of sampled rows, N × draws (default 20 000): draws = ⌈minRows/N⌉. */
  minRows?: number;
}

/**
 * The coordinate-ascent update of q(τ) = Gamma(a, b) given q(W) (variational Bayes, Bishop 2006,
 * Eq. 10.30), the ELBO's exact maximiser in q(τ) with q(W) held fixed:
 *
 *   a = a₀ + N/2,  b = b₀ + ½ Σ_i E_q(W) (y_i − f(x_i; W))²,
 *
 * the expectation estimated by ⌈minRows/N⌉ passes of posterior draws over the N training rows. With
 * `priorRate: 'empirical-bayes'`, b₀ takes its type-II ML value a₀/E τ too, whose joint fixed point is
 * b = a·m with m = (1/N) Σ_i E (y_i − f_i)², i.e. E τ = 1/m. Returns a copy of φ.
 */
export function refitNoisePosterior(net: BayesianMlp, phi: Vec, x: Float64Array, y: Float64Array, rows: number, options: RefitNoiseOptions): Vec {
  const where = 'refitNoisePosterior';
  if (net.noiseOffset < 0) throw new VariationalError(`${where}: the softmax likelihood has no noise precision`);
  if (phi.length !== net.dim) throw new VariationalError(`${where}: phi has length ${phi.length}, the network needs ${net.dim}`);
  const inputs = net.layout.sizes[0];
  if (!Number.isSafeInteger(rows) || rows < 1 || x.length < rows * inputs || y.length < rows) {
    throw new VariationalError(`${where}: x (${x.length}) and y (${y.length}) do not hold ${rows} rows of ${inputs} features`);
  }
  const chunk = Math.max(1, Math.min(options.batchSize ?? 32, rows));
  const draws = Math.max(1, Math.ceil((options.minRows ?? 20_000) / rows));
  const index = new Int32Array(chunk);
  let sumSquares = 0;
  for (let d = 0; d < draws; d++) {
    const kd = foldIn(options.key, d);
    for (let start = 0; start < rows; start += chunk) {
      const m = Math.min(chunk, rows - start);
      for (let i = 0; i < m; i++) index[i] = start + i;
      const f = net.outputs(phi, x, index.subarray(0, m), m, foldIn(kd, start), true);
      for (let i = 0; i < m; i++) sumSquares += (y[start + i] - f[i]) ** 2;
    }
  }
  const meanSquare = sumSquares / (draws * rows);
  const shape = net.noisePrior.shape + rows / 2;
  const rate = options.priorRate === 'empirical-bayes' ? shape * meanSquare : net.noisePrior.rate + (rows / 2) * meanSquare;
  const out = Float64Array.from(phi);
  out[net.noiseOffset] = Math.log(shape);
  out[net.noiseOffset + 1] = Math.log(rate);
  return out;
}

/**
 * `samples` Monte Carlo draws of the network outputs for `n` rows of `x` (row-major): row s of the
 * result (samples × n × outputs) is f(x; W_s) with W_s ~ q_φ, by local reparameterisation, which
 * gives each row's exact marginal. Rows are processed in chunks of `chunk` (default 1000).
 */
export function predictiveDraws(net: BayesianMlp, phi: Vec, x: Float64Array, n: number, samples: number, key: Key, chunk = 1000): Float64Array {
  if (!Number.isSafeInteger(samples) || samples < 1) throw new VariationalError(`predictiveDraws: samples must be a positive integer, got ${samples}`);
  const outputs = net.layout.sizes[net.layout.sizes.length - 1];
  const out = new Float64Array(samples * n * outputs);
  const inputs = net.layout.sizes[0];
  for (let s = 0; s < samples; s++) {
    const ks = foldIn(key, s);
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const f = net.outputs(phi, x.subarray(start * inputs, (start + m) * inputs), null, m, foldIn(ks, start), true);
      out.set(f, (s * n + start) * outputs);
    }
  }
  return out;
}

/**
 * log of the Student-t density with 2a degrees of freedom, location f and scale √(b/a): the
 * Gaussian N(y; f, τ⁻¹) integrated over τ ~ Gamma(a, b) (shape–rate):
 * log Γ(a + ½) − log Γ(a) − ½ log(2πb) − (a + ½) log(1 + (y − f)²/(2b)).
 */
export function gammaMarginalLogDensity(y: number, f: number, shape: number, rate: number): number {
  const r = y - f;
  return lgamma(shape + 0.5) - lgamma(shape) - 0.5 * Math.log(2 * Math.PI * rate) - (shape + 0.5) * Math.log1p((r * r) / (2 * rate));
}

/** log (1/S) Σ_s exp(v_s), stable. */
export function logMeanExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum / values.length);
}

/**
 * Class probabilities averaged over `samples` posterior draws (n × K): the Monte Carlo predictive
 * p(y | x) ≈ (1/S) Σ_s softmax(f(x; W_s)).
 */
export function predictiveProbabilities(net: BayesianMlp, phi: Vec, x: Float64Array, n: number, samples: number, key: Key): Float64Array {
  const classes = net.layout.sizes[net.layout.sizes.length - 1];
  const draws = predictiveDraws(net, phi, x, n, samples, key);
  const probs = new Float64Array(n * classes);
  for (let s = 0; s < samples; s++) {
    const slice = draws.subarray(s * n * classes, (s + 1) * n * classes);
    softmaxRows(slice, n, classes);
    for (let i = 0; i < n * classes; i++) probs[i] += slice[i] / samples;
  }
  return probs;
}
