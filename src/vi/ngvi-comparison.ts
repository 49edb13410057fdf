/**
 * The natural-gradient VI experiment (issue 6, Datar & Ay 2025 applied to VI): on Bayesian
 * logistic regression, passes over the data that natural-gradient VI (Gauss–Newton curvature, and
 * VOGN's squared gradients) and Adam-based reparameterised VI need to reach the ELBO of the
 * full-batch reference VI, for a mean-field and a full-rank Gaussian.
 */
import { foldIn, key as seedKey } from '../core/random.js';
import type { Dataset, Schedule } from '../core/types.js';
import { fitStandardizer } from '../data/preprocess.js';
import { logisticRegression, type LogisticRegressionModel } from '../models/logistic.js';
import {
  elboEstimate,
  fitAdamVi,
  fullRankGaussian,
  meanFieldGaussian,
  type FullRankParams,
  type GaussianFamily,
  type MeanFieldParams,
} from './gaussianFamilies.js';
import { NgviError, gaussNewtonCurvature, gradientMagnitudeCurvature, squaredGradientCurvature, type CovarianceStructure } from './ngvi-curvature.js';
import { logisticExactElbo, logisticReferenceVi } from './ngvi-reference.js';
import { fitNgvi, ngviCovariance, type NgviState } from './ngvi-core.js';

/** A learning-rate schedule lr_t = initial · (1 + t/decaySteps)^(−power) (constant when decaySteps is omitted). */
export interface DecaySchedule {
  initial: number;
  decaySteps?: number;
  power?: number;
}

/** The methods of the comparison. */
export type NgviComparisonMethod = 'ngvi-gauss-newton' | 'vogn' | 'ngvi-gradient-magnitude' | 'adam';

/** Options of {@link runNgviComparison}. */
export interface NgviComparisonOptions {
  /** Binary classification data (labels 0/1), e.g. `loadBreastCancer()`; features are standardised here. */
  dataset: Dataset;
  /** λ of the N(0, λ⁻¹I) prior (default 1). */
  priorPrecision?: number;
  /** Posterior families (default both). */
  covariances?: readonly CovarianceStructure[];
  /** Methods (default ngvi-gauss-newton, vogn, adam). */
  methods?: readonly NgviComparisonMethod[];
  /** Minibatch size (default 32). */
  batchSize?: number;
  /** Passes over the data per run (default 60). */
  maxPasses?: number;
  /** Seed of batches and perturbations (default 0). */
  seed?: number;
  /** Draws K of the fixed-key ELBO estimate (default 256). */
  elboSamples?: number;
  /** The tolerance in MCSEs of the reference's ELBO estimate (default 3). */
  toleranceMcse?: number;
  /** Step-size schedules tried for the NG-VI methods (default: see `DEFAULT_NGVI_SCHEDULES`). */
  ngviSchedules?: readonly DecaySchedule[];
  /** Learning-rate schedules tried for Adam (default: see `DEFAULT_ADAM_SCHEDULES`). */
  adamSchedules?: readonly DecaySchedule[];
  /** Called when a run finishes. */
  onRun?: (row: NgviComparisonRow) => void;
}

/** One row: a run of one method with one schedule (or the reference). */
export interface NgviComparisonRow {
  dataset: string;
  covariance: CovarianceStructure;
  /** A comparison method, or 'reference' (full-batch NG-VI with exact expectations). */
  method: NgviComparisonMethod | 'reference';
  /** The step-size schedule, e.g. "1·(1+t/3)^-1". */
  schedule: string;
  batchSize: number;
  /** First evaluated pass whose ELBO estimate is within `tolerance` of the reference's; null if never. */
  passesToReference: number | null;
  /** Fixed-key ELBO estimate of the reference q. */
  referenceElbo: number;
  /** Its Monte Carlo standard error. */
  referenceMcse: number;
  /** toleranceMcse × referenceMcse. */
  tolerance: number;
  /** Fixed-key ELBO estimate of the run's final q. */
  finalElbo: number;
  /** Exact (quadrature) ELBO of the final q. */
  finalExactElbo: number;
  /** Exact ELBO of the reference q. */
  referenceExactElbo: number;
  /** Whether this schedule is the method's best (fewest passes, then highest final ELBO). */
  best: boolean;
  seconds: number;
}

/** NG-VI step sizes tried by default: Robbins–Monro decay from a full natural-gradient step, and two gentler ones. */
export const DEFAULT_NGVI_SCHEDULES: readonly DecaySchedule[] = [
  { initial: 1, decaySteps: 3, power: 1 },
  { initial: 1, decaySteps: 10, power: 1 },
  { initial: 0.5, decaySteps: 5, power: 0.75 },
];

/** Adam learning rates tried by default: two constants and two decays. */
export const DEFAULT_ADAM_SCHEDULES: readonly DecaySchedule[] = [
  { initial: 0.01 },
  { initial: 0.03 },
  { initial: 0.05, decaySteps: 100, power: 0.5 },
  { initial: 0.1, decaySteps: 200, power: 1 },
];

/** The schedule as a function of the step. */
export function decaySchedule(spec: DecaySchedule): Schedule {
  const { initial, decaySteps, power = 1 } = spec;
  if (!(initial > 0) || !Number.isFinite(initial)) throw new NgviError(`decaySchedule: initial must be a finite number > 0, got ${initial}`);
  if (decaySteps === undefined) return initial;
  if (!(decaySteps > 0)) throw new NgviError(`decaySchedule: decaySteps must be > 0, got ${decaySteps}`);
  return (t: number) => initial * (1 + t / decaySteps) ** -power;
}

function describe(spec: DecaySchedule): string {
  return spec.decaySteps === undefined ? `${spec.initial}` : `${spec.initial}·(1+t/${spec.decaySteps})^-${spec.power ?? 1}`;
}

function diagonalOf(cov: Float64Array, d: number): Float64Array {
  return Float64Array.from({ length: d }, (_, j) => cov[j * d + j]);
}

/**
 * Natural-gradient VI against Adam-based VI on Bayesian logistic regression (Khan et al. 2018's
 * comparison, on one dataset): for each posterior family and method, and each step-size schedule,
 * run `maxPasses` passes of minibatch updates from q₀ = N(0, 0.01 I) and record the first pass at
 * which the ELBO reaches the reference's within the tolerance.
 *
 * - Reference: the optimal Gaussian of the family by full-batch natural-gradient VI with exact
 *   (Gauss–Hermite) expectations, converged to 1e-8 (`logisticReferenceVi`); its row reports its
 *   iterations as passes (one full-data evaluation each).
 * - ELBO: the fixed-key estimate of `elboEstimate` (K draws, common random numbers across every q),
 *   evaluated after each pass; tolerance = toleranceMcse × the MCSE of the reference's estimate,
 *   the ELBO resolution of a K-draw estimate: a q within it cannot be told from the reference
 *   by that estimate. The exact ELBO of each final q is reported as a check.
 * - NG-VI: `ngvi` with one weight perturbation per step, α = β = the schedule, no momentum.
 *   Adam: `fitAdamVi` with one draw per step.
 */
export function runNgviComparison(options: NgviComparisonOptions): { rows: NgviComparisonRow[] } {
  const where = 'runNgviComparison';
  const data = options.dataset;
  if (!data || !(data.x instanceof Float64Array)) throw new NgviError(`${where}: option dataset must be a Dataset`);
  const standardised = fitStandardizer(data, undefined, { scaleY: false }).apply(data);
  const model: LogisticRegressionModel = logisticRegression(standardised, { priorPrecision: options.priorPrecision ?? 1 });
  const covariances = options.covariances ?? (['diagonal', 'full'] as const);
  const methods = options.methods ?? (['ngvi-gauss-newton', 'vogn', 'adam'] as const);
  const batchSize = options.batchSize ?? 32;
  const maxPasses = options.maxPasses ?? 60;
  if (!Number.isSafeInteger(maxPasses) || maxPasses < 1) throw new NgviError(`${where}: maxPasses must be a positive integer, got ${maxPasses}`);
  const N = model.dataSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > N) throw new NgviError(`${where}: batchSize must be an integer in [1, ${N}], got ${batchSize}`);
  const stepsPerPass = Math.floor(N / batchSize);
  const samples = options.elboSamples ?? 256;
  const toleranceMcse = options.toleranceMcse ?? 3;
  if (!(toleranceMcse > 0)) throw new NgviError(`${where}: toleranceMcse must be > 0, got ${toleranceMcse}`);
  const seed = options.seed ?? 0;
  const elboKey = foldIn(seedKey(seed), 0x454c42);
  const d = model.dim;
  const rows: NgviComparisonRow[] = [];

  for (const covariance of covariances) {
    const family = (covariance === 'full' ? fullRankGaussian(d) : meanFieldGaussian(d)) as GaussianFamily<FullRankParams | MeanFieldParams>;
    let started = performance.now();
    const reference = logisticReferenceVi(model, { covariance });
    const referenceParams = family.fromMoments(reference.mean, reference.covariance);
    const referenceEstimate = elboEstimate(model, family, referenceParams, elboKey, samples);
    const tolerance = toleranceMcse * referenceEstimate.mcse;
    const base = {
      dataset: data.source,
      covariance,
      batchSize,
      referenceElbo: referenceEstimate.elbo,
      referenceMcse: referenceEstimate.mcse,
      tolerance,
      referenceExactElbo: reference.elbo,
    };
    const referenceRow: NgviComparisonRow = {
      ...base,
      method: 'reference',
      schedule: 'full batch, exact expectations',
      batchSize: N,
      passesToReference: reference.iterations,
      finalElbo: referenceEstimate.elbo,
      finalExactElbo: reference.elbo,
      best: true,
      seconds: (performance.now() - started) / 1000,
    };
    rows.push(referenceRow);
    options.onRun?.(referenceRow);

    const exactElbo = (mean: Float64Array, cov: Float64Array): number => logisticExactElbo(model, mean, covariance === 'full' ? cov : diagonalOf(cov, d));
    for (const method of methods) {
      const schedules = method === 'adam' ? (options.adamSchedules ?? DEFAULT_ADAM_SCHEDULES) : (options.ngviSchedules ?? DEFAULT_NGVI_SCHEDULES);
      const methodRows: NgviComparisonRow[] = [];
      for (const spec of schedules) {
        started = performance.now();
        let passesToReference: number | null = null;
        const check = (step: number, params: FullRankParams | MeanFieldParams): void => {
          if (step % stepsPerPass !== 0 || passesToReference !== null) return;
          const estimate = elboEstimate(model, family, params, elboKey, samples);
          if (estimate.elbo >= referenceEstimate.elbo - tolerance) passesToReference = step / stepsPerPass;
        };
        let finalParams: FullRankParams | MeanFieldParams;
        let finalMean: Float64Array;
        let finalCov: Float64Array;
        const steps = maxPasses * stepsPerPass;
        if (method === 'adam') {
          const result = fitAdamVi(model, family, { steps, batchSize, learningRate: decaySchedule(spec), seed, onStep: check });
          finalParams = result.params;
          finalMean = finalParams.mean;
          finalCov = family.covariance(finalParams);
        } else {
          const curvature =
            method === 'ngvi-gauss-newton' ? gaussNewtonCurvature(model) : method === 'vogn' ? squaredGradientCurvature(model) : gradientMagnitudeCurvature(model);
          const paramsOf = (state: NgviState): FullRankParams | MeanFieldParams => family.fromMoments(state.position, ngviCovariance(state));
          const state = fitNgvi(model, {
            covariance,
            curvature,
            learningRate: decaySchedule(spec),
            steps,
            batchSize,
            seed,
            onStep: (step, s) => {
              if (step % stepsPerPass === 0 && passesToReference === null) check(step, paramsOf(s));
            },
          });
          finalParams = paramsOf(state);
          finalMean = state.position;
          finalCov = ngviCovariance(state);
        }
        const row: NgviComparisonRow = {
          ...base,
          method,
          schedule: describe(spec),
          passesToReference,
          finalElbo: elboEstimate(model, family, finalParams, elboKey, samples).elbo,
          finalExactElbo: exactElbo(finalMean, finalCov),
          best: false,
          seconds: (performance.now() - started) / 1000,
        };
        methodRows.push(row);
        options.onRun?.(row);
      }
      const rank = (r: NgviComparisonRow): number => r.passesToReference ?? Infinity;
      const best = methodRows.reduce((a, b) => (rank(b) < rank(a) || (rank(b) === rank(a) && b.finalElbo > a.finalElbo) ? b : a));
      best.best = true;
      rows.push(...methodRows);
    }
  }
  return { rows };
}

/** The comparison as a Markdown table. */
export function printNgviTable(rows: readonly NgviComparisonRow[]): string {
  const lines = [
    '| family | method | schedule | batch | passes to reference | final ELBO (est.) | final ELBO (exact) | reference ELBO (est. ± MCSE) | reference (exact) | tolerance | best |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.covariance} | ${r.method} | ${r.schedule} | ${r.batchSize} | ${r.passesToReference ?? 'not reached'} | ${r.finalElbo.toFixed(3)} | ${r.finalExactElbo.toFixed(3)} | ${r.referenceElbo.toFixed(3)} ± ${r.referenceMcse.toFixed(3)} | ${r.referenceExactElbo.toFixed(3)} | ${r.tolerance.toFixed(3)} | ${r.best ? '*' : ''} |`,
    );
  }
  return lines.join('\n');
}
