/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * magic `0x00 0x00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the values
 * big-endian, row-major. Browser-safe: bytes in; `readIdx` in `node.ts` reads (and gunzips) files.
 */
import { DataError } from './errors.js';
import type { Dataset } from './types.js';

/** The typed array an IDX type code decodes to. */
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array. */
export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  /** The values, row-major, in the type named by `typeCode`. */
  readonly data: IdxValues;
  /** The IDX type code: 0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. */
  readonly typeCode: number;
}

interface IdxType {
  readonly name: string;
  readonly bytes: number;
  decode(view: DataView, offset: number, count: number): IdxValues;
}

const IDX_TYPES: ReadonlyMap<number, IdxType> = new Map<number, IdxType>([
  [0x08, { name: 'ubyte', bytes: 1, decode: (v, o, n) => new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n)) }],
  [0x09, { name: 'byte', bytes: 1, decode: (v, o, n) => new Int8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n)) }],
  [0x0b, { name: 'int16', bytes: 2, decode: (v, o, n) => Int16Array.from({ length: n }, (_, i) => v.getInt16(o + 2 * i)) }],
  [0x0c, { name: 'int32', bytes: 4, decode: (v, o, n) => Int32Array.from({ length: n }, (_, i) => v.getInt32(o + 4 * i)) }],
  [0x0d, { name: 'float32', bytes: 4, decode: (v, o, n) => Float32Array.from({ length: n }, (_, i) => v.getFloat32(o + 4 * i)) }],
  [0x0e, { name: 'float64', bytes: 8, decode: (v, o, n) => Float64Array.from({ length: n }, (_, i) => v.getFloat64(o + 8 * i)) }],
]);

/**
 * Decode an IDX file's bytes. The values are copied, so `bytes` may be reused.
 *
 * @throws DataError naming `source` for a short file, a bad magic number, an unknown type code,
 *   or a size that does not match the dimensions.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const file = source;
  if (bytes.length < 4) throw new DataError({ file }, `${bytes.length} bytes is too short for an IDX header (4 bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new DataError({ file }, `bad IDX magic number 0x${magic}: an IDX file starts with two zero bytes`);
  }
  const typeCode = bytes[2];
  const type = IDX_TYPES.get(typeCode);
  if (!type) throw new DataError({ file }, `unknown IDX type code 0x${typeCode.toString(16).padStart(2, '0')}`);
  const ndims = bytes[3];
  if (ndims === 0) throw new DataError({ file }, 'IDX header declares 0 dimensions');
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError({ file }, `${bytes.length} bytes is too short for an IDX header with ${ndims} dimensions (${headerBytes} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d);
    dims.push(size);
    count *= size;
  }
  const expected = headerBytes + count * type.bytes;
  if (bytes.length !== expected) {
    throw new DataError(
      { file },
      `IDX size mismatch: dimensions [${dims.join(', ')}] of ${type.name} need ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  return { dims, data: type.decode(view, headerBytes, count), typeCode };
}

/** Options of `idxToDataset`. */
export interface IdxDatasetOptions {
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Source name of the images file, for messages. */
  imagesSource?: string;
  /** Source name of the labels file, for messages. */
  labelsSource?: string;
}

/**
 * Build a classification dataset from decoded IDX images (unsigned bytes, `[n, ...]`) and labels
 * (integers, `[n]`): each image flattened to a row of pixels scaled to [0, 1] (divided by 255),
 * features named `px0`, `px1`, …, target `label`.
 *
 * @throws DataError if the images are not unsigned bytes, the labels are not a 1-d integer array,
 *   or their counts differ.
 */
export function idxToDataset(images: IdxArray, labels: IdxArray, source: string, options: IdxDatasetOptions = {}): Dataset {
  const imagesFile = options.imagesSource ?? `${source} (images)`;
  const labelsFile = options.labelsSource ?? `${source} (labels)`;
  if (images.typeCode !== 0x08) throw new DataError({ file: imagesFile }, 'IDX images must be unsigned bytes (type 0x08)');
  if (images.dims.length < 2) throw new DataError({ file: imagesFile }, `IDX images need at least 2 dimensions, found ${images.dims.length}`);
  if (labels.dims.length !== 1) throw new DataError({ file: labelsFile }, `IDX labels must be 1-dimensional, found ${labels.dims.length} dimensions`);
  if (labels.typeCode === 0x0d || labels.typeCode === 0x0e) throw new DataError({ file: labelsFile }, 'IDX labels must be integers');
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new DataError({ file: labelsFile }, `${labels.dims[0]} labels for ${n} images in ${imagesFile}`);
  }
  const limit = options.limit ?? n;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`idxToDataset: limit must be a positive integer, got ${limit}`);
  const rows = Math.min(n, limit);
  const cols = images.dims.slice(1).reduce((a, b) => a * b, 1);
  const x = new Float64Array(rows * cols);
  const pixels = images.data;
  for (let i = 0; i < rows * cols; i++) x[i] = pixels[i] / 255;
  const y = Float64Array.from(labels.data.subarray(0, rows));
  return {
    x,
    y,
    rows,
    cols,
    featureNames: Array.from({ length: cols }, (_, i) => `px${i}`),
    targetName: 'label',
    source,
  };
}

/**
 * Encode an array as IDX bytes (the inverse of `parseIdx`), for writing fixtures and subsets.
 */
export function encodeIdx(dims: readonly number[], data: IdxValues, typeCode: number): Uint8Array {
  const type = IDX_TYPES.get(typeCode);
  if (!type) throw new RangeError(`encodeIdx: unknown IDX type code 0x${typeCode.toString(16)}`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`encodeIdx: ${data.length} values for dimensions [${dims.join(', ')}]`);
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + count * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size));
  for (let i = 0; i < count; i++) {
    const o = headerBytes + i * type.bytes;
    switch (typeCode) {
      case 0x08: view.setUint8(o, data[i]); break;
      case 0x09: view.setInt8(o, data[i]); break;
      case 0x0b: view.setInt16(o, data[i]); break;
      case 0x0c: view.setInt32(o, data[i]); break;
      case 0x0d: view.setFloat32(o, data[i]); break;
      default: view.setFloat64(o, data[i]);
    }
  }
  return out;
}
