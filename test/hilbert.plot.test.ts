import { describe, expect, it } from 'vitest';
import type { HilbertExperimentResult, HilbertExperimentRow } from '../src/hilbert/experiment.js';
import { excessRiskPlotSvg, logLogPlotSvg } from '../src/hilbert/plot.js';

describe('logLogPlotSvg', () => {
  it('draws one polyline per series at log-scaled positions, with escaped labels', () => {
    const svg = logLogPlotSvg(
      [
        { label: 'a < b & c', points: [[10, 1], [100, 0.1], [1000, 0.01]] },
        { label: 'ref', points: [[10, 1], [1000, 0.1]], dashed: true, markers: false },
      ],
      { title: 'T', xLabel: 'n', yLabel: 'risk', width: 400, height: 300 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).not.toContain('a < b');
    // Equal ratios in the data give equal pixel steps on log axes.
    const coords = /<polyline points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(coords[1][0] - coords[0][0]).toBeCloseTo(coords[2][0] - coords[1][0], 0);
    expect(coords[1][1] - coords[0][1]).toBeCloseTo(coords[2][1] - coords[1][1], 0);
  });

  it('rejects points that log axes cannot show', () => {
    expect(() => logLogPlotSvg([{ label: 's', points: [[10, 0]] }], { title: '', xLabel: '', yLabel: '' })).toThrow(/series "s" has the point \(10, 0\)/);
    expect(() => logLogPlotSvg([], { title: '', xLabel: '', yLabel: '' })).toThrow(/no points/);
  });
});

describe('excessRiskPlotSvg', () => {
  it('plots the sample-size sweep, its fit and the reference slope, skipping zero excess risk', () => {
    const row = (n: number, excessRisk: number, task: 'regression' | 'classification'): HilbertExperimentRow => ({
      sweep: 'n', task, method: 'hilbert-langevin', width: 100, n, stepSize: 0.1, steps: 10, batchSize: 10,
      trainLoss: 0.5, testLoss: 0.6, gap: 0.1, excessRisk, diverged: false, stiffness: 1, seconds: 0,
    });
    const result: HilbertExperimentResult = {
      rows: [row(100, 0.2, 'regression'), row(1000, 0.03, 'regression'), row(100, 0.05, 'classification'), row(1000, 0, 'classification')],
      traces: [],
      fits: [{ task: 'regression', method: 'hilbert-langevin', width: 100, slope: -0.82, intercept: 2.2, predictedSlope: -0.5 }],
      settings: {},
    };
    const svg = excessRiskPlotSvg(result);
    // Regression points, its fit, the reference line, and the one classification point.
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain('slope -0.82');
    expect(svg).toContain("bound's slope -0.5");
  });
});
