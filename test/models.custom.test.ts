import { describe, expect, it } from 'vitest';
import * as ad from '../src/autodiff/index.js';
import { key, normal, split, uniform } from '../src/core/random.js';
import type { Dataset } from '../src/core/types.js';
import { mcseMean } from '../src/diagnostics/convergence.js';
import { customModel } from '../src/models/custom.js';
import { logisticRegression } from '../src/models/logistic.js';
import { sampleNuts } from '../src/samplers/nuts.js';

/** Central-difference gradient of a scalar function of a flat vector (h = 1e-6, error O(h²)). */
function finiteDifferenceGrad(f: (theta: Float64Array) => number, theta: Float64Array): Float64Array {
  const g = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(theta[i]));
    const up = Float64Array.from(theta);
    const dn = Float64Array.from(theta);
    up[i] += h;
    dn[i] -= h;
    g[i] = (f(up) - f(dn)) / (2 * h);
  }
  return g;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])))) {
      throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
    }
  }
}

function logisticDataset(rows: number, cols: number, seed: number): Dataset {
  const [kx, kw, ku] = split(key(seed), 3);
  const x = normal(kx, rows * cols);
  const w = normal(kw, cols);
  const u = uniform(ku, rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let l = 0.3;
    for (let j = 0; j < cols; j++) l += x[i * cols + j] * w[j];
    y[i] = u[i] < 1 / (1 + Math.exp(-l)) ? 1 : 0;
  }
  return { x, y, rows, cols, featureNames: [], targetName: 'y', source: 'generated' };
}

function customLogistic(data: Dataset) {
  const X = ad.tensor(data.x, [data.rows, data.cols]);
  const Y = ad.tensor(data.y);
  return customModel({
    params: { w: { shape: data.cols }, b: {} },
    logPrior: ({ w, b }) => ad.add(ad.sum(ad.normalLogPdf(w, 0, 1)), ad.normalLogPdf(b, 0, 1)),
    logLikelihood: ({ w, b }, batch: Int32Array) =>
      ad.sum(ad.bernoulliLogitLogPmf(ad.gather(Y, batch), ad.add(ad.matmul(ad.gather(X, batch), w), b))),
    dataSize: data.rows,
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: data.rows }, (_, i) => i),
    sliceBatch: (batch, i) => batch.subarray(i, i + 1),
  });
}

describe('customModel: a custom logistic regression equals the built-in fused one', () => {
  const data = logisticDataset(60, 7, 1);
  const custom = customLogistic(data);
  const builtin = logisticRegression(data, { priorPrecision: 1, intercept: true });
  const theta = normal(key(5), 8);
  const batch = Int32Array.of(3, 17, 17, 42, 0, 59);

  it('has the same layout, value and gradient of prior and likelihood', () => {
    expect(custom.dim).toBe(builtin.dim);
    expect(custom.dataSize).toBe(60);
    const [cp, bp] = [custom.logPrior(theta), builtin.logPrior(theta)];
    expect(cp.value).toBeCloseTo(bp.value, 11);
    expectClose(cp.grad, bp.grad, 1e-12);
    for (const b of [batch, custom.fullBatch()]) {
      const [cl, bl] = [custom.logLikelihood(theta, b), builtin.logLikelihood(theta, b)];
      expect(cl.value).toBeCloseTo(bl.value, 10);
      expectClose(cl.grad, bl.grad, 1e-11);
    }
  });

  it('gives the same per-example gradients, and they sum to the batch gradient', () => {
    const out = new Float64Array(batch.length * 8);
    const ref = new Float64Array(batch.length * 8);
    (custom.perExampleGrads as NonNullable<typeof custom.perExampleGrads>)(theta, batch, out);
    builtin.perExampleGrads(theta, batch, ref);
    expectClose(out, ref, 1e-12);
    const total = new Float64Array(8);
    for (let r = 0; r < batch.length; r++) for (let j = 0; j < 8; j++) total[j] += out[r * 8 + j];
    expectClose(total, custom.logLikelihood(theta, batch).grad, 1e-12);
  });

  it('logPosterior scales the likelihood by N/S', () => {
    const lp = custom.logPosterior(theta, batch);
    const expected = custom.logPrior(theta).value + (60 / batch.length) * custom.logLikelihood(theta, batch).value;
    expect(lp.value).toBeCloseTo(expected, 10);
    expect(custom.logPosterior(theta).value).toBeCloseTo(builtin.logPrior(theta).value + builtin.logLikelihood(theta, builtin.fullBatch()).value, 9);
  });
});

describe('customModel with constrained parameters', () => {
  // A small model touching every constraint: a Dirichlet-multinomial-like mixture weight, a
  // positive scale, a probability, a bounded correlation-like parameter and a 2 × 2 matrix.
  const counts = ad.tensor([3, 5, 2]);
  const obs = ad.tensor([0.4, -1.2, 2.2, 0.9]);
  const model = customModel({
    name: 'everyConstraint',
    params: {
      weights: { shape: 3, constraint: ad.simplex },
      scale: { constraint: ad.positive },
      p: { constraint: ad.unitInterval },
      rho: { constraint: ad.interval(-1, 1) },
      m: { shape: [2, 2] },
      floor: { constraint: ad.lowerBounded(-3) },
    },
    logPrior: ({ scale, p, rho, m, floor }) =>
      ad.add(
        ad.add(ad.gammaLogPdf(scale, 2, 1), ad.betaLogPdf(p, 2, 3)),
        ad.add(ad.add(ad.sum(ad.normalLogPdf(m, 0, 1)), ad.normalLogPdf(rho, 0, 0.5)), ad.normalLogPdf(floor, 0, 2)),
      ),
    logLikelihood: ({ weights, scale, p, rho, m }, batch: Int32Array) => {
      const mult = ad.sum(ad.mul(counts, ad.log(weights)));
      const loc = ad.add(ad.mul(rho, ad.sum(m)), p);
      return ad.add(mult, ad.sum(ad.studentTLogPdf(ad.gather(obs, batch), 4, loc, scale)));
    },
    dataSize: 4,
    batchSize: (b) => b.length,
    fullBatch: () => Int32Array.of(0, 1, 2, 3),
    sliceBatch: (b, i) => b.subarray(i, i + 1),
  });

  it('lays out unconstrained coordinates in declaration order', () => {
    expect(model.dim).toBe(2 + 1 + 1 + 1 + 4 + 1);
    expect(model.coordinateNames()).toEqual([
      'weights[0]',
      'weights[1]',
      'scale',
      'p',
      'rho',
      'm[0]',
      'm[1]',
      'm[2]',
      'm[3]',
      'floor',
    ]);
  });

  it('prior (with log-Jacobian) and likelihood gradients match finite differences', () => {
    for (const seed of [1, 2, 3]) {
      const theta = normal(key(seed), model.dim);
      const batch = Int32Array.of(2, 0, 2);
      const prior = model.logPrior(theta);
      expectClose(prior.grad, finiteDifferenceGrad((t) => model.logPrior(t).value, theta), 1e-6);
      const lik = model.logLikelihood(theta, batch);
      expectClose(lik.grad, finiteDifferenceGrad((t) => model.logLikelihood(t, batch).value, theta), 1e-6);
    }
  });

  it('the log-Jacobian makes logPrior the density of the unconstrained vector', () => {
    // For a positive scalar with prior Gamma(2, 1): log p_u(u) = log Gamma(e^u | 2, 1) + u.
    const m = customModel({
      params: { s: { constraint: ad.positive } },
      logPrior: ({ s }) => ad.gammaLogPdf(s, 2, 1),
      logDensity: () => 0,
    });
    const u = 0.37;
    const s = Math.exp(u);
    expect(m.logPrior(Float64Array.of(u)).value).toBeCloseTo(Math.log(s) - s + u, 13);
  });

  it('constrain and unconstrain are inverse, and values respect the constraints', () => {
    const theta = normal(key(9), model.dim);
    const values = model.constrain(theta);
    expect(values.weights.reduce((p, v) => p + v, 0)).toBeCloseTo(1, 14);
    expect(values.scale[0]).toBeGreaterThan(0);
    expect(values.rho[0]).toBeGreaterThan(-1);
    expect(values.floor[0]).toBeGreaterThan(-3);
    expect(values.m.length).toBe(4);
    expectClose(model.unconstrain(values), theta, 1e-9);
    // constrain returns copies: mutating them does not touch theta.
    values.m[0] = 123;
    expect(theta[5]).not.toBe(123);
  });

  it('perExampleGrads rows sum to the likelihood gradient minus the batch-free terms', () => {
    // The multinomial term does not depend on the batch, so each one-example row carries it once.
    const theta = normal(key(4), model.dim);
    const batch = Int32Array.of(0, 3);
    const out = new Float64Array(2 * model.dim);
    (model.perExampleGrads as NonNullable<typeof model.perExampleGrads>)(theta, batch, out);
    for (let r = 0; r < 2; r++) {
      const one = model.logLikelihood(theta, batch.subarray(r, r + 1)).grad;
      expectClose(out.subarray(r * model.dim, (r + 1) * model.dim), one, 1e-12);
    }
  });
});

describe('customModel errors name the model and the part', () => {
  const base = {
    params: { a: { shape: 2 } },
    logLikelihood: ({ a }: { a: ad.Tensor }) => ad.sum(a),
    dataSize: 3,
    batchSize: () => 1,
    fullBatch: () => null,
  };
  it('rejects bad specifications', () => {
    expect(() => customModel({ ...base, params: {} })).toThrow(/customModel: params is empty/);
    expect(() => customModel({ ...base, dataSize: 0 })).toThrow(/dataSize must be a positive integer/);
    expect(() => customModel({ ...base, logDensity: () => 0 })).toThrow(/exactly one of logLikelihood and logDensity/);
    expect(() => customModel({ ...base, params: { a: { shape: [2, -1] } } })).toThrow(/parameter 'a': shape \[2, -1\] has a bad extent -1/);
    const { fullBatch: _f, ...noFull } = base;
    expect(() => customModel(noFull)).toThrow(/batchSize\(batch\) and fullBatch\(\) are required/);
  });

  it('rejects bad evaluations', () => {
    const m = customModel({ ...base, name: 'toy', logLikelihood: ({ a }) => ad.exp(a) });
    expect(() => m.logLikelihood(new Float64Array(2), null)).toThrow(
      /toy.logLikelihood must return a scalar \(sum over examples\), got shape \[2\]/,
    );
    expect(() => m.logPrior(new Float64Array(3))).toThrow(/toy.logPrior: theta must be a Float64Array of length 2, got length 3/);
    expect(() => m.unconstrain({} as never)).toThrow(/toy.unconstrain: parameter 'a' is missing/);
    expect(() => m.unconstrain({ a: [1, 2, 3] })).toThrow(/parameter 'a' has 3 values, shape \[2\] needs 2/);
    expect(m.perExampleGrads).toBeUndefined();
    const pos = customModel({ params: { s: { constraint: ad.positive } }, logDensity: () => 0 });
    expect(() => pos.unconstrain({ s: -1 })).toThrow(/parameter 's': element 0 = -1 is not > 0/);
  });
});

describe('customModel runs under NUTS', () => {
  it('recovers a conjugate normal mean and a Gamma-distributed positive parameter within MCSE', () => {
    // y_i ~ N(μ, 1), μ ~ N(0, 3²): posterior N(m, v) with v = 1/(n + 1/9), m = v Σy.
    // s > 0 appears only in its Gamma(3, 2) prior, so its posterior mean is 3/2 — which holds only
    // if the log-Jacobian of the exp transform is included.
    const y = ad.tensor([1.2, 0.4, 2.1, 1.7, 0.9]);
    const model = customModel({
      params: { mu: {}, s: { constraint: ad.positive } },
      logPrior: ({ mu, s }) => ad.add(ad.normalLogPdf(mu, 0, 3), ad.gammaLogPdf(s, 3, 2)),
      logLikelihood: ({ mu }, batch: Int32Array) => ad.sum(ad.normalLogPdf(ad.gather(y, batch), mu, 1)),
      dataSize: 5,
      batchSize: (b) => b.length,
      fullBatch: () => Int32Array.of(0, 1, 2, 3, 4),
    });
    const run = sampleNuts(model, { chains: 2, warmup: 500, draws: 1500, seed: 11 });
    const v = 1 / (5 + 1 / 9);
    const m = v * y.toArray().reduce((p, q) => p + q, 0);
    const mu = run.draws.map((d) => d.filter((_, i) => i % 2 === 0));
    const s = run.draws.map((d) => Array.from(d.filter((_, i) => i % 2 === 1), Math.exp));
    const mean = (chains: ArrayLike<number>[]) =>
      chains.reduce((p, c) => p + Array.from(c).reduce((a, b) => a + b, 0), 0) / chains.reduce((p, c) => p + c.length, 0);
    // 4 MCSE: a false failure rate below 1e-4 per check at the fixed seed.
    expect(Math.abs(mean(mu) - m)).toBeLessThan(4 * mcseMean(mu));
    expect(Math.abs(mean(s) - 1.5)).toBeLessThan(4 * mcseMean(s));
  });
});
