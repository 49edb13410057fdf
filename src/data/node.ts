/**
 * Node file readers over the browser-safe parsers, and the datasets shipped in the package's
 * `data/` directory. The only module of `src/data` that touches the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseCsv, type CsvOptions } from './csv.js';
import { DataError } from './errors.js';
import { idxToDataset, parseIdx, type IdxArray } from './idx.js';
import type { Dataset } from './types.js';
import { parseUciFolder, type UciFolder, type UciFolderOptions } from './uci.js';

function describeFsError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  if (code === 'EACCES') return 'permission denied';
  return `cannot read: ${(error as Error).message}`;
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DataError({ file: path }, describeFsError(error));
  }
}

/** Read a UTF-8 text file; a missing or unreadable file throws a `DataError` naming it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError({ file: path }, describeFsError(error));
  }
}

/** Read a CSV file with a header row into a `Dataset` (see `parseCsv`); `source` defaults to `path`. */
export function readCsv(path: string, options: Partial<CsvOptions> = {}): Dataset {
  return parseCsv(readTextFile(path), { ...options, source: options.source ?? path });
}

/** Read a UCI split folder (see `parseUciFolder`); files are `dir/<name>`. */
export function readUciFolder(dir: string, options: Omit<UciFolderOptions, 'pathOf'> = {}): UciFolder {
  return parseUciFolder((name) => readTextFile(join(dir, name)), dir, { ...options, pathOf: (name) => join(dir, name) });
}

/** Read an IDX file, gunzipping it first if it starts with the gzip magic bytes (`.gz` files). */
export function readIdx(path: string): IdxArray {
  let bytes = readBytes(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataError({ file: path }, `corrupt gzip data: ${(error as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}

/**
 * Read MNIST-style IDX images and labels (plain or `.gz`) into a dataset with pixels scaled to
 * [0, 1] (see `idxToDataset`). `limit` keeps the first examples only.
 */
export function readIdxDataset(imagesPath: string, labelsPath: string, options: { limit?: number } = {}): Dataset {
  return idxToDataset(readIdx(imagesPath), readIdx(labelsPath), imagesPath, {
    ...options,
    imagesSource: imagesPath,
    labelsSource: labelsPath,
  });
}

let dataDirectory: string | undefined;

/** The package's `data/` directory: the first ancestor of this module holding `package.json` and `data/README.md`. */
function packageDataDirectory(): string {
  if (dataDirectory) return dataDirectory;
  // From src/data/node.ts (tsx) and dist/data/node.js alike, the package root is an ancestor.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (true) {
    const candidate = join(dir, 'data');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, 'README.md'))) {
      dataDirectory = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`shippedDataPath: no data/ directory found above ${fileURLToPath(import.meta.url)}`);
}

/** The absolute path of a file or folder shipped in the package's `data/` directory. */
export function shippedDataPath(...segments: string[]): string {
  return join(packageDataDirectory(), ...segments);
}

/** Column names of the red wine quality data, in `data.txt` order (Cortez et al. 2009). */
export const WINE_FEATURE_NAMES: readonly string[] = [
  'fixed_acidity',
  'volatile_acidity',
  'citric_acid',
  'residual_sugar',
  'chlorides',
  'free_sulfur_dioxide',
  'total_sulfur_dioxide',
  'density',
  'pH',
  'sulphates',
  'alcohol',
];

/**
 * The shipped red wine quality data (1599 × 11, target `quality`) with its 20 UCI benchmark
 * splits; `dataset` is `uci.dataset`.
 */
export function loadWine(): { dataset: Dataset; uci: UciFolder } {
  const uci = readUciFolder(shippedDataPath('uci', 'wine-quality-red'), {
    featureNames: WINE_FEATURE_NAMES,
    targetName: 'quality',
  });
  return { dataset: uci.dataset, uci };
}

/** The shipped Wisconsin diagnostic breast cancer data: 569 × 30, target `benign` (1 benign, 0 malignant). */
export function loadBreastCancer(): Dataset {
  return readCsv(shippedDataPath('breast-cancer.csv'), { target: 'benign' });
}

/** The shipped optical handwritten digits: 1797 × 64 (8×8 pixels, values 0–16), target `label` (0–9). */
export function loadDigits(): Dataset {
  return readCsv(shippedDataPath('digits.csv'), { target: 'label' });
}
