/**
 * The HTML of a report: one self-contained page (inline CSS, inline SVG figures, no scripts, no
 * network), with tables escaped from their data.
 */

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A number in a table: 4 significant digits, integers as they are, non-finite values by name. */
export function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
    if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(3);
    return String(Number(value.toPrecision(4)));
  }
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One table cell's extra CSS class, e.g. to flag an R̂ above 1.01. */
export type CellClass = (column: string, value: unknown, row: Readonly<Record<string, unknown>>) => string | undefined;

/**
 * An HTML table of rows (objects): columns are `columns` or the union of the rows' keys in order of
 * first appearance; numbers are right-aligned and formatted by {@link formatCell}.
 */
export function htmlTable(rows: readonly Readonly<Record<string, unknown>>[], columns?: readonly string[], cellClass?: CellClass): string {
  const names = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const head = names.map((name) => `<th>${escapeHtml(name)}</th>`).join('');
  const body = rows
    .map((row) => {
      const cells = names.map((name) => {
        const value = row[name];
        const classes = [typeof value === 'number' ? 'num' : '', cellClass?.(name, value, row) ?? ''].filter(Boolean).join(' ');
        return `<td${classes ? ` class="${classes}"` : ''}>${escapeHtml(formatCell(value))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A section of a report page. */
export interface PageSection {
  title: string;
  /** Escaped text shown under the title (optional). */
  intro?: string;
  /** Trusted HTML: tables from {@link htmlTable}, figures from {@link htmlFigure}. */
  html: string;
}

/** A figure with its caption: the SVG is inlined as it is (it comes from vega's renderer). */
export function htmlFigure(svg: string, caption?: string): string {
  return `<figure>${svg}${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2430; background: #fff; margin: 0; padding: 24px 32px; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #dde1e7; padding-bottom: 4px; }
.meta { color: #4a5464; font-size: 13px; margin: 0 0 6px; }
.intro { color: #4a5464; font-size: 13px; max-width: 980px; margin: 0 0 8px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 12px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e6e8eb; text-align: left; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { background: #fde2e1; }
td.warn { background: #fff3d6; }
.figures { display: flex; flex-wrap: wrap; gap: 14px 22px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 12px; color: #4a5464; max-width: 480px; }
footer { margin-top: 32px; font-size: 12px; color: #6a7383; }
`;

/** The whole page: title, meta lines, sections; no scripts and no external resources. */
export function htmlPage(options: { title: string; meta?: readonly string[]; sections: readonly PageSection[]; footer?: string }): string {
  const meta = (options.meta ?? []).map((line) => `<p class="meta">${escapeHtml(line)}</p>`).join('\n');
  const sections = options.sections
    .map((s) => `<section>\n<h2>${escapeHtml(s.title)}</h2>\n${s.intro ? `<p class="intro">${escapeHtml(s.intro)}</p>\n` : ''}${s.html}\n</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${meta}
${sections}
<footer>${escapeHtml(options.footer ?? 'Made by sgbayes; figures drawn with Vega-Lite.')}</footer>
</body>
</html>
`;
}
