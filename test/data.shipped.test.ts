import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitStandardizer } from '../src/data/index.js';
import { loadBreastCancer, loadDigits, loadWine, shippedDataPath } from '../src/data/node.js';

describe('shipped datasets', () => {
  it('finds the package data directory', () => {
    expect(existsSync(shippedDataPath('README.md'))).toBe(true);
    expect(readFileSync(shippedDataPath('README.md'), 'utf8')).toContain('CC BY 4.0');
  });

  it('loads red wine with its 20 valid UCI splits', () => {
    const { dataset, uci } = loadWine();
    expect([dataset.rows, dataset.cols, dataset.targetName, uci.nSplits, uci.nHidden, uci.nEpochs]).toEqual([1599, 11, 'quality', 20, 50, 40]);
    expect(dataset.featureNames[8]).toBe('pH');
    expect(Array.from(dataset.x.subarray(0, 11))).toEqual([7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]);
    expect(dataset.y[0]).toBe(5);
    for (let k = 0; k < uci.nSplits; k++) {
      const { train, test } = uci.split(k); // throws on a bad, duplicate or overlapping index
      expect(train.length + test.length).toBe(1599);
    }
    // Mean wine quality is 5.636 (Cortez et al. 2009); standardising on split 0 stays close to it.
    const standardizer = fitStandardizer(dataset, uci.split(0).train);
    expect(standardizer.yMean).toBeGreaterThan(5.5);
    expect(standardizer.yMean).toBeLessThan(5.8);
  });

  it('loads breast cancer: 569 × 30, 357 benign', () => {
    const d = loadBreastCancer();
    expect([d.rows, d.cols, d.targetName]).toEqual([569, 30, 'benign']);
    expect(d.y.reduce((a, b) => a + b)).toBe(357);
  });

  it('loads digits: 1797 × 64, pixels 0–16, labels 0–9', () => {
    const d = loadDigits();
    expect([d.rows, d.cols, d.targetName]).toEqual([1797, 64, 'label']);
    expect(Math.min(...d.x)).toBe(0);
    expect(Math.max(...d.x)).toBe(16);
    expect(new Set(d.y).size).toBe(10);
  });
});
