/**
 * Stochastic gradient Fisher scoring (Ahn, Korattikara & Welling 2012, "Bayesian posterior sampling
 * via stochastic gradient Fisher scoring", ICML) in the form and with the optimal preconditioner of
 * Mandt, Hoffman & Blei 2017 (JMLR 18, Sec. 5, Eq. 26, Theorem 5, Corollary 6).
 */
import type { IndexBatch, Sampler, Schedule, StepInfo, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import type { Key } from '../core/random.js';
import { normal } from '../core/random.js';
import { inverse, matvec, symmetricEigen } from '../core/linalg.js';
import { noiseCovarianceMatrix } from '../noise/estimator.js';
import { optimalSgfsPreconditioner } from '../noise/optimal.js';
import type { NoiseCovariance, Preconditioner } from '../noise/types.js';
import { applyPreconditioner, meanStepSize } from '../transforms/preconditioner.js';
import { lossGradient, perExampleGradients, updateNoiseEstimate } from './constantSgd.js';

/** Thrown when SGFS gets an invalid option or per-step value. */
export class SgfsOptionError extends RangeError {
  override name = 'SgfsOptionError';
}

/** An SGFS setting in force: H and a square root R of the injected-noise covariance (EEᵀ = RRᵀ). */
export interface SgfsPreconditioning {
  /** H. */
  readonly preconditioner: Preconditioner;
  /** R with EEᵀ = RRᵀ: a diagonal (length d) or a d×d row-major matrix; null when EEᵀ = 0. */
  readonly noiseRoot: Float64Array | null;
  /** Whether `noiseRoot` is a diagonal or a full matrix. */
  readonly noiseRootKind: 'diagonal' | 'full';
}

/** The state of an SGFS chain: data only, never mutated by a step. */
export interface SgfsState {
  /** θ_t. */
  readonly position: Vec;
  /** t, the number of steps taken. */
  readonly step: number;
  /** The online estimate of C = BBᵀ (null when the noise was given). */
  readonly noise: NoiseCovariance | null;
  /** The H and injected-noise root in force (null before the first online step). */
  readonly setting: SgfsPreconditioning | null;
}

/** What one SGFS step reports. */
export interface SgfsInfo extends StepInfo {
  /** ε times the mean diagonal entry of H: the average step on ĝ_S. */
  stepSize: number;
  /** ε, the option. */
  epsilon: number;
  /** ‖ĝ_S‖, the minibatch gradient of L = −(1/N) log posterior. */
  gradNorm: number;
  /** ‖√(εT) H E W‖, the injected noise (0 at temperature 0 or when EEᵀ = 0). */
  noiseNorm: number;
  /** T. */
  temperature: number;
  /** The kind of H. */
  preconditioner: Preconditioner['kind'];
}

/** Options of {@link sgfs}. */
export interface SgfsOptions {
  /** ε > 0, constant (H* depends on it). */
  stepSize: number;
  /** Which H*: 'full' (Theorem 5), 'diagonal' or 'scalar' (Corollary 6). */
  kind: 'scalar' | 'diagonal' | 'full';
  /** A given estimate of C = BBᵀ; when absent C is estimated online from per-example gradients (Eq. 21). */
  noise?: NoiseCovariance;
  /** h^max: the injected noise is EEᵀ_kk = max(0, 2/(h^max N) − εBBᵀ_kk/S), so no step exceeds h^max (Corollary 6). */
  maxStep?: number;
  /** EEᵀ given explicitly, diagonal (length d) or full (d×d); excludes `maxStep`. Default: from `maxStep`, else 0. */
  injectedNoise?: Float64Array;
  /** T ≥ 0 scaling the injected noise variance (default 1; 0 gives preconditioned SGD). */
  temperature?: Schedule;
  /** κ_t of the online estimate (default the noise module's max(1/t, 10⁻³)). */
  decay?: Schedule;
  /** With online noise, recompute H every this many steps (default 1). */
  refreshEvery?: number;
  /** Relative eigenvalue floor when inverting C (default 1e-8). */
  relativeFloor?: number;
}

function squareRoot(matrix: Float64Array, dim: number, kind: 'diagonal' | 'full'): Float64Array | null {
  let any = false;
  if (kind === 'diagonal') {
    const root = matrix.map((v) => {
      if (v > 0) any = true;
      return Math.sqrt(Math.max(0, v));
    });
    return any ? root : null;
  }
  // R = V diag(√λ⁺): EEᵀ may be singular (h^max leaves directions without injected noise).
  const { values, vectors } = symmetricEigen(matrix, dim);
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  const root = new Float64Array(dim * dim);
  for (let k = 0; k < dim; k++) {
    const s = values[k] > 1e-14 * largest ? Math.sqrt(values[k]) : 0;
    if (s > 0) any = true;
    for (let a = 0; a < dim; a++) root[a * dim + k] = vectors[a * dim + k] * s;
  }
  return any ? root : null;
}

/**
 * H = (2/N)(εBBᵀ/S + EEᵀ)⁻¹ for an explicitly given EEᵀ (Theorem 5 with minibatch noise BBᵀ/S;
 * Corollary 6 for the diagonal and scalar forms).
 */
export function sgfsPreconditionerForNoise(
  kind: 'scalar' | 'diagonal' | 'full',
  noise: NoiseCovariance,
  injected: Float64Array,
  options: { stepSize: number; batchSize: number; dataSize: number },
): Preconditioner {
  const d = noise.dim;
  const { stepSize: eps, batchSize: S, dataSize: N } = options;
  const injectedFull = injected.length === d * d && d > 1;
  const injectedDiag = (k: number): number => (injectedFull ? injected[k * d + k] : injected[k]);
  if (kind === 'full') {
    const M = noiseCovarianceMatrix(noise);
    for (let i = 0; i < d * d; i++) M[i] *= eps / S;
    for (let a = 0; a < d; a++) {
      if (injectedFull) for (let b = 0; b < d; b++) M[a * d + b] += injected[a * d + b];
      else M[a * d + a] += injected[a];
    }
    const H = inverse(M, d);
    for (let i = 0; i < d * d; i++) H[i] *= 2 / N;
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) H[a * d + b] = H[b * d + a] = 0.5 * (H[a * d + b] + H[b * d + a]);
    return { kind: 'full', H };
  }
  const diag = noise.diag ?? new Float64Array(d).fill(noise.trace / d);
  if (kind === 'diagonal') return { kind: 'diagonal', h: diag.map((c, k) => 2 / (N * ((eps * c) / S + injectedDiag(k)))) };
  let total = 0;
  for (let k = 0; k < d; k++) total += (eps * diag[k]) / S + injectedDiag(k);
  return { kind: 'scalar', rate: (2 * d) / (N * total) };
}

/**
 * SGFS in the form of Mandt, Hoffman & Blei 2017, Eq. 26:
 *
 *   θ_{t+1} = θ_t − ε H ĝ_S(θ_t) + √(ε T) H E W_t,   W_t ~ N(0, I),
 *
 * with ĝ_S the minibatch gradient of L = −(1/N) log posterior and the optimal preconditioner
 *
 *   H* = (2/N) (ε BBᵀ/S + EEᵀ)⁻¹
 *
 * (Theorem 5, stated there for S = 1: the OU stationary covariance is then exactly the posterior's,
 * A⁻¹/N, at finite ε); Corollary 6 gives the diagonal H*_kk = (2/N)(εBBᵀ_kk/S + EEᵀ_kk)⁻¹ and the
 * scalar form. The step cap h^max sets EEᵀ_kk = max(0, 2/(h^max N) − εBBᵀ_kk/S). BBᵀ is given, or
 * estimated online (Eq. 21) from the batch's per-example gradients before each step, and H recomputed
 * every `refreshEvery` steps. T scales the injected variance (T = 0 is preconditioned SGD).
 */
export function sgfs<Batch = IndexBatch>(target: Target<Batch>, options: SgfsOptions): Sampler<SgfsState, SgfsInfo, Batch> {
  const dim = target.dim;
  const n = target.dataSize;
  const eps = options.stepSize;
  if (!(Number.isFinite(eps) && eps > 0)) throw new SgfsOptionError(`sgfs: stepSize ε must be a finite number > 0, got ${eps}`);
  if (!['scalar', 'diagonal', 'full'].includes(options.kind)) {
    throw new SgfsOptionError(`sgfs: kind must be 'scalar', 'diagonal' or 'full', got '${String(options.kind)}'`);
  }
  const temperatureSchedule = options.temperature ?? 1;
  const temperatureAt = (t: number): number => {
    const value = scheduleValue(temperatureSchedule, t);
    if (!(Number.isFinite(value) && value >= 0)) throw new SgfsOptionError(`sgfs: temperature at step ${t} must be a finite number ≥ 0, got ${value}`);
    return value;
  };
  if (typeof temperatureSchedule === 'number') temperatureAt(0);
  const injected = options.injectedNoise;
  if (injected !== undefined) {
    if (options.maxStep !== undefined) throw new SgfsOptionError('sgfs: give either injectedNoise or maxStep, not both');
    if (!(injected instanceof Float64Array) || (injected.length !== dim && injected.length !== dim * dim)) {
      throw new SgfsOptionError(`sgfs: injectedNoise must be a Float64Array of length ${dim} (diagonal) or ${dim * dim} (full), got length ${injected?.length}`);
    }
    const bad = injected.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new SgfsOptionError(`sgfs: injectedNoise[${bad}] is ${injected[bad]}, not finite`);
  }
  const refreshEvery = options.refreshEvery ?? 1;
  if (!Number.isSafeInteger(refreshEvery) || refreshEvery < 1) {
    throw new SgfsOptionError(`sgfs: refreshEvery must be an integer ≥ 1, got ${refreshEvery}`);
  }
  if (options.noise === undefined && !target.perExampleGrads) {
    throw new SgfsOptionError('sgfs: without a given noise estimate, SGFS estimates BBᵀ from target.perExampleGrads, which this target lacks');
  }
  if (options.noise !== undefined && options.noise.dim !== dim) {
    throw new SgfsOptionError(`sgfs: the given noise estimate has dim ${options.noise.dim}, target.dim is ${dim}`);
  }

  function settingFor(noise: NoiseCovariance, batchSize: number): SgfsPreconditioning {
    const sizes = { stepSize: eps, batchSize, dataSize: n };
    if (injected !== undefined) {
      const full = injected.length === dim * dim && dim > 1;
      return {
        preconditioner: sgfsPreconditionerForNoise(options.kind, noise, injected, sizes),
        noiseRoot: squareRoot(injected, dim, full ? 'full' : 'diagonal'),
        noiseRootKind: full ? 'full' : 'diagonal',
      };
    }
    const setting = optimalSgfsPreconditioner(options.kind, noise, { ...sizes, maxStep: options.maxStep, relativeFloor: options.relativeFloor });
    return {
      preconditioner: setting.preconditioner,
      noiseRoot: squareRoot(setting.injectedNoise, dim, setting.injectedNoiseKind),
      noiseRootKind: setting.injectedNoiseKind,
    };
  }

  const noiseKind = options.kind;
  const gradient = new Float64Array(dim);
  const draw = new Float64Array(dim);
  const injectedDraw = new Float64Array(dim);
  return {
    init(position: Vec, _key: Key): SgfsState {
      if (position.length !== dim) throw new SgfsOptionError(`sgfs.init: position has length ${position.length}, target.dim is ${dim}`);
      return { position: Float64Array.from(position), step: 0, noise: null, setting: null };
    },
    step(key: Key, state: Readonly<SgfsState>, batch: Batch): readonly [SgfsState, SgfsInfo] {
      if (state.position.length !== dim) throw new SgfsOptionError(`sgfs: state.position has length ${state.position.length}, target.dim is ${dim}`);
      const t = state.step;
      const temperature = temperatureAt(t);
      let noise = state.noise;
      let setting = state.setting;
      const batchSize = target.batchSize(batch);
      if (options.noise === undefined) {
        const sample = perExampleGradients(target, state.position, batch, 'sgfs');
        noise = updateNoiseEstimate(noise, noiseKind, dim, sample.grads, sample.batchSize, options.decay);
        if (setting === null || t % refreshEvery === 0) setting = settingFor(noise, batchSize);
      } else if (setting === null) {
        setting = settingFor(options.noise, batchSize);
      }
      const { grad } = lossGradient(target, state.position, batch, gradient);
      const drift = applyPreconditioner(setting.preconditioner, grad);
      const next = new Float64Array(dim);
      let gradSq = 0;
      for (let i = 0; i < dim; i++) {
        next[i] = state.position[i] - eps * drift[i];
        gradSq += grad[i] * grad[i];
      }
      let noiseSq = 0;
      if (temperature > 0 && setting.noiseRoot !== null) {
        normal(key, dim, draw);
        const root = setting.noiseRoot;
        if (setting.noiseRootKind === 'diagonal') for (let i = 0; i < dim; i++) injectedDraw[i] = root[i] * draw[i];
        else matvec(root, draw, dim, dim, injectedDraw);
        const pushed = applyPreconditioner(setting.preconditioner, injectedDraw);
        const scale = Math.sqrt(eps * temperature);
        for (let i = 0; i < dim; i++) {
          const v = scale * pushed[i];
          next[i] += v;
          noiseSq += v * v;
        }
      }
      const info: SgfsInfo = {
        stepSize: eps * meanStepSize(setting.preconditioner, dim),
        epsilon: eps,
        gradNorm: Math.sqrt(gradSq),
        noiseNorm: Math.sqrt(noiseSq),
        temperature,
        preconditioner: setting.preconditioner.kind,
      };
      const nextState: SgfsState = {
        position: next,
        step: t + 1,
        noise: options.noise === undefined ? noise : null,
        setting,
      };
      return [nextState, info] as const;
    },
  };
}
