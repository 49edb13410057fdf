/**
 * The model of a run: its data read from the configured CSV (optionally standardised) and the
 * target built from it, with a name for every parameter (the columns of the draw files).
 */
import { readCsv } from '../data/node.js';
import { fitStandardizer } from '../data/preprocess.js';
import type { Dataset } from '../data/types.js';
import type { IndexBatch, Target } from '../core/types.js';
import { linearRegression } from '../models/linear.js';
import { logisticRegression } from '../models/logistic.js';
import { softmaxRegression } from '../models/softmax.js';
import type { ModelConfig } from './config.js';

/**
 * Read the run's data: the CSV at `model.data` with `model.target` as target and `model.features`
 * (default: every other column) as features; standardised when `model.standardize` (the target
 * too for linear regression, never class labels).
 * @throws DataError naming file:line:column for a missing file, a missing column or a bad cell.
 */
export function loadRunData(model: ModelConfig): Dataset {
  const raw = readCsv(model.data, { target: model.target, ...(model.features ? { columns: model.features } : {}) });
  if (!model.standardize) return raw;
  return fitStandardizer(raw, undefined, { scaleY: model.type === 'linear-regression' }).apply(raw);
}

/** A run's target with the names of its parameters. */
export interface RunTarget {
  target: Target<IndexBatch>;
  /** One name per entry of θ, in order. */
  parameterNames: string[];
}

/**
 * Build the configured model over a dataset. Parameter names: linear and logistic regression use
 * the feature names then `intercept`; softmax regression uses `class<k>:<feature>` and
 * `class<k>:intercept`, class-major as the model lays θ out.
 * @throws ModelError for data the model cannot take (e.g. a label outside 0..K−1).
 */
export function buildRunTarget(model: ModelConfig, data: Dataset): RunTarget {
  const coefficients = [...data.featureNames, ...(model.intercept ? ['intercept'] : [])];
  switch (model.type) {
    case 'linear-regression':
      return {
        target: linearRegression(data, {
          priorPrecision: model.priorPrecision,
          noisePrecision: model.noisePrecision ?? 1,
          intercept: model.intercept,
        }),
        parameterNames: coefficients,
      };
    case 'logistic-regression':
      return {
        target: logisticRegression(data, { priorPrecision: model.priorPrecision, intercept: model.intercept }),
        parameterNames: coefficients,
      };
    case 'softmax-regression': {
      let largest = 0;
      for (const label of data.y) largest = Math.max(largest, label);
      const classes = model.classes ?? Math.max(2, Math.floor(largest) + 1);
      const target = softmaxRegression(data, { classes, priorPrecision: model.priorPrecision, intercept: model.intercept });
      const parameterNames: string[] = [];
      for (let k = 0; k < classes; k++) for (const name of coefficients) parameterNames.push(`class${k}:${name}`);
      return { target, parameterNames };
    }
  }
}
