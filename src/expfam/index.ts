/**
 * Exponential families in natural (θ) and expectation (η) coordinates, Fisher information in both,
 * KL divergence, and the gradient flows of Datar & Ay 2025 (θ-GD, η-GD, natural gradient descent).
 */
export { ExponentialFamilyError } from './errors.js';
export {
  checkMean,
  checkNatural,
  dualPotential,
  klDivergence,
  logDensity,
  logFactorial,
  meanSufficientStatistic,
  type ExponentialFamily,
} from './family.js';
export { bernoulli, type BernoulliFamily } from './bernoulli.js';
export { categorical, type CategoricalFamily } from './categorical.js';
export { poisson, type PoissonFamily } from './poisson.js';
export { gaussian, type GaussianFamily } from './gaussian.js';
export { multivariateGaussian, type MultivariateGaussianFamily } from './multivariate-gaussian.js';
export { dormandPrince, type OdeOptions, type OdeResult, type OdeRightHandSide } from './ode.js';
export {
  FLOW_METHODS,
  findLargestStableStep,
  fisherScaledReparameterisation,
  integrateFlow,
  iterateFlow,
  klGradientMean,
  klGradientNatural,
  klObjective,
  klProblem,
  linearReparameterisation,
  localKL,
  makeFlow,
  measureDecayRate,
  measureLocalRate,
  paperPredictedRates,
  perturbedStart,
  predictFlow,
  predictedStationaryKL,
  type ContinuousTrajectory,
  type DecayRateOptions,
  type DirectionOptions,
  type DiscreteTrajectory,
  type Flow,
  type FlowMethod,
  type FlowPrediction,
  type FlowSpec,
  type GradientNoise,
  type IntegrateOptions,
  type IterateOptions,
  type KLDirection,
  type KLProblem,
  type LinearReparameterisation,
  type LocalRateOptions,
  type PaperRates,
  type StableStepOptions,
} from './flows.js';
export {
  defaultExperimentTargets,
  printTable as printNaturalGradientTable,
  runNaturalGradientExperiment,
  type ExperimentTarget,
  type NaturalGradientExperimentOptions,
  type NaturalGradientRow,
} from './experiment.js';
