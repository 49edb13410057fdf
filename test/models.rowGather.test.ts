/**
 * The WebAssembly row gathers must give the bits of the JavaScript loops they replace
 * (batchLinearPredictors, accumulateWeightedRows), for every batch-size remainder mod 4, and the
 * same errors for bad row indices.
 */
import { describe, expect, it } from 'vitest';
import { key, normal, uniform } from '../src/core/random.js';
import { accumulateWeightedRows, batchLinearPredictors, ModelError, rowGather } from '../src/models/common.js';

function expectSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Object.is(actual[i], expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`).toBe(true);
}

describe('rowGather', () => {
  const rows = 97;

  it('uses WebAssembly here (Node has it), so the tests below compare two implementations', () => {
    expect(rowGather(new Float64Array(6), 2, 3, 1).constructor.name).toBe('WasmRowGather');
    // Narrow rows stay in JavaScript by default (the copy-in/out costs more than it saves there).
    expect(rowGather(new Float64Array(6), 2, 3).constructor.name).not.toBe('WasmRowGather');
  });

  for (const p of [1, 2, 7, 50]) {
    it(`p = ${p}: linear predictors and weighted row sums have the bits of the JavaScript loops`, () => {
      const x = normal(key(p), rows * p);
      const gather = rowGather(x, p, rows, 1);
      // Sizes 1–9 cover every remainder of the 4-row blocks; 33 and 200 grow the scratch.
      for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 200]) {
        const u = uniform(key(1000 + size), size);
        const batch = Int32Array.from(u, (v) => Math.floor(v * rows));
        batch[size - 1] = batch[0];
        const theta = normal(key(size), p + 1);
        for (const intercept of [true, false]) {
          const zWant = new Float64Array(size);
          const zGot = new Float64Array(size);
          batchLinearPredictors('test', x, p, rows, intercept, theta, batch, zWant);
          gather.linearPredictors('test', intercept, theta, batch, zGot);
          expectSameBits(zGot, zWant, `z (size ${size}, intercept ${intercept})`);
          const weights = normal(key(2000 + size), size);
          const gradWant = normal(key(3000 + size), p + 1);
          const gradGot = Float64Array.from(gradWant);
          accumulateWeightedRows(x, p, intercept, batch, weights, gradWant);
          gather.accumulateWeightedRows(intercept, batch, weights, gradGot);
          expectSameBits(gradGot, gradWant, `grad (size ${size}, intercept ${intercept})`);
        }
      }
    });
  }

  it('names the first bad row index, as the JavaScript loop does', () => {
    const p = 3;
    const x = normal(key(5), rows * p);
    const gather = rowGather(x, p, rows, 1);
    const theta = new Float64Array(p + 1);
    const z = new Float64Array(6);
    for (const bad of [-1, rows, 2 ** 31 - 1]) {
      const batch = Int32Array.of(0, 1, 2, 3, bad, rows + 5);
      expect(() => batchLinearPredictors('where', x, p, rows, true, theta, batch, z)).toThrow(`where: batch[4] = ${bad} is not a row index in 0..${rows - 1}`);
      expect(() => gather.linearPredictors('where', true, theta, batch, z)).toThrow(ModelError);
      expect(() => gather.linearPredictors('where', true, theta, batch, z)).toThrow(`where: batch[4] = ${bad} is not a row index in 0..${rows - 1}`);
    }
  });
});
