/** Shared data shapes: a dense numeric table, and minibatches as row indices into it. */

/**
 * A dense dataset: `x` is row-major `rows × cols`, `y` holds one target per row (a real value for
 * regression, a class index 0..K−1 for classification).
 */
export interface Dataset {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly featureNames: readonly string[];
  readonly targetName: string;
  /** Where the data came from (a path or a name), for error messages. */
  readonly source: string;
}

/**
 * A minibatch of the built-in data models: 0-based row indices into the model's training data.
 * Index batches avoid copying rows; `fullBatch()` of a target is every row.
 */
export type IndexBatch = Int32Array;
