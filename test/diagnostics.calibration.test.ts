import { describe, expect, it } from 'vitest';
import { key, normal } from '../src/core/random.js';
import {
  CalibrationInputError,
  brierScore,
  expectedCalibrationError,
  gaussianNegativeLogLikelihood,
  intervalCoverage,
  negativeLogLikelihood,
} from '../src/diagnostics/calibration.js';

// Binary fixture: P(y = 1) and labels.
const pBinary = [0.9, 0.2, 0.6, 0.4];
const yBinary = [1, 0, 0, 1];
// Multiclass fixture: rows of class probabilities.
const pMulti = [
  [0.7, 0.2, 0.1],
  [0.1, 0.5, 0.4],
  [0.3, 0.3, 0.4],
];
const yMulti = [0, 2, 2];

describe('negativeLogLikelihood', () => {
  it('binary, by hand', () => {
    // True-class probabilities 0.9, 0.8, 0.4, 0.4.
    const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(0.4)) / 4;
    expect(negativeLogLikelihood(pBinary, yBinary)).toBeCloseTo(expected, 14);
  });
  it('multiclass, by hand', () => {
    const expected = -(Math.log(0.7) + Math.log(0.4) + Math.log(0.4)) / 3;
    expect(negativeLogLikelihood(pMulti, yMulti)).toBeCloseTo(expected, 14);
  });
  it('is infinite when the true class has probability 0', () => {
    expect(negativeLogLikelihood([0, 1], [1, 1])).toBe(Infinity);
  });
});

describe('brierScore', () => {
  it('binary, by hand: mean (p − y)²', () => {
    // (0.1² + 0.2² + 0.6² + 0.6²)/4 = 0.77/4
    expect(brierScore(pBinary, yBinary)).toBeCloseTo(0.1925, 14);
  });
  it('multiclass, by hand: mean Σ_k (p_k − 1[y = k])²', () => {
    // (0.09 + 0.04 + 0.01) + (0.01 + 0.25 + 0.36) + (0.09 + 0.09 + 0.36) = 1.3
    expect(brierScore(pMulti, yMulti)).toBeCloseTo(1.3 / 3, 14);
  });
  it('two-class rows give twice the binary score', () => {
    const rows = pBinary.map((p) => [1 - p, p]);
    expect(brierScore(rows, yBinary)).toBeCloseTo(2 * brierScore(pBinary, yBinary), 14);
  });
});

describe('expectedCalibrationError', () => {
  it('binary, by hand, with confidences on bin edges', () => {
    // Confidences 0.9 (right), 0.8 (right), 0.6 (wrong), 0.6 (wrong); 0.8 and 0.6 sit on edges and
    // belong to the bins (0.7, 0.8] and (0.5, 0.6].
    const report = expectedCalibrationError(pBinary, yBinary, 10);
    expect(report.ece).toBeCloseTo(0.25 * 0.1 + 0.25 * 0.2 + 0.5 * 0.6, 14);
    expect(report.maxCalibrationError).toBeCloseTo(0.6, 14);
    expect(report.table.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 2, 0, 1, 1, 0]);
    expect(report.table[5]).toMatchObject({ count: 2, accuracy: 0 });
    expect(report.table[5].meanConfidence).toBeCloseTo(0.6, 14);
    expect(report.table[8].lower).toBeCloseTo(0.8, 14);
    expect(report.table[8].upper).toBeCloseTo(0.9, 14);
    expect(report.table[0].accuracy).toBeNaN();
  });
  it('multiclass, by hand', () => {
    // Confidences 0.7 (right), 0.5 (wrong), 0.4 (right) in bins 3, 2, 1 of 5.
    const report = expectedCalibrationError(pMulti, yMulti, 5);
    expect(report.ece).toBeCloseTo((0.3 + 0.5 + 0.6) / 3, 14);
    expect(report.table.map((b) => b.count)).toEqual([0, 1, 1, 1, 0]);
  });
  it('a perfectly calibrated, confident predictor has ECE 0', () => {
    expect(expectedCalibrationError([1, 0, 1], [1, 0, 1]).ece).toBe(0);
  });
});

describe('input errors name the argument and the example', () => {
  it('length mismatch, bad labels, bad probabilities', () => {
    expect(() => brierScore(pBinary, [1, 0])).toThrow(CalibrationInputError);
    expect(() => brierScore(pBinary, [1, 0])).toThrow(/4 predictions but 2 labels/);
    expect(() => negativeLogLikelihood(pMulti, [0, 3, 1])).toThrow(/labels\[1\] = 3/);
    expect(() => negativeLogLikelihood([0.5, 1.2], [0, 1])).toThrow(/probs\[1\] = 1.2/);
    expect(() => negativeLogLikelihood([[0.5, 0.6]], [0])).toThrow(/probs\[0\] sums to 1.1/);
    expect(() => expectedCalibrationError(pBinary, yBinary, 0)).toThrow(/bins/);
  });
});

describe('gaussianNegativeLogLikelihood', () => {
  it('by hand: ½ log 2π + log σ + (y − μ)²/(2σ²)', () => {
    const expected = (0.5 * Math.log(2 * Math.PI) + Math.log(2) + 1 / 8 + 0.5 * Math.log(2 * Math.PI) + 0) / 2;
    expect(gaussianNegativeLogLikelihood([0, 3], [2, 1], [1, 3])).toBeCloseTo(expected, 14);
    expect(() => gaussianNegativeLogLikelihood([0], [0], [1])).toThrow(/sd\[0\]/);
  });
});

describe('intervalCoverage', () => {
  it('Gaussian intervals, by hand', () => {
    // μ = 0, σ = 1: the 90% interval is ±1.6449, the 50% interval ±0.6745.
    const y = [0.5, 1.5, -2.5, 0.1];
    const [c50, c90] = intervalCoverage({ mean: [0, 0, 0, 0], sd: [1, 1, 1, 1] }, y, [0.5, 0.9]);
    expect(c90.coverage).toBe(0.75);
    expect(c90.meanWidth).toBeCloseTo(2 * 1.6448536269514722, 12);
    expect(c50.coverage).toBe(0.5);
    expect(c50.meanWidth).toBeCloseTo(2 * 0.6744897501960817, 12);
  });
  it('sample intervals use type-7 quantiles, by hand; both layouts agree', () => {
    // Draws 1…5: the 50% interval is [q0.25, q0.75] = [2, 4].
    const perPoint = [[5, 1, 4, 2, 3], [1, 2, 3, 4, 5]];
    const y = [3.5, 4.5];
    const [c] = intervalCoverage({ perPoint }, y, [0.5]);
    expect(c).toEqual({ level: 0.5, coverage: 0.5, meanWidth: 2 });
    const perDraw = [0, 1, 2, 3, 4].map((s) => [perPoint[0][s], perPoint[1][s]]);
    expect(intervalCoverage({ perDraw }, y, [0.5])).toEqual([c]);
  });
  it('a calibrated Gaussian predictive covers each level within binomial error', () => {
    const n = 4000;
    const y = normal(key(9), n);
    const results = intervalCoverage({ mean: new Float64Array(n), sd: new Float64Array(n).fill(1) }, y);
    // Binomial sd √(ℓ(1 − ℓ)/n) ≤ 0.008; allow 4 sd.
    for (const r of results) expect(Math.abs(r.coverage - r.level)).toBeLessThan(4 * Math.sqrt((r.level * (1 - r.level)) / n));
  });
  it('rejects bad levels and mismatched lengths', () => {
    expect(() => intervalCoverage({ mean: [0], sd: [1] }, [0], [1])).toThrow(/level 1/);
    expect(() => intervalCoverage({ perPoint: [[1, 2]] }, [0, 1])).toThrow(/perPoint has 1 entries but y has 2/);
    expect(() => intervalCoverage({ perDraw: [[1, 2], [1]] }, [0, 1])).toThrow(/perDraw\[1\]/);
  });
});
