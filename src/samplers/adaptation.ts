/**
 * Warm-up adaptation for full-batch Hamiltonian samplers, as in Stan: dual-averaging step-size
 * adaptation (Hoffman & Gelman 2014, Alg. 5), a diagonal metric estimated in doubling windows
 * (Stan reference manual, "HMC algorithm parameters: adaptation"), Stan's initial step-size
 * heuristic, and a driver that runs warm-up then sampling for several chains.
 */
import { foldIn, key as keyFromSeed, normal, uniform, type Key } from '../core/random.js';
import type { Sampler, Vec } from '../core/types.js';
import {
  HamiltonianInputError,
  checkInverseMetric,
  hamiltonian,
  leapfrogInPlace,
  type HamiltonianInfo,
  type HamiltonianState,
  type LogDensityFn,
  type PhasePoint,
} from './integrators.js';

/** Parameters of dual-averaging step-size adaptation (Hoffman & Gelman 2014, Alg. 5 defaults). */
export interface DualAveragingOptions {
  /** δ, the target acceptance statistic (0.8). */
  targetAcceptance?: number;
  /** γ, the regularisation scale (0.05). */
  gamma?: number;
  /** t₀, iterations offset that damps early updates (10). */
  t0?: number;
  /** κ, the decay exponent of the iterate averaging weight (0.75). */
  kappa?: number;
}

/** Dual-averaging state: all data, updated by {@link dualAveragingUpdate}. */
export interface DualAveragingState {
  /** m, the number of updates since the last restart. */
  readonly count: number;
  /** H̄_m, the running average of δ − α. */
  readonly errorAverage: number;
  /** μ = log(10 ε₀), the point the log step size is shrunk towards. */
  readonly mu: number;
  /** log ε_m, the step size to use next. */
  readonly logStepSize: number;
  /** log ε̄_m, the averaged log step size used after warm-up. */
  readonly logStepSizeAverage: number;
}

function dualAveragingParameters(options: DualAveragingOptions = {}): Required<DualAveragingOptions> {
  const p = { targetAcceptance: 0.8, gamma: 0.05, t0: 10, kappa: 0.75, ...options };
  if (!(p.targetAcceptance > 0 && p.targetAcceptance < 1)) {
    throw new HamiltonianInputError(`dual averaging: targetAcceptance must be in (0, 1), got ${p.targetAcceptance}`);
  }
  if (!(p.gamma > 0) || !(p.t0 >= 0) || !(p.kappa > 0.5 && p.kappa <= 1)) {
    throw new HamiltonianInputError(
      `dual averaging: need gamma > 0, t0 ≥ 0, kappa in (0.5, 1]; got gamma=${p.gamma}, t0=${p.t0}, kappa=${p.kappa}`,
    );
  }
  return p;
}

/** Start (or restart) dual averaging from step size ε₀, with μ = log(10 ε₀) (Hoffman & Gelman 2014, §3.2.1). */
export function dualAveragingInit(initialStepSize: number): DualAveragingState {
  if (!(initialStepSize > 0) || !Number.isFinite(initialStepSize)) {
    throw new HamiltonianInputError(`dualAveragingInit: step size must be finite and positive, got ${initialStepSize}`);
  }
  const logStepSize = Math.log(initialStepSize);
  return { count: 0, errorAverage: 0, mu: Math.log(10) + logStepSize, logStepSize, logStepSizeAverage: 0 };
}

/**
 * One dual-averaging update with acceptance statistic α (clipped to 1), Hoffman & Gelman 2014 Alg. 5:
 *
 *   H̄_m = (1 − 1/(m + t₀)) H̄_{m−1} + (δ − α)/(m + t₀)
 *   log ε_m = μ − (√m / γ) H̄_m
 *   log ε̄_m = m^{−κ} log ε_m + (1 − m^{−κ}) log ε̄_{m−1}
 */
export function dualAveragingUpdate(
  state: Readonly<DualAveragingState>,
  acceptProb: number,
  options?: DualAveragingOptions,
): DualAveragingState {
  const { targetAcceptance, gamma, t0, kappa } = dualAveragingParameters(options);
  const alpha = Number.isFinite(acceptProb) ? Math.min(1, Math.max(0, acceptProb)) : 0;
  const count = state.count + 1;
  const eta = 1 / (count + t0);
  const errorAverage = (1 - eta) * state.errorAverage + eta * (targetAcceptance - alpha);
  const logStepSize = state.mu - (Math.sqrt(count) / gamma) * errorAverage;
  const weight = Math.pow(count, -kappa);
  const logStepSizeAverage = weight * logStepSize + (1 - weight) * state.logStepSizeAverage;
  return { count, errorAverage, mu: state.mu, logStepSize, logStepSizeAverage };
}

/** The adapted step size after warm-up: ε̄ = exp(log ε̄_m) (the current ε if no update happened). */
export function dualAveragingFinal(state: Readonly<DualAveragingState>): number {
  return Math.exp(state.count > 0 ? state.logStepSizeAverage : state.logStepSize);
}

/** Welford's running mean and variance of vectors (per coordinate). Mutable accumulator. */
export class WelfordVariance {
  private n = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }

  /** Number of vectors added since the last reset. */
  get count(): number {
    return this.n;
  }

  add(x: Vec): void {
    this.n += 1;
    for (let i = 0; i < this.dim; i++) {
      const delta = x[i] - this.mean[i];
      this.mean[i] += delta / this.n;
      this.m2[i] += delta * (x[i] - this.mean[i]);
    }
  }

  /** Unbiased sample variance per coordinate (divisor n − 1). */
  variance(out: Float64Array = new Float64Array(this.dim)): Float64Array {
    for (let i = 0; i < this.dim; i++) out[i] = this.n > 1 ? this.m2[i] / (this.n - 1) : 0;
    return out;
  }

  reset(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }
}

/**
 * Stan's regularised diagonal metric from a window of n draws with sample variances s²:
 * M⁻¹_ii = (n/(n + 5)) s²_i + 10⁻³ · 5/(n + 5).
 */
export function regularizedVariance(variance: Float64Array, n: number): Float64Array {
  const out = new Float64Array(variance.length);
  const shrink = n / (n + 5);
  const floor = 1e-3 * (5 / (n + 5));
  for (let i = 0; i < variance.length; i++) out[i] = shrink * variance[i] + floor;
  return out;
}

/** Window sizes of Stan's warm-up (defaults 75 / 25 / 50). */
export interface WarmupWindowOptions {
  initBuffer?: number;
  baseWindow?: number;
  termBuffer?: number;
}

/** Warm-up plan: metric-estimation windows as inclusive iteration ranges (0-based). */
export interface WarmupSchedule {
  readonly numWarmup: number;
  readonly initBuffer: number;
  readonly termBuffer: number;
  /** Slow windows [start, end]; after each, the metric is updated and step-size adaptation restarts. */
  readonly windows: ReadonlyArray<{ readonly start: number; readonly end: number }>;
}

/**
 * Stan's windowed warm-up plan. A fast initial buffer (75 iterations) adapts only the step size;
 * then slow windows of 25, 50, 100, … iterations each estimate the metric, the last one stretched to
 * the terminal buffer when the next doubling would not fit; a final fast buffer (50) adapts the step
 * size to the last metric. If the three do not fit, they become 15% / 75% / 10% of warm-up; below
 * 20 warm-up iterations the metric is not adapted (Stan `windowed_adaptation`).
 */
export function warmupSchedule(numWarmup: number, options: WarmupWindowOptions = {}): WarmupSchedule {
  if (!Number.isInteger(numWarmup) || numWarmup < 0) {
    throw new HamiltonianInputError(`warmupSchedule: numWarmup must be a non-negative integer, got ${numWarmup}`);
  }
  let initBuffer = options.initBuffer ?? 75;
  let termBuffer = options.termBuffer ?? 50;
  let baseWindow = options.baseWindow ?? 25;
  for (const [name, value] of [['initBuffer', initBuffer], ['termBuffer', termBuffer], ['baseWindow', baseWindow]] as const) {
    if (!Number.isInteger(value) || value < 0 || (name === 'baseWindow' && value < 1)) {
      throw new HamiltonianInputError(`warmupSchedule: ${name} must be a non-negative integer (baseWindow ≥ 1), got ${value}`);
    }
  }
  if (numWarmup < 20) return { numWarmup, initBuffer: numWarmup, termBuffer: 0, windows: [] };
  if (initBuffer + baseWindow + termBuffer > numWarmup) {
    initBuffer = Math.floor(0.15 * numWarmup);
    termBuffer = Math.floor(0.1 * numWarmup);
    baseWindow = numWarmup - (initBuffer + termBuffer);
  }
  const lastEnd = numWarmup - termBuffer - 1;
  const windows: { start: number; end: number }[] = [];
  let windowSize = baseWindow;
  let start = initBuffer;
  let end = Math.min(initBuffer + windowSize - 1, lastEnd);
  if (start > lastEnd) return { numWarmup, initBuffer, termBuffer, windows };
  while (true) {
    windows.push({ start, end });
    if (end >= lastEnd) break;
    windowSize *= 2;
    start = end + 1;
    let next = end + windowSize;
    // Stretch this window to the terminal buffer when the following one would not fit.
    if (next !== lastEnd && next + 2 * windowSize >= numWarmup - termBuffer) next = lastEnd;
    end = next;
  }
  return { numWarmup, initBuffer, termBuffer, windows };
}

/** Fresh momentum p ~ N(0, M) for M⁻¹ = diag(inverseMetric): p_i = z_i / √(M⁻¹_ii). */
export function sampleMomentum(k: Key, inverseMetric: Vec): Float64Array {
  const p = normal(k, inverseMetric.length);
  for (let i = 0; i < p.length; i++) p[i] /= Math.sqrt(inverseMetric[i]);
  return p;
}

/**
 * Stan's initial step-size heuristic (Hoffman & Gelman 2014, Alg. 4, as in Stan `init_stepsize`):
 * from ε, take one leapfrog step with fresh momentum; if the acceptance exp(H₀ − H) exceeds 0.8,
 * double ε until it falls below, otherwise halve it until it rises above.
 */
export function findReasonableStepSize(
  logDensity: LogDensityFn,
  state: Pick<HamiltonianState, 'position' | 'logDensity' | 'grad'>,
  inverseMetric: Vec,
  initialStepSize: number,
  k: Key,
): number {
  let stepSize = initialStepSize;
  if (!(stepSize > 0) || !Number.isFinite(stepSize) || stepSize > 1e7) return stepSize;
  const logTarget = Math.log(0.8);
  let direction = 0;
  for (let attempt = 0; ; attempt++) {
    const point: PhasePoint = {
      position: Float64Array.from(state.position),
      momentum: sampleMomentum(foldIn(k, attempt), inverseMetric),
      logDensity: state.logDensity,
      grad: Float64Array.from(state.grad),
    };
    const h0 = hamiltonian(point, inverseMetric);
    leapfrogInPlace(logDensity, point, stepSize, inverseMetric);
    const deltaH = h0 - hamiltonian(point, inverseMetric);
    if (direction === 0) direction = deltaH > logTarget ? 1 : -1;
    else if (direction === 1 && !(deltaH > logTarget)) break;
    else if (direction === -1 && !(deltaH < logTarget)) break;
    stepSize = direction === 1 ? 2 * stepSize : 0.5 * stepSize;
    if (stepSize > 1e7) {
      throw new HamiltonianInputError(
        'findReasonableStepSize: step size grew past 1e7; the posterior is probably improper (flat in some direction)',
      );
    }
    if (stepSize === 0) {
      throw new HamiltonianInputError(
        'findReasonableStepSize: step size underflowed to 0; the log density or its gradient is probably wrong',
      );
    }
  }
  return stepSize;
}

/** Options of the multi-chain warm-up + sampling driver. */
export interface AdaptiveRunOptions extends DualAveragingOptions, WarmupWindowOptions {
  /** Number of chains (4). */
  chains?: number;
  /** Warm-up iterations per chain (1000). */
  warmup?: number;
  /** Kept draws per chain (1000). */
  draws?: number;
  /** Seed of the run; chain c uses foldIn(key(seed), c) (0). */
  seed?: number;
  /** Initial position for all chains, or one per chain; default uniform(−initRadius, initRadius) per coordinate. */
  initial?: Vec | readonly Vec[];
  /** Half-width of Stan's random initialisation (2). */
  initRadius?: number;
  /** Adapt the diagonal metric in warm-up (true). */
  adaptMetric?: boolean;
  /** Called after every iteration (warm-up iterations are negative: −warmup … −1). */
  onIteration?: (chain: number, iteration: number, info: HamiltonianInfo) => void;
}

/** Per-chain sampler diagnostics of the kept draws. */
export interface ChainDiagnostics {
  acceptProb: Float64Array;
  treeDepth: Int32Array;
  numGradEvals: Int32Array;
  diverging: Uint8Array;
  energy: Float64Array;
  logDensity: Float64Array;
}

/** Result of a multi-chain run: draws, diagnostics and the adapted tuning of each chain. */
export interface HamiltonianRun {
  readonly dim: number;
  readonly numDraws: number;
  readonly numWarmup: number;
  /** Per chain: the kept draws, row-major draws × dim. */
  readonly draws: Float64Array[];
  /** Per chain: diagnostics of the kept draws. */
  readonly info: ChainDiagnostics[];
  /** Per chain: divergent transitions during warm-up. */
  readonly warmupDivergences: number[];
  /** Per chain: the adapted step size. */
  readonly stepSize: number[];
  /** Per chain: the adapted diagonal inverse metric. */
  readonly inverseMetric: Float64Array[];
}

/** A full-batch Hamiltonian sampler, with what the warm-up driver needs to re-tune it. */
export interface HamiltonianSampler extends Sampler<HamiltonianState, HamiltonianInfo, unknown> {
  readonly dim: number;
  /** The log density the sampler targets (full-batch log posterior for a Target). */
  readonly logDensity: LogDensityFn;
}

/** Tuning shared by HMC and NUTS. */
export interface HamiltonianOptions {
  /** Initial step size ε; default: {@link findReasonableStepSize} from 1 at `init`. */
  stepSize?: number;
  /** Initial diagonal inverse metric M⁻¹; default the identity. */
  inverseMetric?: Vec;
  /** Energy error H − H₀ above which a transition is divergent (1000, as Stan). */
  maxEnergyError?: number;
}

/**
 * The initial state of a Hamiltonian sampler at `position`: evaluates the log density and gradient,
 * takes ε from the options or from {@link findReasonableStepSize} (with `k`), M⁻¹ from the options
 * or the identity.
 */
export function initialHamiltonianState(
  logDensity: LogDensityFn,
  dim: number,
  position: Vec,
  k: Key,
  options: HamiltonianOptions,
  where: string,
): HamiltonianState {
  if (!(position instanceof Float64Array) || position.length !== dim) {
    throw new HamiltonianInputError(`${where}.init: position must be a Float64Array of length ${dim}`);
  }
  const own = Float64Array.from(position);
  const evaluated = logDensity(own);
  const inverseMetric = options.inverseMetric ? Float64Array.from(options.inverseMetric) : new Float64Array(dim).fill(1);
  checkInverseMetric(inverseMetric, dim, `${where} options`);
  const state = { position: own, logDensity: evaluated.value, grad: Float64Array.from(evaluated.grad) };
  let stepSize = options.stepSize;
  if (stepSize === undefined) {
    // A non-finite start cannot be tuned; the caller decides whether to retry elsewhere.
    stepSize = Number.isFinite(state.logDensity) ? findReasonableStepSize(logDensity, state, inverseMetric, 1, k) : 1;
  } else if (!(stepSize > 0) || !Number.isFinite(stepSize)) {
    throw new HamiltonianInputError(`${where} options: stepSize must be finite and positive, got ${stepSize}`);
  }
  return { ...state, stepSize, inverseMetric };
}

function countArg(value: number | undefined, fallback: number, name: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) {
    throw new HamiltonianInputError(`sampling options: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return v;
}

function initialPosition(options: AdaptiveRunOptions, dim: number, chain: number, k: Key, attempt: number): Vec {
  const given = options.initial;
  if (given !== undefined) {
    const position = given instanceof Float64Array ? given : (given as readonly Vec[])[chain];
    if (!(position instanceof Float64Array) || position.length !== dim) {
      throw new HamiltonianInputError(
        `sampling options: initial${given instanceof Float64Array ? '' : `[${chain}]`} must be a Float64Array of length ${dim}`,
      );
    }
    return Float64Array.from(position);
  }
  const radius = options.initRadius ?? 2;
  const u = uniform(foldIn(k, attempt), dim);
  for (let i = 0; i < dim; i++) u[i] = radius * (2 * u[i] - 1);
  return u;
}

/**
 * Run `chains` independent chains of a Hamiltonian sampler: Stan's windowed warm-up (step size by
 * dual averaging throughout, diagonal metric in the slow windows, step size re-initialised by
 * {@link findReasonableStepSize} and dual averaging restarted after each metric update), then
 * `draws` kept iterations at the final ε̄ and metric.
 */
export function runAdaptiveChains(sampler: HamiltonianSampler, options: AdaptiveRunOptions = {}): HamiltonianRun {
  const { dim, logDensity } = sampler;
  const numChains = countArg(options.chains, 4, 'chains', 1);
  const numWarmup = countArg(options.warmup, 1000, 'warmup', 0);
  const numDraws = countArg(options.draws, 1000, 'draws', 0);
  const seed = options.seed ?? 0;
  if (options.initial !== undefined && !(options.initial instanceof Float64Array) && options.initial.length !== numChains) {
    throw new HamiltonianInputError(
      `sampling options: initial has ${options.initial.length} positions for ${numChains} chains`,
    );
  }
  dualAveragingParameters(options);
  const schedule = options.adaptMetric === false ? { windows: [] } : warmupSchedule(numWarmup, options);
  const windowOf = new Int32Array(numWarmup).fill(-1);
  schedule.windows.forEach((w, index) => windowOf.fill(index, w.start, w.end + 1));
  const runKey = keyFromSeed(seed);
  const run: HamiltonianRun = {
    dim,
    numDraws,
    numWarmup,
    draws: [],
    info: [],
    warmupDivergences: [],
    stepSize: [],
    inverseMetric: [],
  };
  for (let chain = 0; chain < numChains; chain++) {
    const chainKey = foldIn(runKey, chain);
    const [initKey, warmupKey, drawKey, tuneKey, samplerInitKey] = [0, 1, 2, 3, 4].map((i) => foldIn(chainKey, i));
    let state: HamiltonianState | undefined;
    // Random initialisation retries up to 100 times, as Stan does, when the density is not finite.
    for (let attempt = 0; attempt < (options.initial === undefined ? 100 : 1); attempt++) {
      const position = initialPosition(options, dim, chain, initKey, attempt);
      const candidate = sampler.init(position, foldIn(samplerInitKey, attempt));
      if (Number.isFinite(candidate.logDensity)) {
        state = candidate;
        break;
      }
    }
    if (state === undefined) {
      throw new HamiltonianInputError(
        `chain ${chain}: the log density is not finite at the ${options.initial === undefined ? 'random initial points (100 tried)' : 'given initial point'}`,
      );
    }
    let adaptation = dualAveragingInit(state.stepSize);
    const accumulator = new WelfordVariance(dim);
    let divergences = 0;
    for (let t = 0; t < numWarmup; t++) {
      const [next, info] = sampler.step(foldIn(warmupKey, t), state, null);
      if (info.diverging) divergences++;
      options.onIteration?.(chain, t - numWarmup, info);
      adaptation = dualAveragingUpdate(adaptation, info.acceptProb, options);
      let stepSize = Math.exp(adaptation.logStepSize);
      let inverseMetric = next.inverseMetric;
      const window = windowOf[t];
      if (window >= 0) {
        accumulator.add(next.position);
        if (t === schedule.windows[window].end) {
          inverseMetric = regularizedVariance(accumulator.variance(), accumulator.count);
          accumulator.reset();
          stepSize = findReasonableStepSize(logDensity, next, inverseMetric, stepSize, foldIn(tuneKey, t));
          adaptation = dualAveragingInit(stepSize);
        }
      }
      state = { ...next, stepSize, inverseMetric };
    }
    if (numWarmup > 0) state = { ...state, stepSize: dualAveragingFinal(adaptation) };
    checkInverseMetric(state.inverseMetric, dim, `chain ${chain} adapted metric`);
    const draws = new Float64Array(numDraws * dim);
    const info: ChainDiagnostics = {
      acceptProb: new Float64Array(numDraws),
      treeDepth: new Int32Array(numDraws),
      numGradEvals: new Int32Array(numDraws),
      diverging: new Uint8Array(numDraws),
      energy: new Float64Array(numDraws),
      logDensity: new Float64Array(numDraws),
    };
    for (let t = 0; t < numDraws; t++) {
      const [next, stepInfo] = sampler.step(foldIn(drawKey, t), state, null);
      state = next;
      draws.set(next.position, t * dim);
      info.acceptProb[t] = stepInfo.acceptProb;
      info.treeDepth[t] = stepInfo.treeDepth;
      info.numGradEvals[t] = stepInfo.numGradEvals;
      info.diverging[t] = stepInfo.diverging ? 1 : 0;
      info.energy[t] = stepInfo.energy;
      info.logDensity[t] = next.logDensity;
      options.onIteration?.(chain, t, stepInfo);
    }
    run.draws.push(draws);
    run.info.push(info);
    run.warmupDivergences.push(divergences);
    run.stepSize.push(state.stepSize);
    run.inverseMetric.push(Float64Array.from(state.inverseMetric));
  }
  return run;
}
