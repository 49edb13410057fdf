/**
 * Hand-written SVG figures of the heavy-tails experiment (no plotting package, so they render the
 * same in Node and the browser): the accuracy gap against α, and the estimated tail index of the
 * iterates against α.
 */
import type { HeavyTailsResult, HeavyTailsRow } from './heavyTails.js';
import { summariseByAlpha } from './heavyTails.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#555555'];
const WIDTH = 420;
const HEIGHT = 300;
const MARGIN = { left: 62, right: 118, top: 30, bottom: 46 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

interface Panel {
  title: string;
  yLabel: string;
  /** Per-run points, coloured by group. */
  points: { x: number; y: number; group: string }[];
  /** A line through per-α means. */
  meanLine: { x: number; y: number }[];
  /** An optional dashed reference line y = x. */
  identity?: boolean;
}

function panelSvg(panel: Panel, xs: number[], offsetX: number): string {
  const ys = [...panel.points.map((p) => p.y), ...panel.meanLine.map((p) => p.y)].filter(Number.isFinite);
  if (panel.identity) ys.push(...xs);
  let yLo = Math.min(...ys);
  let yHi = Math.max(...ys);
  const pad = (yHi - yLo) * 0.08 || 0.01;
  yLo -= pad;
  yHi += pad;
  const xLo = Math.min(...xs) - 0.05;
  const xHi = Math.max(...xs) + 0.05;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => offsetX + MARGIN.left + ((x - xLo) / (xHi - xLo)) * plotW;
  const sy = (y: number): number => MARGIN.top + (1 - (y - yLo) / (yHi - yLo)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + WIDTH / 2 - 30}" y="18" text-anchor="middle" font-size="13">${escapeXml(panel.title)}</text>`);
  parts.push(
    `<rect x="${offsetX + MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  for (const t of ticks(xLo, xHi)) {
    parts.push(`<line x1="${sx(t)}" y1="${MARGIN.top + plotH}" x2="${sx(t)}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${sx(t)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  for (const t of ticks(yLo, yHi)) {
    parts.push(`<line x1="${offsetX + MARGIN.left - 4}" y1="${sy(t)}" x2="${offsetX + MARGIN.left}" y2="${sy(t)}" stroke="#333"/>`);
    parts.push(`<text x="${offsetX + MARGIN.left - 6}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${t}</text>`);
  }
  parts.push(`<text x="${offsetX + MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="11">α (driving noise)</text>`);
  parts.push(
    `<text transform="translate(${offsetX + 14},${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeXml(panel.yLabel)}</text>`,
  );
  if (panel.identity) {
    const a = Math.max(xLo, yLo);
    const b = Math.min(xHi, yHi);
    if (b > a) parts.push(`<line x1="${sx(a)}" y1="${sy(a)}" x2="${sx(b)}" y2="${sy(b)}" stroke="#888" stroke-dasharray="4 3"/>`);
  }
  const groups = [...new Set(panel.points.map((p) => p.group))];
  groups.forEach((group, g) => {
    const color = PALETTE[g % PALETTE.length];
    for (const p of panel.points.filter((q) => q.group === group && Number.isFinite(q.y))) {
      // Spread runs sharing an α sideways by group, so overlapping points stay visible.
      const jitter = (g - (groups.length - 1) / 2) * 0.012;
      parts.push(`<circle cx="${sx(p.x + jitter).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.6" fill="${color}" fill-opacity="0.75"/>`);
    }
    const ly = MARGIN.top + 12 + g * 15;
    parts.push(`<circle cx="${offsetX + WIDTH - MARGIN.right + 12}" cy="${ly - 3}" r="3" fill="${color}"/>`);
    parts.push(`<text x="${offsetX + WIDTH - MARGIN.right + 20}" y="${ly}" font-size="10">${escapeXml(group)}</text>`);
  });
  const line = panel.meanLine.filter((p) => Number.isFinite(p.y));
  if (line.length > 1) {
    parts.push(`<polyline fill="none" stroke="#000" stroke-width="1.6" points="${line.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
  }
  const ly = MARGIN.top + 12 + groups.length * 15;
  parts.push(`<line x1="${offsetX + WIDTH - MARGIN.right + 6}" y1="${ly - 3}" x2="${offsetX + WIDTH - MARGIN.right + 18}" y2="${ly - 3}" stroke="#000" stroke-width="1.6"/>`);
  parts.push(`<text x="${offsetX + WIDTH - MARGIN.right + 20}" y="${ly}" font-size="10">mean over runs</text>`);
  return parts.join('\n');
}

const groupOf = (r: HeavyTailsRow): string => `γ=${r.stepSize}, σ=${r.sigma}`;

/**
 * Two panels side by side: the accuracy gap (train − test) of every run against α, coloured by
 * (γ, σ), with the per-α mean; and the block-sum α̂ of the iterates' increments against α, with
 * the line α̂ = α. The caption carries Kendall's τ.
 */
export function heavyTailsPlotSvg(result: HeavyTailsResult): string {
  const finished = result.rows.filter((r) => !r.diverged);
  const xs = result.settings.alphas;
  const summary = summariseByAlpha(result);
  const gap = panelSvg(
    {
      title: `accuracy gap vs α (Kendall τ = ${result.kendallTau.toFixed(2)})`,
      yLabel: 'train acc − test acc',
      points: finished.map((r) => ({ x: r.alpha, y: r.generalizationGap, group: groupOf(r) })),
      meanLine: summary.map((s) => ({ x: s.alpha, y: s.generalizationGap })),
    },
    xs,
    0,
  );
  const tail = panelSvg(
    {
      title: 'tail index of the iterates vs α',
      yLabel: 'α̂ (block-sum, increments)',
      points: finished.map((r) => ({ x: r.alpha, y: r.alphaHat, group: groupOf(r) })),
      meanLine: summary.map((s) => ({ x: s.alpha, y: s.alphaHat })),
      identity: true,
    },
    xs,
    WIDTH,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * WIDTH}" height="${HEIGHT}" viewBox="0 0 ${2 * WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    gap,
    tail,
    '</svg>',
  ].join('\n');
}
