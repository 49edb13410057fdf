/**
 * Calibration of predictive distributions: proper scoring rules for classification (negative log
 * likelihood, Brier score), expected calibration error with its reliability table (Guo, Pleiss,
 * Sun & Weinberger 2017, "On calibration of modern neural networks", ICML), and coverage of
 * central predictive intervals for regression.
 *
 * Class probabilities are given either as one P(y = 1) per example (binary) or as one row of K
 * class probabilities per example (multiclass); labels are class indices 0 … K − 1.
 */
import { normalQuantile, sortedQuantile } from './convergence.js';

/** Binary: P(y = 1) per example. Multiclass: a row of class probabilities per example. */
export type ClassProbabilities = ArrayLike<number> | readonly ArrayLike<number>[];

/** Malformed predictions or labels; the message names the argument and the example. */
export class CalibrationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationInputError';
  }
}

/** Tolerance on |Σ_k p_k − 1| for a probability row. */
const ROW_SUM_TOLERANCE = 1e-6;

interface Normalized {
  /** Number of examples. */
  n: number;
  /** Number of classes (2 for binary input). */
  classes: number;
  /** P(y = k) for example i. */
  prob(i: number, k: number): number;
  label(i: number): number;
}

function normalize(probs: ClassProbabilities, labels: ArrayLike<number>, where: string): Normalized {
  const n = probs?.length;
  if (typeof n !== 'number' || n === 0) throw new CalibrationInputError(`${where}: probs is empty or not an array`);
  if (labels?.length !== n) {
    throw new CalibrationInputError(`${where}: ${n} predictions but ${labels?.length} labels`);
  }
  const first = (probs as ArrayLike<unknown>)[0];
  const multiclass = typeof first === 'object' && first !== null;
  let classes = 2;
  if (multiclass) {
    const rows = probs as readonly ArrayLike<number>[];
    classes = rows[0].length;
    if (classes < 2) throw new CalibrationInputError(`${where}: probs[0] has ${classes} classes, need at least 2`);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (row?.length !== classes) {
        throw new CalibrationInputError(`${where}: probs[${i}] has ${row?.length} classes but probs[0] has ${classes}`);
      }
      let total = 0;
      for (let k = 0; k < classes; k++) {
        if (!(row[k] >= 0 && row[k] <= 1)) throw new CalibrationInputError(`${where}: probs[${i}][${k}] = ${row[k]} is not a probability`);
        total += row[k];
      }
      if (Math.abs(total - 1) > ROW_SUM_TOLERANCE) {
        throw new CalibrationInputError(`${where}: probs[${i}] sums to ${total}, not 1`);
      }
    }
  } else {
    const p = probs as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      if (!(p[i] >= 0 && p[i] <= 1)) throw new CalibrationInputError(`${where}: probs[${i}] = ${p[i]} is not a probability`);
    }
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new CalibrationInputError(`${where}: labels[${i}] = ${y} is not a class index in 0…${classes - 1}`);
    }
  }
  const prob = multiclass
    ? (i: number, k: number) => (probs as readonly ArrayLike<number>[])[i][k]
    : (i: number, k: number) => (k === 1 ? (probs as ArrayLike<number>)[i] : 1 - (probs as ArrayLike<number>)[i]);
  return { n, classes, prob, label: (i) => labels[i] };
}

/**
 * Mean negative log likelihood (log loss) of the labels: −(1/n) Σ_i log p_i(y_i). Infinite when a
 * true class has probability 0 (no clipping: the score is reported as it is).
 */
export function negativeLogLikelihood(probs: ClassProbabilities, labels: ArrayLike<number>): number {
  const data = normalize(probs, labels, 'negativeLogLikelihood');
  let total = 0;
  for (let i = 0; i < data.n; i++) total -= Math.log(data.prob(i, data.label(i)));
  return total / data.n;
}

/**
 * Brier score (Brier 1950). Binary input: (1/n) Σ_i (p_i − y_i)². Multiclass rows:
 * (1/n) Σ_i Σ_k (p_ik − 1[y_i = k])², which for two classes is twice the binary score.
 */
export function brierScore(probs: ClassProbabilities, labels: ArrayLike<number>): number {
  const data = normalize(probs, labels, 'brierScore');
  const multiclass = typeof (probs as ArrayLike<unknown>)[0] === 'object';
  let total = 0;
  for (let i = 0; i < data.n; i++) {
    const y = data.label(i);
    if (!multiclass) {
      total += (data.prob(i, 1) - y) ** 2;
      continue;
    }
    for (let k = 0; k < data.classes; k++) total += (data.prob(i, k) - (k === y ? 1 : 0)) ** 2;
  }
  return total / data.n;
}

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  /** The bin is (lower, upper]; the first bin also holds confidence 0. */
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence of the examples in the bin (NaN when empty). */
  meanConfidence: number;
  /** Fraction of the bin's examples whose predicted class is right (NaN when empty). */
  accuracy: number;
}

/** Expected calibration error with the reliability table it is computed from. */
export interface CalibrationReport {
  /** ECE = Σ_b (n_b / n) |acc_b − conf_b|. */
  ece: number;
  /** MCE = max over non-empty bins of |acc_b − conf_b|. */
  maxCalibrationError: number;
  table: ReliabilityBin[];
}

/**
 * Expected calibration error (Naeini, Cooper & Hauskrecht 2015; Guo et al. 2017, eq. 3) over
 * `bins` equal-width confidence bins B_b = ((b−1)/M, b/M]:
 *
 *   ECE = Σ_b (|B_b| / n) · |acc(B_b) − conf(B_b)|
 *
 * Confidence is the largest class probability and the prediction its class (the first on ties);
 * for binary input, confidence max(p, 1 − p) and prediction 1 when p ≥ 0.5.
 */
export function expectedCalibrationError(
  probs: ClassProbabilities,
  labels: ArrayLike<number>,
  bins = 10,
): CalibrationReport {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new CalibrationInputError(`expectedCalibrationError: bins must be a positive integer, got ${bins}`);
  }
  const data = normalize(probs, labels, 'expectedCalibrationError');
  const binary = typeof (probs as ArrayLike<unknown>)[0] !== 'object';
  const counts = new Float64Array(bins);
  const confidenceSums = new Float64Array(bins);
  const correctSums = new Float64Array(bins);
  for (let i = 0; i < data.n; i++) {
    let predicted = 0;
    let confidence: number;
    if (binary) {
      const p = data.prob(i, 1);
      predicted = p >= 0.5 ? 1 : 0;
      confidence = Math.max(p, 1 - p);
    } else {
      confidence = data.prob(i, 0);
      for (let k = 1; k < data.classes; k++) {
        if (data.prob(i, k) > confidence) {
          confidence = data.prob(i, k);
          predicted = k;
        }
      }
    }
    let bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    // Rounding in confidence·M can push a value that sits on an edge into the bin above it.
    if (bin > 0 && confidence <= bin / bins) bin--;
    counts[bin]++;
    confidenceSums[bin] += confidence;
    if (predicted === data.label(i)) correctSums[bin]++;
  }
  const table: ReliabilityBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < bins; b++) {
    const count = counts[b];
    const meanConfidence = count > 0 ? confidenceSums[b] / count : NaN;
    const accuracy = count > 0 ? correctSums[b] / count : NaN;
    if (count > 0) {
      const gap = Math.abs(accuracy - meanConfidence);
      ece += (count / data.n) * gap;
      mce = Math.max(mce, gap);
    }
    table.push({ lower: b / bins, upper: (b + 1) / bins, count, meanConfidence, accuracy });
  }
  return { ece, maxCalibrationError: mce, table };
}

function checkRegression(y: ArrayLike<number>, lengths: [string, number][], where: string): void {
  for (const [name, length] of lengths) {
    if (length !== y.length) throw new CalibrationInputError(`${where}: ${name} has ${length} entries but y has ${y.length}`);
  }
  if (y.length === 0) throw new CalibrationInputError(`${where}: no observations`);
}

/**
 * Mean Gaussian predictive negative log likelihood, −(1/n) Σ_i log N(y_i | μ_i, σ_i²)
 * = (1/n) Σ_i [½ log(2π σ_i²) + (y_i − μ_i)² / (2σ_i²)], the "test log-likelihood" of UCI
 * regression benchmarks with the sign flipped.
 */
export function gaussianNegativeLogLikelihood(
  mean: ArrayLike<number>,
  sd: ArrayLike<number>,
  y: ArrayLike<number>,
): number {
  checkRegression(y, [['mean', mean.length], ['sd', sd.length]], 'gaussianNegativeLogLikelihood');
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    if (!(sd[i] > 0)) throw new CalibrationInputError(`gaussianNegativeLogLikelihood: sd[${i}] = ${sd[i]} must be positive`);
    const z = (y[i] - mean[i]) / sd[i];
    total += 0.5 * Math.log(2 * Math.PI) + Math.log(sd[i]) + 0.5 * z * z;
  }
  return total / y.length;
}

/**
 * A predictive distribution per test point: Monte Carlo draws (`perPoint[i]` = draws for point i,
 * or `perDraw[s]` = predictions of draw s for every point) or a Gaussian (`mean`, `sd`).
 */
export type PredictiveDistribution =
  | { perPoint: readonly ArrayLike<number>[] }
  | { perDraw: readonly ArrayLike<number>[] }
  | { mean: ArrayLike<number>; sd: ArrayLike<number> };

/** Coverage of the central predictive interval at one level. */
export interface IntervalCoverage {
  level: number;
  /** Fraction of observations inside [lower, upper]. */
  coverage: number;
  /** Mean interval width. */
  meanWidth: number;
}

/**
 * Empirical coverage of central predictive intervals: for level ℓ the interval is
 * [q_{(1−ℓ)/2}, q_{(1+ℓ)/2}] of each point's predictive distribution (type-7 sample quantiles of
 * the draws, or μ ± Φ⁻¹((1+ℓ)/2) σ for a Gaussian); a calibrated model covers a fraction ≈ ℓ.
 */
export function intervalCoverage(
  predictive: PredictiveDistribution,
  y: ArrayLike<number>,
  levels: readonly number[] = [0.5, 0.8, 0.9, 0.95],
): IntervalCoverage[] {
  const where = 'intervalCoverage';
  for (const level of levels) {
    if (!(level > 0 && level < 1)) throw new CalibrationInputError(`${where}: level ${level} is not in (0, 1)`);
  }
  const n = y.length;
  let bounds: (level: number, i: number) => [number, number];
  if ('mean' in predictive) {
    checkRegression(y, [['mean', predictive.mean.length], ['sd', predictive.sd.length]], where);
    for (let i = 0; i < n; i++) {
      if (!(predictive.sd[i] >= 0)) throw new CalibrationInputError(`${where}: sd[${i}] = ${predictive.sd[i]} must be ≥ 0`);
    }
    bounds = (level, i) => {
      const half = normalQuantile((1 + level) / 2) * predictive.sd[i];
      return [predictive.mean[i] - half, predictive.mean[i] + half];
    };
  } else {
    let sorted: Float64Array[];
    if ('perPoint' in predictive) {
      checkRegression(y, [['perPoint', predictive.perPoint.length]], where);
      sorted = predictive.perPoint.map((draws, i) => {
        if (!draws || draws.length === 0) throw new CalibrationInputError(`${where}: perPoint[${i}] has no draws`);
        return Float64Array.from(draws).sort();
      });
    } else {
      const draws = predictive.perDraw;
      if (draws.length === 0) throw new CalibrationInputError(`${where}: perDraw has no draws`);
      draws.forEach((row, s) => {
        if (row.length !== n) throw new CalibrationInputError(`${where}: perDraw[${s}] has ${row.length} points but y has ${n}`);
      });
      sorted = Array.from({ length: n }, (_, i) => Float64Array.from(draws, (row) => row[i]).sort());
    }
    bounds = (level, i) => [sortedQuantile(sorted[i], (1 - level) / 2), sortedQuantile(sorted[i], (1 + level) / 2)];
  }
  if (n === 0) throw new CalibrationInputError(`${where}: no observations`);
  return levels.map((level) => {
    let inside = 0;
    let width = 0;
    for (let i = 0; i < n; i++) {
      const [lower, upper] = bounds(level, i);
      if (y[i] >= lower && y[i] <= upper) inside++;
      width += upper - lower;
    }
    return { level, coverage: inside / n, meanWidth: width / n };
  });
}
