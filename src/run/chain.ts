/**
 * One chain of a run, written to files as it goes: the sampler's steps under the driver's key
 * scheme, kept draws appended to the chain's draw files, and an atomic checkpoint every
 * `checkpointEvery` steps from which a killed run resumes to the same bits.
 *
 * Randomness depends only on (seed, chain), as in `runChains`: chain key k_c = foldIn(key(seed), c);
 * initial position and sampler init from foldIn(k_c, 0); minibatch of step t from
 * minibatchAt(foldIn(k_c, 1), N, S, t); step noise from foldIn(foldIn(k_c, 2), t); NUTS/HMC
 * warm-up re-tuning from foldIn(foldIn(k_c, 3), t). So a chain gives the same draws on any worker,
 * alone or among others, in one go or resumed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexBatch, StepInfo, Target, Vec } from '../core/types.js';
import { foldIn, key as keyFromSeed, uniform, type Key } from '../core/random.js';
import { firstNonFinite } from '../core/vec.js';
import { getSampler } from '../samplers/registry.js';
import { nuts } from '../samplers/nuts.js';
import { hmc } from '../samplers/hmc.js';
import {
  dualAveragingFinal,
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  regularizedVariance,
  warmupSchedule,
  type DualAveragingState,
  type HamiltonianSampler,
} from '../samplers/adaptation.js';
import type { HamiltonianState } from '../samplers/integrators.js';
import { DivergenceError, minibatchSource } from './driver.js';
import { OnlineMoments, type MomentsSnapshot } from './moments.js';
import { HAMILTONIAN_SAMPLERS, type RunConfig } from './config.js';
import { chainFileNames, ChainDrawFiles, infoColumnNames, writeFileAtomic, type DrawFileLengths } from './files.js';
import { decodeState, encodeState } from './serialize.js';

/** A chain's transition as the run needs it: an initial state and step t of any sampler. */
export interface ChainKernel<S> {
  /** The state before step 0. */
  init(): S;
  /** Step t (0-based) from `state`; never mutates `state`. */
  step(t: number, state: S): readonly [S, StepInfo];
  /** The parameter vector of a state. */
  position(state: S): Vec;
}

/** The chain's key, k_c = foldIn(key(seed), c). */
export function chainKey(seed: number, chain: number): Key {
  return foldIn(keyFromSeed(seed), chain);
}

/** θ_0: the origin, or uniform in [−r, r] per coordinate from foldIn(k_c, 0) when initRadius r > 0. */
function initialPosition(config: RunConfig, key: Key, dim: number): Float64Array {
  if (config.initRadius === 0) return new Float64Array(dim);
  const u = uniform(foldIn(key, 0), dim);
  for (let i = 0; i < dim; i++) u[i] = config.initRadius * (2 * u[i] - 1);
  return u;
}

/** A registry sampler over minibatches, with exactly the keys and batches of `runChains`. */
function registryKernel(config: RunConfig, target: Target<IndexBatch>, chain: number): ChainKernel<{ position: Vec }> {
  const k = chainKey(config.seed, chain);
  const sampler = getSampler(config.sampler.type).create(target, {
    stepSize: config.sampler.stepSize as number,
    ...(config.sampler.temperature !== undefined ? { temperature: config.sampler.temperature } : {}),
  });
  const batchAt = minibatchSource(target, config.batchSize, foldIn(k, 1), config.batching);
  const stepKeys = foldIn(k, 2);
  return {
    init: () => sampler.init(initialPosition(config, k, target.dim), foldIn(k, 0)),
    step: (t, state) => sampler.step(foldIn(stepKeys, t), state, batchAt(t)),
    position: (state) => state.position,
  };
}

/** State of a NUTS/HMC chain: the sampler's state with the warm-up adaptation, all plain data. */
export interface HamiltonianChainState {
  readonly position: Vec;
  readonly sampler: HamiltonianState;
  readonly adaptation: DualAveragingState;
  /** Welford accumulator of the current metric window: count, mean, centred sum of squares. */
  readonly windowCount: number;
  readonly windowMean: Float64Array;
  readonly windowM2: Float64Array;
}

/**
 * NUTS or HMC with Stan's warm-up during burn-in (dual-averaging step size, Hoffman & Gelman 2014
 * Alg. 5; diagonal metric from windowed variances, re-tuned step size after each window), then the
 * adapted ε̄ and metric. Mirrors `runAdaptiveChains` but keeps the adaptation in the state, so it
 * is checkpointed and resumed with the chain.
 */
function hamiltonianKernel(config: RunConfig, target: Target<IndexBatch>, chain: number): ChainKernel<HamiltonianChainState> {
  const k = chainKey(config.seed, chain);
  const options = config.sampler;
  const common = { ...(options.stepSize !== undefined ? { stepSize: options.stepSize } : {}) };
  const sampler: HamiltonianSampler =
    options.type === 'nuts'
      ? nuts(target, { ...common, ...(options.maxTreeDepth !== undefined ? { maxTreeDepth: options.maxTreeDepth } : {}) })
      : hmc(target, {
          ...common,
          ...(options.numIntegrationSteps !== undefined ? { numIntegrationSteps: options.numIntegrationSteps } : {}),
          ...(options.pathLength !== undefined ? { pathLength: options.pathLength } : {}),
        });
  const dim = target.dim;
  const dualAveraging = { targetAcceptance: options.targetAcceptance ?? 0.8 };
  const schedule = options.adaptMetric === false ? { windows: [] } : warmupSchedule(config.burnIn);
  const windowEnds = new Int32Array(config.burnIn).fill(-1);
  for (const window of schedule.windows) windowEnds.fill(window.end, window.start, window.end + 1);
  const stepKeys = foldIn(k, 2);
  const tuneKeys = foldIn(k, 3);
  return {
    init: () => {
      const state = sampler.init(initialPosition(config, k, dim), foldIn(k, 0));
      return {
        position: state.position,
        sampler: state,
        adaptation: dualAveragingInit(state.stepSize),
        windowCount: 0,
        windowMean: new Float64Array(dim),
        windowM2: new Float64Array(dim),
      };
    },
    step: (t, state) => {
      const [next, info] = sampler.step(foldIn(stepKeys, t), state.sampler, null);
      if (t >= config.burnIn) return [{ ...state, position: next.position, sampler: next }, info];
      let adaptation = dualAveragingUpdate(state.adaptation, info.acceptProb, dualAveraging);
      let stepSize = Math.exp(adaptation.logStepSize);
      let inverseMetric = next.inverseMetric;
      let { windowCount, windowMean, windowM2 } = state;
      const windowEnd = windowEnds[t];
      if (windowEnd >= 0) {
        windowCount += 1;
        windowMean = windowMean.slice();
        windowM2 = windowM2.slice();
        for (let i = 0; i < dim; i++) {
          const delta = next.position[i] - windowMean[i];
          windowMean[i] += delta / windowCount;
          windowM2[i] += delta * (next.position[i] - windowMean[i]);
        }
        if (t === windowEnd) {
          const variance = windowM2.map((m) => (windowCount > 1 ? m / (windowCount - 1) : 0));
          inverseMetric = regularizedVariance(variance, windowCount);
          windowCount = 0;
          windowMean = new Float64Array(dim);
          windowM2 = new Float64Array(dim);
          stepSize = findReasonableStepSize(sampler.logDensity, next, inverseMetric, stepSize, foldIn(tuneKeys, t));
          adaptation = dualAveragingInit(stepSize);
        }
      }
      if (t === config.burnIn - 1) stepSize = dualAveragingFinal(adaptation);
      const tuned: HamiltonianState = { ...next, stepSize, inverseMetric };
      return [{ position: tuned.position, sampler: tuned, adaptation, windowCount, windowMean, windowM2 }, info];
    },
    position: (state) => state.position,
  };
}

/** The kernel of chain `chain` for the configured sampler. */
export function chainKernel(config: RunConfig, target: Target<IndexBatch>, chain: number): ChainKernel<{ position: Vec }> {
  if ((HAMILTONIAN_SAMPLERS as readonly string[]).includes(config.sampler.type)) {
    return hamiltonianKernel(config, target, chain);
  }
  return registryKernel(config, target, chain);
}

/** What a chain's checkpoint file holds (JSON; states encoded bit-exactly by `encodeState`). */
export interface ChainCheckpoint {
  format: 'sgbayes-chain-checkpoint';
  version: 1;
  /** SHA-256 of the run's canonical configuration: a checkpoint never resumes another run. */
  configDigest: string;
  chain: number;
  /** Steps done: the next step to run. */
  step: number;
  /** Whether the chain has finished all its steps. */
  done: boolean;
  /** The chain key k_c (derivable from seed and chain; kept so the file is self-describing). */
  chainKey: { hi: number; lo: number };
  /** Sampler state after `step` steps (encoded). */
  state: unknown;
  /** Online moments of the kept draws (encoded `MomentsSnapshot`). */
  moments: unknown;
  /** Sums of the numeric info fields over the post-burn-in steps, and how many steps. */
  infoSums: unknown;
  infoCount: number;
  /** Draws kept so far. */
  kept: number;
  /** Info columns of the draw files, once fixed. */
  infoColumns?: string[];
  /** Byte lengths of the draw files at this checkpoint. */
  files: DrawFileLengths;
}

/** A checkpoint that cannot be used: unreadable, of another run or format. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Read and check a chain's checkpoint; undefined if there is none. */
export function readCheckpoint(path: string, configDigest: string, chain: number): ChainCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: ChainCheckpoint;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as ChainCheckpoint;
  } catch (error) {
    throw new CheckpointError(`${path}: not a readable checkpoint (${(error as Error).message})`);
  }
  if (parsed?.format !== 'sgbayes-chain-checkpoint' || parsed.version !== 1) {
    throw new CheckpointError(`${path}: not an sgbayes chain checkpoint (format ${String(parsed?.format)}, version ${String(parsed?.version)})`);
  }
  if (parsed.configDigest !== configDigest) {
    throw new CheckpointError(`${path}: written by a run with a different configuration; resume with the same config or use a new --out`);
  }
  if (parsed.chain !== chain) throw new CheckpointError(`${path}: holds chain ${parsed.chain}, expected chain ${chain}`);
  return parsed;
}

/** Options of {@link runChainToFiles}. */
export interface ChainRunOptions {
  config: RunConfig;
  target: Target<IndexBatch>;
  parameterNames: readonly string[];
  chain: number;
  /** The run directory. */
  outDir: string;
  /** Continue from the chain's checkpoint, if it has one. */
  resume: boolean;
  /** Digest of the canonical configuration (see `configDigest`). */
  configDigest: string;
  /** Polled every step: when true, flush the draws and return with status 'stopped'. */
  shouldStop?: () => boolean;
  /** Called every so often with the number of steps done. */
  onProgress?: (stepsDone: number) => void;
}

/** What a chain produced. */
export interface ChainOutcome {
  chain: number;
  status: 'done' | 'stopped';
  /** Steps done. */
  steps: number;
  /** Draws kept. */
  draws: number;
  /** Average of each numeric info field over the post-burn-in steps. */
  infoMean: Record<string, number>;
  /** Online moments of the kept draws. */
  moments: MomentsSnapshot;
}

/**
 * Run (or resume) one chain to its files in `outDir`. Steps t ≥ burnIn with (t − burnIn) mod thin
 * = 0 are kept: appended to the draw files and pushed into Welford moments. After every
 * `checkpointEvery` steps and at the end, the draw files are flushed and fsynced, then the
 * checkpoint is replaced atomically, so the checkpoint never points past what is on disk.
 * @throws DivergenceError naming the chain and step at the first non-finite gradient norm or
 *   position; the draws before it are flushed to the files first.
 */
export function runChainToFiles(options: ChainRunOptions): ChainOutcome {
  const { config, target, chain, outDir } = options;
  const names = chainFileNames(chain);
  const checkpointPath = join(outDir, names.checkpoint);
  const kernel = chainKernel(config, target, chain);
  const checkpoint = options.resume ? readCheckpoint(checkpointPath, options.configDigest, chain) : undefined;

  let state: { position: Vec };
  let startStep = 0;
  let moments: OnlineMoments;
  let infoSums: Record<string, number> = {};
  let infoCount = 0;
  let kept = 0;
  const dim = target.dim;
  const momentsKind = dim <= 1000 ? 'full' : 'diagonal';
  const files = new ChainDrawFiles(outDir, chain, options.parameterNames, checkpoint?.files, checkpoint?.infoColumns);
  try {
    if (checkpoint) {
      state = decodeState(checkpoint.state, `${checkpointPath}: state`) as { position: Vec };
      moments = OnlineMoments.fromSnapshot(decodeState(checkpoint.moments, `${checkpointPath}: moments`) as MomentsSnapshot);
      infoSums = decodeState(checkpoint.infoSums, `${checkpointPath}: infoSums`) as Record<string, number>;
      infoCount = checkpoint.infoCount;
      kept = checkpoint.kept;
      startStep = checkpoint.step;
    } else {
      state = kernel.init();
      moments = new OnlineMoments(dim, momentsKind);
    }

    const k = chainKey(config.seed, chain);
    const writeCheckpoint = (stepsDone: number): void => {
      files.flush();
      const record: ChainCheckpoint = {
        format: 'sgbayes-chain-checkpoint',
        version: 1,
        configDigest: options.configDigest,
        chain,
        step: stepsDone,
        done: stepsDone === config.steps,
        chainKey: { hi: k.hi, lo: k.lo },
        state: encodeState(state, 'sampler state'),
        moments: encodeState(moments.snapshot(), 'moments'),
        infoSums: encodeState(infoSums, 'infoSums'),
        infoCount,
        kept,
        ...(files.infoNames ? { infoColumns: [...files.infoNames] } : {}),
        files: files.lengths(),
      };
      writeFileAtomic(checkpointPath, JSON.stringify(record));
    };

    const progressEvery = Math.max(1, Math.floor(config.steps / 200));
    let status: ChainOutcome['status'] = 'done';
    let t = startStep;
    for (; t < config.steps; t++) {
      if (options.shouldStop?.()) {
        files.flush();
        status = 'stopped';
        break;
      }
      const [next, info] = kernel.step(t, state);
      if (!Number.isFinite(info.gradNorm)) {
        files.flush();
        throw new DivergenceError(chain, t, 'gradient', `gradient norm is ${info.gradNorm}`, info.stepSize);
      }
      const position = kernel.position(next);
      const bad = firstNonFinite(position);
      if (bad >= 0) {
        files.flush();
        throw new DivergenceError(chain, t, 'position', `position[${bad}] is ${position[bad]}`, info.stepSize);
      }
      state = next;
      if (files.infoNames === undefined) files.setInfoColumns(infoColumnNames(info));
      if (t >= config.burnIn) {
        infoCount += 1;
        for (const [name, value] of Object.entries(info)) {
          if (typeof value === 'number') infoSums[name] = (infoSums[name] ?? 0) + value;
        }
        if ((t - config.burnIn) % config.thin === 0) {
          moments.push(position);
          files.append(t, position, info);
          kept += 1;
        }
      }
      if ((t + 1) % config.checkpointEvery === 0 || t + 1 === config.steps) writeCheckpoint(t + 1);
      if ((t + 1) % progressEvery === 0 || t + 1 === config.steps) options.onProgress?.(t + 1);
    }
    if (startStep === config.steps) options.onProgress?.(config.steps);
    const infoMean: Record<string, number> = {};
    for (const [name, sum] of Object.entries(infoSums)) infoMean[name] = sum / infoCount;
    return { chain, status, steps: t, draws: kept, infoMean, moments: moments.snapshot() };
  } finally {
    files.close();
  }
}
