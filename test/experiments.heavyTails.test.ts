import { describe, expect, it } from 'vitest';
import {
  HeavyTailsError,
  heavyTailsSettings,
  kendallTauB,
  runHeavyTails,
  summariseByAlpha,
  type HeavyTailsResult,
  type HeavyTailsSettings,
} from '../src/experiments/heavyTails.js';
import { heavyTailsPlotSvg } from '../src/experiments/heavyTailsPlot.js';
import { Command } from 'commander';
import { digitsPool, register } from '../src/cli/commands/experiment-heavy-tails.js';
import { toJson } from '../src/cli/format.js';

describe('kendallTauB', () => {
  it('matches reference values, with and without ties', () => {
    // References from scipy.stats.kendalltau (variant 'b').
    expect(kendallTauB([1, 2, 3, 4, 5], [3, 1, 2, 5, 4])).toBeCloseTo(0.4, 12);
    expect(kendallTauB([1, 1, 2, 3, 3, 4], [1, 2, 2, 3, 1, 4])).toBeCloseTo(7 / 13, 12);
    expect(kendallTauB([1, 2, 3], [30, 20, 10])).toBe(-1);
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('rejects unequal lengths and NaN', () => {
    expect(() => kendallTauB([1, 2], [1])).toThrow(HeavyTailsError);
    expect(() => kendallTauB([1, Number.NaN], [1, 2])).toThrow(/value 1 is NaN/);
  });
});

/** A small instance: digits, 8 hidden units, α ∈ {1.2, 2}, one (γ, σ) cell, three seeds. */
const small: HeavyTailsSettings = {
  ...heavyTailsSettings(true),
  alphas: [1.2, 2.0],
  stepSizes: [3],
  sigmas: [0.03],
  seeds: 2,
  steps: 300,
  snapshots: 4,
  evaluationSnapshots: 2,
  trackedCoordinates: 40,
  noiseSamples: 40,
};

describe('runHeavyTails (small instance)', () => {
  let result: HeavyTailsResult;
  it('runs the grid and returns well-formed rows', () => {
    result = runHeavyTails({ name: 'digits', trainPool: digitsPool(), settings: small, seed: 0 });
    expect(result.rows).toHaveLength(2 * 2);
    expect(result.trainRows).toBe(400);
    expect(result.testRows).toBe(600);
    for (const row of result.rows) {
      expect(row.diverged).toBe(false);
      for (const value of [row.trainAccuracy, row.testAccuracy]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
      expect(row.generalizationGap).toBeCloseTo(row.trainAccuracy - row.testAccuracy, 12);
      expect(row.lossGap).toBeCloseTo(row.testLoss - row.trainLoss, 12);
      for (const value of [row.alphaHat, row.alphaHatGradientNoise, row.bound?.driftMismatch, row.bound?.fractalRate]) {
        expect(Number.isFinite(value)).toBe(true);
      }
      expect(row.bound?.positions).toBe(small.snapshots);
    }
    const json = JSON.parse(toJson(result)) as { rows: Record<string, unknown>[]; kendallTau: unknown };
    expect(typeof json.kendallTau).toBe('number');
    for (const field of ['alpha', 'stepSize', 'sigma', 'seed', 'alphaHat', 'generalizationGap', 'lossGap']) {
      expect(typeof json.rows[0][field]).toBe('number');
    }
  });

  it('recovers the driving α from the iterates, and shows the direction the docs claim', () => {
    const [heavy, gaussian] = summariseByAlpha(result);
    // The noise dominates the increments, so their tail index tracks the driving α.
    expect(heavy.alphaHat).toBeLessThan(1.5);
    expect(gaussian.alphaHat).toBeGreaterThan(1.7);
    // docs/heavy-tails.md: at equal σ, heavier tails (smaller α) lower both accuracies and widen the
    // accuracy and loss gaps, so Kendall's τ(α, gap) < 0; the drift mismatch grows with them.
    expect(heavy.trainAccuracy).toBeLessThan(gaussian.trainAccuracy);
    expect(heavy.generalizationGap).toBeGreaterThan(gaussian.generalizationGap);
    expect(heavy.lossGap).toBeGreaterThan(gaussian.lossGap);
    expect(heavy.driftMismatch).toBeGreaterThan(gaussian.driftMismatch);
    expect(result.kendallTau).toBeLessThan(0);
  });

  it('draws the figure with one point per run', () => {
    const svg = heavyTailsPlotSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)?.length).toBe(2 * result.rows.length + 2);
  });

  it('rejects bad settings, naming the field', () => {
    const run = (settings: HeavyTailsSettings) => runHeavyTails({ name: 'x', trainPool: digitsPool(), settings, seed: 0 });
    expect(() => run({ ...small, alphas: [2.5] })).toThrow(/alphas\[0\] must be in \(0, 2\]/);
    expect(() => run({ ...small, evaluationSnapshots: 9 })).toThrow(/evaluationSnapshots/);
    expect(() => run({ ...small, trainRows: 1500, testRows: 1500 })).toThrow(/fewer than trainRows \+ testRows/);
  });
});

describe('sgbayes experiment heavy-tails', () => {
  it('registers the subcommand with its options', () => {
    const experiment = new Command('experiment');
    register(experiment);
    const command = experiment.commands.find((c) => c.name() === 'heavy-tails');
    expect(command?.options.map((o) => o.long)).toEqual(['--quick', '--json', '--seed', '--svg', '--report', '--data']);
    command?.exitOverride().configureOutput({ writeErr: () => undefined });
    // A bad seed stops in option parsing, before the action (and its minute of training) runs.
    expect(() => experiment.parse(['heavy-tails', '--seed', 'abc'], { from: 'user' })).toThrow(/--seed must be a non-negative integer, got 'abc'/);
  });
});
