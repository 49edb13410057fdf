import { describe, expect, it } from 'vitest';
import { defaultExperimentTargets, printNaturalGradientTable, runNaturalGradientExperiment } from '../src/expfam/index.js';

describe('natural-gradient experiment', () => {
  // A reduced run (two families, forward KL, two c values, no sweeps) to keep the test fast.
  const targets = defaultExperimentTargets(0).filter((t) => t.label === 'bernoulli' || t.label === 'categorical(11)');
  const { rows } = runNaturalGradientExperiment({ targets, cValues: [0.5, 2], directions: ['forward'], skipSweep: true, noiseIterations: 100 });

  it('has a row per family × coordinates × method with the required fields', () => {
    expect(rows).toHaveLength(2 * 3 * 3);
    for (const row of rows) {
      expect(['theta-gd', 'eta-gd', 'natural']).toContain(row.method);
      expect(Number.isFinite(row.measuredRate)).toBe(true);
      expect(Number.isFinite(row.predictedRate)).toBe(true);
      expect(row.foundLargestStableStep).toBeNull();
    }
  });

  it('measured rates agree with the predictions; natural stays at 2 while θ-GD and η-GD move as 2c and 2/c', () => {
    for (const row of rows) expect(Math.abs(row.measuredRate / row.predictedRate - 1)).toBeLessThan(2e-3);
    for (const row of rows.filter((r) => r.c !== null)) {
      const expected = row.method === 'natural' ? 2 : row.method === 'theta-gd' ? 2 * row.c! : 2 / row.c!;
      expect(row.predictedRate).toBeCloseTo(expected, 12);
    }
  });

  it('the table lists every row', () => {
    const table = printNaturalGradientTable(rows);
    expect(table.split('\n')).toHaveLength(rows.length + 2);
    expect(table).toContain('categorical(11)');
  });

  it('rejects a non-positive c', () => {
    expect(() => runNaturalGradientExperiment({ targets, cValues: [0] })).toThrow(/c must be > 0/);
  });
});
