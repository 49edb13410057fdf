/**
 * The HTML report of a sampling run from its draws and diagnostics held in memory (browser-safe;
 * `src/run/report.ts` reads a run directory into this shape). One self-contained page: the R̂/ESS
 * table, trace and rank plots, marginal densities against a reference, a pair plot over the
 * reference's contours, the gradient-noise spectrum and tail index, and predictive checks.
 */
import type { Vec } from '../core/types.js';
import type { CalibrationReport, IntervalCoverage } from '../diagnostics/calibration.js';
import type { ParameterSummary } from '../diagnostics/summary.js';
import type { GradientNoiseTailIndex } from '../diagnostics/tailIndex.js';
import { coverageSpec, densitySpec, pairSpec, rankSpec, reliabilitySpec, spectrumSpec, traceSpec } from './figures.js';
import { escapeHtml, htmlFigure, htmlPage, htmlTable, type PageSection } from './html.js';
import { renderSvg } from './vega.js';

/** A reference Gaussian posterior N(mean, cov) over all parameters. */
export interface ReferencePosterior {
  mean: Vec;
  /** d×d row-major. */
  cov: Float64Array;
  /** e.g. 'exact posterior' or 'Laplace approximation'. */
  label: string;
  /** True for an exact posterior (e.g. conjugate linear regression), false for an approximation. */
  exact: boolean;
}

/** Predictive checks of a run. */
export type PredictiveCheck =
  | { kind: 'classification'; calibration: CalibrationReport; accuracy: number; negativeLogLikelihood?: number; on: string }
  | { kind: 'regression'; coverage: IntervalCoverage[]; on: string };

/** Everything the run report shows. */
export interface RunReportData {
  title: string;
  /** Lines under the title (model, sampler, sizes). */
  meta?: string[];
  parameterNames: string[];
  /** Per chain, draws × dim row-major. */
  chains: Float64Array[];
  /** Per chain, the step of each draw (default 0, 1, …). */
  steps?: ArrayLike<number>[];
  /** The R̂/ESS summary (as in summary.json). */
  summary: ParameterSummary[];
  reference?: ReferencePosterior;
  /** Eigenvalues of the gradient-noise covariance C at `at`, and the noise's tail index there. */
  noise?: { eigenvalues: ArrayLike<number>; at: string; tailIndex?: GradientNoiseTailIndex };
  predictive?: PredictiveCheck;
  /** Per chain, the average of each numeric sampler-info field. */
  chainInfo?: { chain: number; draws: number; infoMean: Record<string, number> }[];
  /** Extra remarks (e.g. what was skipped and why). */
  notes?: string[];
}

/** Options of {@link runReportHtml}. */
export interface RunReportOptions {
  /** Trace, rank and density plots for at most this many parameters (default 12; the table has all). */
  maxParameters?: number;
  /** The pair plot's two parameters (default: the first two). */
  pair?: readonly [string, string];
}

/** Thrown when the report's data do not fit together (shapes, names). */
export class RunReportError extends Error {
  override name = 'RunReportError';
}

function column(chain: Float64Array, dim: number, j: number): Float64Array {
  const n = chain.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = chain[i * dim + j];
  return out;
}

/** R̂ above 1.01 is a warning and above 1.05 a failure; bulk/tail ESS under 100 per chain likewise (Vehtari et al. 2021). */
function summaryCellClass(chains: number): (name: string, value: unknown) => string | undefined {
  return (name, value) => {
    if (typeof value !== 'number') return undefined;
    if (name === 'R̂') return !(value <= 1.05) ? 'bad' : value > 1.01 ? 'warn' : undefined;
    if (name === 'ESS bulk' || name === 'ESS tail') return !(value >= 100 * chains) ? (value < 10 * chains ? 'bad' : 'warn') : undefined;
    if (name === 'z vs reference') return Math.abs(value) > 4 ? 'bad' : Math.abs(value) > 3 ? 'warn' : undefined;
    return undefined;
  };
}

/**
 * The run report page. Figures are rendered to inline SVG with Vega-Lite; the page has no scripts
 * and loads nothing.
 *
 * @throws RunReportError when chains, names and reference disagree in shape.
 */
export async function runReportHtml(data: RunReportData, options: RunReportOptions = {}): Promise<string> {
  const names = data.parameterNames;
  const dim = names.length;
  if (dim === 0) throw new RunReportError('runReportHtml: no parameters');
  if (data.chains.length === 0) throw new RunReportError('runReportHtml: no chains');
  data.chains.forEach((c, k) => {
    if (c.length === 0 || c.length % dim !== 0) throw new RunReportError(`runReportHtml: chain ${k} has ${c.length} values, not a positive multiple of ${dim} parameters`);
  });
  const ref = data.reference;
  if (ref && (ref.mean.length !== dim || ref.cov.length !== dim * dim)) {
    throw new RunReportError(`runReportHtml: the reference has ${ref.mean.length} means and ${ref.cov.length} covariance entries, expected ${dim} and ${dim * dim}`);
  }
  const chainsOf = (j: number) => data.chains.map((c) => column(c, dim, j));
  const shown = Math.min(dim, options.maxParameters ?? 12);
  const sections: PageSection[] = [];
  const notes = [...(data.notes ?? [])];

  // 1. The summary table, with the reference's moments and the z-score of the mean where known.
  const rows = data.summary.map((s) => {
    const j = names.indexOf(s.name);
    const row: Record<string, unknown> = {
      parameter: s.name,
      mean: s.mean,
      sd: s.sd,
      '5%': s.q5,
      median: s.median,
      '95%': s.q95,
      'R̂': s.rhat,
      'ESS bulk': s.essBulk,
      'ESS tail': s.essTail,
      'MCSE mean': s.mcseMean,
    };
    if (ref && j >= 0) {
      row[`${ref.label} mean`] = ref.mean[j];
      row[`${ref.label} sd`] = Math.sqrt(ref.cov[j * dim + j]);
      row['z vs reference'] = (s.mean - ref.mean[j]) / s.mcseMean;
    }
    return row;
  });
  sections.push({
    title: 'Convergence: R̂ and effective sample size',
    intro:
      'Rank-normalised split R̂ and bulk/tail ESS (Vehtari et al. 2021). Shaded: R̂ > 1.01 (yellow) or > 1.05 (red); ESS under 100 per chain.' +
      (ref ? ` "z vs reference" is (mean − reference mean)/MCSE: it measures the sampler's bias in Monte Carlo standard errors${ref.exact ? '' : ' (against an approximation, so expect some)'}.` : ''),
    html: htmlTable(rows, undefined, summaryCellClass(data.chains.length)),
  });

  // 2. Traces and ranks, 3. marginals.
  const traceFigures: string[] = [];
  const densityFigures: string[] = [];
  for (let j = 0; j < shown; j++) {
    const chains = chainsOf(j);
    traceFigures.push(htmlFigure(await renderSvg(traceSpec(names[j], chains, data.steps), `trace of ${names[j]}`)));
    traceFigures.push(htmlFigure(await renderSvg(rankSpec(names[j], chains), `rank plot of ${names[j]}`)));
    const marginal = ref ? { mean: ref.mean[j], sd: Math.sqrt(ref.cov[j * dim + j]), label: ref.label } : undefined;
    densityFigures.push(htmlFigure(await renderSvg(densitySpec(names[j], chains, marginal), `density of ${names[j]}`)));
  }
  if (shown < dim) notes.push(`Trace, rank and density plots show the first ${shown} of ${dim} parameters (option maxParameters).`);
  sections.push({
    title: 'Trace and rank plots',
    intro: 'Left: each chain’s draws against the step. Right: histograms of each chain’s ranks among all draws; mixing chains are flat at the dashed line.',
    html: `<div class="figures">${traceFigures.join('\n')}</div>`,
  });
  sections.push({
    title: ref ? `Marginal densities against the ${ref.label}` : 'Marginal densities',
    intro: ref ? `Kernel density estimates of the pooled draws; dashed: the ${ref.label}'s marginal.` : 'Kernel density estimates of the pooled draws (no reference posterior for this model).',
    html: `<div class="figures">${densityFigures.join('\n')}</div>`,
  });

  // 4. Pair plot.
  if (dim >= 2) {
    const pair = options.pair ?? [names[0], names[1]];
    const a = names.indexOf(pair[0]);
    const b = names.indexOf(pair[1]);
    if (a < 0 || b < 0 || a === b) throw new RunReportError(`runReportHtml: pair ${pair.join(', ')} must be two different parameters of: ${names.join(', ')}`);
    const reference2 = ref
      ? {
          mean: [ref.mean[a], ref.mean[b]] as const,
          cov: [ref.cov[a * dim + a], ref.cov[a * dim + b], ref.cov[b * dim + a], ref.cov[b * dim + b]] as const,
          label: ref.label,
        }
      : undefined;
    const svg = await renderSvg(pairSpec([names[a], names[b]], chainsOf(a), chainsOf(b), reference2), 'pair plot');
    sections.push({
      title: 'Pair plot',
      intro: ref ? `Draws over the 50 %, 90 % and 99 % contours of the ${ref.label} (its two-dimensional marginal).` : 'Draws of the two parameters.',
      html: `<div class="figures">${htmlFigure(svg)}</div>`,
    });
  }

  // 5. Gradient noise.
  if (data.noise) {
    const t = data.noise.tailIndex;
    const tailTable = t
      ? htmlTable([
          { estimator: 'block-sum, pooled coordinates (Şimşekli et al. 2019)', 'α̂': t.alpha },
          { estimator: 'block-sum, noise norms', 'α̂': t.alphaNorm },
          { estimator: 'Hill', 'α̂': t.alphaHill },
        ])
      : '';
    const values = Array.from(data.noise.eigenvalues);
    const trace = values.reduce((s, v) => s + v, 0);
    sections.push({
      title: 'Gradient noise',
      intro:
        `Eigenvalues of the per-example gradient covariance C at ${data.noise.at} (Tr C = ${trace.toPrecision(4)}; largest/smallest = ${(Math.max(...values) / Math.max(Math.min(...values), Number.MIN_VALUE)).toPrecision(3)}).` +
        (t ? ` Tail index α̂ of the minibatch gradient noise from ${t.samples} minibatches of ${t.batchSize} (α = 2: Gaussian; smaller: heavier tails).` : ''),
      html: `<div class="figures">${htmlFigure(await renderSvg(spectrumSpec(values), 'noise spectrum'))}<div>${tailTable}</div></div>`,
    });
  }

  // 6. Predictive checks.
  const predictive = data.predictive;
  if (predictive?.kind === 'classification') {
    const c = predictive.calibration;
    const table = htmlTable([{ accuracy: predictive.accuracy, ECE: c.ece, MCE: c.maxCalibrationError, ...(predictive.negativeLogLikelihood !== undefined ? { NLL: predictive.negativeLogLikelihood } : {}) }]);
    sections.push({
      title: 'Predictive calibration',
      intro: `Posterior predictive probabilities (averaged over draws) ${predictive.on}: accuracy against confidence in equal-width bins (Guo et al. 2017).`,
      html: `<div class="figures">${htmlFigure(await renderSvg(reliabilitySpec(c.table), 'reliability diagram'))}<div>${table}${htmlTable(c.table.filter((b) => b.count > 0).map((b) => ({ ...b })))}</div></div>`,
    });
  } else if (predictive?.kind === 'regression') {
    sections.push({
      title: 'Predictive interval coverage',
      intro: `Central posterior predictive intervals ${predictive.on}: a calibrated model covers a fraction equal to the level.`,
      html: `<div class="figures">${htmlFigure(await renderSvg(coverageSpec(predictive.coverage), 'coverage'))}<div>${htmlTable(predictive.coverage.map((r) => ({ level: r.level, coverage: r.coverage, 'mean width': r.meanWidth })))}</div></div>`,
    });
  }

  // 7. Sampler info.
  if (data.chainInfo && data.chainInfo.length > 0) {
    sections.push({
      title: 'Sampler statistics per chain',
      intro: 'Averages over the post-burn-in steps of what each step reports.',
      html: htmlTable(data.chainInfo.map((c) => ({ chain: c.chain, draws: c.draws, ...c.infoMean }))),
    });
  }
  if (notes.length > 0) sections.push({ title: 'Notes', html: `<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` });
  return htmlPage({ title: data.title, meta: data.meta, sections });
}

