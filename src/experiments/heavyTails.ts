/**
 * The heavy-tails experiment (Dupuis & Viallard 2023, arXiv 2312.00427; protocol of Dupuis &
 * Şimşekli 2024, arXiv 2402.07723, as in the project's paper notes): a two-layer network trained by
 * α-stable Lévy-driven Langevin dynamics over a grid of α, step size γ and noise scale σ, several
 * seeds; per run the train/test accuracy and loss, their gaps, the estimated tail index of the
 * iterates and of the gradient noise, and the computable bound terms; over the grid, Kendall's τ
 * between α and the accuracy gap. Browser-safe: it takes datasets and reads no files.
 */
import type { Dataset, Vec } from '../core/types.js';
import { foldIn, key as keyFromSeed, uniform } from '../core/random.js';
import { selectRows } from '../data/preprocess.js';
import { trajectoryBoundTerms, type TrajectoryBoundTerms } from '../diagnostics/bound.js';
import { mlpClassifier, type MlpClassifierModel } from '../nn/mlp.js';
import { DivergenceError, runChains } from '../run/driver.js';
import { levyLangevin } from '../samplers/levy.js';
import { formatNumber, formatTable } from '../cli/format.js';

/** Thrown for bad experiment settings or data; the message names the setting and the value. */
export class HeavyTailsError extends RangeError {
  override name = 'HeavyTailsError';
}

/** The grid and the sizes of one heavy-tails experiment. */
export interface HeavyTailsSettings {
  /** Stability indices α ∈ (0, 2] of the driving noise. */
  alphas: number[];
  /** Step sizes γ. */
  stepSizes: number[];
  /** Noise scales σ. */
  sigmas: number[];
  /** Seeds per grid cell (seed s of the run uses root seed + s). */
  seeds: number;
  /** Hidden width of the two-layer network. */
  hidden: number;
  /** Steps per run. */
  steps: number;
  /** Minibatch size of the drift ∇F̂. */
  batchSize: number;
  /** ℓ2 weight decay η of V_S = F̂_S + (η/2)‖w‖². */
  weightDecay: number;
  /** Training rows drawn from the training pool (the rest are unused). */
  trainRows: number;
  /** Test rows drawn from the test pool. */
  testRows: number;
  /** Trajectory snapshots for the bound terms, evenly spaced over the run. */
  snapshots: number;
  /** Snapshots at the end of the run whose accuracies and losses are averaged (≤ snapshots). */
  evaluationSnapshots: number;
  /** Coordinates whose increments are recorded over the second half of the run, for α̂. */
  trackedCoordinates: number;
  /** Minibatch gradients drawn for the gradient-noise tail index at the final position. */
  noiseSamples: number;
}

/**
 * The settings of `--quick` (digits, small grid, < ~90 s on two loaded cores) and of the full run
 * (a 10% Fashion-MNIST subset: 6000 training rows, a larger grid and horizon).
 */
export function heavyTailsSettings(quick: boolean): HeavyTailsSettings {
  if (quick) {
    return {
      alphas: [1.2, 1.4, 1.6, 1.8, 2.0],
      stepSizes: [1, 3],
      sigmas: [0.01, 0.03],
      seeds: 2,
      hidden: 32,
      steps: 500,
      batchSize: 32,
      weightDecay: 1e-3,
      trainRows: 400,
      testRows: 600,
      snapshots: 5,
      evaluationSnapshots: 3,
      trackedCoordinates: 100,
      noiseSamples: 200,
    };
  }
  return {
    alphas: [1.2, 1.4, 1.6, 1.8, 2.0],
    stepSizes: [1, 3],
    sigmas: [0.01, 0.03],
    seeds: 2,
    hidden: 64,
    steps: 2000,
    batchSize: 64,
    weightDecay: 1e-3,
    trainRows: 6000,
    testRows: 2000,
    snapshots: 10,
    evaluationSnapshots: 4,
    trackedCoordinates: 200,
    noiseSamples: 400,
  };
}

/** One run of the grid. */
export interface HeavyTailsRow {
  alpha: number;
  stepSize: number;
  sigma: number;
  seed: number;
  /** Mean over the evaluation snapshots of the training accuracy. */
  trainAccuracy: number;
  testAccuracy: number;
  /** Mean cross-entropy per example (nats). */
  trainLoss: number;
  testLoss: number;
  /** trainAccuracy − testAccuracy: the accuracy generalisation gap. */
  generalizationGap: number;
  /** testLoss − trainLoss. */
  lossGap: number;
  /** Block-sum tail index of the iterates' increments over the second half (the bound's α̂). */
  alphaHat: number;
  /** Hill tail index of the same increments. */
  alphaHatHill: number;
  /** Block-sum tail index of the minibatch gradient noise at the final position (runChains' diagnostic). */
  alphaHatGradientNoise: number;
  /** The computable bound terms (see `trajectoryBoundTerms`); absent for a diverged run. */
  bound?: TrajectoryBoundTerms;
  /** Mean ‖σγ^{1/α}L‖ per step: how much noise the run injected. */
  meanNoiseNorm: number;
  /** Set when the run stopped on a non-finite position; its metrics are then NaN. */
  diverged: boolean;
  seconds: number;
}

/** What the experiment returns (`--json` prints it). */
export interface HeavyTailsResult {
  dataset: string;
  trainRows: number;
  testRows: number;
  parameters: number;
  rows: HeavyTailsRow[];
  /** Kendall's τ_b between α and the accuracy gap over every finished run. */
  kendallTau: number;
  /** Kendall's τ_b between α and the loss gap. */
  kendallTauLoss: number;
  /**
   * The granulated τ (Jiang et al. 2020, "Fantastic generalization measures"): τ_b between α and
   * the accuracy gap within each (γ, σ) cell, averaged over cells; it removes the effect of γ and σ.
   */
  kendallTauGranulated: number;
  /** Kendall's τ_b between the bound's drift mismatch and the accuracy and loss gaps: does the term track the gap? */
  kendallTauMismatch: { generalizationGap: number; lossGap: number };
  settings: HeavyTailsSettings;
  seconds: number;
}

/**
 * Kendall's rank correlation τ_b (Kendall 1945, "The treatment of ties in ranking problems"):
 *
 *   τ_b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)),
 *
 * n_c and n_d the concordant and discordant pairs, n₀ = n(n−1)/2, n₁ = Σ t_i(t_i−1)/2 over groups
 * of tied x values and n₂ likewise for y. O(n²). NaN when either variable is constant or n < 2.
 *
 * @throws HeavyTailsError if the lengths differ or a value is NaN.
 */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new HeavyTailsError(`kendallTauB: x has ${x.length} values but y has ${y.length}`);
  const n = x.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) throw new HeavyTailsError(`kendallTauB: value ${i} is NaN`);
  }
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiesX += 1;
      if (dy === 0) tiesY += 1;
      if (dx * dy > 0) concordant += 1;
      else if (dx * dy < 0) discordant += 1;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiesX) * (pairs - tiesY));
  return denominator > 0 ? (concordant - discordant) / denominator : Number.NaN;
}

function checkSettings(s: HeavyTailsSettings): void {
  const positiveInteger = (name: keyof HeavyTailsSettings, min = 1): void => {
    const v = s[name] as number;
    if (!Number.isSafeInteger(v) || v < min) throw new HeavyTailsError(`heavy-tails: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  (['seeds', 'hidden', 'steps', 'batchSize', 'trainRows', 'testRows', 'snapshots', 'evaluationSnapshots', 'trackedCoordinates'] as const).forEach((name) =>
    positiveInteger(name),
  );
  positiveInteger('noiseSamples', 4);
  if (s.evaluationSnapshots > s.snapshots) {
    throw new HeavyTailsError(`heavy-tails: evaluationSnapshots (${s.evaluationSnapshots}) must not exceed snapshots (${s.snapshots})`);
  }
  if (s.steps < 2 * s.snapshots || s.steps < 16) {
    throw new HeavyTailsError(`heavy-tails: steps (${s.steps}) must be ≥ 16 and ≥ 2 × snapshots (${s.snapshots})`);
  }
  const list = (name: 'alphas' | 'stepSizes' | 'sigmas', ok: (v: number) => boolean, what: string): void => {
    if (s[name].length === 0) throw new HeavyTailsError(`heavy-tails: ${name} is empty`);
    s[name].forEach((v, i) => {
      if (!ok(v)) throw new HeavyTailsError(`heavy-tails: ${name}[${i}] must be ${what}, got ${v}`);
    });
  };
  list('alphas', (v) => Number.isFinite(v) && v > 0 && v <= 2, 'in (0, 2]');
  list('stepSizes', (v) => Number.isFinite(v) && v > 0, 'a finite number > 0');
  list('sigmas', (v) => Number.isFinite(v) && v >= 0, 'a finite number ≥ 0');
  if (!(Number.isFinite(s.weightDecay) && s.weightDecay >= 0)) throw new HeavyTailsError(`heavy-tails: weightDecay must be ≥ 0, got ${s.weightDecay}`);
}

/** `count` distinct row indices of 0..n−1 in random order (partial Fisher–Yates from one key). */
function randomRows(seedKey: ReturnType<typeof keyFromSeed>, n: number, count: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const u = uniform(seedKey, count);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(u[i] * (n - i));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order.slice(0, count);
}

/** Accuracy and mean cross-entropy of a classifier on all rows of its data. */
function scoreOn(model: MlpClassifierModel, data: Dataset, theta: Vec): { accuracy: number; loss: number } {
  const probabilities = model.predictProba(theta, data.x, data.rows);
  const k = model.classes;
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < data.rows; i++) {
    const label = data.y[i];
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c] > probabilities[i * k + best]) best = c;
    if (best === label) correct += 1;
    // Floor at the smallest normal double so a confidently wrong net gives a large finite loss.
    loss -= Math.log(Math.max(probabilities[i * k + label], 2.2250738585072014e-308));
  }
  return { accuracy: correct / data.rows, loss: loss / data.rows };
}

/** Inputs of {@link runHeavyTails}. */
export interface HeavyTailsInput {
  /** A name for the report (e.g. 'digits'). */
  name: string;
  /** Pool of training rows; features should be on a unit scale, labels 0..K−1. */
  trainPool: Dataset;
  /** Pool of test rows; omit it to draw disjoint train and test rows from `trainPool`. */
  testPool?: Dataset;
  settings: HeavyTailsSettings;
  /** Root seed: data subsets, initialisations, minibatches and noise. */
  seed: number;
  /** Called after each run with (done, total). */
  onProgress?: (done: number, total: number, row: HeavyTailsRow) => void;
}

/**
 * The training and test subsets of the experiment, from the pools and the root seed: random rows of
 * each pool, or, without a test pool, disjoint random rows of the training pool.
 */
export function heavyTailsData(
  trainPool: Dataset,
  testPool: Dataset | undefined,
  settings: HeavyTailsSettings,
  seed: number,
): { train: Dataset; test: Dataset } {
  const root = keyFromSeed(seed);
  if (testPool === undefined) {
    const need = settings.trainRows + settings.testRows;
    if (need > trainPool.rows) {
      throw new HeavyTailsError(`heavy-tails: ${trainPool.source} has ${trainPool.rows} rows, fewer than trainRows + testRows = ${need}`);
    }
    const rows = randomRows(foldIn(root, 1), trainPool.rows, need);
    return { train: selectRows(trainPool, rows.subarray(0, settings.trainRows)), test: selectRows(trainPool, rows.subarray(settings.trainRows)) };
  }
  if (settings.trainRows > trainPool.rows) throw new HeavyTailsError(`heavy-tails: trainRows ${settings.trainRows} exceeds the ${trainPool.rows} rows of ${trainPool.source}`);
  if (settings.testRows > testPool.rows) throw new HeavyTailsError(`heavy-tails: testRows ${settings.testRows} exceeds the ${testPool.rows} rows of ${testPool.source}`);
  return {
    train: selectRows(trainPool, randomRows(foldIn(root, 1), trainPool.rows, settings.trainRows)),
    test: selectRows(testPool, randomRows(foldIn(root, 2), testPool.rows, settings.testRows)),
  };
}

/**
 * Run the grid. Each run trains a two-layer ReLU network (`mlpClassifier`, one hidden layer) from a
 * He initialisation by the Lévy–Langevin Euler scheme (Dupuis & Viallard 2023)
 *
 *   W_{k+1} = W_k − γ ∇V_S(W_k) + σ γ^{1/α} L_k,   V_S = F̂_S + (η/2)‖W‖²,
 *
 * with isotropic α-stable L_k and minibatch drift, through `runChains` (so the run's keys follow the
 * driver's scheme and its gradient-noise tail-index diagnostic is reused). The initialisation and
 * the minibatches depend on the seed only, so runs of one seed differ only in (α, γ, σ) and the
 * noise. Accuracy and loss are averaged over the last `evaluationSnapshots` snapshots, which damps
 * the effect of a single late jump; the bound terms use every snapshot.
 */
export function runHeavyTails(input: HeavyTailsInput): HeavyTailsResult {
  const started = Date.now();
  const { settings, seed } = input;
  checkSettings(settings);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new HeavyTailsError(`heavy-tails: seed must be a non-negative integer, got ${seed}`);
  const { train, test } = heavyTailsData(input.trainPool, input.testPool, settings, seed);
  let maxLabel = 0;
  for (const y of [...train.y, ...test.y]) maxLabel = Math.max(maxLabel, y);
  const classes = maxLabel + 1;
  const model = mlpClassifier(train, { hidden: settings.hidden, classes });
  const heldOut = mlpClassifier(test, { hidden: settings.hidden, classes });
  const { steps, snapshots } = settings;
  const snapshotEvery = Math.floor(steps / snapshots);
  const tracked = randomRows(foldIn(keyFromSeed(seed), 3), model.dim, Math.min(settings.trackedCoordinates, model.dim));
  const incrementsFrom = Math.floor(steps / 2);

  const grid: { alpha: number; stepSize: number; sigma: number; seed: number }[] = [];
  for (let s = 0; s < settings.seeds; s++) {
    for (const stepSize of settings.stepSizes) {
      for (const sigma of settings.sigmas) {
        for (const alpha of settings.alphas) grid.push({ alpha, stepSize, sigma, seed: seed + s });
      }
    }
  }
  const rows: HeavyTailsRow[] = [];
  for (const cell of grid) {
    const runStarted = Date.now();
    const positions: Vec[] = [];
    const increments = new Float64Array((steps - incrementsFrom) * tracked.length);
    const previous = new Float64Array(tracked.length);
    let noiseSum = 0;
    let diverged = false;
    let alphaHatGradientNoise = Number.NaN;
    try {
      const result = runChains({
        target: model,
        sampler: levyLangevin(model, { stepSize: cell.stepSize, alpha: cell.alpha, sigma: cell.sigma, weightDecay: settings.weightDecay }),
        initial: (_chain, initKey) => model.initialPosition(initKey),
        steps,
        batchSize: settings.batchSize,
        seed: cell.seed,
        moments: 'diagonal',
        tailIndex: { samples: settings.noiseSamples, batchSize: settings.batchSize },
        onDraw: (_chain, t, position, info) => {
          noiseSum += info.noiseNorm;
          if ((t + 1) % snapshotEvery === 0 && positions.length < snapshots) positions.push(Float64Array.from(position));
          // position is W_{t+1}; row t − incrementsFrom holds W_{t+1} − W_t for t ≥ incrementsFrom.
          if (t + 1 >= incrementsFrom) {
            const row = (t - incrementsFrom) * tracked.length;
            for (let c = 0; c < tracked.length; c++) {
              const value = position[tracked[c]];
              if (t >= incrementsFrom) increments[row + c] = value - previous[c];
              previous[c] = value;
            }
          }
        },
      });
      alphaHatGradientNoise = result.chains[0].tailIndex?.alpha ?? Number.NaN;
    } catch (error) {
      if (!(error instanceof DivergenceError)) throw error;
      diverged = true;
    }
    rows.push(diverged ? divergedRow(cell, Date.now() - runStarted) : finishedRow());
    input.onProgress?.(rows.length, grid.length, rows[rows.length - 1]);

    function finishedRow(): HeavyTailsRow {
      const evaluated = positions.slice(-settings.evaluationSnapshots);
      const trainScores = evaluated.map((theta) => scoreOn(model, train, theta));
      const testScores = evaluated.map((theta) => scoreOn(heldOut, test, theta));
      const avg = (list: { accuracy: number; loss: number }[], key: 'accuracy' | 'loss'): number =>
        list.reduce((sum, score) => sum + score[key], 0) / list.length;
      const bound = trajectoryBoundTerms({
        train: model,
        heldOut,
        positions,
        timeBetween: cell.stepSize * snapshotEvery,
        alpha: cell.alpha,
        increments: { values: increments, dim: tracked.length },
      });
      const trainAccuracy = avg(trainScores, 'accuracy');
      const testAccuracy = avg(testScores, 'accuracy');
      const trainLoss = avg(trainScores, 'loss');
      const testLoss = avg(testScores, 'loss');
      return {
        ...cell,
        trainAccuracy,
        testAccuracy,
        trainLoss,
        testLoss,
        generalizationGap: trainAccuracy - testAccuracy,
        lossGap: testLoss - trainLoss,
        alphaHat: bound.alphaHatIncrements ?? Number.NaN,
        alphaHatHill: bound.alphaHatIncrementsHill ?? Number.NaN,
        alphaHatGradientNoise,
        bound,
        meanNoiseNorm: noiseSum / steps,
        diverged: false,
        seconds: (Date.now() - runStarted) / 1000,
      };
    }
  }
  const finished = rows.filter((r) => !r.diverged);
  const mismatchOf = (r: HeavyTailsRow): number => r.bound?.driftMismatch ?? Number.NaN;
  const tau = (pick: (r: HeavyTailsRow) => number, list = finished, against: (r: HeavyTailsRow) => number = (r) => r.alpha): number =>
    list.length < 2 ? Number.NaN : kendallTauB(list.map(against), list.map(pick));
  const cellTaus: number[] = [];
  for (const stepSize of settings.stepSizes) {
    for (const sigma of settings.sigmas) {
      const value = tau((r) => r.generalizationGap, finished.filter((r) => r.stepSize === stepSize && r.sigma === sigma));
      if (Number.isFinite(value)) cellTaus.push(value);
    }
  }
  return {
    dataset: input.name,
    trainRows: train.rows,
    testRows: test.rows,
    parameters: model.dim,
    rows,
    kendallTau: tau((r) => r.generalizationGap),
    kendallTauLoss: tau((r) => r.lossGap),
    kendallTauGranulated: cellTaus.length ? cellTaus.reduce((a, b) => a + b, 0) / cellTaus.length : Number.NaN,
    kendallTauMismatch: {
      generalizationGap: tau((r) => r.generalizationGap, finished, mismatchOf),
      lossGap: tau((r) => r.lossGap, finished, mismatchOf),
    },
    settings,
    seconds: (Date.now() - started) / 1000,
  };
}

function divergedRow(cell: { alpha: number; stepSize: number; sigma: number; seed: number }, ms: number): HeavyTailsRow {
  const nan = Number.NaN;
  return {
    ...cell,
    trainAccuracy: nan,
    testAccuracy: nan,
    trainLoss: nan,
    testLoss: nan,
    generalizationGap: nan,
    lossGap: nan,
    alphaHat: nan,
    alphaHatHill: nan,
    alphaHatGradientNoise: nan,
    meanNoiseNorm: nan,
    diverged: true,
    seconds: ms / 1000,
  };
}

/** Per-α means over the grid's finished runs (the table the docs plot). */
export interface HeavyTailsAlphaSummary {
  alpha: number;
  runs: number;
  trainAccuracy: number;
  testAccuracy: number;
  generalizationGap: number;
  lossGap: number;
  alphaHat: number;
  driftMismatch: number;
}

/** Means over runs with the same α (diverged runs left out). */
export function summariseByAlpha(result: HeavyTailsResult): HeavyTailsAlphaSummary[] {
  return result.settings.alphas.map((alpha) => {
    const runs = result.rows.filter((r) => r.alpha === alpha && !r.diverged);
    const mean = (f: (r: HeavyTailsRow) => number): number => (runs.length ? runs.reduce((s, r) => s + f(r), 0) / runs.length : Number.NaN);
    return {
      alpha,
      runs: runs.length,
      trainAccuracy: mean((r) => r.trainAccuracy),
      testAccuracy: mean((r) => r.testAccuracy),
      generalizationGap: mean((r) => r.generalizationGap),
      lossGap: mean((r) => r.lossGap),
      alphaHat: mean((r) => r.alphaHat),
      driftMismatch: mean((r) => r.bound?.driftMismatch ?? Number.NaN),
    };
  });
}

/** The human-readable report: every run, the per-α means and the Kendall τ values. */
export function formatHeavyTails(result: HeavyTailsResult): string {
  const f = (v: number, d = 3): string => formatNumber(v, d);
  const headers = ['α', 'γ', 'σ', 'seed', 'train acc', 'test acc', 'acc gap', 'loss gap', 'α̂ iter', 'α̂ Hill', 'α̂ grad', 'mismatch', '∫mismatch', 'rate'];
  const cells = result.rows.map((r) =>
    r.diverged
      ? [String(r.alpha), String(r.stepSize), String(r.sigma), String(r.seed), 'diverged', '', '', '', '', '', '', '', '', '']
      : [
          String(r.alpha),
          String(r.stepSize),
          String(r.sigma),
          String(r.seed),
          f(r.trainAccuracy),
          f(r.testAccuracy),
          f(r.generalizationGap),
          f(r.lossGap),
          f(r.alphaHat),
          f(r.alphaHatHill),
          f(r.alphaHatGradientNoise),
          f(r.bound?.driftMismatch ?? Number.NaN),
          f(r.bound?.integratedMismatch ?? Number.NaN),
          f(r.bound?.fractalRate ?? Number.NaN),
        ],
  );
  const summary = summariseByAlpha(result).map((s) => [
    String(s.alpha),
    String(s.runs),
    f(s.trainAccuracy),
    f(s.testAccuracy),
    f(s.generalizationGap),
    f(s.lossGap),
    f(s.alphaHat),
    f(s.driftMismatch),
  ]);
  return [
    `Heavy-tailed Langevin on ${result.dataset}: ${result.trainRows} train / ${result.testRows} test rows, ` +
      `two-layer net with ${result.settings.hidden} hidden units (${result.parameters} parameters), ${result.settings.steps} steps, ` +
      `batch ${result.settings.batchSize}, weight decay ${result.settings.weightDecay}`,
    formatTable(headers, cells),
    '',
    'Means over γ, σ and seeds:',
    formatTable(['α', 'runs', 'train acc', 'test acc', 'acc gap', 'loss gap', 'α̂ iter', 'mismatch'], summary),
    '',
    `Kendall τ_b(α, accuracy gap) = ${f(result.kendallTau)}   (loss gap: ${f(result.kendallTauLoss)}; ` +
      `granulated over (γ, σ) cells: ${f(result.kendallTauGranulated)})`,
    `Kendall τ_b(drift mismatch, accuracy gap) = ${f(result.kendallTauMismatch.generalizationGap)}   ` +
      `(loss gap: ${f(result.kendallTauMismatch.lossGap)})`,
    `${result.seconds.toFixed(1)} s`,
  ].join('\n');
}
