/**
 * The experiment of Mandt, Hoffman & Blei 2017 (JMLR 18), Table 1 and Sec. 7.2, on our data: how
 * close each stochastic-gradient sampler's iterates are to the posterior (symmetrised KL of the
 * Gaussian fitted to them), whether the OU prediction of the stationary covariance matches what
 * constant SGD samples, variational EM's prior precision against the evidence optimum, and IASG
 * against SGLD and NUTS on synthetic linear regression. Data are passed in (this module has no
 * Node-only imports); `sgbayes experiment mandt` and experiments/mandt.ts load the shipped data.
 */
import type { Dataset, IndexBatch, Sampler, StepInfo, Target, Vec } from '../core/types.js';
import { foldIn, key as keyFromSeed, normal, type Key } from '../core/random.js';
import { inverse, symmetricEigen } from '../core/linalg.js';
import { fitStandardizer } from '../data/preprocess.js';
import { sampleMeanCov, symmetricGaussianKL } from '../diagnostics/gaussian.js';
import { linearRegression, type LinearRegressionModel } from '../models/linear.js';
import { logisticRegression } from '../models/logistic.js';
import { OnlineMoments } from '../run/moments.js';
import { iasg } from '../samplers/averaging.js';
import { constantSgd } from '../samplers/constantSgd.js';
import { momentumSgd } from '../samplers/momentumSgd.js';
import { sampleNuts } from '../samplers/nuts.js';
import { psgld } from '../samplers/psgld.js';
import { sgfs } from '../samplers/sgfs.js';
import { sghmc } from '../samplers/sghmc.js';
import { sgld } from '../samplers/sgld.js';
import { variationalEm } from '../vi/variationalEm.js';
import { createNoiseEstimator } from './estimator.js';
import { independentMinibatch } from './minibatch.js';
import { optimalMomentumRatio, optimalPreconditioner, optimalSgfsPreconditioner, stabilizePreconditioner } from './optimal.js';
import {
  averagedIterateCovariance,
  constantSgdDynamics,
  momentumStationaryCovariance,
  relativeFrobeniusError,
  sgfsStationaryCovariance,
  sgldStationaryCovariance,
  stationaryCovariance,
} from './ornsteinUhlenbeck.js';
import type { NoiseCovariance, Preconditioner } from './types.js';

/** Options of {@link runMandtExperiment}. */
export interface MandtExperimentOptions {
  /** The red wine data (UCI wine-quality-red, 1599 × 11). */
  wine: Dataset;
  /** The Wisconsin diagnostic breast cancer data (569 × 30, target 0/1). */
  breastCancer: Dataset;
  /** Fewer steps, chains and draws (under a minute). */
  quick?: boolean;
  /** Root seed (default 0). */
  seed?: number;
  /** Called with a line of progress now and then. */
  onProgress?: (message: string) => void;
  /** Which parts to run (default all). */
  parts?: readonly MandtPart[];
  /** Only these Table 1 methods (default all), e.g. ['constant SGD', 'constant SGD-f']. */
  methods?: readonly string[];
  /** Steps per Table 1 method (default 30 000 quick, 400 000 full). */
  steps?: number;
}

/** The parts of the experiment. */
export type MandtPart = 'wine' | 'breast-cancer' | 'variationalEm' | 'iasg';

/** One row of the Table 1 reproduction. */
export interface MandtRow {
  dataset: 'wine' | 'breast-cancer';
  method: string;
  /** Per-example gradient evaluations (S per step; N per full-batch gradient). */
  gradientEvaluations: number;
  /** Jeffreys divergence KL(q‖p) + KL(p‖q) between the Gaussian fitted to the samples and the reference. */
  symmetricKL: number;
  /** ‖Σ_emp − Σ_OU‖_F / ‖Σ_OU‖_F, when the method has an OU prediction. */
  predictedVsEmpiricalCovRelErr?: number;
  /** The symmetrised KL of the predicted Gaussian N(mode, Σ_OU) to the reference. */
  predictedSymmetricKL?: number;
  /** Samples the fit used. */
  samples: number;
  /** The method's step size (mean diagonal of H for preconditioned ones). */
  stepSize: number;
  seconds: number;
  note?: string;
}

/** Variational EM's λ against the type-II maximum-likelihood λ (linear model on wine). */
export interface VariationalEmSummary {
  dataset: 'wine';
  learnedPriorPrecision: number;
  evidenceOptimalPriorPrecision: number;
  relativeError: number;
  gradientEvaluations: number;
}

/** One row of the IASG experiment (Sec. 7.2). */
export interface IasgRow {
  method: string;
  chains: number;
  samples: number;
  gradientEvaluations: number;
  symmetricKL: number;
  /** Mean over coordinates of sample variance / posterior variance. */
  varianceRatio: number;
  predictedVsEmpiricalCovRelErr?: number;
  seconds: number;
}

/** Everything the experiment reports. */
export interface MandtResult {
  rows: MandtRow[];
  /** Absent when the part was not run. */
  variationalEM?: VariationalEmSummary;
  /** Absent when the part was not run. */
  iasg?: { dataSize: number; dim: number; batchSize: number; window: number; learningRate: number; rows: IasgRow[] };
  settings: Record<string, number | string | boolean>;
}

type AnySampler = Sampler<{ position: Vec }, StepInfo, IndexBatch>;

interface RunOutcome {
  moments: OnlineMoments;
  gradientEvaluations: number;
  seconds: number;
}

/**
 * Run a sampler from `initial` for `steps` steps over independent minibatches (assumption A1; see
 * src/noise/minibatch.ts), pushing into the moments what `collect` returns after burn-in.
 */
function runSampler(
  sampler: AnySampler,
  target: Target<IndexBatch>,
  initial: Vec,
  options: { steps: number; burnIn: number; batchSize: number; key: Key; name: string },
  collect: (position: Vec, info: StepInfo) => Vec | undefined = (position) => position,
  moments: OnlineMoments = new OnlineMoments(target.dim, 'full'),
): RunOutcome {
  const started = performance.now();
  const batchKey = foldIn(options.key, 1);
  const stepKey = foldIn(options.key, 2);
  let state = sampler.init(initial, foldIn(options.key, 0));
  for (let t = 0; t < options.steps; t++) {
    const batch = independentMinibatch(foldIn(batchKey, t), target.dataSize, options.batchSize);
    const [next, info] = sampler.step(foldIn(stepKey, t), state, batch);
    state = next;
    if (t >= options.burnIn) {
      const draw = collect(state.position, info);
      if (draw) {
        for (let i = 0; i < draw.length; i++) {
          if (!Number.isFinite(draw[i])) throw new Error(`mandt experiment: ${options.name} diverged at step ${t} (θ[${i}] = ${draw[i]})`);
        }
        moments.push(draw);
      }
    }
  }
  return { moments, gradientEvaluations: options.steps * options.batchSize, seconds: (performance.now() - started) / 1000 };
}

function largestEigenvalue(m: Float64Array, d: number): number {
  return Math.max(...symmetricEigen(m, d).values);
}

function meanStep(p: Preconditioner, d: number): number {
  if (p.kind === 'scalar') return p.rate;
  let s = 0;
  for (let k = 0; k < d; k++) s += p.kind === 'diagonal' ? p.h[k] : p.H[k * d + k];
  return s / d;
}

/** The problem one table block runs on: model, optimum, Hessian, estimated noise and reference. */
interface Problem {
  dataset: 'wine' | 'breast-cancer';
  target: Target<IndexBatch>;
  mode: Vec;
  /** A = −(1/N)∇² log posterior at the mode. */
  hessian: Float64Array;
  noise: NoiseCovariance;
  noiseEvaluations: number;
  reference: { mean: Vec; cov: Float64Array };
  batchSize: number;
}

/** C estimated online (Eq. 21, κ_t = 1/t) over `batches` independent minibatches at the mode. */
function estimateNoise(target: Target<IndexBatch>, theta: Vec, batchSize: number, batches: number, k: Key): NoiseCovariance {
  const estimator = createNoiseEstimator('full', target.dim, { decay: (t) => 1 / t });
  const buffer = new Float64Array(batchSize * target.dim);
  const perExample = target.perExampleGrads as NonNullable<Target<IndexBatch>['perExampleGrads']>;
  for (let t = 0; t < batches; t++) {
    perExample.call(target, theta, independentMinibatch(foldIn(k, t), target.dataSize, batchSize), buffer);
    estimator.update(buffer, batchSize);
  }
  return estimator.snapshot();
}

/** Per-method settings and rows for one problem (Table 1 block). */
function tableBlock(
  problem: Problem,
  budget: { steps: number; iasgSamples: number; methods?: readonly string[] },
  root: Key,
  progress: (m: string) => void,
): MandtRow[] {
  const { target, mode, hessian: A, noise: C, reference, batchSize: S, dataset } = problem;
  const N = target.dataSize;
  const d = target.dim;
  const sizes = { batchSize: S, dataSize: N };
  const lambdaMax = largestEigenvalue(A, d);
  const burnIn = Math.max(2000, Math.floor(budget.steps / 10));
  const rows: MandtRow[] = [];
  const predictedKL = (sigma: Float64Array) => symmetricGaussianKL(mode, sigma, reference.mean, reference.cov, d);
  let index = 0;

  function addRow(
    method: string,
    sampler: AnySampler,
    stepSize: number,
    predicted?: Float64Array,
    extra: { steps?: number; collect?: (position: Vec, info: StepInfo) => Vec | undefined; note?: string; burnIn?: number } = {},
  ): void {
    index += 1; // each method keeps its key whichever others run
    if (budget.methods && !budget.methods.includes(method)) return;
    progress(`${dataset}: ${method}`);
    const steps = extra.steps ?? budget.steps;
    const outcome = runSampler(sampler, target, mode, { steps, burnIn: extra.burnIn ?? burnIn, batchSize: S, key: foldIn(root, index), name: method }, extra.collect);
    const mean = outcome.moments.mean();
    const cov = outcome.moments.covariance();
    rows.push({
      dataset,
      method,
      gradientEvaluations: outcome.gradientEvaluations + problem.noiseEvaluations,
      symmetricKL: symmetricGaussianKL(mean, cov, reference.mean, reference.cov, d),
      predictedVsEmpiricalCovRelErr: predicted ? relativeFrobeniusError(cov, predicted) : undefined,
      predictedSymmetricKL: predicted ? predictedKL(predicted) : undefined,
      samples: outcome.moments.count,
      stepSize,
      seconds: outcome.seconds,
      note: extra.note,
    });
  }

  // Constant SGD at the optimal settings (Theorem 1, Corollary 3, Theorem 2), capped for stability.
  const constantSettings: Record<'scalar' | 'diagonal' | 'full', Preconditioner> = { scalar: { kind: 'scalar', rate: 0 }, diagonal: { kind: 'scalar', rate: 0 }, full: { kind: 'scalar', rate: 0 } };
  for (const [kind, label] of [
    ['scalar', 'constant SGD'],
    ['diagonal', 'constant SGD-d'],
    ['full', 'constant SGD-f'],
  ] as const) {
    const { preconditioner, capped } = stabilizePreconditioner(optimalPreconditioner(kind, C, sizes), A, 1);
    constantSettings[kind] = preconditioner;
    const predicted = stationaryCovariance({ hessian: A, noise: C, preconditioner, batchSize: S });
    addRow(label, constantSgd(target, { preconditioner }) as unknown as AnySampler, meanStep(preconditioner, d), predicted, {
      note: capped > 0 ? `${capped} eigenvalue(s) of HA capped at 1 for stability` : undefined,
    });
  }

  // Momentum SGD: ε/μ from the analogue of Theorem 1 (our derivation), μ = 0.1.
  const mu = 0.1;
  const scalarRate = constantSettings.scalar.kind === 'scalar' ? constantSettings.scalar.rate : 0;
  const ratio = Math.min(optimalMomentumRatio(C, sizes), scalarRate);
  addRow(
    'momentum SGD',
    momentumSgd(target, { learningRate: mu * ratio, momentum: mu }) as unknown as AnySampler,
    mu * ratio,
    momentumStationaryCovariance({ hessian: A, noise: C, learningRate: mu * ratio, momentum: mu, batchSize: S }),
    { note: 'μ = 0.1, ε/μ = 2SD/(N Tr C) (by analogy with Theorem 1)' },
  );

  // IASG (Algorithm 1): window means of constant SGD at ε*, one sample per pass.
  const window = Math.max(1, Math.round(N / S));
  const iasgSteps = Math.max(budget.steps, (budget.iasgSamples + 2) * window);
  addRow(
    'IASG',
    iasg(target, { preconditioner: constantSettings.scalar, window }) as unknown as AnySampler,
    scalarRate,
    averagedIterateCovariance(constantSgdDynamics({ hessian: A, noise: C, preconditioner: constantSettings.scalar, batchSize: S }), window),
    {
      steps: iasgSteps,
      burnIn: 2 * window,
      collect: (_position, info) => (info as StepInfo & { emitted?: boolean; average?: Vec }).average,
      note: `window N/S = ${window}`,
    },
  );

  // SGLD at a constant step whose drift is 0.1 in the stiffest direction: εN/2·λ_max(A) = 0.1.
  const sgldStep = 0.2 / (N * lambdaMax);
  addRow('SGLD', sgld(target, { stepSize: sgldStep }) as unknown as AnySampler, sgldStep, sgldStationaryCovariance({ hessian: A, noise: C, stepSize: sgldStep, batchSize: S, dataSize: N }), {
    note: 'ε = 0.2/(N λ_max(A))',
  });

  // pSGLD: the same stiffest-direction drift under the RMSprop metric G ≈ diag(√(S/C_kk)).
  const diagC = C.diag as Float64Array;
  const g = diagC.map((c) => 1 / (1e-5 + Math.sqrt(c / S)));
  const scaled = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scaled[i * d + j] = Math.sqrt(g[i] * g[j]) * A[i * d + j];
  const psgldStep = 0.2 / (N * largestEigenvalue(scaled, d));
  addRow('pSGLD', psgld(target, { stepSize: psgldStep }) as unknown as AnySampler, psgldStep, undefined, { note: 'RMSprop α = 0.99; ε: drift 0.1 in the stiffest direction' });

  // SGFS-d and SGFS-f (Theorem 5, Corollary 6), ε = 1 and h^max = 1/λ_max(A) so εHA ≤ 1.
  const maxStep = 1 / lambdaMax;
  for (const [kind, label] of [
    ['diagonal', 'SGFS-d'],
    ['full', 'SGFS-f'],
  ] as const) {
    const setting = optimalSgfsPreconditioner(kind, C, { ...sizes, stepSize: 1, maxStep });
    const sampler = sgfs(target, { stepSize: 1, kind, noise: C, injectedNoise: setting.injectedNoise });
    const predicted = sgfsStationaryCovariance({ hessian: A, noise: C, preconditioner: setting.preconditioner, injectedNoise: setting.injectedNoise, stepSize: 1, batchSize: S });
    addRow(label, sampler as unknown as AnySampler, meanStep(setting.preconditioner, d), predicted, { note: 'ε = 1, h^max = 1/λ_max(A)' });
  }

  // SGHMC (Chen et al. 2014, Eq. 13): ε²Nλ_max(A) = 0.05 and εC = 0.3, so the minibatch noise
  // ε²N²C_kk/S stays below the thermal 2εC and B̂ = ½εN²C_kk/S (≤ 0.9C) can cancel it.
  const sghmcStep = Math.sqrt(0.05 / (N * lambdaMax));
  const friction = 0.3 / sghmcStep;
  const noiseEstimate = diagC.map((c) => Math.min(0.9 * friction, (0.5 * sghmcStep * N * N * c) / S));
  addRow('SGHMC', sghmc(target, { stepSize: sghmcStep, friction, noiseEstimate }) as unknown as AnySampler, sghmcStep, undefined, {
    note: 'M = I, ε²Nλ_max = 0.05, εC = 0.3, B̂ = min(½εN²C_kk/S, 0.9C)',
  });
  return rows;
}

/** S on breast cancer: small enough that ε*·λ_max(A) stays below 1 (ε* ∝ S). */
const BREAST_CANCER_BATCH = 10;

/** Table 1 rows on breast cancer: logistic regression with NUTS as the reference. */
function breastCancerBlock(
  data: Dataset,
  budget: { quick: boolean; seed: number; steps: number; iasgSamples: number; methods?: readonly string[]; noiseBatches: number },
  root: Key,
  progress: (m: string) => void,
): MandtRow[] {
  // Breast cancer: logistic regression, NUTS reference; S = 10 keeps ε*·λ_max(A) below 1.
  progress('breast-cancer: NUTS reference');
  const standardized = fitStandardizer(data, undefined, { scaleY: false }).apply(data);
  const logistic = logisticRegression(standardized, { priorPrecision: 1 });
  const mode = logistic.mode().theta;
  const started = performance.now();
  const nutsRun = sampleNuts(logistic, { chains: budget.quick ? 2 : 4, warmup: budget.quick ? 250 : 1000, draws: budget.quick ? 400 : 5000, seed: budget.seed + 1, initial: mode });
  const nutsFit = covarianceOfDraws(nutsRun.draws, logistic.dim);
  let nutsEvaluations = 0;
  for (const info of nutsRun.info) for (const e of info.numGradEvals) nutsEvaluations += e * logistic.dataSize;
  const logisticHessian = logistic.hessianLogPosterior(mode).map((v) => -v / logistic.dataSize);
  const laplaceCov = inverse(logisticHessian, logistic.dim).map((v) => v / logistic.dataSize);
  const bcS = BREAST_CANCER_BATCH;
  const bc: Problem = {
    dataset: 'breast-cancer',
    target: logistic,
    mode,
    hessian: logisticHessian,
    noise: estimateNoise(logistic, mode, bcS, budget.noiseBatches, foldIn(root, 12)),
    noiseEvaluations: budget.noiseBatches * bcS,
    reference: { mean: nutsFit.mean, cov: nutsFit.cov },
    batchSize: bcS,
  };
  const rows: MandtRow[] = [];
  rows.push(
    {
      dataset: 'breast-cancer',
      method: 'NUTS',
      gradientEvaluations: nutsEvaluations,
      symmetricKL: 0,
      samples: nutsFit.count,
      stepSize: nutsRun.stepSize.reduce((s, v) => s + v, 0) / nutsRun.stepSize.length,
      seconds: (performance.now() - started) / 1000,
      note: 'reference (full-batch; gradient evaluations of the kept draws)',
    },
    {
      dataset: 'breast-cancer',
      method: 'Laplace',
      gradientEvaluations: 0,
      symmetricKL: symmetricGaussianKL(mode, laplaceCov, nutsFit.mean, nutsFit.cov, logistic.dim),
      samples: 0,
      stepSize: 0,
      seconds: 0,
      note: 'N(mode, (NA)⁻¹), the paper’s posterior in Table 1',
    },
    ...tableBlock(bc, { steps: budget.steps, iasgSamples: budget.iasgSamples, methods: budget.methods }, foldIn(root, 13), progress),
  );
  return rows;

}

/** Red wine as in the paper's Wine experiment (standardised features and target, τ from OLS). */
export function wineProblemModel(wine: Dataset): LinearRegressionModel {
  const standardized = fitStandardizer(wine).apply(wine);
  // τ = N / RSS of the (nearly unregularised) least-squares fit: the noise level the data show.
  const ols = linearRegression(standardized, { priorPrecision: 1e-6 });
  const fitted = ols.predictMean(ols.exactPosterior().mean, standardized.x);
  let rss = 0;
  for (let n = 0; n < standardized.rows; n++) rss += (standardized.y[n] - fitted[n]) ** 2;
  return linearRegression(standardized, { priorPrecision: 1, noisePrecision: standardized.rows / rss });
}

function covarianceOfDraws(draws: readonly Float64Array[], d: number): { mean: Float64Array; cov: Float64Array; count: number } {
  const all: Vec[] = [];
  for (const chain of draws) for (let i = 0; i + d <= chain.length; i += d) all.push(chain.subarray(i, i + d));
  return sampleMeanCov(all, d);
}

/** The IASG experiment of Sec. 7.2: synthetic linear regression, N = 10000, D = 10, S = 10. */
function iasgExperiment(quick: boolean, root: Key, progress: (m: string) => void): NonNullable<MandtResult['iasg']> {
  const N = 10_000;
  const D = 10;
  const S = 10;
  const window = 1000;
  const learningRate = 0.003;
  const x = normal(foldIn(root, 0), N * D);
  const w = normal(foldIn(root, 1), D);
  const noise = normal(foldIn(root, 2), N);
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let z = 0;
    for (let j = 0; j < D; j++) z += x[n * D + j] * w[j];
    y[n] = z + noise[n];
  }
  const data: Dataset = { x, y, rows: N, cols: D, featureNames: Array.from({ length: D }, (_, j) => `x${j + 1}`), targetName: 'y', source: 'synthetic (Mandt et al. Sec. 7.2)' };
  const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 1, intercept: false });
  const posterior = model.exactPosterior();
  const A = model.hessianLogPosterior(posterior.mean).map((v) => -v / N);
  const chains = quick ? 8 : 100;
  const samplesPerChain = quick ? 8 : 20;
  const stepsPerChain = (samplesPerChain + 2) * window;
  const rows: IasgRow[] = [];
  const summarise = (method: string, mean: Vec, cov: Float64Array, count: number, evaluations: number, seconds: number, predicted?: Float64Array): void => {
    let ratio = 0;
    for (let k = 0; k < D; k++) ratio += cov[k * D + k] / posterior.cov[k * D + k] / D;
    rows.push({
      method,
      chains: method === 'NUTS' ? (quick ? 1 : 4) : chains,
      samples: count,
      gradientEvaluations: evaluations,
      symmetricKL: symmetricGaussianKL(mean, cov, posterior.mean, posterior.cov, D),
      varianceRatio: ratio,
      predictedVsEmpiricalCovRelErr: predicted ? relativeFrobeniusError(cov, predicted) : undefined,
      seconds,
    });
  };

  progress('IASG experiment: IASG');
  const preconditioner: Preconditioner = { kind: 'scalar', rate: learningRate };
  const C = estimateNoise(model, posterior.mean, S, 2000, foldIn(root, 3));
  let moments = new OnlineMoments(D, 'full');
  let seconds = 0;
  for (let c = 0; c < chains; c++) {
    const outcome = runSampler(
      iasg(model, { preconditioner, window }) as unknown as AnySampler,
      model,
      posterior.mean,
      { steps: stepsPerChain, burnIn: 2 * window, batchSize: S, key: foldIn(foldIn(root, 4), c), name: 'IASG' },
      (_p, info) => (info as StepInfo & { average?: Vec }).average,
      moments,
    );
    moments = outcome.moments;
    seconds += outcome.seconds;
  }
  const predicted = averagedIterateCovariance(constantSgdDynamics({ hessian: A, noise: C, preconditioner, batchSize: S }), window);
  summarise('IASG', moments.mean(), moments.covariance(), moments.count, chains * stepsPerChain * S, seconds, predicted);

  progress('IASG experiment: SGLD');
  moments = new OnlineMoments(D, 'full');
  seconds = 0;
  const sgldSchedule = (t: number) => 1e-3 / Math.sqrt(1000 + t);
  for (let c = 0; c < chains; c++) {
    const outcome = runSampler(sgld(model, { stepSize: sgldSchedule }) as unknown as AnySampler, model, posterior.mean, {
      steps: stepsPerChain,
      burnIn: 2 * window,
      batchSize: S,
      key: foldIn(foldIn(root, 5), c),
      name: 'SGLD',
    }, undefined, moments);
    moments = outcome.moments;
    seconds += outcome.seconds;
  }
  summarise('SGLD', moments.mean(), moments.covariance(), moments.count, chains * stepsPerChain * S, seconds);

  progress('IASG experiment: NUTS');
  const started = performance.now();
  const nutsRun = sampleNuts(model, { chains: quick ? 1 : 4, warmup: quick ? 300 : 500, draws: quick ? 300 : 1000, seed: 7, initial: posterior.mean });
  const fit = covarianceOfDraws(nutsRun.draws, D);
  let evaluations = 0;
  for (const info of nutsRun.info) for (const e of info.numGradEvals) evaluations += e * N;
  summarise('NUTS', fit.mean, fit.cov, fit.count, evaluations, (performance.now() - started) / 1000);
  return { dataSize: N, dim: D, batchSize: S, window, learningRate, rows };
}

/**
 * Run the whole experiment: Table 1 rows on red wine (linear regression, exact posterior as the
 * reference) and breast cancer (logistic regression, NUTS as the reference), variational EM on
 * wine, and the IASG experiment of Sec. 7.2. See docs/mandt.md for the set-up and the results.
 */
export function runMandtExperiment(options: MandtExperimentOptions): MandtResult {
  const quick = options.quick ?? false;
  const seed = options.seed ?? 0;
  const root = keyFromSeed(seed);
  const progress = options.onProgress ?? (() => undefined);
  const steps = options.steps ?? (quick ? 20_000 : 400_000);
  const iasgSamples = quick ? 600 : 10_000;
  const parts = new Set<MandtPart>(options.parts ?? ['wine', 'breast-cancer', 'variationalEm', 'iasg']);
  const methods = options.methods;
  const noiseBatches = 2000;

  // Wine: linear regression, exact posterior.
  const wineModel = wineProblemModel(options.wine);
  const winePosterior = wineModel.exactPosterior();
  const wineS = 100;
  const wineNoise = estimateNoise(wineModel, winePosterior.mean, wineS, noiseBatches, foldIn(root, 10));
  const wine: Problem = {
    dataset: 'wine',
    target: wineModel,
    mode: winePosterior.mean,
    hessian: wineModel.hessianLogPosterior(winePosterior.mean).map((v) => -v / wineModel.dataSize),
    noise: wineNoise,
    noiseEvaluations: noiseBatches * wineS,
    reference: winePosterior,
    batchSize: wineS,
  };
  const rows: MandtRow[] = [];
  if (parts.has('wine')) {
    rows.push(
      { dataset: 'wine', method: 'exact posterior', gradientEvaluations: 0, symmetricKL: 0, samples: 0, stepSize: 0, seconds: 0, note: 'reference (closed form)' },
      ...tableBlock(wine, { steps, iasgSamples, methods }, foldIn(root, 11), progress),
    );
  }
  if (parts.has('breast-cancer')) rows.push(...breastCancerBlock(options.breastCancer, { quick, seed, steps, iasgSamples, methods, noiseBatches }, root, progress));

  let variationalEM: VariationalEmSummary | undefined;
  if (parts.has('variationalEm')) {
    progress('variational EM on wine');
    const em = variationalEm(wineModel, { batchSize: wineS, steps: quick ? 10_000 : 40_000, warmupSteps: 2000, seed: seed + 2 });
    const evidenceOptimal = wineModel.evidenceOptimalPriorPrecision();
    variationalEM = {
      dataset: 'wine',
      learnedPriorPrecision: em.averagedPriorPrecision,
      evidenceOptimalPriorPrecision: evidenceOptimal,
      relativeError: Math.abs(em.averagedPriorPrecision / evidenceOptimal - 1),
      gradientEvaluations: em.gradientEvaluations,
    };
  }
  const iasgResult = parts.has('iasg') ? iasgExperiment(quick, foldIn(root, 20), progress) : undefined;
  return {
    rows,
    variationalEM,
    iasg: iasgResult,
    settings: { quick, seed, steps, wineBatchSize: wineS, breastCancerBatchSize: BREAST_CANCER_BATCH, noiseBatches, minibatches: 'independent random subsets' },
  };
}

function fixed(value: number | undefined, digits = 3): string {
  if (value === undefined) return '';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e4 || magnitude < 1e-3 ? value.toExponential(2) : value.toFixed(digits);
}

/** The result as plain-text tables. */
export function formatMandtResult(result: MandtResult): string {
  const table = (headers: string[], body: string[][]): string => {
    const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
  };
  const main = table(
    ['dataset', 'method', 'grad evals', 'sym KL', 'OU pred KL', 'OU rel err', 'samples', 'step', 'note'],
    result.rows.map((r) => [
      r.dataset,
      r.method,
      r.gradientEvaluations.toExponential(2),
      fixed(r.symmetricKL),
      fixed(r.predictedSymmetricKL),
      fixed(r.predictedVsEmpiricalCovRelErr),
      String(r.samples),
      fixed(r.stepSize),
      r.note ?? '',
    ]),
  );
  const out = ['Table 1 (Mandt, Hoffman & Blei 2017): symmetrised KL of the Gaussian fitted to the samples vs the reference', main];
  const em = result.variationalEM;
  if (em) {
    out.push('', `Variational EM (wine): learned λ = ${fixed(em.learnedPriorPrecision)}, evidence-optimal λ = ${fixed(em.evidenceOptimalPriorPrecision)} (relative error ${fixed(em.relativeError)})`);
  }
  const ia = result.iasg;
  if (ia) {
    out.push(
      '',
      `IASG experiment (Sec. 7.2): synthetic linear regression N = ${ia.dataSize}, D = ${ia.dim}, S = ${ia.batchSize}, window ${ia.window}, ε = ${ia.learningRate}`,
      table(
        ['method', 'chains', 'samples', 'grad evals', 'sym KL', 'var ratio', 'OU rel err'],
        ia.rows.map((r) => [r.method, String(r.chains), String(r.samples), r.gradientEvaluations.toExponential(2), fixed(r.symmetricKL), fixed(r.varianceRatio), fixed(r.predictedVsEmpiricalCovRelErr)]),
      ),
    );
  }
  return out.join('\n');
}
