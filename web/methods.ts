/**
 * The demo's methods and its run loop, free of the DOM so the e2e test can check it in Node: every
 * method is a library `Sampler` (constant SGD with the optimal preconditioner, SGLD, pSGLD,
 * Lévy–Langevin) or the in-demo Gaussian VI of ./vi.ts, stepped with exactly the key and minibatch
 * protocol of the library's `runChains` for chain 0, so a page run equals `runChains` at the seed.
 */
import type { IndexBatch, Sampler, StepInfo, Vec } from '../src/core/types.js';
import { foldIn, key, type Key } from '../src/core/random.js';
import { Minibatcher } from '../src/data/minibatch.js';
import { fullGradient } from '../src/models/estimator.js';
import { exactNoiseCovariance } from '../src/noise/estimator.js';
import { optimalPreconditioner } from '../src/noise/optimal.js';
import { stationaryCovariance } from '../src/noise/ornsteinUhlenbeck.js';
import type { NoiseCovariance, Preconditioner } from '../src/noise/types.js';
import { constantSgd } from '../src/samplers/constantSgd.js';
import { levyLangevin } from '../src/samplers/levy.js';
import { psgld } from '../src/samplers/psgld.js';
import { sgld } from '../src/samplers/sgld.js';
import type { DemoPosterior } from './posteriors.js';
import { gaussianCovariance, gaussianVi, type GaussianViState } from './vi.js';

/** Names of the demo methods. */
export type MethodName = 'constant-sgd' | 'sgld' | 'psgld' | 'levy' | 'vi-meanfield' | 'vi-fullrank';

/** What each method is and what its learning-rate slider means. */
export interface MethodDescription {
  readonly name: MethodName;
  readonly label: string;
  /** What the learning-rate slider sets for this method. */
  readonly rateMeaning: string;
  /** The slider's default, as log10 of the rate. */
  readonly defaultLogRate: number;
  /** Whether the method comes from the library (false: the demo's own VI). */
  readonly fromLibrary: boolean;
  /** Which of the other sliders it uses. */
  readonly uses: { temperature: boolean; alpha: boolean };
}

/** Every method, in menu order. */
export const METHODS: readonly MethodDescription[] = [
  {
    name: 'constant-sgd',
    label: 'Constant SGD, optimal preconditioner H* (Mandt et al. 2017)',
    rateMeaning: 'c in θ ← θ − c·H*·ĝ_S (c = 1 is optimal)',
    defaultLogRate: 0,
    fromLibrary: true,
    uses: { temperature: false, alpha: false },
  },
  { name: 'sgld', label: 'SGLD (Welling & Teh 2011)', rateMeaning: 'ε in θ ← θ + (ε/2)ĝ + √(εT)ξ', defaultLogRate: -3, fromLibrary: true, uses: { temperature: true, alpha: false } },
  { name: 'psgld', label: 'pSGLD (Li et al. 2016)', rateMeaning: 'ε of pSGLD (RMSprop-preconditioned)', defaultLogRate: -4.5, fromLibrary: true, uses: { temperature: true, alpha: false } },
  {
    name: 'levy',
    label: 'Heavy-tailed Langevin, α-stable noise (Dupuis & Viallard 2023)',
    rateMeaning: 'γ in W ← W − γ∇V_S + σγ^{1/α}L, σ = √(T/N)',
    defaultLogRate: -1,
    fromLibrary: true,
    uses: { temperature: true, alpha: true },
  },
  { name: 'vi-meanfield', label: 'Mean-field Gaussian VI (in-demo)', rateMeaning: 'Adam learning rate', defaultLogRate: -1.5, fromLibrary: false, uses: { temperature: true, alpha: false } },
  { name: 'vi-fullrank', label: 'Full-rank Gaussian VI (in-demo)', rateMeaning: 'Adam learning rate', defaultLogRate: -1.5, fromLibrary: false, uses: { temperature: true, alpha: false } },
];

/** Thrown for an unknown method or an invalid setting. */
export class DemoSettingError extends RangeError {
  override name = 'DemoSettingError';
}

/** The description of method `name`. */
export function methodDescription(name: MethodName): MethodDescription {
  const found = METHODS.find((m) => m.name === name);
  if (!found) throw new DemoSettingError(`unknown method '${String(name)}'; known: ${METHODS.map((m) => m.name).join(', ')}`);
  return found;
}

/** Everything a run depends on. */
export interface DemoSettings {
  method: MethodName;
  /** The learning-rate slider's value (its meaning depends on the method: see `rateMeaning`). */
  learningRate: number;
  /** S, the minibatch size. */
  batchSize: number;
  /** α ∈ (1, 2] of the Lévy noise. */
  alpha: number;
  /** T ≥ 0: noise temperature (SGLD, pSGLD, Lévy) or entropy weight (VI). */
  temperature: number;
  seed: number;
}

/** The local quadratic picture at a mode: θ*, A = −(1/N)∇² log p(θ* | data) and C = Cov ∇ℓ_n. */
export interface ModeGeometry {
  mode: Vec;
  /** A, the Hessian of the per-example loss L = −(1/N) log posterior (d×d row-major). */
  hessian: Float64Array;
  noise: NoiseCovariance;
}

/**
 * The mode of a demo posterior from θ₀ by damped Newton on the full log posterior, with the
 * Hessian from central differences of the exact gradient (2-D, so cheap), falling back to a
 * gradient step where the Hessian is not negative definite; plus A and the exact noise C there.
 */
export function modeGeometry(posterior: DemoPosterior, start: Vec = posterior.initial): ModeGeometry {
  const target = posterior.target;
  const N = target.dataSize;
  let theta = Float64Array.from(start);
  const hessianAt = (t: Vec): Float64Array => {
    const h = 1e-5;
    const H = new Float64Array(4);
    for (let j = 0; j < 2; j++) {
      const plus = Float64Array.from(t);
      const minus = Float64Array.from(t);
      plus[j] += h;
      minus[j] -= h;
      const gp = fullGradient(target, plus).grad;
      const gm = fullGradient(target, minus).grad;
      for (let i = 0; i < 2; i++) H[i * 2 + j] = (gp[i] - gm[i]) / (2 * h);
    }
    const offDiagonal = 0.5 * (H[1] + H[2]);
    H[1] = H[2] = offDiagonal;
    return H;
  };
  for (let iteration = 0; iteration < 200; iteration++) {
    const { value, grad } = fullGradient(target, theta);
    if (Math.hypot(grad[0], grad[1]) < 1e-9 * (1 + N)) break;
    const H = hessianAt(theta);
    const det = H[0] * H[3] - H[1] * H[2];
    let direction: Float64Array;
    if (H[0] < 0 && det > 0) {
      direction = new Float64Array([-(H[3] * grad[0] - H[1] * grad[1]) / det, -(-H[2] * grad[0] + H[0] * grad[1]) / det]);
    } else {
      const scale = 1 / (1 + Math.hypot(grad[0], grad[1]));
      direction = new Float64Array([scale * grad[0], scale * grad[1]]);
    }
    let step = 1;
    let next = theta;
    for (let halving = 0; halving < 50; halving++) {
      const trial = new Float64Array([theta[0] + step * direction[0], theta[1] + step * direction[1]]);
      if (fullGradient(target, trial).value >= value) {
        next = trial;
        break;
      }
      step /= 2;
    }
    if (next === theta) break;
    theta = next;
  }
  const H = hessianAt(theta);
  const hessian = H.map((v) => -v / N);
  return { mode: theta, hessian, noise: exactNoiseCovariance(target, theta) };
}

/** What a built method offers the page besides its sampler. */
export interface BuiltMethod {
  sampler: Sampler<{ position: Vec }, StepInfo, IndexBatch>;
  /** For constant SGD: the preconditioner c·H* in force and the OU-predicted stationary law. */
  constantSgd?: {
    preconditioner: Preconditioner;
    /** The eigenvalue floor (relative to λ_max of C) used when inverting C for H*. */
    relativeFloor: number;
    mode: Vec;
    stationaryCovariance: Float64Array | null;
    unstable: string | null;
  };
}

/** The relative eigenvalue floors tried, smallest first, when inverting C for H*. */
const FLOORS = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 0.999];

/**
 * H* = (2S/N)C⁻¹ (Mandt et al. 2017, Theorem 2) with C's eigenvalues floored at the smallest
 * relative floor (at least `minimumFloor`) for which the linearised step at the mode is stable with
 * margin (eigenvalues of H*A in (0, 1]): where the per-example gradients are (nearly) collinear, as on the banana, C is
 * almost singular and the exact H* would take unbounded steps along the noiseless direction.
 */
export function stableOptimalPreconditioner(
  geometry: ModeGeometry,
  batchSize: number,
  dataSize: number,
  minimumFloor = 1e-8,
): { H: Float64Array; relativeFloor: number } {
  const A = geometry.hessian;
  let last: Float64Array | null = null;
  for (const relativeFloor of FLOORS) {
    if (relativeFloor < minimumFloor) continue;
    const optimal = optimalPreconditioner('full', geometry.noise, { batchSize, dataSize, relativeFloor });
    if (optimal.kind !== 'full') throw new DemoSettingError('expected a full optimal preconditioner');
    const H = optimal.H;
    last = H;
    // Eigenvalues of the 2×2 product M = HA from its trace and determinant.
    const m00 = H[0] * A[0] + H[1] * A[2];
    const m01 = H[0] * A[1] + H[1] * A[3];
    const m10 = H[2] * A[0] + H[3] * A[2];
    const m11 = H[2] * A[1] + H[3] * A[3];
    const trace = m00 + m11;
    const det = m00 * m11 - m01 * m10;
    const disc = trace * trace - 4 * det;
    const largest = disc >= 0 ? 0.5 * (trace + Math.sqrt(disc)) : Math.sqrt(det);
    if (det > 0 && trace > 0 && largest <= 1) return { H, relativeFloor };
  }
  return { H: last as Float64Array, relativeFloor: FLOORS[FLOORS.length - 1] };
}

function checkSettings(posterior: DemoPosterior, s: DemoSettings): void {
  const N = posterior.target.dataSize;
  if (!Number.isInteger(s.batchSize) || s.batchSize < 2 || s.batchSize > N) {
    throw new DemoSettingError(`batch size must be an integer in [2, ${N}], got ${s.batchSize}`);
  }
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate))) throw new DemoSettingError(`learning rate must be > 0, got ${s.learningRate}`);
  if (!(s.alpha > 1 && s.alpha <= 2)) throw new DemoSettingError(`α must be in (1, 2], got ${s.alpha}`);
  if (!(s.temperature >= 0 && Number.isFinite(s.temperature))) throw new DemoSettingError(`temperature must be ≥ 0, got ${s.temperature}`);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new DemoSettingError(`seed must be a non-negative integer, got ${s.seed}`);
}

/**
 * Build the sampler of `settings.method` on `posterior`. Constant SGD uses c·H* with
 * H* = (2S/N)C⁻¹ from the exact noise covariance C at the mode (Mandt et al. 2017, Theorem 2) and
 * gets the OU prediction Σ solving HAΣ + ΣAH = H C H (N − S)/(S(N − 1)) (their Eq. 11 with the
 * finite-population factor, since the page draws batches without replacement). Lévy–Langevin uses
 * σ = √(T/N) and the prior, so at α = 2 it is Langevin on the tempered posterior.
 */
export function buildMethod(posterior: DemoPosterior, settings: DemoSettings, geometry?: ModeGeometry): BuiltMethod {
  checkSettings(posterior, settings);
  const target = posterior.target;
  const N = target.dataSize;
  const S = settings.batchSize;
  const rate = settings.learningRate;
  const T = settings.temperature;
  const erase = (s: unknown) => s as Sampler<{ position: Vec }, StepInfo, IndexBatch>;
  switch (settings.method) {
    case 'constant-sgd': {
      const g = geometry ?? modeGeometry(posterior);
      const { H: optimalH, relativeFloor } = stableOptimalPreconditioner(g, S, N, posterior.noiseFloor);
      const preconditioner: Preconditioner = { kind: 'full', H: optimalH.map((v) => rate * v) };
      let covariance: Float64Array | null = null;
      let unstable: string | null = null;
      try {
        covariance = stationaryCovariance({ hessian: g.hessian, noise: g.noise, preconditioner, batchSize: S, withoutReplacementFrom: N });
        if (!(covariance[0] > 0 && covariance[3] > 0 && covariance[0] * covariance[3] > covariance[1] ** 2)) {
          unstable = 'the OU equation has no positive-definite solution at this rate';
          covariance = null;
        }
      } catch (error) {
        unstable = (error as Error).message;
      }
      return {
        sampler: erase(constantSgd(target, { preconditioner })),
        constantSgd: { preconditioner, relativeFloor, mode: g.mode, stationaryCovariance: covariance, unstable },
      };
    }
    case 'sgld':
      return { sampler: erase(sgld(target, { stepSize: rate, temperature: T })) };
    case 'psgld':
      return { sampler: erase(psgld(target, { stepSize: rate, temperature: T })) };
    case 'levy':
      return { sampler: erase(levyLangevin(target, { stepSize: rate, alpha: settings.alpha, sigma: Math.sqrt(T / N), usePrior: true })) };
    case 'vi-meanfield':
    case 'vi-fullrank':
      return { sampler: erase(gaussianVi(target, { family: settings.method === 'vi-meanfield' ? 'meanfield' : 'fullrank', learningRate: rate, temperature: T })) };
    default:
      throw new DemoSettingError(`unknown method '${String(settings.method)}'`);
  }
}

/** The Gaussian q of a VI state (mean and covariance), or null for other methods. */
export function variationalGaussian(state: { position: Vec }): { mean: Vec; cov: Float64Array } | null {
  const params = (state as Partial<GaussianViState>).params;
  return params ? { mean: params.phi.slice(0, params.dim), cov: gaussianCovariance(params) } : null;
}

/**
 * A run of one chain, stepped on demand: chain key k₀ = foldIn(key(seed), 0), state
 * sampler.init(θ₀, foldIn(k₀, 0)), step t with the batch of Minibatcher(foldIn(k₀, 1), N, S) and the
 * key foldIn(foldIn(k₀, 2), t) — the protocol of `runChains` (src/run/driver.ts) for chain 0.
 */
export class DemoRun {
  readonly built: BuiltMethod;
  /** Every iterate θ₁, θ₂, … as a flat [x, y, x, y, …] list. */
  readonly draws: number[] = [];
  /** For VI, the reparameterised draws θ = m + Lε of each step (flat). */
  readonly variationalDraws: number[] = [];
  state: { position: Vec };
  steps = 0;
  /** The message of the error that stopped the run (divergence), or null. */
  error: string | null = null;
  private readonly batches: Minibatcher | null;
  private readonly stepKeys: Key;
  private readonly fullBatch: IndexBatch;

  constructor(
    readonly posterior: DemoPosterior,
    readonly settings: DemoSettings,
    geometry?: ModeGeometry,
  ) {
    this.built = buildMethod(posterior, settings, geometry);
    const chainKey = foldIn(key(settings.seed), 0);
    // S = N is the full batch in its natural order, as in runChains.
    const N = posterior.target.dataSize;
    this.batches = settings.batchSize >= N ? null : new Minibatcher(foldIn(chainKey, 1), N, settings.batchSize);
    this.stepKeys = foldIn(chainKey, 2);
    this.fullBatch = posterior.target.fullBatch();
    this.state = this.built.sampler.init(posterior.initial, foldIn(chainKey, 0));
  }

  /** Take up to `count` steps; stops (and records why) at the first non-finite position. */
  advance(count: number): void {
    for (let i = 0; i < count && this.error === null; i++) {
      const t = this.steps;
      const [next] = this.built.sampler.step(foldIn(this.stepKeys, t), this.state, this.batches ? this.batches.at(t) : this.fullBatch);
      const p = next.position;
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]) || Math.abs(p[0]) > 1e6 || Math.abs(p[1]) > 1e6) {
        this.error = `diverged at step ${t}: lower the learning rate`;
        return;
      }
      this.state = next;
      this.steps = t + 1;
      this.draws.push(p[0], p[1]);
      const draw = (next as Partial<GaussianViState>).draw;
      if (draw) this.variationalDraws.push(draw[0], draw[1]);
    }
  }
}
