import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, encodeIdx, idxToDataset, parseIdx } from '../src/data/index.js';
import { readIdx, readIdxDataset } from '../src/data/node.js';

const dir = mkdtempSync(join(tmpdir(), 'sgbayes-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dataErrorOf(f: () => unknown): DataError {
  try {
    f();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

// A 3-image, 2×2 ubyte set and its labels, written byte by byte as the IDX spec describes.
const imageBytes = Uint8Array.from([
  0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
  0, 255, 51, 102,
  1, 2, 3, 4,
  255, 255, 0, 0,
]);
const labelBytes = Uint8Array.from([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 0, 9]);

describe('parseIdx', () => {
  it('decodes hand-written ubyte images and labels', () => {
    const images = parseIdx(imageBytes, 'img');
    expect(images.dims).toEqual([3, 2, 2]);
    expect(images.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(images.data)).toEqual([0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]);
  });

  it('decodes multi-byte types big-endian', () => {
    const int16 = parseIdx(Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]), 's');
    expect(int16.data).toBeInstanceOf(Int16Array);
    expect(Array.from(int16.data)).toEqual([258, -2]);
    const float32 = parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]), 'f');
    expect(Array.from(float32.data)).toEqual([1.5]);
  });

  it('round-trips every type through encodeIdx', () => {
    const cases: [number, fc.Arbitrary<number>][] = [
      [0x08, fc.integer({ min: 0, max: 255 })],
      [0x09, fc.integer({ min: -128, max: 127 })],
      [0x0b, fc.integer({ min: -32768, max: 32767 })],
      [0x0c, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })],
      [0x0d, fc.float({ noNaN: true })],
      [0x0e, fc.double({ noNaN: true })],
    ];
    for (const [typeCode, value] of cases) {
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 24 }), (values) => {
          const dims = [values.length];
          const typed = parseIdx(encodeIdx(dims, Float64Array.from(values), typeCode), 'r');
          expect(typed.dims).toEqual(dims);
          expect(typed.typeCode).toBe(typeCode);
          expect(Array.from(typed.data)).toEqual(values);
        }),
        { numRuns: 50 },
      );
    }
  });

  it.each([
    ['too short', Uint8Array.from([0, 0, 8]), 'too short for an IDX header'],
    ['bad magic', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), 'bad IDX magic number 0x01000801'],
    ['unknown type', Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 0]), 'unknown IDX type code 0x07'],
    ['no dimensions', Uint8Array.from([0, 0, 8, 0]), '0 dimensions'],
    ['truncated header', Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 1]), 'IDX header with 2 dimensions'],
    ['truncated data', imageBytes.subarray(0, imageBytes.length - 1), 'dimensions [3, 2, 2] of ubyte need 28 bytes, the file has 27'],
    ['trailing data', Uint8Array.from([...labelBytes, 1]), 'need 11 bytes, the file has 12'],
  ])('rejects %s', (_, bytes, reason) => {
    const error = dataErrorOf(() => parseIdx(bytes, 'bad.idx'));
    expect(error.file).toBe('bad.idx');
    expect(error.message).toContain(reason);
  });
});

describe('IDX datasets from files', () => {
  const images = join(dir, 'images-idx3-ubyte');
  const labels = join(dir, 'labels-idx1-ubyte');
  writeFileSync(images, imageBytes);
  writeFileSync(labels, labelBytes);
  writeFileSync(`${images}.gz`, gzipSync(imageBytes));
  writeFileSync(`${labels}.gz`, gzipSync(labelBytes));

  it('reads plain and gzipped files alike', () => {
    expect(readIdx(`${images}.gz`)).toEqual(readIdx(images));
  });

  it('scales pixels to [0, 1] and keeps labels', () => {
    for (const suffix of ['', '.gz']) {
      const d = readIdxDataset(images + suffix, labels + suffix);
      expect([d.rows, d.cols, d.targetName]).toEqual([3, 4, 'label']);
      expect(Array.from(d.x.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4]);
      expect(Array.from(d.y)).toEqual([7, 0, 9]);
    }
    expect(readIdxDataset(images, labels, { limit: 2 }).rows).toBe(2);
  });

  it('rejects mismatched counts, non-byte images and corrupt gzip', () => {
    const twoLabels = parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]), 'two');
    expect(() => idxToDataset(parseIdx(imageBytes, 'img'), twoLabels, 'set')).toThrow(/2 labels for 3 images/);
    const floats = parseIdx(encodeIdx([1, 2], Float64Array.from([0.5, 1]), 0x0e), 'f');
    expect(() => idxToDataset(floats, parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 3]), 'l'), 'set')).toThrow(DataError);
    const corrupt = join(dir, 'corrupt.gz');
    writeFileSync(corrupt, gzipSync(imageBytes).subarray(0, 12));
    expect(dataErrorOf(() => readIdx(corrupt)).message).toContain('corrupt gzip data');
  });
});
