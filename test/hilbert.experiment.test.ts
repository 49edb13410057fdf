import { describe, expect, it } from 'vitest';
import { key } from '../src/core/random.js';
import { firstRows, logLogFit, runHilbertMethod, sampleSizeSchedule } from '../src/hilbert/experiment.js';
import { twoLayerNetwork } from '../src/hilbert/network.js';
import { riskMetrics, teacherStudentTask } from '../src/hilbert/teacher.js';

// Small instances of the claims of docs/hilbert-langevin.md; the full grid is `sgbayes experiment
// hilbert-langevin`. Fixed seeds; the margins below are wide compared with the run-to-run spread seen
// over seeds 0–4 (see each comment).
const regression = teacherStudentTask(key(5), { kind: 'regression', n: 1000, nTest: 500 });

describe('teacher–student tasks', () => {
  it('nests the data in n and puts the teacher in the student class (zero excess risk)', () => {
    const small = teacherStudentTask(key(5), { kind: 'regression', n: 40, nTest: 500 });
    const cut = firstRows(regression, 40);
    expect(Array.from(cut.train.x)).toEqual(Array.from(small.train.x));
    expect(Array.from(cut.train.y)).toEqual(Array.from(small.train.y));
    const student = twoLayerNetwork(regression.train, { width: 3, bias: false });
    const metrics = riskMetrics(student, regression.teacherParams, regression);
    expect(metrics.excessRisk).toBe(0);
    // Test loss of f* is ½σ² = 0.5 up to sampling: ½ mean ξ² over 500 has sd 0.5·√(2/500) ≈ 0.032.
    expect(Math.abs(metrics.testLoss - 0.5)).toBeLessThan(4 * 0.032);
  });

  it('labels classification data by the teacher sign, keeping only inputs with |f*(x)| ≥ margin', () => {
    const task = teacherStudentTask(key(6), { kind: 'classification', n: 200, nTest: 100, margin: 0.4 });
    for (let i = 0; i < 200; i++) {
      expect(Math.abs(task.trainSignal[i])).toBeGreaterThanOrEqual(0.4);
      expect(task.train.y[i]).toBe(task.trainSignal[i] > 0 ? 1 : 0);
    }
    expect(() => teacherStudentTask(key(6), { kind: 'regression', n: 0 })).toThrow(/teacherStudentTask: n must be an integer ≥ 1/);
  });
});

describe('hilbert-langevin experiment, small instances', () => {
  const task = firstRows(regression, 300);

  it('stays stable at a step where explicit SGLD on the same wide network diverges', () => {
    const spec = { task, width: 300, stepSize: 0.5, steps: 30, batchSize: 100 };
    const semi = runHilbertMethod({ ...spec, method: 'hilbert-langevin' }).row;
    const explicit = runHilbertMethod({ ...spec, method: 'sgld' }).row;
    expect(explicit.diverged).toBe(true);
    expect(explicit.stiffness).toBeGreaterThan(2);
    expect(semi.diverged).toBe(false);
    expect(Number.isFinite(semi.excessRisk)).toBe(true);
  });

  it('gives a width-independent test loss, while stable explicit SGLD degrades with width at a fixed budget', () => {
    const spec = { task, stepSize: 0.5, steps: 200, batchSize: 100 };
    const semiNarrow = runHilbertMethod({ ...spec, method: 'hilbert-langevin', width: 60 }).row;
    const semiWide = runHilbertMethod({ ...spec, method: 'hilbert-langevin', width: 480 }).row;
    // Units beyond 60 have prior sd ≤ 2/60 and are divided by 1 + ηλ/μ_m ≥ 1.4 per step: they move
    // the test loss by ≤ 6e-4 of itself over seeds 0–4 (task keys 5, 105, …, 405).
    expect(Math.abs(semiWide.testLoss - semiNarrow.testLoss)).toBeLessThan(0.01 * semiNarrow.testLoss);
    const explicitNarrow = runHilbertMethod({ ...spec, method: 'sgld-stable', width: 60 }).row;
    const explicitWide = runHilbertMethod({ ...spec, method: 'sgld-stable', width: 480 }).row;
    expect(explicitWide.stepSize).toBeLessThan(explicitNarrow.stepSize / 10);
    // 200 steps of the stable η ≈ 0.0094 leave the wide explicit chain far from equilibrium: its excess
    // risk is 2.1–3.6 times the narrow one's over seeds 0–4.
    expect(explicitWide.excessRisk).toBeGreaterThan(1.5 * explicitNarrow.excessRisk);
  });

  it('has an excess risk that falls with n', () => {
    const excess = [100, 1000].map((n) => {
      const { batchSize, stepSize } = sampleSizeSchedule(n);
      return runHilbertMethod({ sweep: 'n', task: firstRows(regression, n), method: 'hilbert-langevin', width: 40, stepSize, steps: Math.ceil(100 / stepSize), batchSize }).row
        .excessRisk;
    });
    // Observed ratios 3.5–7.5 over seeds 0–4 (the bound's n^{-1/2} alone gives ≈ 3.2).
    expect(excess[1]).toBeLessThan(excess[0] / 2);
  });
});

describe('logLogFit', () => {
  it('recovers the exponent of a power law', () => {
    const ns = [100, 300, 1000, 3000];
    const fit = logLogFit(
      ns,
      ns.map((n) => 7 * n ** -0.5),
    );
    expect(fit.slope).toBeCloseTo(-0.5, 12);
    expect(Math.exp(fit.intercept)).toBeCloseTo(7, 10);
    expect(() => logLogFit([1], [1])).toThrow(/need two or more/);
  });
});
