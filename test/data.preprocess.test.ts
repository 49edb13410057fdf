import { describe, expect, it } from 'vitest';
import { appendIntercept, fitStandardizer, selectRows, type Dataset } from '../src/data/index.js';

function dataset(x: number[][], y: number[]): Dataset {
  return {
    x: Float64Array.from(x.flat()),
    y: Float64Array.from(y),
    rows: x.length,
    cols: x[0].length,
    featureNames: x[0].map((_, c) => `f${c}`),
    targetName: 't',
    source: 'mem',
  };
}

const d = dataset(
  [
    [1, 7, 1e6],
    [2, 7, 1e6 + 2],
    [3, 7, 1e6 + 4],
    [4, 7, 1e6 + 6],
    [100, 7, -5],
  ],
  [10, 20, 30, 40, 1000],
);
const train = [0, 1, 2, 3];

describe('fitStandardizer', () => {
  const s = fitStandardizer(d, train);

  it('fits mean and population sd on the training rows only', () => {
    expect(Array.from(s.xMean)).toEqual([2.5, 7, 1e6 + 3]);
    expect(s.xSd[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(s.xSd[2]).toBeCloseTo(Math.sqrt(5), 9);
    expect([s.yMean, s.ySd]).toEqual([25, Math.sqrt(125)]);
  });

  it('gives a constant column sd 1, so it maps to 0', () => {
    expect(s.xSd[1]).toBe(1);
    const scaled = s.apply(d);
    for (let r = 0; r < d.rows; r++) expect(scaled.x[r * 3 + 1]).toBe(0);
  });

  it('maps the training rows to mean 0 and sd 1, without touching the input', () => {
    const before = d.x.slice();
    const scaled = selectRows(s.apply(d), train);
    expect(Array.from(d.x)).toEqual(Array.from(before));
    for (const c of [0, 2]) {
      const column = Array.from({ length: 4 }, (_, r) => scaled.x[r * 3 + c]);
      const mean = column.reduce((a, b) => a + b) / 4;
      const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(mean).toBeCloseTo(0, 9);
      expect(variance).toBeCloseTo(1, 9);
    }
  });

  it('unscales predictions, sds and log densities back to original units', () => {
    const scaled = s.apply(d);
    for (let r = 0; r < d.rows; r++) expect(s.unscaleY(scaled.y[r])).toBeCloseTo(d.y[r], 9);
    expect(s.unscaleSd(2)).toBeCloseTo(2 * Math.sqrt(125), 12);
    // log N(y; m, sd) in original units equals the scaled density minus log ySd.
    const logNormal = (v: number, m: number, sd: number) => -0.5 * Math.log(2 * Math.PI * sd * sd) - (v - m) ** 2 / (2 * sd * sd);
    const [y, m, sd] = [33, 28, 4];
    const scaledDensity = logNormal((y - s.yMean) / s.ySd, (m - s.yMean) / s.ySd, sd / s.ySd);
    expect(s.unscaleLogDensity(scaledDensity)).toBeCloseTo(logNormal(y, m, sd), 12);
  });

  it('leaves class labels alone with scaleY false', () => {
    const labels = fitStandardizer(d, undefined, { scaleY: false });
    expect([labels.yMean, labels.ySd]).toEqual([0, 1]);
    expect(Array.from(labels.apply(d).y)).toEqual(Array.from(d.y));
  });

  it('rejects bad rows and mismatched datasets', () => {
    expect(() => fitStandardizer(d, [])).toThrow(/no rows/);
    expect(() => fitStandardizer(d, [0, 5])).toThrow(/row index 5 at position 1 is out of range \[0, 5\)/);
    expect(() => s.apply(dataset([[1]], [1]))).toThrow(/1 columns, the standardiser was fitted on 3/);
  });
});

describe('selectRows and appendIntercept', () => {
  it('copies the chosen rows in order', () => {
    const picked = selectRows(d, [4, 0]);
    expect(Array.from(picked.x)).toEqual([100, 7, -5, 1, 7, 1e6]);
    expect(Array.from(picked.y)).toEqual([1000, 10]);
    expect(picked.rows).toBe(2);
    picked.x[0] = -1;
    expect(d.x[12]).toBe(100);
    expect(() => selectRows(d, [1.5])).toThrow(RangeError);
  });

  it('appends a column of ones', () => {
    const withOne = appendIntercept(selectRows(d, [0, 1]));
    expect(withOne.cols).toBe(4);
    expect(withOne.featureNames).toEqual(['f0', 'f1', 'f2', 'intercept']);
    expect(Array.from(withOne.x)).toEqual([1, 7, 1e6, 1, 2, 7, 1e6 + 2, 1]);
  });
});
