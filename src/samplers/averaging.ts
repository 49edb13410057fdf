/**
 * Iterate averaging over any sampler (Mandt, Hoffman & Blei 2017, JMLR 18, Sec. 6): Polyak's running
 * mean of the iterates, and the window averages of the paper's Algorithm 1 (IASG), which turn
 * constant SGD into a sampler emitting one approximate posterior draw per pass over the data.
 */
import type { IndexBatch, Sampler, StepInfo, Target, Vec } from '../core/types.js';
import type { Key } from '../core/random.js';
import { constantSgd, ConstantSgdOptionError, type ConstantSgdInfo, type ConstantSgdOptions, type ConstantSgdState } from './constantSgd.js';
import type { PreconditionerState } from '../transforms/preconditioner.js';

/** The state of a Polyak-averaged chain: the inner sampler's state plus the running mean. */
export interface PolyakState<S extends { position: Vec }> {
  /** The current iterate θ_t (the inner state's position). */
  readonly position: Vec;
  /** The wrapped sampler's state. */
  readonly inner: S;
  /** μ̂, the mean of the iterates after burn-in (zeros before any). */
  readonly average: Vec;
  /** How many iterates μ̂ averages. */
  readonly count: number;
  /** Steps taken. */
  readonly step: number;
}

/** What a Polyak-averaged step reports: the inner info plus the averaging count. */
export type PolyakInfo<I extends StepInfo> = I & {
  /** How many iterates the running mean holds after this step. */
  averageCount: number;
};

/** Options of {@link polyakAveraging}. */
export interface PolyakOptions {
  /** Steps left out of the average at the start (default 0). */
  burnIn?: number;
}

function checkCount(value: number, name: string, where: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConstantSgdOptionError(`${where}: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

/**
 * Polyak–Ruppert averaging as a sampler wrapper (Polyak & Juditsky 1992; Mandt, Hoffman & Blei 2017,
 * Sec. 6): the iterates θ_t of `sampler` are unchanged, and after burn-in the state carries
 *
 *   μ̂_{k+1} = (k/(k+1)) μ̂_k + θ_{t+1}/(k+1).
 *
 * For constant SGD the average's covariance is ≈ (1/(TS)) A⁻¹BBᵀA⁻¹ after T steps, the same for
 * every constant preconditioner (the paper's argument that Polyak averaging is optimal).
 */
export function polyakAveraging<S extends { position: Vec }, I extends StepInfo, Batch = IndexBatch>(
  sampler: Sampler<S, I, Batch>,
  options: PolyakOptions = {},
): Sampler<PolyakState<S>, PolyakInfo<I>, Batch> {
  const burnIn = checkCount(options.burnIn ?? 0, 'burnIn', 'polyakAveraging', 0);
  return {
    init(position: Vec, key: Key): PolyakState<S> {
      const inner = sampler.init(position, key);
      return { position: inner.position, inner, average: new Float64Array(position.length), count: 0, step: 0 };
    },
    step(key: Key, state: Readonly<PolyakState<S>>, batch: Batch): readonly [PolyakState<S>, PolyakInfo<I>] {
      const [inner, info] = sampler.step(key, state.inner, batch);
      let average = state.average;
      let count = state.count;
      if (state.step >= burnIn) {
        count += 1;
        average = new Float64Array(inner.position.length);
        for (let i = 0; i < average.length; i++) average[i] = state.average[i] + (inner.position[i] - state.average[i]) / count;
      }
      const next: PolyakState<S> = { position: inner.position, inner, average, count, step: state.step + 1 };
      return [next, { ...info, averageCount: count }] as const;
    },
  };
}

/** The state of a window-averaged chain. */
export interface WindowAverageState<S extends { position: Vec }> {
  /** The current iterate θ_t (the inner state's position). */
  readonly position: Vec;
  /** The wrapped sampler's state. */
  readonly inner: S;
  /** Σ of the iterates of the current window. */
  readonly windowSum: Vec;
  /** Iterates in the current window so far. */
  readonly windowCount: number;
  /** T, the current window's length (0 before the first step fixes it). */
  readonly window: number;
  /** Samples emitted so far. */
  readonly emittedCount: number;
}

/** What a window-averaged step reports: the inner info, whether a sample was emitted, and the sample. */
export type WindowAverageInfo<I extends StepInfo> = I & {
  /** True on the step that closes a window; `average` is then the window's mean iterate. */
  emitted: boolean;
  /** The emitted sample (a fresh array), on emitting steps only. */
  average?: Vec;
};

/** Options of {@link windowAveraging}. */
export interface WindowAveragingOptions<Batch> {
  /** T, the iterates per emitted sample; a function of the window's first batch for data-dependent T. */
  window: number | ((batch: Batch) => number);
}

/**
 * Window averaging as a sampler wrapper: every T steps emit the mean of the last T iterates and start
 * a new window (the sampling half of Mandt, Hoffman & Blei 2017, Algorithm 1). The step that closes a
 * window reports `emitted: true` and `average`, so a driver's `onDraw` can collect the samples.
 */
export function windowAveraging<S extends { position: Vec }, I extends StepInfo, Batch = IndexBatch>(
  sampler: Sampler<S, I, Batch>,
  options: WindowAveragingOptions<Batch>,
): Sampler<WindowAverageState<S>, WindowAverageInfo<I>, Batch> {
  if (typeof options.window === 'number') checkCount(options.window, 'window', 'windowAveraging', 1);
  return {
    init(position: Vec, key: Key): WindowAverageState<S> {
      const inner = sampler.init(position, key);
      return { position: inner.position, inner, windowSum: new Float64Array(position.length), windowCount: 0, window: 0, emittedCount: 0 };
    },
    step(key: Key, state: Readonly<WindowAverageState<S>>, batch: Batch): readonly [WindowAverageState<S>, WindowAverageInfo<I>] {
      const window =
        state.windowCount === 0
          ? checkCount(typeof options.window === 'number' ? options.window : options.window(batch), 'window', 'windowAveraging', 1)
          : state.window;
      const [inner, info] = sampler.step(key, state.inner, batch);
      const sum = new Float64Array(inner.position.length);
      for (let i = 0; i < sum.length; i++) sum[i] = (state.windowCount === 0 ? 0 : state.windowSum[i]) + inner.position[i];
      const count = state.windowCount + 1;
      if (count < window) {
        const next: WindowAverageState<S> = { position: inner.position, inner, windowSum: sum, windowCount: count, window, emittedCount: state.emittedCount };
        return [next, { ...info, emitted: false }] as const;
      }
      const average = sum.map((v) => v / count);
      const next: WindowAverageState<S> = {
        position: inner.position,
        inner,
        windowSum: new Float64Array(sum.length),
        windowCount: 0,
        window,
        emittedCount: state.emittedCount + 1,
      };
      return [next, { ...info, emitted: true, average }] as const;
    },
  };
}

/** Options of {@link iasg}: constant SGD's options plus the window. */
export interface IasgOptions extends ConstantSgdOptions {
  /** T, the steps per emitted sample (default round(N/S), one pass over the data, with S the window's first batch size). */
  window?: number;
}

/** The state of an IASG chain. */
export type IasgState = WindowAverageState<ConstantSgdState<PreconditionerState>>;
/** What one IASG step reports. */
export type IasgInfo = WindowAverageInfo<ConstantSgdInfo>;

/**
 * Iterate-averaged SGD, IASG (Mandt, Hoffman & Blei 2017, Algorithm 1): run constant SGD
 * θ ← θ − H ĝ_S and, every T = N/S steps (one pass), output the mean of the last T iterates as one
 * approximate posterior sample; M samples cost M passes. With A = BBᵀ (their A5) and the scalar rate
 * ε, the window mean has covariance ≈ the posterior's when T = N/S (Sec. 6, with Eq. 34's finite-ε
 * correction). `position` is the SGD iterate; the samples are the `average` of emitting steps.
 */
export function iasg<Batch = IndexBatch>(target: Target<Batch>, options: IasgOptions): Sampler<IasgState, IasgInfo, Batch> {
  const inner = constantSgd(target, options);
  const n = target.dataSize;
  const window = options.window ?? ((batch: Batch) => Math.max(1, Math.round(n / target.batchSize(batch))));
  return windowAveraging(inner, { window });
}
