/**
 * CSV with a header row → `Dataset`. Browser-safe: works on strings; `readCsv` in `node.ts` wraps
 * it for files.
 */
import { DataError } from './errors.js';
import { nonBlankLines, parseNumericCell } from './text.js';
import type { Dataset } from './types.js';

/** Options of `parseCsv`. */
export interface CsvOptions {
  /** The file path or a name, used in error messages and as `Dataset.source`. */
  source: string;
  /** The target column's header name. Default: the last column. */
  target?: string;
  /** The feature columns' header names, in the order wanted. Default: every column but the target. */
  columns?: readonly string[];
  /** The cell separator. Default `,`. */
  delimiter?: string;
}

/**
 * Split one CSV line into cells. Cells may be double-quoted (RFC 4180, `""` for a quote inside);
 * a quoted cell may not span lines.
 */
function splitCsvLine(text: string, delimiter: string, file: string, line: number): string[] {
  if (!text.includes('"')) return text.split(delimiter);
  const cells: string[] = [];
  let i = 0;
  while (true) {
    let start = i;
    while (start < text.length && text[start] === ' ') start++;
    if (text[start] === '"') {
      let cell = '';
      let j = start + 1;
      while (true) {
        const close = text.indexOf('"', j);
        if (close < 0) {
          throw new DataError({ file, line, column: cells.length + 1 }, 'unterminated quoted cell');
        }
        cell += text.slice(j, close);
        if (text[close + 1] === '"') {
          cell += '"';
          j = close + 2;
        } else {
          j = close + 1;
          break;
        }
      }
      while (j < text.length && text[j] === ' ') j++;
      cells.push(cell);
      if (j >= text.length) return cells;
      if (!text.startsWith(delimiter, j)) {
        throw new DataError({ file, line, column: cells.length }, 'unexpected text after a closing quote');
      }
      i = j + delimiter.length;
    } else {
      const end = text.indexOf(delimiter, i);
      if (end < 0) {
        cells.push(text.slice(i));
        return cells;
      }
      cells.push(text.slice(i, end));
      i = end + delimiter.length;
    }
  }
}

/**
 * Parse CSV text with a header row into a dense `Dataset`. Only the feature and target columns are
 * parsed as numbers, so other columns (ids, names) may hold text. Every row must have as many
 * cells as the header.
 *
 * @throws DataError naming file, line and column for an empty file, a missing or duplicate column,
 *   a ragged row, an empty, non-numeric or non-finite cell.
 */
export function parseCsv(text: string, options: CsvOptions): Dataset {
  const file = options.source;
  const delimiter = options.delimiter ?? ',';
  if (delimiter === '' || delimiter.includes('"') || /[\r\n]/.test(delimiter)) {
    throw new DataError({ file }, `bad delimiter ${JSON.stringify(delimiter)}`);
  }
  const lines = nonBlankLines(text);
  if (lines.length === 0) throw new DataError({ file }, 'empty file: no header row');
  const headerLine = lines[0].line;
  const header = splitCsvLine(lines[0].text, delimiter, file, headerLine).map((name) => name.trim());
  const columnOf = new Map<string, number>();
  header.forEach((name, c) => {
    if (name === '') throw new DataError({ file, line: headerLine, column: c + 1 }, 'empty column name in the header');
    const earlier = columnOf.get(name);
    if (earlier !== undefined) {
      throw new DataError(
        { file, line: headerLine, column: c + 1 },
        `duplicate column name "${name}" (also column ${earlier + 1})`,
      );
    }
    columnOf.set(name, c);
  });
  const findColumn = (name: string, role: string): number => {
    const c = columnOf.get(name);
    if (c === undefined) {
      throw new DataError(
        { file, line: headerLine },
        `${role} column "${name}" not found; the header has ${header.map((h) => `"${h}"`).join(', ')}`,
      );
    }
    return c;
  };
  const targetColumn = options.target === undefined ? header.length - 1 : findColumn(options.target, 'target');
  const featureColumns = options.columns
    ? options.columns.map((name) => findColumn(name, 'feature'))
    : header.map((_, c) => c).filter((c) => c !== targetColumn);
  if (featureColumns.includes(targetColumn)) {
    throw new DataError({ file, line: headerLine }, `column "${header[targetColumn]}" is both the target and a feature`);
  }
  if (new Set(featureColumns).size !== featureColumns.length) {
    throw new DataError({ file, line: headerLine }, 'a feature column is listed twice in options.columns');
  }
  const rows = lines.length - 1;
  if (rows === 0) throw new DataError({ file, line: headerLine }, 'no data rows after the header');
  const cols = featureColumns.length;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const { text: lineText, line } = lines[r + 1];
    const cells = splitCsvLine(lineText, delimiter, file, line);
    if (cells.length !== header.length) {
      throw new DataError(
        { file, line, column: Math.min(cells.length, header.length) + 1 },
        `expected ${header.length} cells as in the header, found ${cells.length}`,
      );
    }
    for (let j = 0; j < cols; j++) {
      const c = featureColumns[j];
      x[r * cols + j] = parseNumericCell(cells[c], file, line, c + 1, header[c]);
    }
    y[r] = parseNumericCell(cells[targetColumn], file, line, targetColumn + 1, header[targetColumn]);
  }
  return {
    x,
    y,
    rows,
    cols,
    featureNames: featureColumns.map((c) => header[c]),
    targetName: header[targetColumn],
    source: file,
  };
}

function quoteCsvName(name: string, delimiter: string): string {
  if (!name.includes(delimiter) && !/["\r\n]/.test(name) && name.trim() === name) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Write a dataset as CSV text with a header: the feature columns, then the target. Numbers are
 * written in their shortest exact form, so `parseCsv(formatCsv(d))` gives back the same values.
 */
export function formatCsv(dataset: Dataset, delimiter = ','): string {
  const header = [...dataset.featureNames, dataset.targetName].map((name) => quoteCsvName(name, delimiter));
  const out: string[] = [header.join(delimiter)];
  const row: string[] = new Array(dataset.cols + 1);
  for (let r = 0; r < dataset.rows; r++) {
    for (let c = 0; c < dataset.cols; c++) row[c] = String(dataset.x[r * dataset.cols + c]);
    row[dataset.cols] = String(dataset.y[r]);
    out.push(row.join(delimiter));
  }
  return out.join('\n') + '\n';
}
