/** sgbayes Node-only API: file readers, shipped datasets and (later) run directories. */
export { readTextFile, readCsv, readUciFolder, readIdx, readIdxDataset, shippedDataPath, WINE_FEATURE_NAMES, loadWine, loadBreastCancer, loadDigits } from './data/node.js';
