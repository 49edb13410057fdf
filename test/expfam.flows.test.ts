import { describe, expect, it } from 'vitest';
import { key } from '../src/core/random.js';
import {
  bernoulli,
  categorical,
  findLargestStableStep,
  fisherScaledReparameterisation,
  gaussian,
  integrateFlow,
  iterateFlow,
  klGradientMean,
  klGradientNatural,
  klObjective,
  klProblem,
  linearReparameterisation,
  makeFlow,
  measureLocalRate,
  multivariateGaussian,
  paperPredictedRates,
  perturbedStart,
  poisson,
  predictFlow,
  predictedStationaryKL,
  FLOW_METHODS,
  type ExponentialFamily,
  type KLDirection,
} from '../src/expfam/index.js';
import { symmetricEigen, symmetricMatrixFunction } from '../src/expfam/linalg.js';

const cat = categorical(5);
const catTarget = cat.fromProbabilities([0.05, 0.15, 0.2, 0.25, 0.35]);
const mvn = multivariateGaussian(2);
const families: [string, ExponentialFamily, Float64Array][] = [
  ['bernoulli', bernoulli(), bernoulli().fromProbability(0.3)],
  ['categorical(5)', cat, catTarget],
  ['poisson', poisson(), poisson().fromRate(3)],
  ['gaussian', gaussian(), gaussian().fromMeanVariance(1, 0.25)],
  ['multivariateGaussian(2)', mvn, mvn.fromMeanCovariance([0.5, -1], [1, 0.3, 0.3, 0.5])],
];
const directions: KLDirection[] = ['forward', 'reverse'];

describe.each(families)('KL gradients on %s', (_name, family, target) => {
  it.each(directions)('%s KL: ∇θ and ∇η match central finite differences', (direction) => {
    const problem = klProblem(family, target, direction);
    const theta = perturbedStart(problem, key(1), 0.05);
    const eta = family.meanFromNatural(theta);
    const gTheta = klGradientNatural(problem, theta);
    const gEta = klGradientMean(problem, eta);
    const h = 1e-6;
    for (let i = 0; i < family.dim; i++) {
      const tp = Float64Array.from(theta);
      const tm = Float64Array.from(theta);
      tp[i] += h;
      tm[i] -= h;
      const fd = (klObjective(problem, tp) - klObjective(problem, tm)) / (2 * h);
      expect(Math.abs(fd - gTheta[i])).toBeLessThan(1e-6 * (1 + Math.abs(gTheta[i])));
      const ep = Float64Array.from(eta);
      const em = Float64Array.from(eta);
      const he = h * Math.max(Math.abs(eta[i]), 0.01);
      ep[i] += he;
      em[i] -= he;
      const fdEta = (klObjective(problem, family.naturalFromMean(ep)) - klObjective(problem, family.naturalFromMean(em))) / (2 * he);
      expect(Math.abs(fdEta - gEta[i])).toBeLessThan(1e-5 * (1 + Math.abs(gEta[i])));
    }
  });

  it('the paper rates (2λmin F, 2, 2/λmax F; 2c, 2, 2/c) equal the linearised flows’ rates', () => {
    const problem = klProblem(family, target);
    for (const c of [undefined, 0.1, 3]) {
      const paper = paperPredictedRates(problem, c);
      const reparameterisation = c === undefined ? undefined : fisherScaledReparameterisation(problem, c);
      for (const method of FLOW_METHODS) {
        const prediction = predictFlow(makeFlow(problem, { method, reparameterisation }));
        expect(prediction.rate).toBeCloseTo(paper[method], 8);
      }
    }
  });
});

describe('continuous-time flows', () => {
  it('natural gradient flow of the forward KL is η(t) − η* = e^{−t}(η₀ − η*) (categorical)', () => {
    const problem = klProblem(cat, catTarget, 'forward');
    const theta0 = perturbedStart(problem, key(2), 0.1);
    const eta0 = cat.meanFromNatural(theta0);
    const run = integrateFlow(problem, { method: 'natural', naturalCoordinates: 'theta' }, theta0, { tEnd: 1.5, localKLStop: 0 });
    const eta = cat.meanFromNatural(run.finalNatural);
    for (let i = 0; i < cat.dim; i++) {
      const expected = problem.targetMean[i] + Math.exp(-1.5) * (eta0[i] - problem.targetMean[i]);
      expect(Math.abs(eta[i] - expected)).toBeLessThan(1e-8);
    }
  });

  it('natural gradient flow of the reverse KL is θ(t) − θ* = e^{−t}(θ₀ − θ*) (multivariate Gaussian)', () => {
    const target = families[4][2];
    const problem = klProblem(mvn, target, 'reverse');
    const theta0 = perturbedStart(problem, key(3), 0.1);
    const run = integrateFlow(problem, { method: 'natural', naturalCoordinates: 'eta' }, theta0, { tEnd: 2, localKLStop: 0 });
    for (let i = 0; i < mvn.dim; i++) {
      expect(Math.abs(run.finalNatural[i] - (target[i] + Math.exp(-2) * (theta0[i] - target[i])))).toBeLessThan(1e-8);
    }
  });

  it('measured rates: natural 2 for every c; θ-GD 2c and η-GD 2/c bracket it (categorical, both KLs)', () => {
    // Tolerance 1e-3 relative: the integrator's tolerance is 1e-9 and the fit window spans 9 decades.
    for (const direction of directions) {
      const problem = klProblem(cat, catTarget, direction);
      const theta0 = perturbedStart(problem, key(4), 1e-3);
      for (const c of [0.1, 1, 10]) {
        const reparameterisation = fisherScaledReparameterisation(problem, c);
        const rate = (method: 'theta-gd' | 'eta-gd' | 'natural'): number => measureLocalRate(problem, { method, reparameterisation }, theta0);
        const natural = rate('natural');
        const theta = rate('theta-gd');
        const eta = rate('eta-gd');
        expect(natural).toBeCloseTo(2, 2);
        expect(Math.abs(theta / (2 * c) - 1)).toBeLessThan(1e-3);
        expect(Math.abs(eta / (2 / c) - 1)).toBeLessThan(1e-3);
        expect(Math.min(theta, eta)).toBeLessThanOrEqual(natural + 1e-3);
        expect(Math.max(theta, eta)).toBeGreaterThanOrEqual(natural - 1e-3);
      }
    }
  });

  it('original coordinates: categorical rates are 2λmin(F) ≤ 2 ≤ 2/λmax(F), measured', () => {
    const problem = klProblem(cat, catTarget);
    const theta0 = perturbedStart(problem, key(5), 1e-3);
    const paper = paperPredictedRates(problem);
    const theta = measureLocalRate(problem, { method: 'theta-gd' }, theta0);
    const eta = measureLocalRate(problem, { method: 'eta-gd' }, theta0);
    expect(Math.abs(theta / paper['theta-gd'] - 1)).toBeLessThan(2e-3);
    expect(Math.abs(eta / paper['eta-gd'] - 1)).toBeLessThan(2e-3);
    expect(theta).toBeLessThan(2);
    expect(eta).toBeGreaterThan(2);
    // λmax(F) < max_i η*_i, so the η rate exceeds the authors' reference line 2 / max(η*).
    expect(paper['eta-gd']).toBeGreaterThan(2 / Math.max(...problem.targetMean, 1 - problem.targetMean.reduce((a, b) => a + b, 0)));
  });

  it('the bracket is specific to F ≤ I: for N(1, 0.25) both coordinate rates fall below 2', () => {
    const problem = klProblem(gaussian(), gaussian().fromMeanVariance(1, 0.25));
    const theta0 = perturbedStart(problem, key(6), 1e-3);
    expect(measureLocalRate(problem, { method: 'theta-gd' }, theta0)).toBeLessThan(1.9);
    expect(measureLocalRate(problem, { method: 'eta-gd' }, theta0)).toBeLessThan(1.9);
  });

  it('the notes’ literal map (η̃ = Aη, θ̃ = A⁻ᵀθ, A = c^{-1/2}F^{1/2}) gives θ̃-GD rate 2λmin(F)²/c, not 2c', () => {
    const problem = klProblem(cat, catTarget);
    const c = 2;
    const f = cat.fisherNatural(catTarget);
    const aInverse = symmetricMatrixFunction(f, cat.dim, (x) => Math.sqrt(c / x));
    const literal = linearReparameterisation(aInverse, cat.dim);
    const lambdaMin = symmetricEigen(f, cat.dim).values[0];
    expect(predictFlow(makeFlow(problem, { method: 'theta-gd', reparameterisation: literal })).rate).toBeCloseTo((2 * lambdaMin * lambdaMin) / c, 10);
  });

  it('natural gradient descent is invariant under reparameterisation', () => {
    const problem = klProblem(cat, catTarget);
    const theta0 = perturbedStart(problem, key(7), 0.05);
    const plain = integrateFlow(problem, { method: 'natural' }, theta0, { tEnd: 1, localKLStop: 0 });
    const moved = integrateFlow(problem, { method: 'natural', reparameterisation: fisherScaledReparameterisation(problem, 5) }, theta0, {
      tEnd: 1,
      localKLStop: 0,
    });
    for (let i = 0; i < cat.dim; i++) expect(Math.abs(plain.finalNatural[i] - moved.finalNatural[i])).toBeLessThan(1e-8);
  });
});

describe('discrete-time flows', () => {
  it('natural gradient descent on the forward KL with α = 1 lands on the target in one step', () => {
    const problem = klProblem(cat, catTarget);
    const run = iterateFlow(problem, { method: 'natural' }, perturbedStart(problem, key(8), 0.2), { stepSize: 1, iterations: 1 });
    expect(run.kl[1]).toBeLessThan(1e-20);
  });

  it('the largest stable step found by the sweep matches 2/λmax(Q)', () => {
    const problem = klProblem(cat, catTarget);
    for (const method of FLOW_METHODS) {
      const spec = { method };
      const predicted = predictFlow(makeFlow(problem, spec)).largestStableStep;
      const found = findLargestStableStep(problem, spec, { key: key(9) });
      // 300 iterations resolve a growth factor 1 + 1e-2 per step; bisection to 1e-3.
      expect(Math.abs(found / predicted - 1)).toBeLessThan(1e-2);
    }
    expect(predictFlow(makeFlow(problem, { method: 'eta-gd', reparameterisation: fisherScaledReparameterisation(problem, 0.5) })).largestStableStep).toBeCloseTo(1, 10);
  });

  it('stationary KL under minibatch noise matches Σ αq/(2B(2 − αq)) within 4 batch-means MCSE', () => {
    const problem = klProblem(poisson(), poisson().fromRate(3));
    for (const [method, stepSize] of [
      ['natural', 0.5],
      ['theta-gd', 0.2],
    ] as const) {
      const spec = { method };
      const iterations = 20000;
      const run = iterateFlow(problem, spec, problem.targetNatural, { stepSize, iterations, noise: { kind: 'samples', batchSize: 20 }, key: key(10) });
      expect(run.diverged).toBe(false);
      // Batch means over 40 batches of 500 (≫ the AR(1) correlation time 1/(αq)) give the MCSE.
      const batches = 40;
      const size = iterations / batches;
      const means: number[] = [];
      for (let b = 0; b < batches; b++) {
        let s = 0;
        for (let i = 1 + b * size; i <= (b + 1) * size; i++) s += run.kl[i];
        means.push(s / size);
      }
      const mean = means.reduce((a, b) => a + b, 0) / batches;
      const mcse = Math.sqrt(means.reduce((a, m) => a + (m - mean) ** 2, 0) / (batches - 1) / batches);
      const predicted = predictedStationaryKL(makeFlow(problem, spec), stepSize, 20);
      // Plus 2% for the O(1/B) non-quadratic part of the KL that the linear prediction ignores.
      expect(Math.abs(mean - predicted)).toBeLessThan(4 * mcse + 0.02 * predicted);
    }
  });

  it('gaussian gradient noise: same key, same run; the start is not mutated', () => {
    const problem = klProblem(gaussian(), gaussian().fromMeanVariance(1, 0.25), 'reverse');
    const theta0 = perturbedStart(problem, key(11), 0.01);
    const copy = Float64Array.from(theta0);
    const options = { stepSize: 0.01, iterations: 50, noise: { kind: 'gaussian' as const, scale: 0.1 }, key: key(12) };
    const a = iterateFlow(problem, { method: 'theta-gd' }, theta0, options);
    const b = iterateFlow(problem, { method: 'theta-gd' }, theta0, options);
    const clean = iterateFlow(problem, { method: 'theta-gd' }, theta0, { ...options, noise: undefined });
    expect(Array.from(a.kl)).toEqual(Array.from(b.kl));
    expect(Array.from(a.kl)).not.toEqual(Array.from(clean.kl));
    expect(Array.from(theta0)).toEqual(Array.from(copy));
  });

  it('a step beyond the stable range diverges and says when', () => {
    const problem = klProblem(cat, catTarget);
    const run = iterateFlow(problem, { method: 'natural' }, perturbedStart(problem, key(13), 1e-4), { stepSize: 2.5, iterations: 200 });
    expect(run.diverged).toBe(true);
    expect(run.divergedAt).toBeGreaterThan(0);
  });

  it('rejects bad input with clear errors', () => {
    const reverse = klProblem(cat, catTarget, 'reverse');
    expect(() => iterateFlow(reverse, { method: 'natural' }, catTarget, { stepSize: 1, iterations: 1, noise: { kind: 'samples', batchSize: 5 }, key: key(1) })).toThrow(
      /forward KL only/,
    );
    expect(() => iterateFlow(reverse, { method: 'natural' }, catTarget, { stepSize: 1, iterations: 1, noise: { kind: 'gaussian', scale: 1 } })).toThrow(/needs a key/);
    expect(() => fisherScaledReparameterisation(reverse, 0)).toThrow(/c must be > 0/);
    expect(() => klProblem(cat, Float64Array.of(1, 2))).toThrow(/klProblem: target.*expected length 4/);
    expect(() => makeFlow(reverse, { method: 'adam' as never })).toThrow(/method must be one of/);
  });
});
