/** The error every data reader throws on bad input, naming the file, line and column. */

/** Where a problem in a data file is: 1-based line and column where they apply. */
export interface DataErrorLocation {
  /** The file path or source name. */
  file: string;
  /** 1-based line number (text formats), if the problem is on a line. */
  line?: number;
  /** 1-based column (cell) number, if the problem is in one cell. */
  column?: number;
}

/**
 * Bad input data: a ragged row, a non-numeric or non-finite cell, an index out of range, an empty
 * file, a missing column, a bad IDX header. The message starts with `file:line:column:` (the parts
 * that apply), e.g. `wine.csv:17:4: non-numeric cell "abc" in column "pH"`.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(location: DataErrorLocation, reason: string) {
    super(`${formatLocation(location)}: ${reason}`);
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    this.reason = reason;
  }
}

function formatLocation({ file, line, column }: DataErrorLocation): string {
  if (line === undefined) return file;
  if (column === undefined) return `${file}:${line}`;
  return `${file}:${line}:${column}`;
}
