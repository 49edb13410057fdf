import { describe, expect, it } from 'vitest';
import { BoundTermsError, heldOutGradientError, trajectoryBoundTerms } from '../src/diagnostics/bound.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { isotropicStable } from '../src/core/stable.js';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';

const DIM = 3;

/**
 * Loss ½‖θ − x_i‖² per example (log p = −½‖θ − x_i‖²): the per-example loss gradient θ − x_i has
 * covariance I when x_i ~ N(0, I), so tr Σ = DIM and ∇F(θ) = θ exactly.
 */
function gaussianLocation(points: Float64Array): Target<IndexBatch> {
  const n = points.length / DIM;
  return {
    dim: DIM,
    dataSize: n,
    logPrior: () => ({ value: 0, grad: new Float64Array(DIM) }),
    logLikelihood(theta: Vec, batch: IndexBatch) {
      const grad = new Float64Array(DIM);
      let value = 0;
      for (const i of batch) {
        for (let c = 0; c < DIM; c++) {
          const r = points[i * DIM + c] - theta[c];
          value -= 0.5 * r * r;
          grad[c] += r;
        }
      }
      return { value, grad };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: n }, (_, i) => i),
  };
}

function meanAndStandardError(values: number[]): { mean: number; se: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, se: Math.sqrt(variance / values.length) };
}

describe('heldOutGradientError', () => {
  it('is an unbiased estimate of tr Σ / n′', () => {
    // 400 independent held-out sets of n′ = 51 (odd, so the halves differ in size); the mean of the
    // estimates must be within 4 Monte Carlo standard errors of DIM / n′.
    const theta = Float64Array.of(0.3, -0.2, 1);
    const estimates: number[] = [];
    for (let r = 0; r < 400; r++) estimates.push(heldOutGradientError(gaussianLocation(normal(foldIn(key(11), r), 51 * DIM)), theta));
    const { mean, se } = meanAndStandardError(estimates);
    expect(Math.abs(mean - DIM / 51)).toBeLessThan(4 * se);
  });

  it('rejects a held-out set of fewer than 4 rows', () => {
    expect(() => heldOutGradientError(gaussianLocation(new Float64Array(3 * DIM)), new Float64Array(DIM))).toThrow(/3 rows, need at least 4/);
  });
});

describe('trajectoryBoundTerms', () => {
  const positions = [Float64Array.of(0, 0, 0), Float64Array.of(0.5, -1, 2)];

  it('removes the held-out error, so driftMismatch² estimates ‖∇F̂_S − ∇F‖² without bias', () => {
    // ∇F̂_S(θ) − ∇F(θ) = −x̄_S whatever θ, with E‖x̄_S‖² = DIM / n. The raw mismatch adds
    // E‖x̄_S′‖² = DIM / n′ on top; the corrected square must average to DIM / n (within 4 MC
    // standard errors over 300 replicates) while the raw square averages to DIM/n + DIM/n′.
    const n = 40;
    const nHeld = 20;
    const corrected: number[] = [];
    const rawSquared: number[] = [];
    for (let r = 0; r < 300; r++) {
      const terms = trajectoryBoundTerms({
        train: gaussianLocation(normal(foldIn(key(21), r), n * DIM)),
        heldOut: gaussianLocation(normal(foldIn(key(22), r), nHeld * DIM)),
        positions: [positions[0]],
        timeBetween: 1,
        alpha: 2,
      });
      // Squares without the max(0, ·) clip, which would bias the average upward.
      rawSquared.push(terms.driftMismatchRaw ** 2);
      corrected.push(terms.driftMismatchRaw ** 2 - terms.heldOutError ** 2);
    }
    const c = meanAndStandardError(corrected);
    const raw = meanAndStandardError(rawSquared);
    expect(Math.abs(c.mean - DIM / n)).toBeLessThan(4 * c.se);
    expect(Math.abs(raw.mean - (DIM / n + DIM / nHeld))).toBeLessThan(4 * raw.se);
  });

  it('reports the horizon, the integral and the fractal rate from its definitions', () => {
    const terms = trajectoryBoundTerms({
      train: gaussianLocation(normal(key(1), 100 * DIM)),
      heldOut: gaussianLocation(normal(key(2), 60 * DIM)),
      positions,
      timeBetween: 0.25,
      alpha: 1.7,
    });
    expect(terms.sampleSize).toBe(100);
    expect(terms.heldOutSize).toBe(60);
    expect(terms.positions).toBe(2);
    expect(terms.horizon).toBe(0.5);
    expect(terms.integratedMismatch).toBeCloseTo(0.5 * terms.driftMismatch, 12);
    expect(terms.dimensionProxy).toBe(1.7);
    expect(terms.fractalRate).toBeCloseTo(Math.sqrt((1.7 * Math.log(100)) / 100), 12);
    expect(terms.alphaHatIncrements).toBeUndefined();
  });

  it('estimates the tail index of α-stable increments', () => {
    // 4000 isotropic α = 1.5 increments over 20 tracked coordinates (pooled block-sum): the
    // part-1 tests put this estimator within 0.1 of α at this size; 0.15 leaves room for this seed.
    const steps = 4000;
    const dim = 20;
    const values = new Float64Array(steps * dim);
    for (let t = 0; t < steps; t++) values.set(isotropicStable(foldIn(key(5), t), dim, 1.5), t * dim);
    const terms = trajectoryBoundTerms({
      train: gaussianLocation(normal(key(1), 10 * DIM)),
      heldOut: gaussianLocation(normal(key(2), 10 * DIM)),
      positions,
      timeBetween: 1,
      alpha: 1.5,
      increments: { values, dim },
    });
    expect(terms.alphaHatIncrements).toBeGreaterThan(1.35);
    expect(terms.alphaHatIncrements).toBeLessThan(1.65);
    expect(terms.dimensionProxy).toBe(Math.min(terms.alphaHatIncrements ?? NaN, 2));
    expect(terms.alphaHatIncrementsHill).toBeGreaterThan(1);
  });

  it('names the bad input', () => {
    const base = {
      train: gaussianLocation(normal(key(1), 10 * DIM)),
      heldOut: gaussianLocation(normal(key(2), 10 * DIM)),
      positions,
      timeBetween: 1,
      alpha: 1.5,
    };
    expect(() => trajectoryBoundTerms({ ...base, positions: [] })).toThrow(BoundTermsError);
    expect(() => trajectoryBoundTerms({ ...base, positions: [new Float64Array(2)] })).toThrow(/positions\[0\] has length 2/);
    expect(() => trajectoryBoundTerms({ ...base, timeBetween: 0 })).toThrow(/timeBetween/);
    expect(() => trajectoryBoundTerms({ ...base, alpha: 2.5 })).toThrow(/alpha must be in \(0, 2\]/);
    expect(() => trajectoryBoundTerms({ ...base, increments: { values: new Float64Array(6), dim: 2 } })).toThrow(/at least 4 rows/);
  });
});
