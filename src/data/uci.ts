/**
 * The UCI regression split format of Hernández-Lobato & Adams (2015), used by Gal & Ghahramani
 * (2016) and Louizos & Welling (2016): `data.txt`, `index_features.txt`, `index_target.txt`,
 * `index_train_K.txt`, `index_test_K.txt`, `n_splits.txt`, `n_hidden.txt`, `n_epochs.txt`.
 * Browser-safe: the folder is read through a callback; `readUciFolder` in `node.ts` reads files.
 */
import { DataError } from './errors.js';
import { parseIndexList, parsePositiveInteger, parseWhitespaceTable } from './text.js';
import type { Dataset } from './types.js';

/** One train/test split: 0-based row indices into the folder's dataset, disjoint, each row once. */
export interface UciSplit {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** A UCI split folder, read and checked. */
export interface UciFolder {
  /** All rows; features from `index_features.txt`, target from `index_target.txt`. */
  readonly dataset: Dataset;
  readonly nSplits: number;
  /** Hidden units of the benchmark's one-hidden-layer network. */
  readonly nHidden: number;
  /** Training epochs of the benchmark protocol. */
  readonly nEpochs: number;
  /** 0-based columns of `data.txt` used as features. */
  readonly featureColumns: Int32Array;
  /** 0-based column of `data.txt` used as target. */
  readonly targetColumn: number;
  /**
   * Split k (0 ≤ k < nSplits), read on first use and validated: indices are integers in range,
   * none repeated, train and test disjoint. Returns fresh arrays each call.
   */
  split(k: number): UciSplit;
}

/** Options of `parseUciFolder`. */
export interface UciFolderOptions {
  /** The path of a file of the folder, for error messages. Default `${source}/${name}`. */
  pathOf?: (name: string) => string;
  /** Names of the feature columns, in `index_features.txt` order. Default `x<column>`. */
  featureNames?: readonly string[];
  /** Name of the target. Default `y`. */
  targetName?: string;
}

/**
 * Read a UCI split folder through `read(name)`, which returns the text of the file `name` of the
 * folder (and throws a `DataError` when it is missing).
 *
 * @param source the folder's path or name, used in messages and as `Dataset.source`.
 * @throws DataError for a malformed table, a column index out of range, a bad count file, or (from
 *   `split`) a bad index file.
 */
export function parseUciFolder(
  read: (name: string) => string,
  source: string,
  options: UciFolderOptions = {},
): UciFolder {
  const pathOf = options.pathOf ?? ((name: string) => `${source}/${name}`);
  const table = parseWhitespaceTable(read('data.txt'), pathOf('data.txt'));
  const features = parseIndexList(read('index_features.txt'), pathOf('index_features.txt'), table.cols, 'feature column');
  const featureColumns = features.indices;
  const target = parseIndexList(read('index_target.txt'), pathOf('index_target.txt'), table.cols, 'target column');
  if (target.indices.length !== 1) {
    throw new DataError({ file: pathOf('index_target.txt') }, `expected one target column, found ${target.indices.length}`);
  }
  const targetColumn = target.indices[0];
  if (featureColumns.length === 0) throw new DataError({ file: pathOf('index_features.txt') }, 'no feature columns');
  const clash = featureColumns.indexOf(targetColumn);
  if (clash >= 0) {
    throw new DataError(
      { file: pathOf('index_features.txt'), line: features.lines[clash] },
      `feature column ${targetColumn} is also the target column`,
    );
  }
  const nSplits = parsePositiveInteger(read('n_splits.txt'), pathOf('n_splits.txt'));
  const nHidden = parsePositiveInteger(read('n_hidden.txt'), pathOf('n_hidden.txt'));
  const nEpochs = parsePositiveInteger(read('n_epochs.txt'), pathOf('n_epochs.txt'));

  const rows = table.rows;
  const cols = featureColumns.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * table.cols;
    for (let j = 0; j < cols; j++) x[r * cols + j] = table.values[base + featureColumns[j]];
    y[r] = table.values[base + targetColumn];
  }
  if (options.featureNames && options.featureNames.length !== cols) {
    throw new RangeError(
      `parseUciFolder(${source}): ${options.featureNames.length} feature names given for ${cols} feature columns`,
    );
  }
  const dataset: Dataset = {
    x,
    y,
    rows,
    cols,
    featureNames: options.featureNames ? [...options.featureNames] : Array.from(featureColumns, (c) => `x${c}`),
    targetName: options.targetName ?? 'y',
    source,
  };

  const cache = new Map<number, UciSplit>();
  const split = (k: number): UciSplit => {
    if (!Number.isInteger(k) || k < 0 || k >= nSplits) {
      throw new RangeError(`split(${k}) of ${source}: the split index must be an integer in [0, ${nSplits})`);
    }
    let cached = cache.get(k);
    if (!cached) {
      const trainFile = `index_train_${k}.txt`;
      const testFile = `index_test_${k}.txt`;
      const train = parseIndexList(read(trainFile), pathOf(trainFile), rows, 'row index').indices;
      const test = parseIndexList(read(testFile), pathOf(testFile), rows, 'row index');
      if (train.length === 0) throw new DataError({ file: pathOf(trainFile) }, 'no training rows');
      if (test.indices.length === 0) throw new DataError({ file: pathOf(testFile) }, 'no test rows');
      const inTrain = new Uint8Array(rows);
      for (const r of train) inTrain[r] = 1;
      for (let i = 0; i < test.indices.length; i++) {
        if (inTrain[test.indices[i]]) {
          throw new DataError(
            { file: pathOf(testFile), line: test.lines[i] },
            `row index ${test.indices[i]} is also in ${trainFile}`,
          );
        }
      }
      cached = { train, test: test.indices };
      cache.set(k, cached);
    }
    return { train: cached.train.slice(), test: cached.test.slice() };
  };

  return { dataset, nSplits, nHidden, nEpochs, featureColumns, targetColumn, split };
}
