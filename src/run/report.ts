/**
 * Node-only side of the reports: read a run directory written by `sgbayes run` (docs/runs.md),
 * compute what the page shows beyond the draws (a reference posterior, the gradient-noise
 * spectrum and tail index, predictive checks) and write the HTML files. Export it from
 * `sgbayes/node`, not from the browser-safe index.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { IndexBatch, Target, Vec } from '../core/types.js';
import { key } from '../core/random.js';
import { inverse, symmetricEigen } from '../core/linalg.js';
import { expectedCalibrationError, intervalCoverage, negativeLogLikelihood } from '../diagnostics/calibration.js';
import { summary as summarise, type ParameterSummary } from '../diagnostics/summary.js';
import { gradientNoiseTailIndex } from '../diagnostics/tailIndex.js';
import type { Dataset } from '../data/types.js';
import type { LinearRegressionModel } from '../models/linear.js';
import type { LogisticRegressionModel } from '../models/logistic.js';
import { exactNoiseCovariance } from '../noise/estimator.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { buildRunTarget, loadRunData } from './target.js';
import { experimentReportHtml, type ExperimentReport } from '../report/experiment.js';
import { runReportHtml, type PredictiveCheck, type ReferencePosterior, type RunReportData, type RunReportOptions } from '../report/run.js';

/** A run directory that cannot be read as one; the message names the file and what is wrong. */
export class RunDirectoryError extends Error {
  override name = 'RunDirectoryError';
}

/** The contents of a run directory. */
export interface RunDirectory {
  dir: string;
  config: RunConfig;
  parameterNames: string[];
  /** Per chain, draws × dim row-major. */
  chains: Float64Array[];
  /** Per chain, the step of each draw. */
  steps: Int32Array[];
  /** summary.json's parameters, or computed from the draws when the run has no summary yet. */
  summary: ParameterSummary[];
  chainInfo?: { chain: number; draws: number; infoMean: Record<string, number> }[];
  /** A reference posterior from `reference.json`, when the run directory has one. */
  reference?: ReferencePosterior;
  /** Whether summary.json was present (false: an unfinished run, read from per-chain files). */
  finished: boolean;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RunDirectoryError(`${path}: cannot read (${(error as Error).message})`);
  }
  try {
    // summary.json writes non-finite numbers as strings ("NaN", "Infinity").
    return JSON.parse(text, (_key, v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
  } catch (error) {
    throw new RunDirectoryError(`${path}: invalid JSON (${(error as Error).message})`);
  }
}

function numbersOf(table: Table, name: string, path: string): Float64Array {
  const column = table.getChild(name);
  if (!column) throw new RunDirectoryError(`${path}: no column '${name}' (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`);
  return Float64Array.from(column.toArray() as ArrayLike<number>);
}

/** Parse `reference.json`: { label, mean: number[d], cov: number[d·d], exact?: boolean }. */
function readReference(path: string, dim: number): ReferencePosterior {
  const value = readJson(path) as { label?: unknown; mean?: unknown; cov?: unknown; exact?: unknown };
  const numeric = (v: unknown, n: number, field: string): Float64Array => {
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new RunDirectoryError(`${path}: ${field} must be an array of ${n} finite numbers`);
    }
    return Float64Array.from(v as number[]);
  };
  return {
    label: typeof value.label === 'string' ? value.label : 'reference posterior',
    mean: numeric(value.mean, dim, 'mean'),
    cov: numeric(value.cov, dim * dim, 'cov (row-major d×d)'),
    exact: value.exact === true,
  };
}

/**
 * Read a run directory: config.json, then the draws from draws.arrow (a finished run) or from the
 * per-chain draws-chain<k>.arrows streams (a run still going or stopped), summary.json when
 * present (otherwise the summary is computed from the draws), and an optional reference.json.
 *
 * @throws RunDirectoryError naming the file when something is missing or malformed.
 */
export function readRunDirectory(dir: string): RunDirectory {
  const root = resolve(dir);
  const configPath = join(root, 'config.json');
  if (!existsSync(configPath)) throw new RunDirectoryError(`${root}: not a run directory (no config.json; make one with \`sgbayes run <config> --out ${dir}\`)`);
  let config: RunConfig;
  try {
    config = parseRunConfig(readJson(configPath), configPath, root);
  } catch (error) {
    throw new RunDirectoryError(`${configPath}: ${(error as Error).message}`);
  }
  const summaryPath = join(root, 'summary.json');
  const finished = existsSync(summaryPath);
  const summaryJson = finished ? (readJson(summaryPath) as { parameterNames?: string[]; parameters?: ParameterSummary[]; chainInfo?: RunDirectory['chainInfo'] }) : undefined;

  const chains: Float64Array[] = [];
  const steps: Int32Array[] = [];
  let parameterNames: string[] | undefined = summaryJson?.parameterNames;
  const namesFrom = (table: Table): string[] => table.schema.fields.map((f) => f.name).filter((n) => n !== 'chain' && n !== 'step' && !n.endsWith('__'));
  const pushChain = (table: Table, rows: number[] | null, path: string) => {
    const names = parameterNames as string[];
    const stepColumn = numbersOf(table, 'step', path);
    const columns = names.map((n) => numbersOf(table, n, path));
    const picked = rows ?? Array.from({ length: table.numRows }, (_, i) => i);
    const draws = new Float64Array(picked.length * names.length);
    picked.forEach((r, i) => columns.forEach((c, j) => (draws[i * names.length + j] = c[r])));
    chains.push(draws);
    steps.push(Int32Array.from(picked, (r) => stepColumn[r]));
  };
  const combined = join(root, 'draws.arrow');
  if (existsSync(combined)) {
    const table = tableFromIPC(readFileSync(combined));
    parameterNames ??= namesFrom(table);
    const chainColumn = numbersOf(table, 'chain', combined);
    for (let c = 0; c < config.chains; c++) {
      const rows: number[] = [];
      chainColumn.forEach((v, i) => v === c && rows.push(i));
      if (rows.length === 0) throw new RunDirectoryError(`${combined}: no draws of chain ${c}`);
      pushChain(table, rows, combined);
    }
  } else {
    for (let c = 0; c < config.chains; c++) {
      const path = join(root, `draws-chain${c}.arrows`);
      if (!existsSync(path)) throw new RunDirectoryError(`${root}: neither draws.arrow nor ${path} exists; has the run started?`);
      const table = tableFromIPC(readFileSync(path));
      parameterNames ??= namesFrom(table);
      if (table.numRows === 0) throw new RunDirectoryError(`${path}: no draws yet`);
      pushChain(table, null, path);
    }
    // Unfinished chains differ in length; the diagnostics need equal lengths, so keep the shortest.
    const shortest = Math.min(...steps.map((s) => s.length));
    const dim = (parameterNames as string[]).length;
    for (let c = 0; c < chains.length; c++) {
      chains[c] = chains[c].slice(0, shortest * dim);
      steps[c] = steps[c].slice(0, shortest);
    }
  }
  const names = parameterNames as string[];
  const referencePath = join(root, 'reference.json');
  return {
    dir: root,
    config,
    parameterNames: names,
    chains,
    steps,
    summary: summaryJson?.parameters ?? summarise(chains, { names }),
    chainInfo: summaryJson?.chainInfo,
    reference: existsSync(referencePath) ? readReference(referencePath, names.length) : undefined,
    finished,
  };
}

/** Options of {@link runDiagnostics} and {@link writeRunReport}. */
export interface RunDiagnosticsOptions {
  /** Compute the gradient-noise spectrum and tail index (default true; skipped above 400 parameters). */
  noise?: boolean;
  /** Minibatch gradients for the tail index (default 2000). */
  tailSamples?: number;
  /** Posterior draws used for predictive checks (default 200, strided over all chains). */
  predictiveDraws?: number;
}

type AnyModel = Target<IndexBatch> & Partial<Pick<LinearRegressionModel, 'exactPosterior' | 'predictMean' | 'noisePrecision'>> &
  Partial<Pick<LogisticRegressionModel, 'mode' | 'hessianLogPosterior'>> & { predictProba?: (theta: Vec, x: Float64Array) => Float64Array };

function pooledDraws(run: RunDirectory, max: number): Vec[] {
  const dim = run.parameterNames.length;
  const all: Vec[] = [];
  for (const chain of run.chains) for (let i = 0; i < chain.length / dim; i++) all.push(chain.subarray(i * dim, (i + 1) * dim));
  const stride = Math.max(1, Math.ceil(all.length / max));
  return all.filter((_, i) => i % stride === 0);
}

function laplace(model: AnyModel, dim: number): ReferencePosterior | undefined {
  if (!model.mode || !model.hessianLogPosterior || dim > 300) return undefined;
  const mode = model.mode().theta;
  const negativeHessian = model.hessianLogPosterior(mode).map((v) => -v);
  return { mean: mode, cov: inverse(negativeHessian, dim), label: 'Laplace approximation', exact: false };
}

function predictiveCheck(config: RunConfig, model: AnyModel, data: Dataset, draws: Vec[]): PredictiveCheck | undefined {
  const on = `on the ${data.rows} training rows (in-sample)`;
  if (config.model.type === 'linear-regression' && model.predictMean) {
    const tau = model.noisePrecision ?? config.model.noisePrecision ?? 1;
    const sums = new Float64Array(data.rows);
    const squares = new Float64Array(data.rows);
    for (const theta of draws) {
      const mu = model.predictMean(theta, data.x);
      for (let i = 0; i < data.rows; i++) {
        sums[i] += mu[i];
        squares[i] += mu[i] * mu[i];
      }
    }
    const n = draws.length;
    const mean = sums.map((s) => s / n);
    // Predictive variance = Var over draws of x̃ᵀw + 1/τ, the Gaussian moment match of the mixture.
    const sd = squares.map((s, i) => Math.sqrt(Math.max(s / n - mean[i] * mean[i], 0) + 1 / tau));
    return { kind: 'regression', coverage: intervalCoverage({ mean, sd }, data.y), on };
  }
  if (model.predictProba && (config.model.type === 'logistic-regression' || config.model.type === 'softmax-regression')) {
    let average: Float64Array | undefined;
    for (const theta of draws) {
      const p = model.predictProba(theta, data.x);
      average ??= new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) average[i] += p[i] / draws.length;
    }
    const probs = average as Float64Array;
    const classes = probs.length / data.rows;
    const perRow = classes === 1 ? probs : Array.from({ length: data.rows }, (_, i) => probs.subarray(i * classes, (i + 1) * classes));
    const calibration = expectedCalibrationError(perRow, data.y, 10);
    let correct = 0;
    for (let i = 0; i < data.rows; i++) {
      let predicted: number;
      if (classes === 1) predicted = probs[i] >= 0.5 ? 1 : 0;
      else {
        predicted = 0;
        for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + predicted]) predicted = k;
      }
      if (predicted === data.y[i]) correct += 1;
    }
    return { kind: 'classification', calibration, accuracy: correct / data.rows, negativeLogLikelihood: negativeLogLikelihood(perRow, data.y), on };
  }
  return undefined;
}

/**
 * What the report shows beyond the draws, computed from the run's model rebuilt from config.json:
 * the reference posterior (reference.json if present; else the exact posterior of a linear
 * regression, Bishop Eqs. 3.53–3.54, or the Laplace approximation N(θ*, (−∇² log p(θ*|y))⁻¹) of a
 * logistic/softmax regression), the eigenvalues of the exact gradient-noise covariance C (Mandt et
 * al. 2017, Eq. 6) at the posterior mean with the tail index of the minibatch noise there
 * (Şimşekli et al. 2019), and posterior predictive calibration or interval coverage on the data.
 */
export function runDiagnostics(run: RunDirectory, options: RunDiagnosticsOptions = {}): Pick<RunReportData, 'reference' | 'noise' | 'predictive' | 'notes'> {
  const notes: string[] = [];
  const dim = run.parameterNames.length;
  let data: Dataset;
  let model: AnyModel;
  try {
    data = loadRunData(run.config.model);
    model = buildRunTarget(run.config.model, data).target as AnyModel;
  } catch (error) {
    notes.push(`The model could not be rebuilt from config.json (${(error as Error).message}); no reference, noise or predictive checks.`);
    return { reference: run.reference, notes };
  }
  if (model.dim !== dim) {
    notes.push(`The rebuilt model has ${model.dim} parameters but the draws have ${dim}; no reference, noise or predictive checks.`);
    return { reference: run.reference, notes };
  }
  let reference = run.reference;
  if (!reference && model.exactPosterior && run.config.model.type === 'linear-regression') {
    const exact = model.exactPosterior();
    reference = { mean: exact.mean, cov: exact.cov, label: 'exact posterior', exact: true };
  }
  if (!reference) reference = laplace(model, dim);
  const pooled = pooledDraws(run, Number.POSITIVE_INFINITY);
  const posteriorMean = new Float64Array(dim);
  for (const theta of pooled) for (let j = 0; j < dim; j++) posteriorMean[j] += theta[j] / pooled.length;
  let noise: RunReportData['noise'];
  if ((options.noise ?? true) && dim <= 400) {
    const C = exactNoiseCovariance(model, posteriorMean);
    const full = C.full as Float64Array;
    const eigenvalues = symmetricEigen(full, dim).values;
    const batchSize = Math.min(run.config.batchSize, model.dataSize - 1);
    let tailIndex;
    if (batchSize >= 1 && model.dataSize > 2) {
      tailIndex = gradientNoiseTailIndex(model, posteriorMean, key(run.config.seed), { batchSize, samples: options.tailSamples ?? 2000 });
    }
    noise = { eigenvalues, at: 'the posterior mean of the draws', tailIndex };
  } else if (options.noise ?? true) {
    notes.push(`Gradient-noise spectrum skipped: ${dim} parameters (the limit is 400).`);
  }
  const predictive = predictiveCheck(run.config, model, data, pooledDraws(run, options.predictiveDraws ?? 200));
  return { reference, noise, predictive, notes };
}

/** Options of {@link writeRunReport}. */
export interface WriteRunReportOptions extends RunReportOptions, RunDiagnosticsOptions {
  /** The output file (default `<run-dir>/report.html`). */
  out?: string;
}

/** Read a run directory, compute its diagnostics and write its HTML report; returns the file written. */
export async function writeRunReport(dir: string, options: WriteRunReportOptions = {}): Promise<string> {
  const run = readRunDirectory(dir);
  const extra = runDiagnostics(run, options);
  const c = run.config;
  const drawsPerChain = run.chains[0].length / run.parameterNames.length;
  const data: RunReportData = {
    title: `sgbayes run: ${c.model.type} with ${c.sampler.type}`,
    meta: [
      `${run.dir}${run.finished ? '' : ' (unfinished: read from the per-chain draw files)'}`,
      `data ${c.model.data}, target ${c.model.target}, prior precision ${c.model.priorPrecision}`,
      `sampler ${JSON.stringify(c.sampler)}; ${c.chains} chains × ${c.steps} steps, burn-in ${c.burnIn}, thin ${c.thin}, batch ${c.batchSize}, seed ${c.seed}; ${drawsPerChain} draws per chain`,
    ],
    parameterNames: run.parameterNames,
    chains: run.chains,
    steps: run.steps,
    summary: run.summary,
    chainInfo: run.chainInfo,
    ...extra,
  };
  const out = resolve(options.out ?? join(run.dir, 'report.html'));
  writeFileSync(out, await runReportHtml(data, options));
  return out;
}

/**
 * Write an experiment's report (its table and figures) to `file` as one self-contained HTML page,
 * for the `--report <file>` option of the `experiment` commands; returns the absolute path.
 *
 * @example
 * await writeExperimentReport('ou.html', { title: 'OU prediction', rows, figures: [{ spec: lineSpec({ title: 'KL', data: rows, x: 'S', y: 'kl' }) }] });
 */
export async function writeExperimentReport(file: string, report: ExperimentReport): Promise<string> {
  const out = resolve(file);
  writeFileSync(out, await experimentReportHtml(report));
  return out;
}
