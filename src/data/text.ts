/**
 * Line and cell helpers shared by the text readers (CSV, UCI whitespace tables, index lists).
 * Browser-safe: strings in, numbers out, every problem a `DataError` with its location.
 */
import { DataError } from './errors.js';

/** A non-blank line of a text file with its 1-based line number. */
export interface NumberedLine {
  readonly text: string;
  readonly line: number;
}

/**
 * The non-blank lines of a text, numbered from 1 as an editor would show them. Handles LF and CRLF
 * line ends and a leading byte-order mark.
 */
export function nonBlankLines(text: string): NumberedLine[] {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raw = source.split('\n');
  const lines: NumberedLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') lines.push({ text: line, line: i + 1 });
  }
  return lines;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_WORD = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * Parse one numeric cell strictly: a decimal number (optionally signed, with exponent), finite.
 * `Number()` alone would accept "", "0x1f" and "Infinity", so the text is checked first.
 */
export function parseNumericCell(
  cell: string,
  file: string,
  line: number,
  column: number,
  columnName: string,
): number {
  const text = cell.trim();
  if (text === '') throw new DataError({ file, line, column }, `empty cell in column "${columnName}"`);
  if (DECIMAL.test(text)) {
    const value = Number(text);
    if (Number.isFinite(value)) return value;
    throw new DataError({ file, line, column }, `value "${text}" in column "${columnName}" overflows to infinity`);
  }
  if (NON_FINITE_WORD.test(text)) {
    throw new DataError({ file, line, column }, `non-finite value "${text}" in column "${columnName}"`);
  }
  throw new DataError({ file, line, column }, `non-numeric cell "${text}" in column "${columnName}"`);
}

/** A dense numeric table read from text, row-major. */
export interface NumericTable {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Parse a whitespace-separated numeric table without a header (the UCI `data.txt` format). Every
 * row must have as many cells as the first one.
 */
export function parseWhitespaceTable(text: string, file: string): NumericTable {
  const lines = nonBlankLines(text);
  if (lines.length === 0) throw new DataError({ file }, 'empty file: no rows');
  const cols = lines[0].text.trim().split(/\s+/).length;
  const values = new Float64Array(lines.length * cols);
  for (let r = 0; r < lines.length; r++) {
    const { text: lineText, line } = lines[r];
    const cells = lineText.trim().split(/\s+/);
    if (cells.length !== cols) {
      throw new DataError(
        { file, line, column: Math.min(cells.length, cols) + 1 },
        `expected ${cols} cells as on line ${lines[0].line}, found ${cells.length}`,
      );
    }
    for (let c = 0; c < cols; c++) {
      values[r * cols + c] = parseNumericCell(cells[c], file, line, c + 1, `column ${c + 1}`);
    }
  }
  return { values, rows: lines.length, cols };
}

/**
 * Parse a list of integers separated by whitespace or newlines (index files), each in
 * `[0, limit)` and, unless `allowDuplicates`, each at most once.
 */
export function parseIndexList(
  text: string,
  file: string,
  limit: number,
  what: string,
  allowDuplicates = false,
): { indices: Int32Array; lines: Int32Array } {
  const indices: number[] = [];
  const lineOf: number[] = [];
  const firstLine = allowDuplicates ? undefined : new Int32Array(Math.max(limit, 0));
  for (const { text: lineText, line } of nonBlankLines(text)) {
    const cells = lineText.trim().split(/\s+/);
    for (let c = 0; c < cells.length; c++) {
      const value = Number(cells[c]);
      const column = c + 1;
      if (!DECIMAL.test(cells[c]) || !Number.isInteger(value)) {
        throw new DataError({ file, line, column }, `${what} "${cells[c]}" is not an integer`);
      }
      if (value < 0 || value >= limit) {
        throw new DataError({ file, line, column }, `${what} ${value} is out of range [0, ${limit})`);
      }
      if (firstLine) {
        if (firstLine[value] !== 0) {
          throw new DataError({ file, line, column }, `duplicate ${what} ${value} (first on line ${firstLine[value]})`);
        }
        firstLine[value] = line;
      }
      indices.push(value);
      lineOf.push(line);
    }
  }
  return { indices: Int32Array.from(indices), lines: Int32Array.from(lineOf) };
}

/** Parse a file that holds one positive integer (e.g. `n_splits.txt`). */
export function parsePositiveInteger(text: string, file: string): number {
  const lines = nonBlankLines(text);
  if (lines.length === 0) throw new DataError({ file }, 'empty file: expected one positive integer');
  if (lines.length > 1) throw new DataError({ file, line: lines[1].line }, 'expected one positive integer, found more lines');
  const cell = lines[0].text.trim();
  const value = Number(cell);
  if (!/^\d+$/.test(cell) || !Number.isSafeInteger(value) || value < 1) {
    throw new DataError({ file, line: lines[0].line, column: 1 }, `expected a positive integer, found "${cell}"`);
  }
  return value;
}
