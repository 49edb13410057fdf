/**
 * sgbayes public API: explicit named re-exports of every browser-safe module.
 * Node-only helpers (file readers, shipped data, run directories) are in `sgbayes/node`.
 */
export { scheduleValue } from './core/types.js';
export type { Dataset, IndexBatch, Vec, ValueGrad, Schedule, Target, StepInfo, Sampler, TransformContext, Transform, VariationalFamily } from './core/types.js';
export { threefry2x32, key, split, foldIn, randomBits, uniform, uniform1, normal } from './core/random.js';
export type { Key } from './core/random.js';
export { dot, norm, axpy, allFinite, firstNonFinite } from './core/vec.js';
export { uniformRange, exponential, normalScaled, mvNormal, gamma, lgamma, logNormalPdf, logGammaPdf, regularizedGammaP, gammaCdf } from './core/distributions.js';
export { DimensionError, NotPositiveDefiniteError, SingularMatrixError, LyapunovSingularError, ConvergenceError, identity, matmul, matvec, transpose, symmetrize, cholesky, solveLower, solveLowerTransposed, choleskySolve, logDetSPD, solve, inverse, symmetricEigen, realSchur, lyapunov } from './core/linalg.js';
export type { SymmetricEigen, RealSchur, LyapunovMethod, LyapunovOptions } from './core/linalg.js';
export { constant, polynomialDecay, exponentialDecay, cosineDecay, linearWarmup } from './core/schedules.js';
export { StableParameterError, stable, symmetricStable, subGaussianMixingScale, isotropicStable, coordinatewiseStable } from './core/stable.js';
export type { StableParameters } from './core/stable.js';
export { DataError, parseCsv, formatCsv, parseUciFolder, parseIdx, encodeIdx, idxToDataset, fitStandardizer, selectRows, appendIntercept, minibatchAt, epochPermutation, batchesPerEpoch, Minibatcher } from './data/index.js';
export type { DataErrorLocation, CsvOptions, UciFolder, UciFolderOptions, UciSplit, IdxArray, IdxValues, IdxDatasetOptions, Standardizer, StandardizerOptions, MinibatchOptions } from './data/index.js';
export { ModelError, linearRegression, logisticRegression, softmaxRegression, minibatchGradient, fullGradient } from './models/index.js';
export type { ModeOptions, ModeResult, GammaPrior, GaussianPosterior, LinearRegressionModel, LinearRegressionOptions, LogisticRegressionModel, LogisticRegressionOptions, SoftmaxModeOptions, SoftmaxRegressionModel, SoftmaxRegressionOptions } from './models/index.js';
export { GaussianDiagnosticError, gaussianKL, symmetricGaussianKL, sampleMeanCov } from './diagnostics/gaussian.js';
export type { SampleMoments } from './diagnostics/gaussian.js';
export { DrawsShapeError, sampleQuantile, sortedQuantile, splitChains, normalQuantile, rankNormalize, autocovariance, effectiveSampleSize, essMean, essBulk, essQuantile, essTail, potentialScaleReduction, rhatBasic, rhat, mcseMean, energyBfmi } from './diagnostics/convergence.js';
export type { ChainDraws } from './diagnostics/convergence.js';
export { CalibrationInputError, negativeLogLikelihood, brierScore, expectedCalibrationError, gaussianNegativeLogLikelihood, intervalCoverage } from './diagnostics/calibration.js';
export type { ClassProbabilities, ReliabilityBin, CalibrationReport, PredictiveDistribution, IntervalCoverage } from './diagnostics/calibration.js';
export { traceToParameterChains, summary, formatSummary } from './diagnostics/summary.js';
export type { Trace, ParameterSummary, SummaryOptions } from './diagnostics/summary.js';
export { TailIndexError, defaultBlockSize, blockSumTailIndex, blockSumTailIndexVectors, orderStatisticTailIndex, hillTailIndex, gradientNoiseSamples, gradientNoiseTailIndex } from './diagnostics/tailIndex.js';
export type { BlockSumOptions, VectorBlockSumOptions, HillOptions, GradientNoiseOptions, GradientNoiseTailIndex } from './diagnostics/tailIndex.js';
export { SgldOptionError, sgldInit, sgldKernel, sgld } from './samplers/sgld.js';
export type { SgldState, SgldInfo, SgldOptions } from './samplers/sgld.js';
export { SamplerRegistryError, registerSampler, getSampler, listSamplers } from './samplers/registry.js';
export type { RegistryOptions, AnySampler, SamplerEntry } from './samplers/registry.js';
export { LevyLangevinOptionError, levyLangevinInit, levyLangevinKernel, levyLangevin } from './samplers/levy.js';
export type { LevyLangevinState, LevyLangevinInfo, LevyLangevinOptions } from './samplers/levy.js';
export { HamiltonianInputError, densityTarget, logDensityOf, kineticEnergy, hamiltonian, velocity, copyPhasePoint, leapfrogInPlace, leapfrog, checkInverseMetric } from './samplers/integrators.js';
export type { LogDensityFn, LogDensityModel, PhasePoint, HamiltonianState, HamiltonianInfo } from './samplers/integrators.js';
export { dualAveragingInit, dualAveragingUpdate, dualAveragingFinal, WelfordVariance, regularizedVariance, warmupSchedule, sampleMomentum, findReasonableStepSize, initialHamiltonianState, runAdaptiveChains } from './samplers/adaptation.js';
export type { DualAveragingOptions, DualAveragingState, WarmupWindowOptions, WarmupSchedule, AdaptiveRunOptions, ChainDiagnostics, HamiltonianRun, HamiltonianSampler, HamiltonianOptions } from './samplers/adaptation.js';
export { hmc, sampleHmc } from './samplers/hmc.js';
export type { HmcOptions } from './samplers/hmc.js';
export { nuts, sampleNuts } from './samplers/nuts.js';
export type { NutsOptions } from './samplers/nuts.js';
export { DivergenceError, DriverOptionError, runChains } from './run/driver.js';
export type { RunProgress, RunChainsOptions, ChainSummary, RunResult } from './run/driver.js';
export { MomentsError, OnlineMoments } from './run/moments.js';
export type { MomentsKind, MomentsSnapshot } from './run/moments.js';
export { ExponentialFamilyError, checkMean, checkNatural, dualPotential, klDivergence, logDensity, logFactorial, meanSufficientStatistic, bernoulli, categorical, poisson, gaussian, multivariateGaussian, dormandPrince, FLOW_METHODS, findLargestStableStep, fisherScaledReparameterisation, integrateFlow, iterateFlow, klGradientMean, klGradientNatural, klObjective, klProblem, linearReparameterisation, localKL, makeFlow, measureDecayRate, measureLocalRate, paperPredictedRates, perturbedStart, predictFlow, predictedStationaryKL, defaultExperimentTargets, printNaturalGradientTable, runNaturalGradientExperiment } from './expfam/index.js';
export type { ExponentialFamily, BernoulliFamily, CategoricalFamily, PoissonFamily, GaussianFamily, MultivariateGaussianFamily, OdeOptions, OdeResult, OdeRightHandSide, ContinuousTrajectory, DecayRateOptions, DirectionOptions, DiscreteTrajectory, Flow, FlowMethod, FlowPrediction, FlowSpec, GradientNoise, IntegrateOptions, IterateOptions, KLDirection, KLProblem, LinearReparameterisation, LocalRateOptions, PaperRates, StableStepOptions, ExperimentTarget, NaturalGradientExperimentOptions, NaturalGradientRow } from './expfam/index.js';
