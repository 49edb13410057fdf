import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, formatCsv, parseCsv } from '../src/data/index.js';
import { readCsv } from '../src/data/node.js';

/** Run `f`, expecting a DataError, and return it. */
function dataErrorOf(f: () => unknown): DataError {
  try {
    f();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

describe('parseCsv', () => {
  it('reads features and target by name, skipping text columns and blank lines', () => {
    const d = readCsv('test/fixtures/data/tiny.csv', { target: 'label', columns: ['weight', 'height'] });
    expect(d.rows).toBe(3);
    expect(d.cols).toBe(2);
    expect(d.featureNames).toEqual(['weight', 'height']);
    expect(d.targetName).toBe('label');
    expect(Array.from(d.x)).toEqual([60, 1.5, 72.5, 1.75, -300, 1.62]);
    expect(Array.from(d.y)).toEqual([0, 1, 1]);
    expect(d.source).toBe('test/fixtures/data/tiny.csv');
  });

  it('defaults to the last column as target and every other column as a feature', () => {
    const d = parseCsv('\ufeffa;b;c\r\n1;2;3\r\n4;5;6\r\n', { source: 's', delimiter: ';' });
    expect(d.featureNames).toEqual(['a', 'b']);
    expect(d.targetName).toBe('c');
    expect(Array.from(d.x)).toEqual([1, 2, 4, 5]);
    expect(Array.from(d.y)).toEqual([3, 6]);
  });

  it('handles quoted cells and header names', () => {
    const d = parseCsv('"a,1","b ""q""",y\n"1.5", 2 ,"3"\n', { source: 'q.csv' });
    expect(d.featureNames).toEqual(['a,1', 'b "q"']);
    expect(Array.from(d.x)).toEqual([1.5, 2]);
    expect(Array.from(d.y)).toEqual([3]);
  });

  it('names file, line, column and column name for a bad cell', () => {
    const text = 'fixed_acidity,alcohol,sugar,pH,quality\n' + '1,2,3,4,5\n'.repeat(15) + '1,2,3,abc,5\n';
    const error = dataErrorOf(() => parseCsv(text, { source: 'wine.csv' }));
    expect(error.message).toBe('wine.csv:17:4: non-numeric cell "abc" in column "pH"');
    expect([error.file, error.line, error.column]).toEqual(['wine.csv', 17, 4]);
  });

  it.each<[string, string, string?]>([
    ['', 'empty file'],
    ['\n  \n', 'empty file'],
    ['a,b\n', 'no data rows'],
    ['a,b\n1,2\n', 'target column "y" not found', 'y'],
    ['a,a,y\n1,2,3\n', 'duplicate column name "a"'],
    ['a,,y\n1,2,3\n', 'empty column name'],
    ['a,y\n1,NaN\n', 'non-finite value "NaN" in column "y"'],
    ['a,y\n-inf,1\n', 'non-finite value "-inf" in column "a"'],
    ['a,y\n1e400,1\n', 'overflows to infinity'],
    ['a,y\n0x10,1\n', 'non-numeric cell "0x10"'],
    ['a,y\n,1\n', 'empty cell in column "a"'],
    ['a,y\n1\n', 'expected 2 cells as in the header, found 1'],
    ['a,y\n"1,2\n', 'unterminated quoted cell'],
  ])('rejects %j with "%s"', (text, reason, target) => {
    const error = dataErrorOf(() => parseCsv(text, { source: 'f.csv', target }));
    expect(error.message).toContain(reason);
    expect(error.file).toBe('f.csv');
  });

  it('reports a missing file as a DataError naming it', () => {
    const error = dataErrorOf(() => readCsv('test/fixtures/data/no-such.csv'));
    expect(error.message).toBe('test/fixtures/data/no-such.csv: file not found');
  });
});

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));
const columnName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_ .-]{0,7}$/).map((s) => s.trim()).filter((s) => s !== '');
const table = fc
  .tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 8 }))
  .chain(([cols, rows]) =>
    fc.record({
      names: fc.uniqueArray(columnName, { minLength: cols, maxLength: cols }),
      values: fc.array(fc.array(finiteDouble, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }),
      lineEnd: fc.constantFrom('\n', '\r\n'),
      pad: fc.constantFrom('', ' ', '  '),
    }),
  );

function toText(names: string[], values: number[][], lineEnd: string, pad: string): string {
  const lines = [names.join(','), ...values.map((row) => row.map((v) => `${pad}${String(v)}${pad}`).join(','))];
  return lines.join(lineEnd) + lineEnd;
}

describe('parseCsv properties', () => {
  it('round-trips random numeric tables through CSV text exactly', () => {
    fc.assert(
      fc.property(table, ({ names, values, lineEnd, pad }) => {
        const d = parseCsv(toText(names, values, lineEnd, pad), { source: 'p.csv' });
        const cols = names.length - 1;
        expect(d.rows).toBe(values.length);
        expect(d.featureNames).toEqual(names.slice(0, cols));
        expect(Array.from(d.x)).toEqual(values.flatMap((row) => row.slice(0, cols)));
        expect(Array.from(d.y)).toEqual(values.map((row) => row[cols]));
        const again = parseCsv(formatCsv(d), { source: 'p.csv' });
        expect(again).toEqual(d);
      }),
      { numRuns: 300 },
    );
  });

  const nonNumeric = fc.oneof(
    fc.constantFrom('abc', '1.2.3', '--1', '0x10', '', ' ', 'NaN', 'inf', '-Infinity', '1e', '.', '1;5'),
    fc.string({ maxLength: 6 }).filter((s) => !/[",\n\r]/.test(s) && !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s.trim())),
  );

  it('a cell replaced by a non-numeric one gives a DataError at its line and column', () => {
    fc.assert(
      fc.property(table, nonNumeric, fc.nat(), fc.nat(), ({ names, values }, bad, rowPick, colPick) => {
        const r = rowPick % values.length;
        const c = colPick % names.length;
        const cells = values.map((row) => row.map(String));
        cells[r][c] = bad;
        const text = [names.join(','), ...cells.map((row) => row.join(','))].join('\n');
        const error = dataErrorOf(() => parseCsv(text, { source: 't.csv' }));
        expect([error.line, error.column]).toEqual([r + 2, c + 1]);
        expect(error.message.startsWith(`t.csv:${r + 2}:${c + 1}: `)).toBe(true);
        expect(error.message).toContain(`column "${names[c]}"`);
      }),
      { numRuns: 300 },
    );
  });

  it('a dropped or inserted cell gives a ragged-row DataError at its line', () => {
    fc.assert(
      fc.property(table, fc.boolean(), fc.nat(), fc.nat(), ({ names, values }, drop, rowPick, colPick) => {
        const r = rowPick % values.length;
        const cells = values.map((row) => row.map(String));
        if (drop) cells[r].splice(colPick % names.length, 1);
        else cells[r].splice(colPick % (names.length + 1), 0, '7');
        const text = [names.join(','), ...cells.map((row) => row.join(','))].join('\n');
        const error = dataErrorOf(() => parseCsv(text, { source: 't.csv' }));
        const n = names.length;
        // The first cell position that does not exist in the row (drop) or in the header (insert).
        const column = drop ? n : n + 1;
        expect([error.line, error.column]).toEqual([r + 2, column]);
        expect(error.message).toContain(`expected ${n} cells as in the header, found ${drop ? n - 1 : n + 1}`);
      }),
      { numRuns: 300 },
    );
  });
});
