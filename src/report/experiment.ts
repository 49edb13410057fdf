/**
 * The HTML report of an `experiment` command: its results table and figures on one self-contained
 * page (browser-safe; `writeExperimentReport` in ./node.ts writes it to a file).
 */
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, htmlFigure, htmlPage, htmlTable } from './html.js';
import { renderSvg } from './vega.js';

/** One figure of an experiment report: a Vega-Lite spec to render, or a ready SVG. */
export interface ExperimentFigure {
  /** A Vega-Lite spec (see ./figures.ts for `lineSpec`, `scatterSpec`, `barSpec`). */
  spec?: TopLevelSpec;
  /** Or an SVG string, inlined as it is. */
  svg?: string;
  caption?: string;
}

/** What an experiment report shows. */
export interface ExperimentReport {
  title: string;
  /** A paragraph on what the experiment measures (plain text). */
  description?: string;
  /** Lines under the title (e.g. the command line, seeds, the machine). */
  meta?: string[];
  /** The results table, one object per row. */
  rows: readonly Readonly<Record<string, unknown>>[];
  /** Column order (default: keys in order of first appearance). */
  columns?: readonly string[];
  figures?: readonly ExperimentFigure[];
  /** Remarks shown at the end (plain text). */
  notes?: readonly string[];
}

/** Thrown for a figure with neither or both of `spec` and `svg`. */
export class ExperimentReportError extends Error {
  override name = 'ExperimentReportError';
}

/** The experiment report page: description, table, figures (rendered to inline SVG), notes. */
export async function experimentReportHtml(report: ExperimentReport): Promise<string> {
  const figures: string[] = [];
  for (const [k, figure] of (report.figures ?? []).entries()) {
    if ((figure.spec === undefined) === (figure.svg === undefined)) {
      throw new ExperimentReportError(`experiment report '${report.title}': figure ${k + 1} needs exactly one of spec and svg`);
    }
    const svg = figure.svg ?? (await renderSvg(figure.spec as TopLevelSpec, `'${report.title}' figure ${k + 1}`));
    figures.push(htmlFigure(svg, figure.caption));
  }
  const sections = [{ title: 'Results', intro: report.description, html: report.rows.length > 0 ? htmlTable(report.rows, report.columns) : '<p>(no rows)</p>' }];
  if (figures.length > 0) sections.push({ title: 'Figures', intro: undefined, html: `<div class="figures">${figures.join('\n')}</div>` });
  if (report.notes && report.notes.length > 0) {
    sections.push({ title: 'Notes', intro: undefined, html: `<ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` });
  }
  return htmlPage({ title: report.title, meta: report.meta, sections });
}
