/**
 * Row selection, standardisation and an intercept column: the preprocessing of the UCI benchmark
 * protocol (inputs and target standardised with the training split's mean and standard deviation).
 */
import type { Dataset } from './types.js';

function checkRows(dataset: Dataset, rows: ArrayLike<number>, caller: string): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= dataset.rows) {
      throw new RangeError(`${caller}: row index ${r} at position ${i} is out of range [0, ${dataset.rows}) of ${dataset.source}`);
    }
  }
}

/**
 * A new dataset holding the given rows of `dataset`, in the given order (copies the values).
 *
 * @throws RangeError if an index is not an integer in [0, rows).
 */
export function selectRows(dataset: Dataset, rows: ArrayLike<number>): Dataset {
  checkRows(dataset, rows, 'selectRows');
  const cols = dataset.cols;
  const x = new Float64Array(rows.length * cols);
  const y = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    x.set(dataset.x.subarray(r * cols, (r + 1) * cols), i * cols);
    y[i] = dataset.y[r];
  }
  return { ...dataset, x, y, rows: rows.length };
}

/** A new dataset with a constant column of ones appended as the last feature, named `intercept`. */
export function appendIntercept(dataset: Dataset, name = 'intercept'): Dataset {
  const cols = dataset.cols + 1;
  const x = new Float64Array(dataset.rows * cols);
  for (let r = 0; r < dataset.rows; r++) {
    x.set(dataset.x.subarray(r * dataset.cols, (r + 1) * dataset.cols), r * cols);
    x[r * cols + dataset.cols] = 1;
  }
  return { ...dataset, x, cols, featureNames: [...dataset.featureNames, name] };
}

/** Options of `fitStandardizer`. */
export interface StandardizerOptions {
  /** Standardise the target too (regression). Default true; set false for class labels. */
  scaleY?: boolean;
}

/**
 * Affine maps x ↦ (x − mean) / sd per column and y ↦ (y − yMean) / ySd, with their inverses for
 * reporting predictions in the target's original units.
 */
export interface Standardizer {
  readonly xMean: Float64Array;
  readonly xSd: Float64Array;
  readonly yMean: number;
  readonly ySd: number;
  /** A new dataset with standardised features (and target, if fitted with `scaleY`). */
  apply(dataset: Dataset): Dataset;
  /** A standardised prediction back in original units: y = ŷ · ySd + yMean. */
  unscaleY(yScaled: number): number;
  /** A predictive standard deviation back in original units: sd · ySd. */
  unscaleSd(sdScaled: number): number;
  /**
   * A log density of the standardised target back in original units, by the change of variables
   * log p(y) = log p(ŷ) − log ySd.
   */
  unscaleLogDensity(logDensityScaled: number): number;
}

/**
 * Fit a standardiser on the given rows (the training split; default all rows): per-column mean and
 * population standard deviation (divisor n, as in the UCI benchmark code of Hernández-Lobato &
 * Adams 2015). A column whose sd is zero, up to rounding (sd ≤ 1e-12·max(1, |mean|)), gets sd 1,
 * so a constant column maps to 0 instead of NaN.
 *
 * @throws RangeError for an empty row set or an index out of range.
 */
export function fitStandardizer(dataset: Dataset, rows?: ArrayLike<number>, options: StandardizerOptions = {}): Standardizer {
  const scaleY = options.scaleY ?? true;
  const fitRows: ArrayLike<number> = rows ?? { length: dataset.rows };
  const useAll = rows === undefined;
  if (fitRows.length === 0) throw new RangeError(`fitStandardizer: no rows to fit on in ${dataset.source}`);
  if (!useAll) checkRows(dataset, fitRows, 'fitStandardizer');
  const n = fitRows.length;
  const cols = dataset.cols;
  const rowAt = (i: number): number => (useAll ? i : fitRows[i]);

  const xMean = new Float64Array(cols);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    const r = rowAt(i);
    for (let c = 0; c < cols; c++) xMean[c] += dataset.x[r * cols + c];
    yMean += dataset.y[r];
  }
  for (let c = 0; c < cols; c++) xMean[c] /= n;
  yMean /= n;
  // Two-pass variance: sums of squared deviations, stable for columns with a large mean.
  const xSd = new Float64Array(cols);
  let ySq = 0;
  for (let i = 0; i < n; i++) {
    const r = rowAt(i);
    for (let c = 0; c < cols; c++) {
      const d = dataset.x[r * cols + c] - xMean[c];
      xSd[c] += d * d;
    }
    ySq += (dataset.y[r] - yMean) ** 2;
  }
  const guard = (sd: number, mean: number): number => (sd <= 1e-12 * Math.max(1, Math.abs(mean)) ? 1 : sd);
  for (let c = 0; c < cols; c++) xSd[c] = guard(Math.sqrt(xSd[c] / n), xMean[c]);
  const ySd = scaleY ? guard(Math.sqrt(ySq / n), yMean) : 1;
  if (!scaleY) yMean = 0;

  return {
    xMean,
    xSd,
    yMean,
    ySd,
    apply(target: Dataset): Dataset {
      if (target.cols !== cols) {
        throw new RangeError(`Standardizer.apply: ${target.source} has ${target.cols} columns, the standardiser was fitted on ${cols}`);
      }
      const x = new Float64Array(target.x.length);
      for (let r = 0; r < target.rows; r++) {
        for (let c = 0; c < cols; c++) x[r * cols + c] = (target.x[r * cols + c] - xMean[c]) / xSd[c];
      }
      const y = scaleY ? target.y.map((v) => (v - yMean) / ySd) : target.y.slice();
      return { ...target, x, y };
    },
    unscaleY: (yScaled) => yScaled * ySd + yMean,
    unscaleSd: (sdScaled) => sdScaled * ySd,
    unscaleLogDensity: (logDensityScaled) => logDensityScaled - Math.log(ySd),
  };
}
