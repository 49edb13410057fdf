/** Hilbert-space (infinite-dimensional) Langevin dynamics for two-layer networks (Suzuki 2020). */
export { HilbertError } from './errors.js';
export { explicitStepLimit, neuronSpectrum, operatorDiagonal, type NeuronSpectrumOptions } from './basis.js';
export {
  twoLayerForward,
  twoLayerNetwork,
  type HilbertLoss,
  type TwoLayerNetwork,
  type TwoLayerNetworkOptions,
} from './network.js';
export {
  gibbsTarget,
  hilbertLangevin,
  hilbertLangevinInit,
  hilbertLangevinKernel,
  type HilbertLangevinInfo,
  type HilbertLangevinOptions,
  type HilbertLangevinState,
  type HilbertScheme,
  type RiskModel,
} from './langevin.js';
export {
  riskMetrics,
  teacherStudentTask,
  type RiskMetrics,
  type TaskKind,
  type TeacherStudentOptions,
  type TeacherStudentTask,
} from './teacher.js';
export {
  HILBERT_METHODS,
  PREDICTED_SLOPE,
  firstRows,
  logLogFit,
  runHilbertExperiment,
  runHilbertMethod,
  sampleSizeSchedule,
  type HilbertExperimentOptions,
  type HilbertExperimentResult,
  type HilbertExperimentRow,
  type HilbertMethod,
  type HilbertRunSpec,
  type HilbertTrace,
  type SlopeFit,
} from './experiment.js';
export { excessRiskPlotSvg, logLogPlotSvg, type LogLogPlotOptions, type PlotSeries } from './plot.js';
