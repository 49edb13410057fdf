import { describe, expect, it } from 'vitest';
import { formatNumber, formatTable, toJson } from '../src/cli/format.js';

describe('cli format', () => {
  it('pads table columns to their widest cell, names left and numbers right', () => {
    const text = formatTable(['name', 'value'], [
      ['a', '1.5'],
      ['longer', '-22.25'],
    ]);
    expect(text.split('\n')).toEqual(['name     value', '------  ------', 'a          1.5', 'longer  -22.25']);
    expect(() => formatTable(['a', 'b'], [['only one']])).toThrow(/row 0 has 1 cells, the header has 2/);
  });

  it('formats numbers to significant digits, with exponents for extremes', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(1.284e-14)).toBe('1.284e-14');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });

  it('writes typed arrays as arrays and keeps non-finite numbers visible', () => {
    const parsed = JSON.parse(toJson({ v: Float64Array.of(1, 2), bad: Number.NaN, inf: -Infinity })) as Record<string, unknown>;
    expect(parsed).toEqual({ v: [1, 2], bad: 'NaN', inf: '-Infinity' });
  });
});
