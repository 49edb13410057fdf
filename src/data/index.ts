/**
 * Browser-safe data API: parsers over strings and bytes, preprocessing and minibatching. The Node
 * file readers and shipped datasets are in `./node.js`.
 */
export type { Dataset, IndexBatch } from './types.js';
export { DataError, type DataErrorLocation } from './errors.js';
export { parseCsv, formatCsv, type CsvOptions } from './csv.js';
export { parseUciFolder, type UciFolder, type UciFolderOptions, type UciSplit } from './uci.js';
export { parseIdx, encodeIdx, idxToDataset, type IdxArray, type IdxValues, type IdxDatasetOptions } from './idx.js';
export {
  fitStandardizer,
  selectRows,
  appendIntercept,
  type Standardizer,
  type StandardizerOptions,
} from './preprocess.js';
export {
  minibatchAt,
  epochPermutation,
  batchesPerEpoch,
  Minibatcher,
  type MinibatchOptions,
} from './minibatch.js';
