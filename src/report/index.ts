/** Reports with plots (browser-safe part): Vega-Lite figures rendered to inline SVG in one HTML page. */
export { FigureError, REPORT_CONFIG, renderSvg, type TopLevelSpec } from './vega.js';
export { escapeHtml, formatCell, htmlTable, htmlFigure, htmlPage, type CellClass, type PageSection } from './html.js';
export { EllipseError, gaussianEllipse, ellipseRadius } from './geometry.js';
export {
  FigureDataError,
  traceSpec,
  rankSpec,
  densitySpec,
  pairSpec,
  spectrumSpec,
  reliabilitySpec,
  coverageSpec,
  lineSpec,
  scatterSpec,
  barSpec,
  type ReferenceMarginal,
  type ReferenceGaussian2,
  type ChartOptions,
} from './figures.js';
export { RunReportError, runReportHtml, type ReferencePosterior, type PredictiveCheck, type RunReportData, type RunReportOptions } from './run.js';
export { ExperimentReportError, experimentReportHtml, type ExperimentFigure, type ExperimentReport } from './experiment.js';
