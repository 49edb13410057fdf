/**
 * Natural-gradient variational inference (VON/VOGN, Khan et al. 2018; the Bayesian learning rule,
 * Khan & Rue 2021) for Gaussian posteriors over model parameters: the algorithm (./ngvi-core.ts),
 * curvature estimators (./ngvi-curvature.ts), the exact full-batch reference for logistic
 * regression (./ngvi-reference.ts) and the comparison against Adam-based VI
 * (./ngvi-comparison.ts, `sgbayes experiment natural-gradient --vi`).
 */
export { ngvi, fitNgvi, ngviCovariance, type NgviState, type NgviInfo, type NgviOptions, type FitNgviOptions } from './ngvi-core.js';
export {
  NgviError,
  gaussNewtonCurvature,
  squaredGradientCurvature,
  gradientMagnitudeCurvature,
  type CovarianceStructure,
  type CurvatureEstimator,
  type GlmModel,
} from './ngvi-curvature.js';
export {
  gaussHermite,
  logisticExactElbo,
  logisticReferenceVi,
  type GaussHermiteRule,
  type LogisticReference,
  type LogisticReferenceOptions,
} from './ngvi-reference.js';
export {
  runNgviComparison,
  printNgviTable,
  decaySchedule,
  DEFAULT_NGVI_SCHEDULES,
  DEFAULT_ADAM_SCHEDULES,
  type DecaySchedule,
  type NgviComparisonMethod,
  type NgviComparisonOptions,
  type NgviComparisonRow,
} from './ngvi-comparison.js';
