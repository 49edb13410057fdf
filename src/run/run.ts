/**
 * `sgbayes run` as a library call: run every chain of a configuration into a directory, on worker
 * threads, with checkpoints, then write `draws.arrow` and `summary.json`. See docs/runs.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { Dataset } from '../data/types.js';
import { summary, type ParameterSummary } from '../diagnostics/summary.js';
import { canonicalConfig, type RunConfig } from './config.js';
import { runChainToFiles, type ChainOutcome } from './chain.js';
import { DivergenceError } from './driver.js';
import { chainFileNames, INFO_SUFFIX, writeFileAtomic } from './files.js';
import type { ErrorRecord, FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { buildRunTarget, loadRunData } from './target.js';

/** A run that cannot start in its directory (another run there, a changed configuration). */
export class RunSetupError extends Error {
  override name = 'RunSetupError';
}

/** A chain failed with an error other than a divergence; the message names the chain. */
export class ChainError extends Error {
  override name = 'ChainError';
  /** 0-based chain index. */
  readonly chain: number;
  /** The error the chain threw. */
  readonly record: ErrorRecord;

  constructor(chain: number, record: ErrorRecord) {
    super(`chain ${chain}: ${record.name}: ${record.message}`);
    this.chain = chain;
    this.record = record;
  }
}

/** Options of {@link runToDirectory}. */
export interface RunDirectoryOptions {
  config: RunConfig;
  /** The run directory (created if needed). */
  outDir: string;
  /** Continue a run in `outDir` from its checkpoints (default false: `outDir` must hold no run). */
  resume?: boolean;
  /** Worker threads (default: config.workers, else one per core, at most one per chain). */
  workers?: number;
  /** Run the chains in this thread instead of workers (same draws; for tests and debugging). */
  inProcess?: boolean;
  /** Called every so often with a chain's steps done. */
  onProgress?: (chain: number, steps: number) => void;
  /** Aborting stops every chain at its next step, flushing its draws; the run then throws `RunStoppedError`. */
  signal?: AbortSignal;
}

/** The run was stopped through its abort signal; what was written stays, and `resume` continues it. */
export class RunStoppedError extends Error {
  override name = 'RunStoppedError';
}

/** Per-chain part of a run's summary. */
export interface ChainReport {
  chain: number;
  draws: number;
  /** Average of each numeric sampler info field over the post-burn-in steps. */
  infoMean: Record<string, number>;
}

/** What a finished run reports; `summary.json` holds all of it but `seconds` and `workers`. */
export interface RunReport {
  format: 'sgbayes-run-summary';
  version: 1;
  model: { type: string; data: string; target: string };
  sampler: RunConfig['sampler'];
  steps: number;
  burnIn: number;
  thin: number;
  chains: number;
  seed: number;
  batchSize: number;
  drawsPerChain: number;
  parameterNames: string[];
  /** Per parameter: mean, sd, quantiles, R̂, bulk and tail ESS, MCSE (Vehtari et al. 2021). */
  parameters: ParameterSummary[];
  chainInfo: ChainReport[];
  /** Wall-clock seconds of this invocation (not in summary.json, which depends only on the config). */
  seconds: number;
  /** Worker threads used (0: in-process). */
  workers: number;
}

/** SHA-256 of the canonical configuration; checkpoints carry it so that they never resume another run. */
export function configDigest(config: RunConfig): string {
  return createHash('sha256').update(JSON.stringify(canonicalConfig(config))).digest('hex');
}

/** The first field where two JSON values differ, as a path (e.g. `sampler.stepSize`). */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : path || '(top level)';
}

const RUN_FILE = /^(config\.json|summary\.json|draws\.arrow|draws-chain\d+\.(csv|arrows)|checkpoint-chain\d+\.json)$/;

/** Create or check the run directory and write its config.json. */
function prepareDirectory(config: RunConfig, outDir: string, resume: boolean): void {
  mkdirSync(outDir, { recursive: true });
  const configPath = join(outDir, 'config.json');
  const canonical = canonicalConfig(config);
  const existing = readdirSync(outDir).filter((name) => RUN_FILE.test(name));
  if (existing.length > 0 && !resume) {
    throw new RunSetupError(`${outDir} already holds a run (${existing.slice(0, 3).join(', ')}…); pass --resume to continue it, or choose another --out`);
  }
  // A run killed between writing a checkpoint's temporary and renaming it leaves `.name.tmp-<pid>`;
  // the checkpoint it was replacing is intact, so the temporary is garbage.
  for (const name of readdirSync(outDir)) {
    const target = /^\.(.+)\.tmp-\d+$/.exec(name)?.[1];
    if (target !== undefined && RUN_FILE.test(target)) rmSync(join(outDir, name), { force: true });
  }
  if (existsSync(configPath)) {
    const stored = JSON.parse(readFileSync(configPath, 'utf8')) as unknown;
    const difference = firstDifference(stored, canonical);
    if (difference) {
      throw new RunSetupError(`cannot resume ${outDir}: the configuration differs from its config.json at ${difference}; use the same config or another --out`);
    }
    return;
  }
  writeFileAtomic(configPath, `${JSON.stringify(canonical, null, 2)}\n`);
}

/** Rebuild the error a worker reported. */
function errorFrom(chain: number, record: ErrorRecord): Error {
  if (record.name === 'DivergenceError' && record.step !== undefined) {
    const error = new DivergenceError(record.chain ?? chain, record.step, record.quantity ?? 'position', '', record.stepSize ?? Number.NaN);
    error.message = record.message;
    return error;
  }
  return new ChainError(chain, record);
}

/** URL of tsx's ESM loader API, to start TypeScript workers when this module runs from source. */
function tsxLoaderUrl(): string {
  const resolveMeta = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  try {
    if (resolveMeta) return resolveMeta('tsx/esm/api');
  } catch {
    // Fall through to require resolution.
  }
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
}

/**
 * A worker running ./worker.js next to this module; from source (a .ts module under tsx or vitest)
 * it runs ./worker.ts after registering tsx's loader in the worker (Node 20 does not apply
 * `--import tsx` from execArgv before loading a worker's .ts entry).
 */
function startWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: init });
  const entry = new URL('./worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsxLoaderUrl())}).then((api) => { (api.register ?? api.default.register)(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: init });
}

/** Run `chains` on a pool of workers, handing each the next chain as it finishes one. */
function runInWorkers(
  init: WorkerInit,
  chains: readonly number[],
  workerCount: number,
  onProgress?: (chain: number, steps: number) => void,
): Promise<ChainOutcome[]> {
  return new Promise((resolve, reject) => {
    const queue = [...chains];
    const outcomes: ChainOutcome[] = [];
    const stop = new Int32Array(init.stop);
    let failure: Error | undefined;
    let alive = workerCount;
    const fail = (error: Error): void => {
      failure ??= error;
      Atomics.store(stop, 0, 1);
      queue.length = 0;
    };
    const handOut = (worker: Worker): void => {
      const chain = queue.shift();
      const message: ToWorker = chain === undefined ? { type: 'exit' } : { type: 'chain', chain };
      worker.postMessage(message);
    };
    for (let w = 0; w < workerCount; w++) {
      const worker = startWorker(init);
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'progress') onProgress?.(message.chain, message.steps);
        else if (message.type === 'outcome') {
          outcomes.push(message.outcome);
          // A stop request ends the run after the chains in flight.
          if (Atomics.load(stop, 0) !== 0) queue.length = 0;
        }
        else if (message.type === 'error') fail(errorFrom(message.chain, message.error));
        if (message.type !== 'progress') handOut(worker);
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) fail(new RunSetupError(`a run worker exited with code ${code}`));
        alive -= 1;
        if (alive > 0) return;
        if (failure) reject(failure);
        else if (outcomes.length !== chains.length && Atomics.load(stop, 0) === 0) {
          reject(new RunSetupError(`workers finished ${outcomes.length} of ${chains.length} chains`));
        } else resolve(outcomes);
      });
    }
  });
}

/** One chain's draws read back from its Arrow stream file. */
interface ChainTable {
  steps: Int32Array;
  /** Row-major draws × dim. */
  draws: Float64Array;
  info: Record<string, Float64Array>;
}

function readChainTable(outDir: string, chain: number, parameterNames: readonly string[]): ChainTable {
  const table = tableFromIPC(readFileSync(join(outDir, chainFileNames(chain).arrow)));
  const rows = table.numRows;
  const dim = parameterNames.length;
  const draws = new Float64Array(rows * dim);
  parameterNames.forEach((name, j) => {
    const column = table.getChild(name)?.toArray() as Float64Array;
    for (let s = 0; s < rows; s++) draws[s * dim + j] = column[s];
  });
  const info: Record<string, Float64Array> = {};
  for (const field of table.schema.fields) {
    if (field.name.endsWith(INFO_SUFFIX)) info[field.name] = Float64Array.from(table.getChild(field.name)?.toArray() as Float64Array);
  }
  return { steps: Int32Array.from(table.getChild('step')?.toArray() as Int32Array), draws, info };
}

/** JSON with non-finite numbers as strings ("NaN") instead of JSON's silent null. */
function jsonText(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

/** Write draws.arrow (all chains, with a `chain` column, Arrow IPC file format) and summary.json. */
function finalize(config: RunConfig, outDir: string, parameterNames: string[], outcomes: ChainOutcome[]): Omit<RunReport, 'seconds' | 'workers'> {
  const tables = Array.from({ length: config.chains }, (_, c) => readChainTable(outDir, c, parameterNames));
  const perChain = tables[0].steps.length;
  tables.forEach((t, c) => {
    if (t.steps.length !== perChain) {
      throw new RunSetupError(`${join(outDir, chainFileNames(c).arrow)}: has ${t.steps.length} draws, chain 0 has ${perChain}`);
    }
  });
  const total = perChain * config.chains;
  const dim = parameterNames.length;
  const columns: Record<string, Int32Array | Float64Array> = {
    chain: Int32Array.from({ length: total }, (_, i) => Math.floor(i / perChain)),
    step: new Int32Array(total),
  };
  for (const name of parameterNames) columns[name] = new Float64Array(total);
  for (const name of Object.keys(tables[0].info)) columns[name] = new Float64Array(total);
  tables.forEach((t, c) => {
    (columns.step as Int32Array).set(t.steps, c * perChain);
    parameterNames.forEach((name, j) => {
      const column = columns[name];
      for (let s = 0; s < perChain; s++) column[c * perChain + s] = t.draws[s * dim + j];
    });
    for (const [name, values] of Object.entries(t.info)) columns[name]?.set(values, c * perChain);
  });
  writeFileAtomic(join(outDir, 'draws.arrow'), tableToIPC(tableFromArrays(columns), 'file'));

  const byChain = [...outcomes].sort((a, b) => a.chain - b.chain);
  const report: Omit<RunReport, 'seconds' | 'workers'> = {
    format: 'sgbayes-run-summary',
    version: 1,
    model: { type: config.model.type, data: config.model.data, target: config.model.target },
    sampler: config.sampler,
    steps: config.steps,
    burnIn: config.burnIn,
    thin: config.thin,
    chains: config.chains,
    seed: config.seed,
    batchSize: config.batchSize,
    drawsPerChain: perChain,
    parameterNames,
    parameters: summary(tables.map((t) => t.draws), { names: parameterNames }),
    chainInfo: byChain.map((o) => ({ chain: o.chain, draws: o.draws, infoMean: o.infoMean })),
  };
  writeFileAtomic(join(outDir, 'summary.json'), jsonText(report));
  return report;
}

/**
 * Run every chain of `config` into `outDir`: per chain `draws-chain<k>.csv`, `draws-chain<k>.arrows`
 * and `checkpoint-chain<k>.json` as it goes, then `draws.arrow` and `summary.json`. Chains run on
 * worker threads; each chain's draws depend only on (seed, chain), so the files are the same for
 * any number of workers, and a killed run continued with `resume` ends with the same bytes.
 *
 * @throws DataError / ModelError for bad data; RunSetupError if `outDir` holds another run;
 *   DivergenceError naming the chain and step when a chain diverges (other chains stop at their
 *   next step; every draw and checkpoint written stays); ChainError for other failures.
 */
export async function runToDirectory(options: RunDirectoryOptions): Promise<RunReport> {
  const started = Date.now();
  const { config, outDir } = options;
  const resume = options.resume ?? false;
  const dataset: Dataset = loadRunData(config.model);
  const built = buildRunTarget(config.model, dataset);
  const digest = configDigest(config);
  prepareDirectory(config, outDir, resume);
  const chains = Array.from({ length: config.chains }, (_, c) => c);
  let outcomes: ChainOutcome[];
  let workers = 0;
  if (options.inProcess) {
    outcomes = [];
    for (const chain of chains) {
      outcomes.push(
        runChainToFiles({
          config,
          target: built.target,
          parameterNames: built.parameterNames,
          chain,
          outDir,
          resume,
          configDigest: digest,
          shouldStop: () => options.signal?.aborted === true,
          onProgress: options.onProgress ? (steps) => options.onProgress?.(chain, steps) : undefined,
        }),
      );
      if (options.signal?.aborted) break;
    }
  } else {
    workers = Math.max(1, Math.min(config.chains, options.workers ?? config.workers ?? availableParallelism()));
    const init: WorkerInit = { config, dataset, outDir, resume, configDigest: digest, stop: new SharedArrayBuffer(4) };
    const stopWorkers = (): void => {
      Atomics.store(new Int32Array(init.stop), 0, 1);
    };
    options.signal?.addEventListener('abort', stopWorkers);
    try {
      outcomes = await runInWorkers(init, options.signal?.aborted ? [] : chains, workers, options.onProgress);
    } finally {
      options.signal?.removeEventListener('abort', stopWorkers);
    }
  }
  const stopped = outcomes.filter((o) => o.status === 'stopped');
  if (options.signal?.aborted || stopped.length > 0 || outcomes.length < config.chains) {
    const at = stopped.map((o) => `chain ${o.chain} at step ${o.steps}`).join(', ');
    throw new RunStoppedError(`run in ${outDir} stopped${at ? ` (${at})` : ''}; continue it with --resume`);
  }
  const report = finalize(config, outDir, built.parameterNames, outcomes);
  return { ...report, seconds: (Date.now() - started) / 1000, workers };
}
