/**
 * Vega-Lite specs of the report's figures: trace and rank plots, marginal densities against a
 * reference, a pair plot over a reference Gaussian's contours, the gradient-noise spectrum, a
 * reliability diagram, interval coverage, and plain line/scatter/bar charts for experiments.
 * Builders only shape data; `renderSvg` draws them.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReliabilityBin, IntervalCoverage } from '../diagnostics/calibration.js';
import { ellipseRadius, gaussianEllipse } from './geometry.js';

type Row = Record<string, number | string>;

/** Thrown when a figure gets data it cannot draw; names the figure and the problem. */
export class FigureDataError extends RangeError {
  override name = 'FigureDataError';
}

const WIDTH = 380;
const HEIGHT = 150;

function checkChains(where: string, chains: readonly ArrayLike<number>[]): void {
  if (chains.length === 0) throw new FigureDataError(`${where}: no chains`);
  chains.forEach((c, k) => {
    if (c.length === 0) throw new FigureDataError(`${where}: chain ${k} has no draws`);
  });
}

/** Every ⌈n/max⌉-th index, so a long chain is drawn with at most `max` points. */
function strideIndices(n: number, max: number): number[] {
  const stride = Math.max(1, Math.ceil(n / max));
  const out: number[] = [];
  for (let i = 0; i < n; i += stride) out.push(i);
  return out;
}

/**
 * Trace plot of one parameter: the draws of each chain against their step (drawn with at most
 * `maxPoints` evenly strided points per chain, so the SVG stays small).
 */
export function traceSpec(name: string, chains: readonly ArrayLike<number>[], steps?: readonly ArrayLike<number>[], maxPoints = 500): TopLevelSpec {
  checkChains(`traceSpec(${name})`, chains);
  const values: Row[] = [];
  chains.forEach((chain, k) => {
    for (const i of strideIndices(chain.length, maxPoints)) values.push({ step: steps ? steps[k][i] : i, value: chain[i], chain: String(k) });
  });
  return {
    title: `${name}: trace`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', strokeWidth: 0.8, opacity: 0.85 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: name, scale: { zero: false } },
      color: { field: 'chain', type: 'nominal', title: 'chain' },
    },
  } as TopLevelSpec;
}

/**
 * Rank plot of one parameter (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, "Rank-normalization,
 * folding, and localization: an improved R̂", Bayesian Analysis 16, Sec. 4): the draws of all chains
 * are ranked together and each chain's ranks are histogrammed in `bins` bins; with mixing chains
 * every histogram is flat at (draws per chain)/bins, the dashed line.
 */
export function rankSpec(name: string, chains: readonly ArrayLike<number>[], bins = 20): TopLevelSpec {
  checkChains(`rankSpec(${name})`, chains);
  const pooled: { value: number; chain: number }[] = [];
  chains.forEach((chain, k) => {
    for (let i = 0; i < chain.length; i++) pooled.push({ value: chain[i], chain: k });
  });
  pooled.sort((a, b) => a.value - b.value);
  const total = pooled.length;
  const counts = chains.map(() => new Array<number>(bins).fill(0));
  // Ties share their average rank, so constant stretches do not look like bad mixing.
  for (let start = 0; start < total; ) {
    let end = start;
    while (end + 1 < total && pooled[end + 1].value === pooled[start].value) end++;
    const rank = (start + end) / 2;
    const bin = Math.min(bins - 1, Math.floor((rank / total) * bins));
    for (let i = start; i <= end; i++) counts[pooled[i].chain][bin] += 1;
    start = end + 1;
  }
  const values: Row[] = [];
  counts.forEach((perBin, k) => {
    perBin.forEach((count, b) => values.push({ bin: b, count, chain: String(k) }));
    // Repeat the last count at the right edge so the last step is drawn full width.
    values.push({ bin: bins, count: perBin[bins - 1], chain: String(k) });
  });
  const expected = total / chains.length / bins;
  return {
    title: `${name}: rank histogram per chain`,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'bin', type: 'quantitative', title: `rank bin (of ${bins})`, scale: { domain: [0, bins] } },
          y: { field: 'count', type: 'quantitative', title: 'draws' },
          color: { field: 'chain', type: 'nominal', title: 'chain' },
        },
      },
      { data: { values: [{ expected }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { y: { field: 'expected', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** A Gaussian reference marginal N(mean, sd²). */
export interface ReferenceMarginal {
  mean: number;
  sd: number;
  /** e.g. 'exact posterior' or 'Laplace approximation'. */
  label: string;
}

/**
 * Marginal density of one parameter: a Gaussian kernel density estimate of the pooled draws
 * (vega's KDE, Scott's bandwidth; at most `maxDraws` evenly strided draws) with the reference
 * N(mean, sd²) where one exists.
 */
export function densitySpec(name: string, chains: readonly ArrayLike<number>[], reference?: ReferenceMarginal, maxDraws = 4000): TopLevelSpec {
  checkChains(`densitySpec(${name})`, chains);
  const pooled: number[] = [];
  for (const chain of chains) for (let i = 0; i < chain.length; i++) pooled.push(chain[i]);
  const draws = strideIndices(pooled.length, maxDraws).map((i) => ({ value: pooled[i] }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of pooled) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (reference) {
    if (!(reference.sd > 0 && Number.isFinite(reference.mean))) throw new FigureDataError(`densitySpec(${name}): reference needs a finite mean and sd > 0, got ${reference.mean}, ${reference.sd}`);
    lo = Math.min(lo, reference.mean - 4 * reference.sd);
    hi = Math.max(hi, reference.mean + 4 * reference.sd);
  }
  const sampleLabel = 'draws (KDE)';
  const layers: object[] = [
    {
      data: { values: draws },
      transform: [{ density: 'value', extent: [lo, hi], steps: 160 }, { calculate: `'${sampleLabel}'`, as: 'source' }],
      mark: { type: 'area', opacity: 0.35, line: true },
      encoding: {
        x: { field: 'value', type: 'quantitative', title: name },
        y: { field: 'density', type: 'quantitative', title: 'density' },
        color: { field: 'source', type: 'nominal', title: null },
      },
    },
  ];
  if (reference) {
    const curve: Row[] = [];
    for (let k = 0; k <= 160; k++) {
      const x = lo + ((hi - lo) * k) / 160;
      const z = (x - reference.mean) / reference.sd;
      curve.push({ value: x, density: Math.exp(-0.5 * z * z) / (reference.sd * Math.sqrt(2 * Math.PI)), source: reference.label });
    }
    layers.push({
      data: { values: curve },
      mark: { type: 'line', strokeWidth: 2, strokeDash: [6, 3] },
      encoding: { x: { field: 'value', type: 'quantitative' }, y: { field: 'density', type: 'quantitative' }, color: { field: 'source', type: 'nominal' } },
    });
  }
  return {
    title: `${name}: marginal density`,
    width: WIDTH,
    height: HEIGHT,
    layer: layers,
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** A 2-D Gaussian to draw as contours in a pair plot. */
export interface ReferenceGaussian2 {
  mean: readonly [number, number];
  /** [σ₁₁, σ₁₂, σ₂₁, σ₂₂]. */
  cov: readonly [number, number, number, number];
  label: string;
}

/**
 * Pair plot of two parameters: the draws of every chain (at most `maxPoints`, strided) over the
 * 50 %, 90 % and 99 % probability ellipses of a reference Gaussian (radius √(−2 log(1 − p)), the
 * χ²₂ quantile).
 */
export function pairSpec(
  names: readonly [string, string],
  x: readonly ArrayLike<number>[],
  y: readonly ArrayLike<number>[],
  reference?: ReferenceGaussian2,
  maxPoints = 3000,
): TopLevelSpec {
  const where = `pairSpec(${names[0]}, ${names[1]})`;
  checkChains(where, x);
  if (x.length !== y.length || x.some((c, k) => c.length !== y[k].length)) throw new FigureDataError(`${where}: x and y chains differ in shape`);
  const points: Row[] = [];
  const perChain = Math.max(1, Math.floor(maxPoints / x.length));
  x.forEach((chain, k) => {
    for (const i of strideIndices(chain.length, perChain)) points.push({ x: chain[i], y: y[k][i], chain: String(k) });
  });
  const layers: object[] = [
    {
      data: { values: points },
      mark: { type: 'circle', size: 9, opacity: 0.45 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: names[0], scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: names[1], scale: { zero: false } },
        color: { field: 'chain', type: 'nominal', title: 'chain' },
      },
    },
  ];
  if (reference) {
    const contour: Row[] = [];
    for (const p of [0.5, 0.9, 0.99]) {
      const path = gaussianEllipse(reference.mean, reference.cov, ellipseRadius(p), 96);
      for (let k = 0; k < path.length; k += 2) contour.push({ x: path[k], y: path[k + 1], order: k, level: `${reference.label} ${Math.round(p * 100)}%` });
    }
    layers.push({
      data: { values: contour },
      mark: { type: 'line', strokeWidth: 1.6, color: '#1d2430' },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        detail: { field: 'level', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
        strokeDash: { field: 'level', type: 'nominal', title: 'reference contours' },
      },
    });
  }
  return { title: `${names[0]} vs ${names[1]}`, width: 360, height: 320, layer: layers } as TopLevelSpec;
}

/**
 * The gradient-noise spectrum: eigenvalues of the per-example gradient covariance C (Mandt et al.
 * 2017, Eq. 6), largest first, on a log scale; how unequal they are is how far the noise is from
 * isotropic (and what the optimal preconditioner undoes).
 */
export function spectrumSpec(eigenvalues: ArrayLike<number>, title = 'gradient-noise spectrum: eigenvalues of C'): TopLevelSpec {
  const sorted = Array.from(eigenvalues).sort((a, b) => b - a);
  if (sorted.length === 0) throw new FigureDataError('spectrumSpec: no eigenvalues');
  const floor = Math.max(sorted[0] * 1e-12, Number.MIN_VALUE);
  const values = sorted.map((v, k) => ({ index: k + 1, eigenvalue: Math.max(v, floor) }));
  return {
    title,
    width: WIDTH,
    height: 200,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'k (largest first)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'eigenvalue', type: 'quantitative', title: 'λ_k', scale: { type: 'log' } },
    },
  } as TopLevelSpec;
}

/**
 * Reliability diagram (Guo, Pleiss, Sun & Weinberger 2017, "On calibration of modern neural
 * networks", ICML, Fig. 1): accuracy against mean confidence per confidence bin, point size the bin's
 * count, with the diagonal of perfect calibration.
 */
export function reliabilitySpec(bins: readonly ReliabilityBin[], title = 'reliability diagram'): TopLevelSpec {
  const values = bins.filter((b) => b.count > 0).map((b) => ({ confidence: b.meanConfidence, accuracy: b.accuracy, count: b.count }));
  if (values.length === 0) throw new FigureDataError('reliabilitySpec: every bin is empty');
  const lo = Math.min(0.5, ...values.map((v) => Math.min(v.confidence, v.accuracy)));
  return {
    title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: [{ a: lo, b: lo }, { a: 1, b: 1 }] },
        mark: { type: 'line', strokeDash: [4, 3], color: '#777' },
        encoding: { x: { field: 'a', type: 'quantitative', scale: { domain: [lo, 1] }, title: 'mean confidence' }, y: { field: 'b', type: 'quantitative', scale: { domain: [lo, 1] }, title: 'accuracy' } },
      },
      { data: { values }, mark: { type: 'line', color: '#2456c9' }, encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'circle', color: '#2456c9', opacity: 0.85 },
        encoding: {
          x: { field: 'confidence', type: 'quantitative' },
          y: { field: 'accuracy', type: 'quantitative' },
          size: { field: 'count', type: 'quantitative', title: 'examples' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Interval coverage: empirical coverage of central predictive intervals against their level. */
export function coverageSpec(rows: readonly IntervalCoverage[], title = 'predictive interval coverage'): TopLevelSpec {
  if (rows.length === 0) throw new FigureDataError('coverageSpec: no levels');
  const values = rows.map((r) => ({ level: r.level, coverage: r.coverage, width: r.meanWidth }));
  return {
    title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] },
        mark: { type: 'line', strokeDash: [4, 3], color: '#777' },
        encoding: { x: { field: 'a', type: 'quantitative', title: 'nominal level', scale: { domain: [0, 1] } }, y: { field: 'b', type: 'quantitative', title: 'empirical coverage', scale: { domain: [0, 1] } } },
      },
      { data: { values }, mark: { type: 'line', point: { size: 50 }, color: '#c0143c' }, encoding: { x: { field: 'level', type: 'quantitative' }, y: { field: 'coverage', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** Options of the plain charts for experiment reports. */
export interface ChartOptions {
  title: string;
  /** Rows of the table to plot. */
  data: readonly Readonly<Record<string, unknown>>[];
  x: string;
  y: string;
  /** A column whose values make one series each. */
  color?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

function chart(mark: object, options: ChartOptions, xType: 'quantitative' | 'nominal' | 'ordinal'): TopLevelSpec {
  const { title, data, x, y, color, logX, logY } = options;
  if (data.length === 0) throw new FigureDataError(`chart '${title}': no rows`);
  for (const column of [x, y, ...(color ? [color] : [])]) {
    if (!data.some((row) => column in row)) throw new FigureDataError(`chart '${title}': no row has the column '${column}'`);
  }
  return {
    title,
    width: options.width ?? WIDTH,
    height: options.height ?? 220,
    data: { values: data.map((row) => ({ ...row })) },
    mark,
    encoding: {
      x: { field: x, type: xType, title: x, ...(logX ? { scale: { type: 'log' } } : {}) },
      y: { field: y, type: 'quantitative', title: y, ...(logY ? { scale: { type: 'log' } } : { scale: { zero: false } }) },
      ...(color ? { color: { field: color, type: 'nominal', title: color } } : {}),
    },
  } as TopLevelSpec;
}

/** A line chart of `y` against `x` from table rows, one line per value of `color`. */
export function lineSpec(options: ChartOptions): TopLevelSpec {
  return chart({ type: 'line', point: true }, options, 'quantitative');
}

/** A scatter plot of `y` against `x` from table rows. */
export function scatterSpec(options: ChartOptions): TopLevelSpec {
  return chart({ type: 'circle', size: 30, opacity: 0.7 }, options, 'quantitative');
}

/** A bar chart of `y` per category `x` (grouped by `color` when given). */
export function barSpec(options: ChartOptions): TopLevelSpec {
  const spec = chart({ type: 'bar' }, options, 'nominal') as { encoding: Record<string, unknown> };
  if (options.color) spec.encoding.xOffset = { field: options.color, type: 'nominal' };
  return spec as TopLevelSpec;
}
