import { describe, expect, it } from 'vitest';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import type { Dataset } from '../src/core/types.js';
import { explicitStepLimit, neuronSpectrum, operatorDiagonal } from '../src/hilbert/basis.js';
import { HilbertError } from '../src/hilbert/errors.js';
import { twoLayerForward, twoLayerNetwork, type TwoLayerNetworkOptions } from '../src/hilbert/network.js';

function smallData(rows: number, cols: number, seed: number, labels: 'real' | 'binary'): Dataset {
  const x = normal(key(seed), rows * cols);
  const u = uniform(foldIn(key(seed), 1), rows);
  const y = Float64Array.from(u, (v) => (labels === 'real' ? 4 * v - 2 : v < 0.5 ? 0 : 1));
  return { x, y, rows, cols, featureNames: Array.from({ length: cols }, (_, j) => `x${j}`), targetName: 'y', source: 'test data' };
}

describe('neuronSpectrum and the operator', () => {
  it('gives every coordinate of unit m the eigenvalue c m^-decay, and A = λ/μ', () => {
    const spectrum = neuronSpectrum({ width: 3, paramsPerNeuron: 2, scale: 4, decay: 2 });
    expect(Array.from(spectrum)).toEqual([4, 4, 1, 1, 4 / 9, 4 / 9]);
    expect(Array.from(operatorDiagonal(spectrum, 0.5))).toEqual([0.125, 0.125, 0.5, 0.5, 1.125, 1.125]);
  });

  it('puts the explicit stability limit at 2 min μ / λ, shrinking like M^-2', () => {
    const limit = (width: number): number => explicitStepLimit(neuronSpectrum({ width, paramsPerNeuron: 3 }), 0.01);
    expect(limit(10)).toBeCloseTo((2 * 10 ** -2) / 0.01, 12);
    expect(limit(100) / limit(10)).toBeCloseTo(0.01, 12);
    expect(explicitStepLimit(neuronSpectrum({ width: 5, paramsPerNeuron: 1 }), 0)).toBe(Infinity);
  });

  it('rejects bad options with messages that name them', () => {
    expect(() => neuronSpectrum({ width: 0, paramsPerNeuron: 2 })).toThrow(/neuronSpectrum: width must be an integer ≥ 1, got 0/);
    expect(() => neuronSpectrum({ width: 2, paramsPerNeuron: 2, decay: 0.5 })).toThrow(/decay must be a finite number ≥ 1/);
    expect(() => operatorDiagonal(Float64Array.of(1, 0), 1)).toThrow(/spectrum\[1\] = 0/);
    expect(() => operatorDiagonal(Float64Array.of(1), -1)).toThrow(HilbertError);
  });
});

describe('twoLayerNetwork', () => {
  const cases: [string, TwoLayerNetworkOptions, 'real' | 'binary'][] = [
    ['squared loss, bias, no clip', { width: 4, loss: 'squared' }, 'real'],
    ['squared loss, no bias, clip R = 1.5', { width: 4, loss: 'squared', bias: false, clip: 1.5 }, 'real'],
    ['logistic loss, bias, clip R = 2', { width: 5, loss: 'logistic', clip: 2 }, 'binary'],
  ];

  for (const [name, options, labels] of cases) {
    it(`has a risk gradient equal to central finite differences (${name})`, () => {
      const data = smallData(7, 3, 11, labels);
      const net = twoLayerNetwork(data, { ...options, spectrumScale: 4 });
      const theta = net.priorDraw(key(3));
      const batch = Int32Array.of(0, 3, 3, 6, 2);
      const grad = new Float64Array(net.dim);
      const value = net.risk(theta, batch, grad);
      expect(net.risk(theta, batch)).toBe(value);
      const h = 1e-6;
      for (let k = 0; k < net.dim; k++) {
        const plus = Float64Array.from(theta);
        const minus = Float64Array.from(theta);
        plus[k] += h;
        minus[k] -= h;
        const numeric = (net.risk(plus, batch) - net.risk(minus, batch)) / (2 * h);
        // Central differences have O(h²) truncation and O(ε/h) rounding error: ~1e-9 here.
        expect(Math.abs(grad[k] - numeric)).toBeLessThan(1e-7 * (1 + Math.abs(numeric)));
      }
    });
  }

  it('computes the risk as the batch mean of the loss of its predictions', () => {
    const data = smallData(6, 2, 5, 'real');
    const net = twoLayerNetwork(data, { width: 3, clip: 1 });
    const theta = net.priorDraw(key(8), 0.25);
    const f = net.predict(theta, data.x);
    const batch = Int32Array.of(1, 4, 5);
    const expected = (0.5 * ((data.y[1] - f[1]) ** 2 + (data.y[4] - f[4]) ** 2 + (data.y[5] - f[5]) ** 2)) / 3;
    expect(net.risk(theta, batch)).toBeCloseTo(expected, 14);
    expect(net.meanLoss(theta, data.x, data.y)).toBeCloseTo(net.risk(theta, net.fullBatch()), 14);
  });

  it('applies the clipped map R tanh(W/R) before the forward pass', () => {
    const data = smallData(4, 2, 9, 'real');
    const R = 0.7;
    const net = twoLayerNetwork(data, { width: 2, clip: R });
    const theta = Float64Array.from(normal(key(4), net.dim), (v) => 3 * v);
    const clipped = Float64Array.from(theta, (v) => R * Math.tanh(v / R));
    expect(Array.from(net.predict(theta, data.x))).toEqual(Array.from(twoLayerForward(clipped, 2, 2, true, data.x)));
  });

  it('draws from N(0, μ_k / precisionScale) coordinatewise', () => {
    const data = smallData(3, 2, 1, 'real');
    const net = twoLayerNetwork(data, { width: 2, spectrumScale: 4 });
    const draws = 4000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < draws; i++) {
      const v = net.priorDraw(foldIn(key(2), i), 2)[net.paramsPerNeuron]; // first coordinate of unit 2
      sum += v;
      sumSq += v * v;
    }
    const variance = sumSq / draws - (sum / draws) ** 2;
    const expected = 4 / 4 / 2; // μ_2 = 4 · 2^-2 = 1, over precisionScale 2
    // The sample variance of N normals has sd σ²√(2/N) ≈ 2.2% of σ² at N = 4000: allow 4 sd.
    expect(Math.abs(variance - expected)).toBeLessThan(4 * expected * Math.sqrt(2 / draws));
  });

  it('rejects bad input with errors that name what and where', () => {
    const data = smallData(5, 2, 3, 'real');
    const net = twoLayerNetwork(data, { width: 2 });
    expect(() => net.risk(new Float64Array(3), Int32Array.of(0))).toThrow(/risk: theta has length 3, expected 8/);
    expect(() => net.risk(new Float64Array(8), Int32Array.of(0, 5))).toThrow(/batch\[1\] = 5 is not a row index in 0\.\.4/);
    expect(() => net.risk(new Float64Array(8), new Int32Array(0))).toThrow(/the batch is empty/);
    expect(() => twoLayerNetwork(data, { width: 2, loss: 'logistic' })).toThrow(/row 1, target "y" is .* \(must be 0 or 1 for the logistic loss\)/);
    const bad = { ...data, x: Float64Array.from(data.x, (v, i) => (i === 7 ? Number.NaN : v)) };
    expect(() => twoLayerNetwork(bad, { width: 2 })).toThrow(/dataset test data: row 4, feature 2 is NaN/);
    expect(() => twoLayerNetwork(data, { width: 0 })).toThrow(/width must be an integer ≥ 1/);
    expect(() => twoLayerNetwork(data, { width: 2, clip: 0 })).toThrow(/clip must be a finite number > 0/);
  });
});
