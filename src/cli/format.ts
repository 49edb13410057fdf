/** Text and JSON formatting for the CLI's output. */

/** How a table column is aligned. */
export type Align = 'left' | 'right';

/**
 * A plain-text table: a header row, a rule, then the rows; columns padded to their widest cell.
 * @param align per-column alignment (default: first column left, the rest right, as for numbers).
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const columns = headers.length;
  for (const [r, row] of rows.entries()) {
    if (row.length !== columns) {
      throw new RangeError(`formatTable: row ${r} has ${row.length} cells, the header has ${columns}`);
    }
  }
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const alignOf = (c: number): Align => align?.[c] ?? (c === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (alignOf(c) === 'left' ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** A number with `digits` significant digits, switching to exponent form for very small or large values. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4 || magnitude >= 1e6) return value.toExponential(digits - 1);
  return value.toPrecision(digits);
}

/**
 * JSON text for CLI output: typed arrays become plain arrays, and non-finite numbers become strings
 * ("NaN", "Infinity") instead of JSON's silent null.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    },
    indent,
  );
}
