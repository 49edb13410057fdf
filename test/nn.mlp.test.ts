import { describe, expect, it } from 'vitest';
import { key, normal, uniform, foldIn } from '../src/core/random.js';
import type { Dataset } from '../src/core/types.js';
import { mlpClassifier, mlpLayout, mlpRegression, NetworkError, MlpWorkspace, heInit, Float32MlpWorkspace, float32MlpClassifier } from '../src/nn/mlp.js';
import { setSgemmEngine, sgemmLoops } from '../src/nn/gemm.js';
import { minibatchGradient, scaledLogPosteriorOf } from '../src/models/estimator.js';

function dataset(rows: number, cols: number, classes = 0): Dataset {
  const x = normal(key(21), rows * cols);
  const y = classes > 0 ? Float64Array.from(uniform(key(22), rows), (u) => Math.floor(u * classes)) : normal(key(23), rows);
  return { x, y, rows, cols, featureNames: Array.from({ length: cols }, (_, i) => `x${i}`), targetName: 'y', source: 'synthetic' };
}

/** Largest |analytic − central difference| relative to 1e-6 + 1e-6|fd|; < 1 passes. */
function worstGradientError(f: (t: Float64Array) => number, grad: Float64Array, theta: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < theta.length; i++) {
    const h = 1e-5 * Math.max(1, Math.abs(theta[i]));
    const p = Float64Array.from(theta);
    p[i] += h;
    const up = f(p);
    p[i] -= 2 * h;
    const fd = (up - f(p)) / (2 * h);
    // Central differences: truncation O(h²) and rounding O(1e-16/h) are both far below 1e-6.
    worst = Math.max(worst, Math.abs(fd - grad[i]) / (1e-6 + 1e-6 * Math.abs(fd)));
  }
  return worst;
}

describe('mlpLayout', () => {
  it('stacks (inputs + 1) × outputs blocks with the bias row last, and scales inputs by 1/√(inputs + 1)', () => {
    const layout = mlpLayout([3, 4, 2]);
    expect(layout.dim).toBe(4 * 4 + 5 * 2);
    expect(layout.layers[1].offset).toBe(16);
    expect(layout.layers[0].inputScale).toBeCloseTo(0.5, 15);
    expect(() => mlpLayout([3])).toThrow(NetworkError);
    expect(() => mlpLayout([3, 0, 1])).toThrow(/sizes\[1\]/);
  });

  it('computes z = [h, 1]/√(in+1) · W layer by layer (checked by hand on a 1-2-1 network)', () => {
    const layout = mlpLayout([1, 2, 1]);
    // W0 = [[1, -1], [0.5, 0.5]] (weight row, bias row); W1 = [[2], [3], [1]].
    const theta = new Float64Array([1, -1, 0.5, 0.5, 2, 3, 1]);
    const work = new MlpWorkspace(layout, 1);
    const x = 0.8;
    const s0 = 1 / Math.sqrt(2);
    const s1 = 1 / Math.sqrt(3);
    const h = [Math.max(0, s0 * x + 0.5 * s0), Math.max(0, -s0 * x + 0.5 * s0)];
    const expected = s1 * (2 * h[0] + 3 * h[1] + 1);
    expect(work.forward(theta, new Float64Array([x]), null, 1)[0]).toBeCloseTo(expected, 14);
  });
});

describe('mlpRegression', () => {
  const data = dataset(9, 3);
  for (const noise of [{ kind: 'learned' as const }, { kind: 'fixed' as const, precision: 2.5 }]) {
    it(`log likelihood and log prior gradients match finite differences (${noise.kind} noise, two hidden layers)`, () => {
      const model = mlpRegression(data, { hidden: [5, 4], noise, priorPrecision: 0.7 });
      const theta = model.initialPosition(key(4));
      const jitter = normal(key(5), theta.length);
      for (let i = 0; i < theta.length; i++) theta[i] += 0.2 * jitter[i];
      const batch = new Int32Array([0, 3, 4, 8, 3]);
      const ll = model.logLikelihood(theta, batch);
      expect(worstGradientError((t) => model.logLikelihood(t, batch).value, ll.grad, theta)).toBeLessThan(1);
      const lp = model.logPrior(theta);
      expect(worstGradientError((t) => model.logPrior(t).value, lp.grad, theta)).toBeLessThan(1);
    });
  }

  it('is a normalised Gaussian likelihood: value matches Σ log N(y; f, 1/τ)', () => {
    const model = mlpRegression(data, { hidden: 3 });
    const theta = model.initialPosition(key(6));
    const f = model.predict(theta, data.x, data.rows);
    const tau = model.noisePrecision(theta);
    let expected = 0;
    for (let i = 0; i < data.rows; i++) expected += 0.5 * Math.log(tau / (2 * Math.PI)) - 0.5 * tau * (data.y[i] - f[i]) ** 2;
    expect(model.logLikelihood(theta, model.fullBatch()).value).toBeCloseTo(expected, 10);
    expect(tau).toBeCloseTo(1, 15); // Gamma(6, 6) prior mean
  });

  it('names the problem in bad input', () => {
    const model = mlpRegression(data, { hidden: 3 });
    expect(() => model.logLikelihood(new Float64Array(2), new Int32Array([0]))).toThrow(/theta must be a Float64Array of length/);
    expect(() => model.logLikelihood(new Float64Array(model.dim), new Int32Array([0, 9]))).toThrow(/batch\[1\] = 9/);
    expect(() => mlpRegression(data, { priorPrecision: -1 })).toThrow(/priorPrecision/);
  });
});

describe('mlpClassifier', () => {
  it('softmax log likelihood gradient matches finite differences', () => {
    const data = dataset(8, 4, 3);
    const model = mlpClassifier(data, { hidden: [6], classes: 3 });
    const theta = model.initialPosition(key(7));
    const batch = new Int32Array([1, 2, 5, 7]);
    const ll = model.logLikelihood(theta, batch);
    expect(worstGradientError((t) => model.logLikelihood(t, batch).value, ll.grad, theta)).toBeLessThan(1);
    const p = model.predictProba(theta, data.x, 2);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 14);
  });

  it('rejects labels that are not class indices', () => {
    const data = dataset(4, 2, 2);
    const bad = { ...data, y: new Float64Array([0, 1, 0.5, 1]) };
    expect(() => mlpClassifier(bad)).toThrow(/row 3: label 0.5/);
    expect(() => mlpClassifier(data, { classes: 1 })).toThrow(/classes/);
  });
});

describe('heInit', () => {
  it('draws weights with variance 2/(rows·s²) and zero biases', () => {
    const layout = mlpLayout([200, 300, 1]);
    const theta = heInit(layout, foldIn(key(8), 1));
    const L = layout.layers[0];
    let sum = 0;
    let count = 0;
    for (let r = 0; r < L.inputs; r++) {
      for (let j = 0; j < L.outputs; j++) {
        sum += theta[L.offset + r * L.outputs + j] ** 2;
        count++;
      }
    }
    const target = 2 / (L.rows * L.inputScale ** 2);
    // 60 000 draws: the sample variance has relative s.e. √(2/60 000) ≈ 0.6%; 4 s.e. = 2.4%.
    expect(Math.abs(sum / count / target - 1)).toBeLessThan(0.024);
    for (let j = 0; j < L.outputs; j++) expect(theta[L.offset + L.inputs * L.outputs + j]).toBe(0);
  });
});

/** Largest |got − want| / (tol · (1 + |want|)) over the entries; < 1 passes. */
function worstScaledError(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (tol * (1 + Math.abs(want[i]))));
  return worst;
}

describe('float32 networks', () => {
  // Float32 rounding: each product of depth k ≤ 40 has relative error ≲ k·2⁻²⁴ ≈ 2.4e-6, compounded
  // over three layers and the softmax; 1e-4 relative leaves a wide margin yet catches any wrong term.
  const tol = 1e-4;
  const data = dataset(12, 5, 3);
  const batch = new Int32Array([0, 3, 3, 7, 11, 5]);

  it('Float32MlpWorkspace computes the float64 network outputs and gradients up to float32 rounding', () => {
    const layout = mlpLayout([5, 7, 6, 3]);
    const theta32 = Float32Array.from(heInit(layout, key(31)));
    const theta64 = Float64Array.from(theta32);
    const w32 = new Float32MlpWorkspace(layout, 2);
    const w64 = new MlpWorkspace(layout, 2);
    expect(worstScaledError(w32.forward(theta32, data.x, batch, batch.length), w64.forward(theta64, data.x, batch, batch.length), tol)).toBeLessThan(1);
    const dOut = normal(key(32), batch.length * 3);
    const g32 = new Float32Array(layout.dim).fill(NaN); // overwritten, so NaNs must not survive
    const g64 = new Float64Array(layout.dim);
    w32.backward(theta32, Float32Array.from(dOut), g32);
    w64.backward(theta64, dOut, g64);
    expect(worstScaledError(g32, g64, tol)).toBeLessThan(1);
    w32.backward(theta32, Float32Array.from(dOut), g32, 0, 0.5, 2); // grad ← 0.5 ∂L/∂θ + 2 grad
    expect(worstScaledError(g32, g64.map((v) => 2.5 * v), tol)).toBeLessThan(1);
  });

  it('float32MlpClassifier matches mlpClassifier (value, gradient, probabilities) at the same float32 weights', () => {
    const options = { hidden: [8, 6], classes: 3, priorPrecision: 0.5 };
    const m32 = float32MlpClassifier(data, options);
    const m64 = mlpClassifier(data, options);
    const theta32 = m32.initialPosition(key(33));
    const theta64 = Float64Array.from(theta32);
    const grad = new Float32Array(m32.dim);
    const ll = m32.logLikelihood(theta32, batch, grad);
    const want = m64.logLikelihood(theta64, batch);
    expect(Math.abs(ll - want.value)).toBeLessThan(tol * (1 + Math.abs(want.value)));
    expect(worstScaledError(grad, want.grad, tol)).toBeLessThan(1);
    const priorGrad = new Float32Array(m32.dim);
    const prior = m64.logPrior(theta64);
    expect(m32.logPrior(theta32, priorGrad)).toBeCloseTo(prior.value, 4);
    expect(worstScaledError(priorGrad, prior.grad, 1e-7)).toBeLessThan(1);
    expect(worstScaledError(m32.predictProba(theta32, data.x, 4), m64.predictProba(theta64, data.x, 4), tol)).toBeLessThan(1);
  });

  it('sgdStep is θ + η(∇ log p(θ) + s ∇ log p(y_B | θ)), into `out` or in place, and returns log p(θ) + s log p(y_B | θ)', () => {
    const model = float32MlpClassifier(data, { hidden: [8], classes: 3, priorPrecision: 2 });
    const theta = model.initialPosition(key(34));
    const original = Float32Array.from(theta);
    const lik = new Float32Array(model.dim);
    const prior = new Float32Array(model.dim);
    const value = model.logLikelihood(theta, batch, lik);
    const priorValue = model.logPrior(theta, prior);
    const [eta, s] = [0.01, 2.5];
    const want = theta.map((t, i) => t + eta * (prior[i] + s * lik[i]));
    const out = new Float32Array(model.dim);
    const got = model.sgdStep(theta, batch, { learningRate: eta, likelihoodScale: s, out });
    expect(got).toBeCloseTo(priorValue + s * value, 3);
    expect(Array.from(theta)).toEqual(Array.from(original)); // θ untouched when `out` is given
    // θ' is one rounding of a few float64 terms away from the float32 reference.
    expect(worstScaledError(out, want, 1e-6)).toBeLessThan(1);
    model.sgdStep(theta, batch, { learningRate: eta, likelihoodScale: s });
    expect(Array.from(theta)).toEqual(Array.from(out));
  });

  it('runs through the sgemm engine set by setSgemmEngine, with the result of the loops', () => {
    const model = float32MlpClassifier(data, { hidden: [8], classes: 3 });
    const theta = model.initialPosition(key(35));
    const plain = new Float32Array(model.dim);
    const routed = new Float32Array(model.dim);
    model.logLikelihood(theta, batch, plain);
    let calls = 0;
    setSgemmEngine((...args) => {
      calls++;
      sgemmLoops(...args);
    });
    try {
      model.logLikelihood(theta, batch, routed);
    } finally {
      setSgemmEngine(null);
    }
    expect(calls).toBe(2 + 3); // two layers forward; two weight gradients and one input gradient back
    expect(Array.from(routed)).toEqual(Array.from(plain));
  });

  it('mlpClassifier with precision float32 is a float64 Target computed in float32', () => {
    const m32 = mlpClassifier(data, { hidden: [8], classes: 3, precision: 'float32' });
    const m64 = mlpClassifier(data, { hidden: [8], classes: 3 });
    const theta = Float64Array.from(Float32Array.from(m64.initialPosition(key(36))));
    const a = m32.logLikelihood(theta, batch);
    const b = m64.logLikelihood(theta, batch);
    expect(a.grad).toBeInstanceOf(Float64Array);
    expect(Math.abs(a.value - b.value)).toBeLessThan(tol * (1 + Math.abs(b.value)));
    expect(worstScaledError(a.grad, b.grad, tol)).toBeLessThan(1);
    expect(worstScaledError(m32.predictProba(theta, data.x, 3), m64.predictProba(theta, data.x, 3), tol)).toBeLessThan(1);
    expect(() => mlpClassifier(data, { precision: 'float16' as 'float32' })).toThrow(/precision must be 'float64' or 'float32'/);
  });

  it('names the problem in bad input', () => {
    const model = float32MlpClassifier(data, { hidden: [4], classes: 3 });
    const theta = model.initialPosition(key(37));
    const grad = new Float32Array(model.dim);
    expect(() => model.logLikelihood(Float64Array.from(theta) as unknown as Float32Array, batch, grad)).toThrow(/float32MlpClassifier.logLikelihood: theta must be a Float32Array of length/);
    expect(() => model.logLikelihood(theta, batch, new Float32Array(3))).toThrow(/grad must be a Float32Array of length \d+, got length 3/);
    expect(() => model.logLikelihood(theta, new Int32Array([12]), grad)).toThrow(/batch\[0\] = 12/);
    expect(() => model.sgdStep(theta, batch, { learningRate: 0 })).toThrow(/learningRate must be a finite number > 0/);
    expect(() => model.sgdStep(theta, batch, { learningRate: 0.1, out: new Float32Array(2) })).toThrow(/out must be a Float32Array/);
    expect(() => float32MlpClassifier({ ...data, y: data.y.map((v, i) => (i === 2 ? 0.5 : v)) })).toThrow(/row 3: label 0.5/);
  });
});

describe('fused log posterior of the network targets', () => {
  it('minibatchGradient through the registered kernel has the bits of logPrior + (N/S)·logLikelihood', () => {
    const regression = mlpRegression(dataset(10, 3), { hidden: [5], priorPrecision: 0.7 });
    const classifier = mlpClassifier(dataset(10, 3, 3), { hidden: [6, 4], classes: 3 });
    const single = mlpClassifier(dataset(10, 3, 3), { hidden: [6], classes: 3, precision: 'float32' });
    const batch = new Int32Array([1, 4, 4, 9]);
    for (const model of [regression, classifier, single]) {
      expect(scaledLogPosteriorOf(model)).toBeDefined();
      const theta = model.initialPosition(key(41));
      const scale = model.dataSize / batch.length;
      const prior = model.logPrior(theta);
      const lik = model.logLikelihood(theta, batch);
      const fused = minibatchGradient(model, theta, batch, new Float64Array(model.dim).fill(NaN));
      expect(fused.value).toBe(prior.value + scale * lik.value);
      expect(Array.from(fused.grad)).toEqual(Array.from(prior.grad, (g, i) => g + scale * lik.grad[i]));
      // `out` may be θ itself.
      const inPlace = Float64Array.from(theta);
      minibatchGradient(model, inPlace, batch, inPlace);
      expect(Array.from(inPlace)).toEqual(Array.from(fused.grad));
    }
  });
});
