/**
 * A small hand-written SVG line plot on log–log axes (no plotting package needed in Node or the
 * browser), and the excess-risk-against-n figure of the Hilbert-space Langevin experiment.
 */
import { HilbertError } from './errors.js';
import { PREDICTED_SLOPE, type HilbertExperimentResult } from './experiment.js';

/** One line (with optional point markers) of a plot. */
export interface PlotSeries {
  label: string;
  /** (x, y) pairs; both must be > 0 on log axes. */
  points: readonly (readonly [number, number])[];
  /** A CSS colour (default from a fixed palette). */
  color?: string;
  /** Draw dashed (for reference lines). */
  dashed?: boolean;
  /** Draw a circle at each point (default true). */
  markers?: boolean;
}

/** Options of {@link logLogPlotSvg}. */
export interface LogLogPlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Pixel width (default 640). */
  width?: number;
  /** Pixel height (default 420). */
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#555555'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tickLabel(exponent: number): string {
  const value = 10 ** exponent;
  return exponent >= 0 && exponent <= 5 ? String(value) : `1e${exponent}`;
}

/**
 * An SVG document of the series on log10–log10 axes with decade grid lines, tick labels and a legend.
 * @throws HilbertError when a point is not finite and > 0, or there are no points at all.
 */
export function logLogPlotSvg(series: readonly PlotSeries[], options: LogLogPlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 20, top: 40, bottom: 55 };
  const logs: [number, number][] = [];
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!(x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y))) {
        throw new HilbertError(`logLogPlotSvg: series "${s.label}" has the point (${x}, ${y}); log axes need finite values > 0`);
      }
      logs.push([Math.log10(x), Math.log10(y)]);
    }
  }
  if (logs.length === 0) throw new HilbertError('logLogPlotSvg: no points to plot');
  // Data range plus a margin, widened to hold at least one decade tick on each axis.
  const range = (values: number[]): [number, number] => {
    let low = Math.min(...values) - 0.15;
    let high = Math.max(...values) + 0.15;
    if (Math.ceil(low) > Math.floor(high)) [low, high] = [Math.floor(low), Math.ceil(high)];
    return [low, high];
  };
  const [xMin, xMax] = range(logs.map((p) => p[0]));
  const [yMin, yMax] = range(logs.map((p) => p[1]));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const px = (lx: number): number => margin.left + ((lx - xMin) / (xMax - xMin)) * plotW;
  const py = (ly: number): number => margin.top + (1 - (ly - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  for (let e = Math.ceil(xMin); e <= Math.floor(xMax); e++) {
    parts.push(`<line x1="${f(px(e))}" y1="${margin.top}" x2="${f(px(e))}" y2="${margin.top + plotH}" stroke="#ddd"/>`);
    parts.push(`<text x="${f(px(e))}" y="${margin.top + plotH + 18}" text-anchor="middle">${tickLabel(e)}</text>`);
  }
  for (let e = Math.ceil(yMin); e <= Math.floor(yMax); e++) {
    parts.push(`<line x1="${margin.left}" y1="${f(py(e))}" x2="${margin.left + plotW}" y2="${f(py(e))}" stroke="#ddd"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${f(py(e) + 4)}" text-anchor="end">${tickLabel(e)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const coords = s.points.map(([x, y]) => `${f(px(Math.log10(x)))},${f(py(Math.log10(y)))}`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    if (s.markers ?? true) {
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`);
      }
    }
    const ly = margin.top + 16 + 18 * i;
    const lx = margin.left + plotW - 250;
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * The experiment's figure: excess risk of the semi-implicit dynamics against n (regression, and the
 * classification 0–1 excess risk where it is > 0), the fitted log–log line, and the slope −1/2 of the
 * paper's bound in our setting drawn through the regression's first point.
 */
export function excessRiskPlotSvg(result: HilbertExperimentResult): string {
  const series: PlotSeries[] = [];
  for (const kind of ['regression', 'classification'] as const) {
    const rows = result.rows.filter((r) => r.sweep === 'n' && r.task === kind && !r.diverged && r.excessRisk > 0);
    if (rows.length === 0) continue;
    const label = kind === 'regression' ? 'regression: ½E(f − f*)²' : 'classification: P(sign f ≠ sign f*)';
    series.push({ label, points: rows.map((r) => [r.n, r.excessRisk] as const) });
    const fit = result.fits.find((x) => x.task === kind);
    if (fit && rows.length >= 2) {
      const ns = [rows[0].n, rows[rows.length - 1].n];
      series.push({
        label: `${kind} fit: slope ${fit.slope.toFixed(2)}`,
        points: ns.map((n) => [n, Math.exp(fit.intercept) * n ** fit.slope] as const),
        dashed: true,
        markers: false,
      });
    }
    if (kind === 'regression') {
      const predicted = fit?.predictedSlope ?? PREDICTED_SLOPE;
      const [n0, r0] = [rows[0].n, rows[0].excessRisk];
      const nLast = rows[rows.length - 1].n;
      series.push({
        label: `bound's slope ${predicted} (Thm 2, derived)`,
        points: [
          [n0, r0],
          [nLast, r0 * (nLast / n0) ** predicted],
        ],
        color: '#555555',
        dashed: true,
        markers: false,
      });
    }
  }
  return logLogPlotSvg(series, {
    title: 'Hilbert-space Langevin (semi-implicit, β = n, λ = 1/n): excess risk against n',
    xLabel: 'training sample size n',
    yLabel: 'excess risk',
  });
}
