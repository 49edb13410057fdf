import { describe, expect, it } from 'vitest';
import { loadWine } from '../src/data/node.js';
import { fitStandardizer } from '../src/data/preprocess.js';
import { linearRegression } from '../src/models/linear.js';
import { VariationalEmError, variationalEm } from '../src/vi/variationalEm.js';
import { regressionData } from './models.helpers.js';

describe('variationalEm (Mandt, Hoffman & Blei 2017, Sec. 4.2)', () => {
  it('learns a prior precision within 25% of the evidence optimum on synthetic data, from λ₀ far off', () => {
    const data = regressionData(31, 400, 4, 1);
    const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 1 });
    const optimum = model.evidenceOptimalPriorPrecision();
    for (const start of [optimum / 20, optimum * 20]) {
      const result = variationalEm(model, { batchSize: 20, steps: 6000, warmupSteps: 1000, initialPriorPrecision: start, seed: 2 });
      expect(Math.abs(result.averagedPriorPrecision / optimum - 1)).toBeLessThan(0.25);
      // The trace moved from λ₀ towards the optimum.
      expect(Math.abs(Math.log(result.trace.at(-1)!.priorPrecision / optimum))).toBeLessThan(Math.abs(Math.log(start / optimum)) / 2);
      expect(result.gradientEvaluations).toBe(7000 * 20 + 256);
    }
  });

  it('on the shipped red wine, with the scalar and the full E-step, lands within 25% of the type-II ML λ', () => {
    const { dataset } = loadWine();
    const wine = fitStandardizer(dataset).apply(dataset);
    const model = linearRegression(wine, { priorPrecision: 1, noisePrecision: 1.5 });
    const optimum = model.evidenceOptimalPriorPrecision();
    for (const preconditioner of ['scalar', 'full'] as const) {
      const result = variationalEm(model, { batchSize: 100, steps: 8000, warmupSteps: 1000, preconditioner, seed: 3 });
      expect(result.preconditioner.kind).toBe(preconditioner);
      expect(Math.abs(result.averagedPriorPrecision / optimum - 1)).toBeLessThan(0.25);
    }
  });

  it('rejects bad options with a message that names them', () => {
    const model = linearRegression(regressionData(1, 50, 2, 1));
    expect(() => variationalEm(model, { batchSize: 1, steps: 10 })).toThrow(/batchSize must be an integer in \[2, N = 50\]/);
    expect(() => variationalEm(model, { batchSize: 10, steps: 10, initialPriorPrecision: -1 })).toThrow(VariationalEmError);
    expect(() => variationalEm(model, { batchSize: 10, steps: 10, penalisedDim: 9 })).toThrow(/penalisedDim must be an integer in \[1, 3\]/);
    expect(() => variationalEm(model, { batchSize: 10, steps: 10, initial: new Float64Array(2) })).toThrow(/initial has length 2/);
  });
});
