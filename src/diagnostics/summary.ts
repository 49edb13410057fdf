/**
 * Posterior summary table of a multi-chain trace, with the columns of Stan's and ArviZ's summaries:
 * mean, sd, quantiles, rank-normalised R̂, bulk and tail ESS, and MCSE of the mean (Vehtari et
 * al. 2021).
 */
import { DrawsShapeError, essBulk, essTail, mcseMean, rhat, sortedQuantile } from './convergence.js';

/**
 * A trace: either chains × draws × dim (`trace[c][s][j]`), or one flat row-major draws × dim
 * `Float64Array` per chain (as `sampleNuts` returns; then `dim` must be given or follow from `names`).
 */
export type Trace = readonly (readonly ArrayLike<number>[])[] | readonly Float64Array[];

/** Summary of one parameter. */
export interface ParameterSummary {
  name: string;
  mean: number;
  /** Standard deviation over all draws (divisor S − 1). */
  sd: number;
  q5: number;
  q25: number;
  median: number;
  q75: number;
  q95: number;
  rhat: number;
  essBulk: number;
  essTail: number;
  mcseMean: number;
}

/** Options of {@link summary}. */
export interface SummaryOptions {
  /** Parameter names (default θ[0], θ[1], …). */
  names?: readonly string[];
  /** Number of parameters, required for flat per-chain traces unless `names` is given. */
  dim?: number;
}

function isFlatTrace(trace: Trace): boolean {
  return trace[0] instanceof Float64Array || typeof (trace[0] as ArrayLike<unknown>)?.[0] === 'number';
}

/** Reorganise a trace into per-parameter chains × draws arrays. */
export function traceToParameterChains(trace: Trace, dim?: number): Float64Array[][] {
  if (!Array.isArray(trace) || trace.length === 0) throw new DrawsShapeError('summary: the trace has no chains');
  if (isFlatTrace(trace)) {
    if (dim === undefined || !Number.isInteger(dim) || dim < 1) {
      throw new DrawsShapeError('summary: a flat per-chain trace (draws × dim) needs options.dim or options.names');
    }
    const chains = trace as readonly ArrayLike<number>[];
    const numDraws = chains[0].length / dim;
    chains.forEach((chain, c) => {
      if (chain.length !== numDraws * dim || !Number.isInteger(numDraws)) {
        throw new DrawsShapeError(`summary: chain ${c} has ${chain.length} values, not draws × ${dim} with the draws of chain 0`);
      }
    });
    return Array.from({ length: dim }, (_, j) =>
      chains.map((chain) => Float64Array.from({ length: numDraws }, (_, s) => chain[s * dim + j])),
    );
  }
  const chains = trace as readonly (readonly ArrayLike<number>[])[];
  const numDraws = chains[0].length;
  const width = chains[0][0]?.length;
  if (!(width >= 1)) throw new DrawsShapeError('summary: trace[0][0] is not a parameter vector');
  if (dim !== undefined && dim !== width) throw new DrawsShapeError(`summary: options say dim ${dim} but draws have ${width} entries`);
  chains.forEach((chain, c) => {
    if (chain.length !== numDraws) throw new DrawsShapeError(`summary: chain ${c} has ${chain.length} draws but chain 0 has ${numDraws}`);
    chain.forEach((draw, s) => {
      if (draw?.length !== width) throw new DrawsShapeError(`summary: trace[${c}][${s}] has ${draw?.length} entries, expected ${width}`);
    });
  });
  return Array.from({ length: width }, (_, j) => chains.map((chain) => Float64Array.from(chain, (draw) => draw[j])));
}

/** Summarise each parameter of a multi-chain trace (see {@link ParameterSummary}). */
export function summary(trace: Trace, options: SummaryOptions = {}): ParameterSummary[] {
  const flat = Array.isArray(trace) && trace.length > 0 && isFlatTrace(trace);
  const perParameter = traceToParameterChains(trace, options.dim ?? (flat ? options.names?.length : undefined));
  if (options.names && options.names.length !== perParameter.length) {
    throw new DrawsShapeError(`summary: ${options.names.length} names for ${perParameter.length} parameters`);
  }
  return perParameter.map((chains, j) => {
    const all = new Float64Array(chains.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chain of chains) {
      all.set(chain, offset);
      offset += chain.length;
    }
    let mean = 0;
    for (const x of all) mean += x;
    mean /= all.length;
    let squares = 0;
    for (const x of all) squares += (x - mean) ** 2;
    const sorted = all.slice().sort();
    const splittable = chains[0].length >= 2;
    return {
      name: options.names?.[j] ?? `θ[${j}]`,
      mean,
      sd: Math.sqrt(squares / (all.length - 1)),
      q5: sortedQuantile(sorted, 0.05),
      q25: sortedQuantile(sorted, 0.25),
      median: sortedQuantile(sorted, 0.5),
      q75: sortedQuantile(sorted, 0.75),
      q95: sortedQuantile(sorted, 0.95),
      rhat: splittable ? rhat(chains) : NaN,
      essBulk: splittable ? essBulk(chains) : NaN,
      essTail: splittable ? essTail(chains) : NaN,
      mcseMean: splittable ? mcseMean(chains) : NaN,
    };
  });
}

/** The summary as a fixed-width text table (for the CLI and logs). */
export function formatSummary(rows: readonly ParameterSummary[]): string {
  const columns: [string, (r: ParameterSummary) => string][] = [
    ['name', (r) => r.name],
    ['mean', (r) => r.mean.toPrecision(4)],
    ['sd', (r) => r.sd.toPrecision(3)],
    ['5%', (r) => r.q5.toPrecision(4)],
    ['50%', (r) => r.median.toPrecision(4)],
    ['95%', (r) => r.q95.toPrecision(4)],
    ['R̂', (r) => r.rhat.toFixed(3)],
    ['ess_bulk', (r) => r.essBulk.toFixed(0)],
    ['ess_tail', (r) => r.essTail.toFixed(0)],
    ['mcse', (r) => r.mcseMean.toPrecision(2)],
  ];
  const cells = [columns.map(([title]) => title), ...rows.map((r) => columns.map(([, format]) => format(r)))];
  const widths = columns.map((_, k) => Math.max(...cells.map((line) => line[k].length)));
  return cells.map((line) => line.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ')).join('\n');
}
