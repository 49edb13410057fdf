/**
 * The chain driver: runs K independent chains of any sampler for T steps over minibatches, keeping
 * online moments of the draws after burn-in and thinning (so long runs need not store draws), and
 * stops with a `DivergenceError` at the first non-finite gradient or position.
 *
 * Randomness is a pure function of (seed, chain, step): chain c uses key c = foldIn(key(seed), c);
 * its step t draws the minibatch minibatchAt(foldIn(key c, 1), N, S, t) and the sampler's noise from
 * foldIn(foldIn(key c, 2), t). So a chain gives the same bits alone or among others, and any step can
 * be replayed without the steps before it.
 */
import type { IndexBatch, Sampler, StepInfo, Target, Vec } from '../core/types.js';
import type { Key } from '../core/random.js';
import { foldIn, key as keyFromSeed } from '../core/random.js';
import { firstNonFinite } from '../core/vec.js';
import { Minibatcher } from '../data/minibatch.js';
import { independentMinibatch } from '../noise/minibatch.js';
import { gradientNoiseTailIndex, type GradientNoiseTailIndex } from '../diagnostics/tailIndex.js';
import { OnlineMoments, type MomentsKind } from './moments.js';

/** Thrown when a chain's gradient or position becomes non-finite; names the chain and the step. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  /** 0-based chain index. */
  readonly chain: number;
  /** 0-based index of the step whose result was non-finite. */
  readonly step: number;
  /** What went non-finite. */
  readonly quantity: 'gradient' | 'position';
  /** Step size the failing step used (when the sampler reported one). */
  readonly stepSize: number;

  constructor(chain: number, step: number, quantity: 'gradient' | 'position', detail: string, stepSize: number) {
    super(
      `chain ${chain} diverged at step ${step}: ${detail} (step size ${stepSize}); ` +
        'try a smaller step size or a better initial position',
    );
    this.chain = chain;
    this.step = step;
    this.quantity = quantity;
    this.stepSize = stepSize;
  }
}

/** Thrown when the driver's options are invalid. */
export class DriverOptionError extends RangeError {
  override name = 'DriverOptionError';
}

/** Progress of a run, reported every so often and at the end of each chain. */
export interface RunProgress {
  /** 0-based chain index being run. */
  chain: number;
  /** Steps finished in this chain. */
  step: number;
  /** Steps finished over all chains. */
  done: number;
  /** Total steps over all chains (K × T). */
  total: number;
}

/** Options of `runChains`. */
export interface RunChainsOptions<State extends { position: Vec }, Info extends StepInfo> {
  /** The model conditioned on data. */
  target: Target<IndexBatch>;
  /** A sampler shared by all chains, or a factory giving each chain its own (e.g. its own buffers). */
  sampler: Sampler<State, Info, IndexBatch> | ((chain: number) => Sampler<State, Info, IndexBatch>);
  /** The initial position: one for all chains, one per chain, or a function of the chain and its key. */
  initial: Vec | readonly Vec[] | ((chain: number, key: Key) => Vec);
  /** K, the number of chains (default 1). */
  chains?: number;
  /** T, the number of steps per chain. */
  steps: number;
  /** Steps at the start of each chain left out of the moments and draws (default 0). */
  burnIn?: number;
  /** Keep every `thin`-th step after burn-in (default 1). */
  thin?: number;
  /** S, the minibatch size; S ≥ N uses the full batch every step. */
  batchSize: number;
  /**
   * How minibatches are drawn (default 'epochs'): 'epochs' shuffles the data once per epoch and walks
   * through it (each example once per epoch); 'independent' draws a fresh uniform S-subset every step
   * from foldIn(k_c, 1) and t, the scheme under which Mandt, Hoffman & Blei's (2017) OU analysis of
   * constant SGD holds — with epochs the minibatch noise sums to zero over each epoch and constant
   * SGD's stationary covariance falls below the predicted one.
   */
  batching?: Batching;
  /** Seed of the run's root key. */
  seed: number;
  /** Which second moments to keep (default 'full' up to dim 1000, else 'diagonal'). */
  moments?: MomentsKind;
  /** Keep the retained draws in memory and return them (default false). */
  keepDraws?: boolean;
  /** Called with each retained draw (after burn-in and thinning); `position` must not be mutated. */
  onDraw?: (chain: number, step: number, position: Vec, info: Info) => void;
  /** Called every so often with the progress of the run. */
  onProgress?: (progress: RunProgress) => void;
  /**
   * Estimate the tail index of each chain's minibatch gradient noise (`gradientNoiseTailIndex`,
   * Şimşekli et al. 2019) at its final position, and every `every` steps if given, so any sampler's
   * run shows whether its SGD noise is heavy-tailed. `batchSize` defaults to the run's batch size.
   */
  tailIndex?: TailIndexDiagnosticOptions;
}

/** Options of the driver's gradient-noise tail-index diagnostic. */
export interface TailIndexDiagnosticOptions {
  /** Number of minibatch gradients drawn per estimate (≥ 4; ~10⁴ gives α̂ to about ±0.05). */
  samples: number;
  /** Minibatch size of the noise draws, < N (default the run's `batchSize`). */
  batchSize?: number;
  /** Also estimate after every `every`-th step (default: at the final position only). */
  every?: number;
}

/** What one chain produced. */
export interface ChainSummary {
  /** 0-based chain index. */
  chain: number;
  /** Draws retained (after burn-in and thinning). */
  count: number;
  /** Mean of the retained draws. */
  mean: Float64Array;
  /** Sample covariance (d×d row-major) of the retained draws; undefined for 'diagonal' moments or < 2 draws. */
  cov?: Float64Array;
  /** Sample variances of the retained draws; undefined with < 2 draws. */
  variance?: Float64Array;
  /** Average over the post-burn-in steps of each numeric field of the sampler's info. */
  infoMean: Record<string, number>;
  /** The chain's final position. */
  finalPosition: Float64Array;
  /** The retained draws, row-major count × dim, when `keepDraws` is set. */
  draws?: Float64Array;
  /** The online accumulator, for merging with other runs. */
  moments: OnlineMoments;
  /** Tail index of the gradient noise at the final position, when the `tailIndex` option is set. */
  tailIndex?: GradientNoiseTailIndex;
  /** Estimates after every `tailIndex.every`-th step (`step` = steps done), when `every` is set. */
  tailIndexTrace?: { step: number; estimate: GradientNoiseTailIndex }[];
}

/** What `runChains` returns. */
export interface RunResult {
  chains: ChainSummary[];
  /** Moments of all chains' retained draws together (Chan et al. merge of the per-chain ones). */
  pooled: {
    count: number;
    mean: Float64Array;
    cov?: Float64Array;
    variance?: Float64Array;
    moments: OnlineMoments;
  };
  /** Dimension of the parameter vector. */
  dim: number;
  /** Wall-clock seconds of the run. */
  seconds: number;
}

function requireInteger(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new DriverOptionError(`runChains: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

type TailIndexSettings = { samples: number; batchSize: number; every?: number };

function resolveTailIndexOptions(
  options: TailIndexDiagnosticOptions | undefined,
  runBatchSize: number,
  dataSize: number,
): TailIndexSettings | undefined {
  if (!options) return undefined;
  const samples = requireInteger(options.samples, 'tailIndex.samples', 4);
  const batchSize = options.batchSize === undefined ? runBatchSize : requireInteger(options.batchSize, 'tailIndex.batchSize', 1);
  if (batchSize >= dataSize) {
    throw new DriverOptionError(
      `runChains: tailIndex.batchSize (${batchSize}) must be below the data size ${dataSize}, or the gradient noise is 0`,
    );
  }
  const every = options.every === undefined ? undefined : requireInteger(options.every, 'tailIndex.every', 1);
  return { samples, batchSize, every };
}

function initialPosition(
  initial: RunChainsOptions<{ position: Vec }, StepInfo>['initial'],
  chain: number,
  chainKey: Key,
  dim: number,
): Vec {
  let position: Vec;
  if (typeof initial === 'function') position = initial(chain, foldIn(chainKey, 0));
  else if (initial instanceof Float64Array) position = initial;
  else {
    if (initial.length <= chain) {
      throw new DriverOptionError(`runChains: initial has ${initial.length} positions but chain ${chain} needs one`);
    }
    position = initial[chain];
  }
  if (position.length !== dim) {
    throw new DriverOptionError(`runChains: initial position of chain ${chain} has length ${position.length}, target.dim is ${dim}`);
  }
  const bad = firstNonFinite(position);
  if (bad >= 0) {
    throw new DriverOptionError(`runChains: initial position of chain ${chain} has non-finite entry [${bad}] = ${position[bad]}`);
  }
  return position;
}

/** Running means of the numeric fields of step infos. */
class InfoAverager {
  private readonly sums = new Map<string, number>();
  private n = 0;

  push(info: object): void {
    this.n += 1;
    for (const [name, value] of Object.entries(info)) {
      if (typeof value === 'number') this.sums.set(name, (this.sums.get(name) ?? 0) + value);
    }
  }

  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, sum] of this.sums) out[name] = sum / this.n;
    return out;
  }
}

/** How minibatches are drawn: shuffled epochs, or a fresh uniform S-subset every step. */
export type Batching = 'epochs' | 'independent';

/**
 * The minibatch of each step t of a chain whose batch key is `batchKey`: the full batch when S ≥ N;
 * with 'epochs' minibatchAt(batchKey, N, S, t) (the epoch's permutation cached); with
 * 'independent' independentMinibatch(foldIn(batchKey, t), N, S). Shared by `runChains` and the
 * `sgbayes run` chains so both draw exactly the same batches.
 */
export function minibatchSource(target: Target<IndexBatch>, batchSize: number, batchKey: Key, batching: Batching = 'epochs'): (t: number) => IndexBatch {
  if (batching !== 'epochs' && batching !== 'independent') {
    throw new DriverOptionError(`batching must be 'epochs' or 'independent', got ${JSON.stringify(batching)}`);
  }
  const dataSize = target.dataSize;
  if (batchSize >= dataSize) {
    const full = target.fullBatch();
    return () => full;
  }
  if (batching === 'independent') return (t) => independentMinibatch(foldIn(batchKey, t), dataSize, batchSize);
  const epochs = new Minibatcher(batchKey, dataSize, batchSize);
  return (t) => epochs.at(t);
}

/**
 * Run K chains of a sampler for T steps each (sequentially, in this thread) and summarise them.
 *
 * Per chain c: chain key k_c = foldIn(key(seed), c); the state is sampler.init(θ_0, foldIn(k_c, 0));
 * step t uses the batch minibatchAt(foldIn(k_c, 1), N, S, t) and the key foldIn(foldIn(k_c, 2), t).
 * Steps t ≥ burnIn with (t − burnIn) mod thin = 0 are retained: pushed into per-chain Welford
 * moments, passed to `onDraw`, and stored when `keepDraws`. A non-finite gradient norm or position
 * stops the run with a `DivergenceError` naming the chain and step.
 */
export function runChains<State extends { position: Vec }, Info extends StepInfo>(
  options: RunChainsOptions<State, Info>,
): RunResult {
  const started = Date.now();
  const { target } = options;
  const dim = target.dim;
  const chains = requireInteger(options.chains ?? 1, 'chains', 1);
  const steps = requireInteger(options.steps, 'steps', 1);
  const burnIn = requireInteger(options.burnIn ?? 0, 'burnIn', 0);
  const thin = requireInteger(options.thin ?? 1, 'thin', 1);
  const batchSize = requireInteger(options.batchSize, 'batchSize', 1);
  requireInteger(options.seed, 'seed', 0);
  if (burnIn >= steps) {
    throw new DriverOptionError(`runChains: burnIn (${burnIn}) must be less than steps (${steps}) so some draws are kept`);
  }
  const momentsKind: MomentsKind = options.moments ?? (dim <= 1000 ? 'full' : 'diagonal');
  const dataSize = target.dataSize;
  const rootKey = keyFromSeed(options.seed);
  const retainedPerChain = Math.floor((steps - burnIn - 1) / thin) + 1;
  const total = chains * steps;
  const progressEvery = Math.max(1, Math.floor(steps / 200));
  const tailOptions = resolveTailIndexOptions(options.tailIndex, batchSize, dataSize);
  const batching = options.batching ?? 'epochs';
  if (batching !== 'epochs' && batching !== 'independent') {
    throw new DriverOptionError(`runChains: batching must be 'epochs' or 'independent', got ${JSON.stringify(batching)}`);
  }

  const summaries: ChainSummary[] = [];
  for (let chain = 0; chain < chains; chain++) {
    const chainKey = foldIn(rootKey, chain);
    // Same batches as minibatchAt(foldIn(k_c, 1), N, S, t), with the epoch's permutation cached.
    const batchAt = minibatchSource(target, batchSize, foldIn(chainKey, 1), batching);
    const stepKeyBase = foldIn(chainKey, 2);
    const sampler = typeof options.sampler === 'function' ? options.sampler(chain) : options.sampler;
    const theta0 = initialPosition(options.initial, chain, chainKey, dim);
    let state = sampler.init(theta0, foldIn(chainKey, 0));
    const moments = new OnlineMoments(dim, momentsKind);
    const infoAverager = new InfoAverager();
    const draws = options.keepDraws ? new Float64Array(retainedPerChain * dim) : undefined;
    let kept = 0;
    // Diagnostic keys live under tag 3 of the chain key, apart from init (0), batches (1) and steps (2).
    const tailKeyBase = foldIn(chainKey, 3);
    const tailIndexAt = (position: Vec, stepsDone: number, noise: TailIndexSettings): GradientNoiseTailIndex =>
      gradientNoiseTailIndex(target, position, foldIn(tailKeyBase, stepsDone), noise);
    const tailIndexTrace: { step: number; estimate: GradientNoiseTailIndex }[] | undefined = tailOptions?.every ? [] : undefined;

    for (let t = 0; t < steps; t++) {
      const batch = batchAt(t);
      const [next, info] = sampler.step(foldIn(stepKeyBase, t), state, batch);
      if (!Number.isFinite(info.gradNorm)) {
        throw new DivergenceError(chain, t, 'gradient', `gradient norm is ${info.gradNorm}`, info.stepSize);
      }
      const bad = firstNonFinite(next.position);
      if (bad >= 0) {
        throw new DivergenceError(chain, t, 'position', `position[${bad}] is ${next.position[bad]}`, info.stepSize);
      }
      state = next;
      if (t >= burnIn) {
        infoAverager.push(info);
        if ((t - burnIn) % thin === 0) {
          moments.push(state.position);
          if (draws) draws.set(state.position, kept * dim);
          kept += 1;
          options.onDraw?.(chain, t, state.position, info);
        }
      }
      if (tailIndexTrace && tailOptions?.every && (t + 1) % tailOptions.every === 0) {
        tailIndexTrace.push({ step: t + 1, estimate: tailIndexAt(state.position, t + 1, tailOptions) });
      }
      if (options.onProgress && ((t + 1) % progressEvery === 0 || t + 1 === steps)) {
        options.onProgress({ chain, step: t + 1, done: chain * steps + t + 1, total });
      }
    }
    const lastTraced = tailIndexTrace?.at(-1);
    const finalTailIndex =
      tailOptions && (lastTraced?.step === steps ? lastTraced.estimate : tailIndexAt(state.position, steps, tailOptions));
    summaries.push({
      chain,
      count: moments.count,
      mean: moments.mean(),
      cov: momentsKind === 'full' && moments.count > 1 ? moments.covariance() : undefined,
      variance: moments.count > 1 ? moments.variance() : undefined,
      infoMean: infoAverager.means(),
      finalPosition: Float64Array.from(state.position),
      draws,
      moments,
      tailIndex: finalTailIndex,
      tailIndexTrace,
    });
  }

  const pooledMoments = OnlineMoments.mergeAll(
    summaries.map((s) => s.moments),
    dim,
    momentsKind,
  );
  return {
    chains: summaries,
    pooled: {
      count: pooledMoments.count,
      mean: pooledMoments.mean(),
      cov: momentsKind === 'full' && pooledMoments.count > 1 ? pooledMoments.covariance() : undefined,
      variance: pooledMoments.count > 1 ? pooledMoments.variance() : undefined,
      moments: pooledMoments,
    },
    dim,
    seconds: (Date.now() - started) / 1000,
  };
}
