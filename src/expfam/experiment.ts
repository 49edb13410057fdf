/**
 * The natural-gradient experiment (Datar & Ay 2025, arXiv 2504.19259): for each family and each
 * reparameterisation factor c, the measured continuous-time KL rate of θ-GD, η-GD and natural
 * gradient descent against the predicted rate, and in discrete time the largest stable step
 * (predicted and found by a sweep) and the error under minibatch gradient noise.
 *
 * Pure computation (no Node imports) so the CLI, the experiments/ script and the browser can share it.
 */
import { foldIn, key, normal, type Key } from '../core/random.js';
import type { Vec } from '../core/types.js';
import { bernoulli } from './bernoulli.js';
import { categorical } from './categorical.js';
import { ExponentialFamilyError } from './errors.js';
import type { ExponentialFamily } from './family.js';
import {
  FLOW_METHODS,
  findLargestStableStep,
  fisherScaledReparameterisation,
  iterateFlow,
  klProblem,
  makeFlow,
  measureLocalRate,
  paperPredictedRates,
  perturbedStart,
  predictFlow,
  predictedStationaryKL,
  type FlowMethod,
  type FlowSpec,
  type KLDirection,
} from './flows.js';
import { gaussian } from './gaussian.js';
import { multivariateGaussian } from './multivariate-gaussian.js';
import { poisson } from './poisson.js';

/** One target of the experiment: a family and the member to fit. */
export interface ExperimentTarget {
  /** Row label, e.g. `categorical(11)`. */
  label: string;
  family: ExponentialFamily;
  targetNatural: Vec;
}

/** The default targets: Bernoulli(0.3), a random categorical on 11 outcomes, Poisson(3), N(1, 0.25), a 2-d Gaussian. */
export function defaultExperimentTargets(seed = 0): ExperimentTarget[] {
  const cat = categorical(11);
  // A random categorical as in the authors' n = 10 runs: softmax of standard normals.
  const z = normal(foldIn(key(seed), 11), 11);
  let total = 0;
  for (let i = 0; i < 11; i++) total += (z[i] = Math.exp(z[i]));
  for (let i = 0; i < 11; i++) z[i] /= total;
  const mvn = multivariateGaussian(2);
  return [
    { label: 'bernoulli', family: bernoulli(), targetNatural: bernoulli().fromProbability(0.3) },
    { label: 'categorical(11)', family: cat, targetNatural: cat.fromProbabilities(z) },
    { label: 'poisson', family: poisson(), targetNatural: poisson().fromRate(3) },
    { label: 'gaussian', family: gaussian(), targetNatural: gaussian().fromMeanVariance(1, 0.25) },
    { label: 'multivariateGaussian(2)', family: mvn, targetNatural: mvn.fromMeanCovariance([0.5, -1], [1, 0.3, 0.3, 0.5]) },
  ];
}

/** Options of `runNaturalGradientExperiment`. */
export interface NaturalGradientExperimentOptions {
  /** Reparameterisation factors (default 0.1, 0.5, 1, 2, 10); the original coordinates are always included (c = null). */
  cValues?: number[];
  directions?: KLDirection[];
  targets?: ExperimentTarget[];
  seed?: number;
  /** Minibatch size of the sampled-gradient noise (default 100). */
  batchSize?: number;
  /** Iterations of the discrete-time noisy runs (default 200); the error is averaged over the last quarter. */
  noiseIterations?: number;
  /** Skip the step-size sweeps (faster). */
  skipSweep?: boolean;
}

/** One row: a family, a KL direction, a coordinate choice (c) and a method. */
export interface NaturalGradientRow {
  family: string;
  direction: KLDirection;
  method: FlowMethod;
  /** Reparameterisation factor, or null for the original coordinates. */
  c: number | null;
  /** −slope of log(local KL) over the tail of the renormalised Dormand–Prince trajectory (`measureLocalRate`). */
  measuredRate: number;
  /** The paper's rate: 2λ_min(F*), 2, 2/λ_max(F*) (original) or 2c, 2, 2/c. */
  predictedRate: number;
  /** cond(F(θ*)) of the family at the target. */
  fisherCondition: number;
  /** cond(Q) of the method's linearisation (the discrete-time condition number). */
  conditionNumber: number;
  predictedLargestStableStep: number;
  /** Found by doubling and bisection (null when skipped). */
  foundLargestStableStep: number | null;
  /** Step of the noisy runs: half the best-contraction step 2/(λ_min + λ_max). Forward KL only. */
  noiseStepSize: number | null;
  /** Mean KL over the last quarter of the noisy run (forward KL only). */
  finalErrorUnderNoise: number | null;
  /** Predicted stationary KL at that step and batch size (forward KL only). */
  predictedNoiseFloor: number | null;
  /** KL after the same number of iterations without noise (forward KL only). */
  finalErrorNoiseFree: number | null;
}

function runRow(
  target: ExperimentTarget,
  direction: KLDirection,
  c: number | null,
  method: FlowMethod,
  keys: { start: Key; sweep: Key; noise: Key; discreteStart: Key },
  options: Required<Pick<NaturalGradientExperimentOptions, 'batchSize' | 'noiseIterations' | 'skipSweep'>>,
): NaturalGradientRow {
  const problem = klProblem(target.family, target.targetNatural, direction);
  const spec: FlowSpec = { method, reparameterisation: c === null ? undefined : fisherScaledReparameterisation(problem, c) };
  const paper = paperPredictedRates(problem, c ?? undefined);
  const prediction = predictFlow(makeFlow(problem, spec));
  const measuredRate = measureLocalRate(problem, spec, perturbedStart(problem, keys.start, 1e-3));
  const foundLargestStableStep = options.skipSweep ? null : findLargestStableStep(problem, spec, { key: keys.sweep });
  let noiseStepSize: number | null = null;
  let finalErrorUnderNoise: number | null = null;
  let predictedNoiseFloor: number | null = null;
  let finalErrorNoiseFree: number | null = null;
  if (direction === 'forward') {
    noiseStepSize = 0.5 * prediction.optimalStep;
    const start = perturbedStart(problem, keys.discreteStart, 0.05);
    const k = options.noiseIterations;
    const noisy = iterateFlow(problem, spec, start, {
      stepSize: noiseStepSize,
      iterations: k,
      noise: { kind: 'samples', batchSize: options.batchSize },
      key: keys.noise,
    });
    const tail = noisy.kl.subarray(k - Math.floor(k / 4));
    finalErrorUnderNoise = noisy.diverged ? Infinity : tail.reduce((a, b) => a + b, 0) / tail.length;
    predictedNoiseFloor = predictedStationaryKL(makeFlow(problem, spec), noiseStepSize, options.batchSize);
    const clean = iterateFlow(problem, spec, start, { stepSize: noiseStepSize, iterations: k });
    finalErrorNoiseFree = clean.diverged ? Infinity : clean.kl[k];
  }
  return {
    family: target.label,
    direction,
    method,
    c,
    measuredRate,
    predictedRate: paper[method],
    fisherCondition: paper.fisherCondition,
    conditionNumber: prediction.conditionNumber,
    predictedLargestStableStep: prediction.largestStableStep,
    foundLargestStableStep,
    noiseStepSize,
    finalErrorUnderNoise,
    predictedNoiseFloor,
    finalErrorNoiseFree,
  };
}

/**
 * Run the experiment: rows for every target × direction × (original, each c) × method. With the
 * defaults it takes well under 30 s on one core.
 */
export function runNaturalGradientExperiment(options: NaturalGradientExperimentOptions = {}): { rows: NaturalGradientRow[] } {
  const cValues = options.cValues ?? [0.1, 0.5, 1, 2, 10];
  for (const c of cValues) {
    if (!(c > 0 && Number.isFinite(c))) throw new ExponentialFamilyError(`natural-gradient experiment: c must be > 0, got ${c}`);
  }
  const directions = options.directions ?? ['forward', 'reverse'];
  const seed = options.seed ?? 0;
  const targets = options.targets ?? defaultExperimentTargets(seed);
  const settings = {
    batchSize: options.batchSize ?? 100,
    noiseIterations: options.noiseIterations ?? 200,
    skipSweep: options.skipSweep ?? false,
  };
  const root = key(seed);
  const rows: NaturalGradientRow[] = [];
  targets.forEach((target, ti) => {
    // The same start and noise keys across methods and c, so rows differ only by the method.
    const [start, sweep, noise, discreteStart] = [1, 2, 3, 4].map((j) => foldIn(foldIn(root, ti), j));
    for (const direction of directions) {
      for (const c of [null, ...cValues]) {
        for (const method of FLOW_METHODS) {
          rows.push(runRow(target, direction, c, method, { start, sweep, noise, discreteStart }, settings));
        }
      }
    }
  });
  return { rows };
}

function fmt(x: number | null, digits = 4): string {
  if (x === null) return '-';
  if (x === Infinity) return 'diverged';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
}

/** The rows as a fixed-width text table. */
export function printTable(rows: NaturalGradientRow[]): string {
  const header = ['family', 'KL', 'c', 'method', 'measured', 'predicted', 'cond(Q)', 'α_max pred', 'α_max found', 'α noise', 'KL noise', 'floor pred', 'KL clean'];
  const body = rows.map((r) => [
    r.family,
    r.direction,
    r.c === null ? 'orig' : String(r.c),
    r.method,
    fmt(r.measuredRate),
    fmt(r.predictedRate),
    fmt(r.conditionNumber, 2),
    fmt(r.predictedLargestStableStep),
    fmt(r.foundLargestStableStep),
    fmt(r.noiseStepSize),
    fmt(r.finalErrorUnderNoise),
    fmt(r.predictedNoiseFloor),
    fmt(r.finalErrorNoiseFree),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((row) => row[j].length)));
  const line = (cells: string[]): string => cells.map((cell, j) => (j < 4 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
