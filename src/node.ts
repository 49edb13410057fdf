/** sgbayes Node-only API: file readers, shipped datasets, run directories, reports and the native gemm engine. */
export { readTextFile, readCsv, readUciFolder, readIdx, readIdxDataset, shippedDataPath, WINE_FEATURE_NAMES, loadWine, loadBreastCancer, loadDigits } from './data/node.js';
export { MODEL_TYPES, HAMILTONIAN_SAMPLERS, ConfigError, parseRunConfig, loadRunConfig, canonicalConfig } from './run/config.js';
export type { ModelType, ModelConfig, SamplerConfig, RunConfig } from './run/config.js';
export { RunSetupError, ChainError, RunStoppedError, configDigest, runToDirectory } from './run/run.js';
export type { RunDirectoryOptions, ChainReport, RunReport } from './run/run.js';
export { RunDirectoryError, readRunDirectory, runDiagnostics, writeRunReport, writeExperimentReport } from './run/report.js';
export type { RunDirectory, RunDiagnosticsOptions, WriteRunReportOptions } from './run/report.js';
export { NativeGemmUnavailableError, gemmModelBytes, loadNativeGemm } from './nn/gemm-native.js';
export type { NativeGemmOptions, NativeGemmEngine } from './nn/gemm-native.js';
