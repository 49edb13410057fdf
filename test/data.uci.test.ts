import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, parseUciFolder } from '../src/data/index.js';
import { readUciFolder } from '../src/data/node.js';

const fixture = 'test/fixtures/data/tiny-uci';

/** The tiny fixture as an in-memory folder, with some files replaced. */
function memoryFolder(overrides: Record<string, string | undefined> = {}): (name: string) => string {
  const files: Record<string, string | undefined> = {
    'data.txt': '1 10 0.5 100\n2 20 1.5 200\n3 30 2.5 300\n4 40 3.5 400\n',
    'index_features.txt': '0\n2\n',
    'index_target.txt': '3\n',
    'index_train_0.txt': '0\n1\n2\n',
    'index_test_0.txt': '3\n',
    'n_splits.txt': '1\n',
    'n_hidden.txt': '50\n',
    'n_epochs.txt': '40\n',
    ...overrides,
  };
  return (name) => {
    const text = files[name];
    if (text === undefined) throw new DataError({ file: `mem/${name}` }, 'file not found');
    return text;
  };
}

function dataErrorOf(f: () => unknown): DataError {
  try {
    f();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

describe('readUciFolder', () => {
  it('reads the fixture: features and target by column index, counts, splits', () => {
    const uci = readUciFolder(fixture);
    expect([uci.dataset.rows, uci.dataset.cols, uci.nSplits, uci.nHidden, uci.nEpochs]).toEqual([6, 2, 2, 7, 3]);
    expect(Array.from(uci.dataset.x.subarray(0, 4))).toEqual([1, 0.5, 2, 1.5]);
    expect(Array.from(uci.dataset.y)).toEqual([100, 200, 300, 400, 500, 600]);
    expect(uci.dataset.featureNames).toEqual(['x0', 'x2']);
    expect(uci.dataset.source).toBe(fixture);
    expect(Array.from(uci.split(1).train)).toEqual([5, 4, 3, 2]);
    expect(Array.from(uci.split(1).test)).toEqual([1, 0]);
  });

  it('returns fresh split arrays, so a caller cannot corrupt the cache', () => {
    const uci = readUciFolder(fixture);
    uci.split(0).train.fill(9);
    expect(Array.from(uci.split(0).train)).toEqual([0, 1, 2, 3]);
  });

  it('rejects a split number out of range', () => {
    expect(() => readUciFolder(fixture).split(2)).toThrow(RangeError);
  });

  it('names the missing file of a folder', () => {
    const error = dataErrorOf(() => readUciFolder('test/fixtures/data/no-such-folder'));
    expect(error.file).toBe(join('test/fixtures/data/no-such-folder', 'data.txt'));
    expect(error.message).toContain('file not found');
  });
});

describe('parseUciFolder validation', () => {
  it.each<[string, Record<string, string>, string, number | undefined, number | undefined, string]>([
    ['row index out of range', { 'index_train_0.txt': '0\n4\n' }, 'index_train_0.txt', 2, 1, 'row index 4 is out of range [0, 4)'],
    ['negative row index', { 'index_test_0.txt': '-1\n' }, 'index_test_0.txt', 1, 1, 'out of range'],
    ['duplicate row index', { 'index_train_0.txt': '0\n1\n\n1\n' }, 'index_train_0.txt', 4, 1, 'duplicate row index 1 (first on line 2)'],
    ['train/test overlap', { 'index_test_0.txt': '3\n2\n' }, 'index_test_0.txt', 2, undefined, 'row index 2 is also in index_train_0.txt'],
    ['non-integer index', { 'index_train_0.txt': '0\n1.5\n' }, 'index_train_0.txt', 2, 1, '"1.5" is not an integer'],
    ['ragged data row', { 'data.txt': '1 2 3 4\n1 2 3\n' }, 'data.txt', 2, 4, 'expected 4 cells as on line 1, found 3'],
    ['non-numeric data cell', { 'data.txt': '1 2 3 4\n1 2 x 4\n' }, 'data.txt', 2, 3, 'non-numeric cell "x" in column "column 3"'],
    ['NaN data cell', { 'data.txt': '1 2 3 nan\n' }, 'data.txt', 1, 4, 'non-finite value "nan"'],
    ['empty data file', { 'data.txt': '\n' }, 'data.txt', undefined, undefined, 'empty file'],
    ['feature column out of range', { 'index_features.txt': '0\n4\n' }, 'index_features.txt', 2, 1, 'feature column 4 is out of range [0, 4)'],
    ['target among features', { 'index_features.txt': '0\n3\n' }, 'index_features.txt', 2, undefined, 'also the target column'],
    ['two target columns', { 'index_target.txt': '2\n3\n' }, 'index_target.txt', undefined, undefined, 'expected one target column, found 2'],
    ['bad split count', { 'n_splits.txt': 'twenty\n' }, 'n_splits.txt', 1, 1, 'expected a positive integer, found "twenty"'],
    ['zero epochs', { 'n_epochs.txt': '0\n' }, 'n_epochs.txt', 1, 1, 'expected a positive integer'],
  ])('%s', (_, overrides, file, line, column, reason) => {
    const error = dataErrorOf(() => parseUciFolder(memoryFolder(overrides), 'mem').split(0));
    expect([error.file, error.line, error.column]).toEqual([`mem/${file}`, line, column]);
    expect(error.message).toContain(reason);
  });

  it('uses given feature and target names', () => {
    const uci = parseUciFolder(memoryFolder(), 'mem', { featureNames: ['a', 'c'], targetName: 'd' });
    expect(uci.dataset.featureNames).toEqual(['a', 'c']);
    expect(uci.dataset.targetName).toBe('d');
    expect(() => parseUciFolder(memoryFolder(), 'mem', { featureNames: ['a'] })).toThrow(/1 feature names given for 2/);
  });
});
