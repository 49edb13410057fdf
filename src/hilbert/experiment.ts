/**
 * The `hilbert-langevin` experiment (Suzuki 2020, NeurIPS): infinite-dimensional gradient Langevin
 * dynamics with the semi-implicit scheme against explicit SGLD and SGD on the same finite-width
 * network, on teacher–student tasks with known ground truth. Pure computation (no Node imports): the
 * CLI command and experiments/hilbert-langevin.ts print and plot what it returns.
 *
 * Settings shared by every run: the paper's β = n and λ = 1/n (so ν_β = N(0, diag μ) and the Gibbs
 * measure is a Bayes posterior), spectrum μ_m = 4 m^{-2}, clipped map with R = 3, and every chain starts
 * from the same draw of N(0, diag μ).
 */
import { foldIn, key as makeKey, split } from '../core/random.js';
import { Minibatcher } from '../data/minibatch.js';
import { explicitStepLimit } from './basis.js';
import { HilbertError, integerAtLeast } from './errors.js';
import { hilbertLangevin, type HilbertScheme } from './langevin.js';
import { twoLayerNetwork } from './network.js';
import { riskMetrics, teacherStudentTask, type RiskMetrics, type TaskKind, type TeacherStudentTask } from './teacher.js';

/** The methods compared. */
export type HilbertMethod = 'hilbert-langevin' | 'sgld' | 'sgld-stable' | 'sgd';

/** What each method is, for tables and docs. */
export const HILBERT_METHODS: Readonly<Record<HilbertMethod, string>> = {
  'hilbert-langevin': 'semi-implicit infinite-dimensional Langevin (Eq. 6), β = n, λ = 1/n, step η',
  sgld: 'explicit Euler–Maruyama (SGLD) with the same regulariser and the same step η',
  'sgld-stable': 'explicit SGLD at the largest stable step min(η, 0.9 · 2 min μ/λ), same number of steps',
  sgd: 'minibatch gradient descent (β = ∞, explicit, same regulariser) at the stable step of sgld-stable',
};

/** Options of {@link runHilbertExperiment}. */
export interface HilbertExperimentOptions {
  /** A small grid that runs in well under a minute. */
  quick?: boolean;
  /** Seed of the teacher, the data, the initial point and the noise (default 0). */
  seed?: number;
  /** Called after each run with the number of runs done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** One run's result: a row of the experiment's table. */
export interface HilbertExperimentRow {
  /** Which sweep the run belongs to. */
  sweep: 'width' | 'n';
  task: TaskKind;
  method: HilbertMethod;
  /** M. */
  width: number;
  n: number;
  /** η used. */
  stepSize: number;
  /** Steps taken (fewer than planned if the run diverged). */
  steps: number;
  batchSize: number;
  /** Averages over the evaluations in the second half of the run (estimates of E over the iterates). */
  trainLoss: number;
  testLoss: number;
  /** testLoss − trainLoss. */
  gap: number;
  excessRisk: number;
  /** Classification only: test misclassification rate. */
  testError?: number;
  /** Non-finite values or |W_k| > 1e6: the metrics are NaN. */
  diverged: boolean;
  /** The step at which divergence was detected. */
  divergedAtStep?: number;
  /** η max_k λ/μ_k: explicit Euler is stable only below 2. */
  stiffness: number;
  seconds: number;
}

/** The measurements of one run over time. */
export interface HilbertTrace {
  sweep: 'width' | 'n';
  task: TaskKind;
  method: HilbertMethod;
  width: number;
  n: number;
  points: { step: number; time: number; trainLoss: number; testLoss: number; gap: number; excessRisk: number }[];
}

/** A least-squares line through (log n, log excess risk). */
export interface SlopeFit {
  task: TaskKind;
  method: HilbertMethod;
  width: number;
  /** The fitted slope of log excess risk against log n. */
  slope: number;
  intercept: number;
  /**
   * The slope the paper's bound predicts in this setting (see docs/hilbert-langevin.md): −1/2 for
   * regression (Theorem 2); null for classification, where Theorem 3 bounds the 0–1 excess risk by an
   * optimisation term plus a term exponential in β = n, i.e. no polynomial slope.
   */
  predictedSlope: number | null;
}

/** What the experiment returns (the CLI's `--json` output). */
export interface HilbertExperimentResult {
  rows: HilbertExperimentRow[];
  traces: HilbertTrace[];
  fits: SlopeFit[];
  settings: Record<string, unknown>;
}

/** −(1 − s) with μ_k ∝ k^{-1/s}, s = 1/2: the exponent of the paper's Theorem 2 bound here [derived]. */
export const PREDICTED_SLOPE = -0.5;

const SPECTRUM_SCALE = 4;
const CLIP = 3;
const BASE_STEP = 0.5;
const EVALUATIONS = 20;
const DIVERGENCE_BOUND = 1e6;

/** One configuration of {@link runHilbertMethod}. */
export interface HilbertRunSpec {
  /** Which sweep the run is reported under (default 'width'). */
  sweep?: 'width' | 'n';
  task: TeacherStudentTask;
  method: HilbertMethod;
  /** M. */
  width: number;
  /** η (the stable methods use min(η, 0.9 · explicitStepLimit)). */
  stepSize: number;
  steps: number;
  batchSize: number;
}

function methodScheme(method: HilbertMethod): { scheme: HilbertScheme; noisy: boolean; stable: boolean } {
  switch (method) {
    case 'hilbert-langevin':
      return { scheme: 'semi-implicit', noisy: true, stable: false };
    case 'sgld':
      return { scheme: 'explicit', noisy: true, stable: false };
    case 'sgld-stable':
      return { scheme: 'explicit', noisy: true, stable: true };
    case 'sgd':
      return { scheme: 'explicit', noisy: false, stable: true };
  }
}

function largestMagnitudeOrNonFinite(v: Float64Array): number {
  let largest = 0;
  for (let k = 0; k < v.length; k++) {
    const a = Math.abs(v[k]);
    if (!(a <= largest)) largest = a; // NaN makes the comparison false and propagates
  }
  return largest;
}

/**
 * One chain of `spec.method` on the task's network (β = n, λ = 1/n, μ_m = 4m^{-2}, clip R = 3), from
 * a draw of N(0, diag μ) made from `seed` (the same for every method and, unit by unit, every width),
 * with minibatches without replacement; the full training loss, test loss and excess risk are evaluated
 * 21 times and the reported metrics average the evaluations in the second half of the run. A run stops
 * as diverged at the first non-finite risk or |W_k| > 1e6.
 */
export function runHilbertMethod(spec: HilbertRunSpec, seed = 0): { row: HilbertExperimentRow; trace: HilbertTrace } {
  const started = Date.now();
  const { task, method, width, batchSize } = spec;
  const n = task.train.rows;
  const loss = task.kind === 'regression' ? 'squared' : 'logistic';
  const network = twoLayerNetwork(task.train, { width, loss, clip: CLIP, spectrumScale: SPECTRUM_SCALE });
  const lambda = 1 / n;
  const { scheme, noisy, stable } = methodScheme(method);
  const stepSize = stable ? Math.min(spec.stepSize, 0.9 * explicitStepLimit(network.spectrum, lambda)) : spec.stepSize;
  const sampler = hilbertLangevin(network, { stepSize, beta: noisy ? n : Infinity, lambda, scheme });
  const [initKey, batchKey, noiseKey] = split(makeKey(seed), 3);
  let state = sampler.init(network.priorDraw(initKey), initKey);
  const batches = new Minibatcher(batchKey, n, batchSize);
  const every = Math.max(1, Math.floor(spec.steps / EVALUATIONS));
  const sweep = spec.sweep ?? 'width';
  const trace: HilbertTrace = { sweep, task: task.kind, method, width, n, points: [] };
  const tail: RiskMetrics[] = [];
  let stiffness = 0;
  let divergedAtStep: number | undefined;
  const evaluate = (step: number): void => {
    const metrics = riskMetrics(network, state.position, task);
    trace.points.push({ step, time: step * stepSize, ...metrics });
    if (step >= spec.steps / 2) tail.push(metrics);
  };
  evaluate(0);
  let step = 0;
  while (step < spec.steps) {
    const [next, info] = sampler.step(foldIn(noiseKey, step), state, batches.at(step));
    state = next;
    step++;
    stiffness = info.stiffness;
    if (!Number.isFinite(info.risk) || !(largestMagnitudeOrNonFinite(state.position) < DIVERGENCE_BOUND)) {
      divergedAtStep = step;
      break;
    }
    if (step % every === 0 || step === spec.steps) evaluate(step);
  }
  const diverged = divergedAtStep !== undefined;
  const mean = (field: keyof RiskMetrics): number =>
    diverged || tail.length === 0 ? Number.NaN : tail.reduce((s, m) => s + (m[field] ?? Number.NaN), 0) / tail.length;
  const row: HilbertExperimentRow = {
    sweep,
    task: task.kind,
    method,
    width,
    n,
    stepSize,
    steps: step,
    batchSize,
    trainLoss: mean('trainLoss'),
    testLoss: mean('testLoss'),
    gap: mean('gap'),
    excessRisk: mean('excessRisk'),
    diverged,
    stiffness,
    seconds: (Date.now() - started) / 1000,
  };
  if (task.kind === 'classification') row.testError = mean('testError');
  if (diverged) row.divergedAtStep = divergedAtStep;
  return { row, trace };
}

/**
 * The task restricted to its first n training rows (the same teacher and test set): tasks are nested in
 * n, so this equals the task generated with that n.
 */
export function firstRows(task: TeacherStudentTask, n: number): TeacherStudentTask {
  integerAtLeast('firstRows', 'n', n, 1);
  if (n > task.train.rows) throw new HilbertError(`firstRows: n = ${n} exceeds the task's ${task.train.rows} training rows`);
  return {
    ...task,
    train: {
      ...task.train,
      x: task.train.x.slice(0, n * task.inputDim),
      y: task.train.y.slice(0, n),
      rows: n,
      source: `teacher-student ${task.kind} train (n = ${n})`,
    },
    trainSignal: task.trainSignal.slice(0, n),
  };
}

/** Least-squares slope and intercept of log y on log x. */
export function logLogFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } {
  if (x.length !== y.length || x.length < 2) throw new HilbertError(`logLogFit: need two or more (x, y) pairs of equal count, got ${x.length} and ${y.length}`);
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/**
 * The sample-size sweep's minibatch and step: S = min(n, max(100, n/10)) and η = min(0.5, S/n), which
 * keeps the minibatch gradient noise (variance ∝ η/S per unit time) at most comparable to the injected
 * noise 2/β = 2/n, so the chain samples the Gibbs measure rather than an SGD-noise-inflated one.
 */
export function sampleSizeSchedule(n: number): { batchSize: number; stepSize: number } {
  const batchSize = Math.min(n, Math.max(100, Math.round(n / 10)));
  return { batchSize, stepSize: Math.min(BASE_STEP, batchSize / n) };
}

/**
 * Run the experiment. Width sweep (regression, n = 1000, S = 100, η = 0.5, 1000 steps): all four
 * methods at widths 50…5000. Sample-size sweep (regression and classification, width 200):
 * the semi-implicit dynamics at n = 100…10 000 for a time horizon Tη = 200 (so ≥ 400 steps), then a
 * log–log fit of excess risk on n. `quick` shrinks both grids.
 */
export function runHilbertExperiment(options: HilbertExperimentOptions = {}): HilbertExperimentResult {
  const seed = integerAtLeast('runHilbertExperiment', 'seed', options.seed ?? 0, 0);
  const quick = options.quick ?? false;
  const widths = quick ? [50, 250, 1000] : [50, 200, 1000, 5000];
  const widthSweepN = 1000;
  const widthSweepSteps = quick ? 400 : 1000;
  const ns = quick ? [100, 1000, 3000] : [100, 300, 1000, 3000, 10_000];
  const nsClassification = quick ? [100, 1000] : [100, 300, 1000, 3000];
  const sweepWidth = quick ? 100 : 200;
  const horizon = 200;
  const methods: HilbertMethod[] = ['hilbert-langevin', 'sgld', 'sgld-stable', 'sgd'];
  const taskKey = foldIn(makeKey(seed), 1);
  const nTest = quick ? 1000 : 2000;
  const regressionLarge = teacherStudentTask(taskKey, { kind: 'regression', n: Math.max(...ns, widthSweepN), nTest });
  const classificationLarge = teacherStudentTask(taskKey, { kind: 'classification', n: Math.max(...nsClassification), nTest });
  const subTask = firstRows;
  const specs: HilbertRunSpec[] = [];
  const widthTask = subTask(regressionLarge, widthSweepN);
  for (const width of widths) {
    for (const method of methods) {
      specs.push({ sweep: 'width', task: widthTask, method, width, stepSize: BASE_STEP, steps: widthSweepSteps, batchSize: 100 });
    }
  }
  for (const [large, sizes] of [
    [regressionLarge, ns],
    [classificationLarge, nsClassification],
  ] as const) {
    for (const n of sizes) {
      const { batchSize, stepSize } = sampleSizeSchedule(n);
      const steps = Math.ceil(horizon / stepSize);
      specs.push({ sweep: 'n', task: subTask(large, n), method: 'hilbert-langevin', width: sweepWidth, stepSize, steps, batchSize });
    }
  }

  const rows: HilbertExperimentRow[] = [];
  const traces: HilbertTrace[] = [];
  for (const [i, spec] of specs.entries()) {
    const { row, trace } = runHilbertMethod(spec, seed);
    rows.push(row);
    traces.push(trace);
    options.onProgress?.(i + 1, specs.length);
  }
  const fits: SlopeFit[] = [];
  for (const kind of ['regression', 'classification'] as const) {
    const sweep = rows.filter((r) => r.sweep === 'n' && r.task === kind && !r.diverged && r.excessRisk > 0);
    if (sweep.length < 2) continue;
    const { slope, intercept } = logLogFit(
      sweep.map((r) => r.n),
      sweep.map((r) => r.excessRisk),
    );
    fits.push({ task: kind, method: 'hilbert-langevin', width: sweepWidth, slope, intercept, predictedSlope: kind === 'regression' ? PREDICTED_SLOPE : null });
  }
  return {
    rows,
    traces,
    fits,
    settings: {
      seed,
      quick,
      beta: 'n',
      lambda: '1/n',
      spectrum: `mu_m = ${SPECTRUM_SCALE} m^-2 (neuron-indexed modes)`,
      clip: CLIP,
      activation: 'tanh',
      teacher: '3 tanh units, x ~ N(0, I_5); regression noise sd 1; classification margin 0.3',
      widthSweep: { n: widthSweepN, batchSize: 100, stepSize: BASE_STEP, steps: widthSweepSteps, widths },
      sampleSizeSweep: { width: sweepWidth, ns, nsClassification, horizon, rule: 'S = min(n, max(100, n/10)), eta = min(0.5, S/n)' },
      nTest,
      methods: HILBERT_METHODS,
    },
  };
}
