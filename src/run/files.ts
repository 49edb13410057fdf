/**
 * Files of a run directory: atomic writes (temporary file, fsync, rename, fsync of the directory)
 * and the per-chain draw files, CSV and Apache Arrow IPC stream, appended as draws come and cut back
 * to a checkpoint's byte lengths on resume.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, writeSync, fstatSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';

/** A draw file that does not match what the run expects (wrong schema, shorter than its checkpoint). */
export class RunFileError extends Error {
  override name = 'RunFileError';
}

/** Flush a directory's entry table to disk, so a rename inside it survives a crash. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
    const code = (error as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replace `path` atomically with `data`: write `path.tmp-<pid>`, fsync it, rename it over `path`,
 * fsync the directory. A reader (or a restarted run) sees the old file or the new one, never a mix.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(temporary, 'w');
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  fsyncDirectory(dirname(path));
}

/** Byte lengths of a chain's draw files. */
export interface DrawFileLengths {
  csv: number;
  arrow: number;
}

/** Names of a chain's files inside the run directory. */
export function chainFileNames(chain: number): { csv: string; arrow: string; checkpoint: string } {
  return {
    csv: `draws-chain${chain}.csv`,
    arrow: `draws-chain${chain}.arrows`,
    checkpoint: `checkpoint-chain${chain}.json`,
  };
}

/** Suffix of the sampler-info columns, as Stan marks its sampler columns (`stepSize__`). */
export const INFO_SUFFIX = '__';

/** Write all of `bytes` at byte `position` (explicit, since files opened 'r+' start at offset 0). */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
}

/** Length of the first IPC message (the schema): 8 bytes of prefix plus its metadata. */
function firstMessageLength(stream: Uint8Array): number {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (view.getUint32(0, true) !== 0xffffffff) throw new RunFileError('Arrow stream does not start with a continuation marker');
  return 8 + view.getInt32(4, true);
}

/**
 * The draw files of one chain: `draws-chain<k>.csv` (header `step,<parameters>,<info>__`, one row
 * per kept draw, numbers in shortest round-trip form) and `draws-chain<k>.arrows` (an Arrow IPC
 * stream: the schema, then one record batch per flush; no end-of-stream marker, which readers treat
 * as the end). Rows are buffered and written at `flush()`, one write per file, before each checkpoint.
 */
export class ChainDrawFiles {
  readonly csvPath: string;
  readonly arrowPath: string;
  private readonly csvFd: number;
  private readonly arrowFd: number;
  private csvLength: number;
  private arrowLength: number;
  private infoColumns: readonly string[] | undefined;
  private csvBuffer: string[] = [];
  private steps: number[] = [];
  private values: number[][] = [];
  private schemaChecked = false;

  /**
   * Open (creating if needed) the chain's draw files in `dir` and cut them to `lengths` (a
   * checkpoint's lengths on resume, zero for a fresh chain), dropping anything written after it.
   * @throws RunFileError if a file is shorter than the checkpoint says: draws were lost.
   */
  constructor(
    dir: string,
    readonly chain: number,
    readonly parameterNames: readonly string[],
    lengths: DrawFileLengths = { csv: 0, arrow: 0 },
    infoColumns?: readonly string[],
  ) {
    const names = chainFileNames(chain);
    this.csvPath = join(dir, names.csv);
    this.arrowPath = join(dir, names.arrow);
    this.csvFd = openSync(this.csvPath, existsSync(this.csvPath) ? 'r+' : 'w+');
    this.arrowFd = openSync(this.arrowPath, existsSync(this.arrowPath) ? 'r+' : 'w+');
    for (const [fd, path, length] of [
      [this.csvFd, this.csvPath, lengths.csv],
      [this.arrowFd, this.arrowPath, lengths.arrow],
    ] as const) {
      const size = fstatSync(fd).size;
      if (size < length) {
        this.close();
        throw new RunFileError(`${path}: has ${size} bytes but its checkpoint recorded ${length}; the draw file was cut short`);
      }
      ftruncateSync(fd, length);
    }
    this.csvLength = lengths.csv;
    this.arrowLength = lengths.arrow;
    this.infoColumns = infoColumns;
  }

  /** Names of the info columns, fixed by the first step's info (without the suffix). */
  get infoNames(): readonly string[] | undefined {
    return this.infoColumns;
  }

  /** Fix the info columns (once, before the first draw). */
  setInfoColumns(names: readonly string[]): void {
    if (this.infoColumns !== undefined) return;
    const columns = ['step', ...this.parameterNames, ...names.map((n) => n + INFO_SUFFIX)];
    const seen = new Set<string>();
    for (const column of columns) {
      if (seen.has(column)) throw new RunFileError(`draw files: column name "${column}" appears twice; rename the data column`);
      seen.add(column);
    }
    this.infoColumns = [...names];
  }

  /** Byte lengths of what has been written (not what is buffered). */
  lengths(): DrawFileLengths {
    return { csv: this.csvLength, arrow: this.arrowLength };
  }

  /** Buffer one kept draw: the step index, the position and the numeric fields of the info. */
  append(step: number, position: ArrayLike<number>, info: object): void {
    const infoNames = this.infoColumns;
    if (infoNames === undefined) throw new RunFileError('ChainDrawFiles.append: setInfoColumns must be called first');
    const row = new Array<number>(position.length + infoNames.length);
    for (let i = 0; i < position.length; i++) row[i] = position[i];
    const record = info as Record<string, unknown>;
    for (let j = 0; j < infoNames.length; j++) row[position.length + j] = infoValue(record[infoNames[j]]);
    this.steps.push(step);
    this.values.push(row);
    this.csvBuffer.push(`${step},${row.map(String).join(',')}\n`);
  }

  /** Write the buffered draws (CSV rows; one Arrow record batch) and fsync both files. */
  flush(): void {
    if (this.steps.length > 0) {
      const infoNames = this.infoColumns ?? [];
      let csvText = this.csvBuffer.join('');
      if (this.csvLength === 0) {
        csvText = `${['step', ...this.parameterNames, ...infoNames.map((n) => n + INFO_SUFFIX)].join(',')}\n${csvText}`;
      }
      const csvBytes = Buffer.from(csvText, 'utf8');
      writeAll(this.csvFd, csvBytes, this.csvLength);
      this.csvLength += csvBytes.length;
      const arrowBytes = this.arrowBatch(infoNames);
      writeAll(this.arrowFd, arrowBytes, this.arrowLength);
      this.arrowLength += arrowBytes.length;
      this.csvBuffer = [];
      this.steps = [];
      this.values = [];
    }
    fsyncSync(this.csvFd);
    fsyncSync(this.arrowFd);
  }

  /** The buffered rows as IPC stream bytes: schema (first batch only) and one record batch, no end marker. */
  private arrowBatch(infoNames: readonly string[]): Uint8Array {
    const columns: Record<string, Int32Array | Float64Array> = { step: Int32Array.from(this.steps) };
    const names = [...this.parameterNames, ...infoNames.map((n) => n + INFO_SUFFIX)];
    names.forEach((name, j) => {
      columns[name] = Float64Array.from(this.values, (row) => row[j]);
    });
    const stream = tableToIPC(tableFromArrays(columns), 'stream');
    const withoutEnd = stream.subarray(0, stream.length - 8);
    if (this.arrowLength === 0) return withoutEnd;
    const schemaLength = firstMessageLength(stream);
    if (!this.schemaChecked) {
      const head = new Uint8Array(schemaLength);
      readSync(this.arrowFd, head, 0, schemaLength, 0);
      if (Buffer.compare(head, stream.subarray(0, schemaLength)) !== 0) {
        throw new RunFileError(`${this.arrowPath}: its schema differs from this run's columns; it belongs to another run`);
      }
      this.schemaChecked = true;
    }
    return withoutEnd.subarray(schemaLength);
  }

  /** Close both files (buffered rows not flushed are dropped). */
  close(): void {
    for (const fd of [this.csvFd, this.arrowFd]) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    }
  }
}

function infoValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

/** The numeric (or boolean) fields of a step info, in their order: the info columns of the draw files. */
export function infoColumnNames(info: object): string[] {
  return Object.entries(info)
    .filter(([, value]) => typeof value === 'number' || typeof value === 'boolean')
    .map(([name]) => name);
}
