/**
 * The demo's 2-D posteriors, each a `Target<IndexBatch>` with per-example gradients so every
 * stochastic-gradient method of the library runs on it unchanged, plus the exact (unnormalised) log
 * posterior for drawing contours. Browser-safe: no Node imports, so the e2e test can build the same
 * targets in Node.
 */
import type { Dataset, IndexBatch, Target, ValueGrad, Vec } from '../src/core/types.js';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import { logisticRegression } from '../src/models/logistic.js';
import { fullGradient } from '../src/models/estimator.js';

/** Names of the demo posteriors. */
export type PosteriorName = 'logistic' | 'banana' | 'mixture';

/** A plotting window [xMin, xMax] × [yMin, yMax] in parameter space. */
export interface Box {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** One demo posterior: the target, its exact log density, a window to draw and a start point. */
export interface DemoPosterior {
  readonly name: PosteriorName;
  readonly label: string;
  /** One line on where it comes from. */
  readonly description: string;
  readonly target: Target<IndexBatch>;
  /** log p(θ | data) up to a constant, over the full data. */
  logPosterior(theta: Vec): number;
  readonly box: Box;
  /** θ₀ of every run (the same in the page and in the e2e test). */
  readonly initial: Vec;
  /**
   * The smallest relative eigenvalue floor of C used when inverting it for constant SGD's H*
   * (default 1e-8); larger where C is nearly singular and the exact H* is unstable away from the mode.
   */
  readonly noiseFloor?: number;
}

/** Thrown for an unknown posterior name. */
export class DemoPosteriorError extends Error {
  override name = 'DemoPosteriorError';
}

/** Per-example log likelihood and its gradient, written into `grad`. */
type ExampleTerm = (theta: Vec, row: number, grad: Vec) => number;

/**
 * A `Target` over `dataSize` examples from a per-example term and a log prior: logLikelihood sums
 * the term over the batch, perExampleGrads writes each example's gradient as a row.
 */
export function dataTarget(dataSize: number, logPrior: (theta: Vec) => ValueGrad, term: ExampleTerm): Target<IndexBatch> {
  const dim = 2;
  const scratch = new Float64Array(dim);
  return {
    dim,
    dataSize,
    logPrior,
    logLikelihood(theta, batch) {
      const grad = new Float64Array(dim);
      let value = 0;
      for (let i = 0; i < batch.length; i++) {
        value += term(theta, batch[i], scratch);
        grad[0] += scratch[0];
        grad[1] += scratch[1];
      }
      return { value, grad };
    },
    perExampleGrads(theta, batch, out) {
      for (let i = 0; i < batch.length; i++) {
        term(theta, batch[i], scratch);
        out[i * dim] = scratch[0];
        out[i * dim + 1] = scratch[1];
      }
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: dataSize }, (_, i) => i),
  };
}

function gaussianPrior(variances: readonly [number, number]): (theta: Vec) => ValueGrad {
  return (theta) => {
    const grad = new Float64Array([-theta[0] / variances[0], -theta[1] / variances[1]]);
    return { value: -0.5 * (theta[0] ** 2 / variances[0] + theta[1] ** 2 / variances[1]), grad };
  };
}

function logPosteriorOf(target: Target<IndexBatch>): (theta: Vec) => number {
  return (theta) => fullGradient(target, theta).value;
}

/**
 * Bayesian logistic regression on two correlated features without intercept, w ~ N(0, I), N = 200
 * examples simulated from w = (1.5, −1) with feature correlation 0.6 (seeded, so fixed).
 */
function logisticPosterior(): DemoPosterior {
  const N = 200;
  const z = normal(foldIn(key(2017), 0), 2 * N);
  const u = uniform(foldIn(key(2017), 1), N);
  const x = new Float64Array(2 * N);
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    x[2 * n] = z[2 * n];
    x[2 * n + 1] = 0.6 * z[2 * n] + 0.8 * z[2 * n + 1];
    const logit = 1.5 * x[2 * n] - 1 * x[2 * n + 1];
    y[n] = u[n] < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  const data: Dataset = { x, y, rows: N, cols: 2, featureNames: ['x1', 'x2'], targetName: 'y', source: 'demo: simulated logistic data' };
  const target = logisticRegression(data, { intercept: false, priorPrecision: 1 });
  return {
    name: 'logistic',
    label: 'Bayesian logistic regression (2 features)',
    description: 'w ~ N(0, I), y ~ Bernoulli(σ(xᵀw)); N = 200 simulated from w = (1.5, −1)',
    target,
    logPosterior: logPosteriorOf(target),
    box: { xMin: 0, xMax: 3, yMin: -2.5, yMax: 0.5 },
    initial: new Float64Array([0.3, 0.2]),
  };
}

/**
 * A banana: y_n ~ N(θ₁ + θ₂², σ² = 4), θ ~ N(0, I), N = 100 observations with mean 1. The
 * likelihood pins θ₁ + θ₂² and the prior bounds the curve, giving a curved ridge.
 */
function bananaPosterior(): DemoPosterior {
  const N = 100;
  const noiseVariance = 4;
  const y = normal(key(2011), N).map((e) => 1 + Math.sqrt(noiseVariance) * e);
  const term: ExampleTerm = (theta, row, grad) => {
    const residual = y[row] - theta[0] - theta[1] * theta[1];
    grad[0] = residual / noiseVariance;
    grad[1] = (2 * theta[1] * residual) / noiseVariance;
    return (-0.5 * residual * residual) / noiseVariance;
  };
  const target = dataTarget(N, gaussianPrior([1, 1]), term);
  return {
    name: 'banana',
    label: 'Banana (y ~ N(θ₁ + θ₂², 4))',
    description: 'y_n ~ N(θ₁ + θ₂², 2²), θ ~ N(0, I), N = 100: a curved ridge θ₁ + θ₂² ≈ ȳ',
    target,
    logPosterior: logPosteriorOf(target),
    box: { xMin: -2.5, xMax: 2, yMin: -2, yMax: 2 },
    initial: new Float64Array([-1.5, -1.2]),
    // Every example's gradient is parallel to (1, 2θ₂), so C is almost rank one: H* = (2S/N)C⁻¹
    // would take huge steps along the ridge, which curves into high curvature and diverges.
    noiseFloor: 0.3,
  };
}

/**
 * The Gaussian mixture of Welling & Teh 2011 (ICML, Sec. 5.1): θ₁ ~ N(0, 10), θ₂ ~ N(0, 1),
 * x_n ~ ½ N(θ₁, 2) + ½ N(θ₁ + θ₂, 2), N = 100 draws at θ = (0, 1); the posterior has modes near
 * (0, 1) and (1, −1).
 */
function mixturePosterior(): DemoPosterior {
  const N = 100;
  const variance = 2;
  const pick = uniform(foldIn(key(1105), 0), N);
  const e = normal(foldIn(key(1105), 1), N);
  const x = new Float64Array(N);
  for (let n = 0; n < N; n++) x[n] = (pick[n] < 0.5 ? 0 : 1) + Math.sqrt(variance) * e[n];
  const logHalfNormaliser = Math.log(0.5) - 0.5 * Math.log(2 * Math.PI * variance);
  const term: ExampleTerm = (theta, row, grad) => {
    const r1 = x[row] - theta[0];
    const r2 = x[row] - theta[0] - theta[1];
    const l1 = (-0.5 * r1 * r1) / variance;
    const l2 = (-0.5 * r2 * r2) / variance;
    const top = Math.max(l1, l2);
    // Responsibilities in log space, so far-away θ does not underflow both components to 0.
    const w1 = Math.exp(l1 - top);
    const w2 = Math.exp(l2 - top);
    const total = w1 + w2;
    grad[0] = (w1 * r1 + w2 * r2) / (variance * total);
    grad[1] = (w2 * r2) / (variance * total);
    return logHalfNormaliser + top + Math.log(total);
  };
  const target = dataTarget(N, gaussianPrior([10, 1]), term);
  return {
    name: 'mixture',
    label: 'Gaussian mixture (Welling & Teh 2011)',
    description: 'x ~ ½N(θ₁, 2) + ½N(θ₁+θ₂, 2), θ₁ ~ N(0, 10), θ₂ ~ N(0, 1), N = 100: two modes',
    target,
    logPosterior: logPosteriorOf(target),
    box: { xMin: -1.5, xMax: 2.5, yMin: -2.5, yMax: 2.5 },
    initial: new Float64Array([-1, 2]),
  };
}

const builders: Record<PosteriorName, () => DemoPosterior> = {
  logistic: logisticPosterior,
  banana: bananaPosterior,
  mixture: mixturePosterior,
};

/** The names of every demo posterior, in menu order. */
export const POSTERIOR_NAMES: readonly PosteriorName[] = ['logistic', 'banana', 'mixture'];

const cache = new Map<PosteriorName, DemoPosterior>();

/** The demo posterior called `name` (built once, then cached). */
export function demoPosterior(name: PosteriorName): DemoPosterior {
  const build = builders[name];
  if (!build) throw new DemoPosteriorError(`unknown demo posterior '${String(name)}'; known: ${POSTERIOR_NAMES.join(', ')}`);
  let posterior = cache.get(name);
  if (!posterior) {
    posterior = build();
    cache.set(name, posterior);
  }
  return posterior;
}

/**
 * The exact log posterior on an nx × ny grid over `box` (row-major, row j is y = yMin + j·Δy), with
 * its maximum: what the contours are drawn from.
 */
export function logDensityGrid(posterior: DemoPosterior, nx: number, ny: number): { values: Float64Array; max: number } {
  const { xMin, xMax, yMin, yMax } = posterior.box;
  const values = new Float64Array(nx * ny);
  const theta = new Float64Array(2);
  let max = -Infinity;
  for (let j = 0; j < ny; j++) {
    theta[1] = yMin + ((yMax - yMin) * j) / (ny - 1);
    for (let i = 0; i < nx; i++) {
      theta[0] = xMin + ((xMax - xMin) * i) / (nx - 1);
      const v = posterior.logPosterior(theta);
      values[j * nx + i] = v;
      if (v > max) max = v;
    }
  }
  return { values, max };
}

/**
 * Highest-density levels of a gridded density: for each mass m in `masses`, the density level
 * whose super-level set holds mass m of the grid's (normalised) total, as log densities.
 */
export function highestDensityLevels(logValues: Float64Array, max: number, masses: readonly number[]): number[] {
  const weights = Array.from(logValues, (v) => Math.exp(v - max)).sort((a, b) => b - a);
  const total = weights.reduce((s, w) => s + w, 0);
  return masses.map((mass) => {
    let cumulative = 0;
    for (const w of weights) {
      cumulative += w;
      if (cumulative >= mass * total) return max + Math.log(w);
    }
    return max + Math.log(weights[weights.length - 1]);
  });
}
