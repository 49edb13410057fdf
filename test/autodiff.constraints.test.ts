import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ad from '../src/autodiff/index.js';
import type { Constraint } from '../src/autodiff/index.js';
import { expectGradMatchesFiniteDifferences, propertyRuns, randomTensor } from './autodiff.gradcheck.js';

/** log|det A| by Gaussian elimination with partial pivoting (A is n × n, row-major, copied). */
function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (m[p * n + c] === 0) return -Infinity;
    if (p !== c) for (let j = 0; j < n; j++) [m[c * n + j], m[p * n + j]] = [m[p * n + j], m[c * n + j]];
    logDet += Math.log(Math.abs(m[c * n + c]));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      for (let j = c; j < n; j++) m[r * n + j] -= f * m[c * n + j];
    }
  }
  return logDet;
}

/** The free coordinates of a constrained value: all but the last of each simplex row. */
function freeCoordinates(c: Constraint, x: Float64Array, shape: number[]): Float64Array {
  if (c !== ad.simplex) return x;
  const k = shape[shape.length - 1];
  return x.filter((_, i) => i % k !== k - 1);
}

function forwardValues(c: Constraint, u: Float64Array, ushape: number[], shape: number[]) {
  const { value, logJacobian } = c.forward(ad.tensor(Float64Array.from(u), ushape), shape);
  return { x: value.data, logJ: ad.asTensor(logJacobian).item() };
}

const constraints: [string, Constraint, number[][]][] = [
  ['identity', ad.identity, [[3], [2, 2]]],
  ['positive', ad.positive, [[3], [2, 2], []]],
  ['lowerBounded(-2)', ad.lowerBounded(-2), [[3]]],
  ['upperBounded(1.5)', ad.upperBounded(1.5), [[3]]],
  ['unitInterval', ad.unitInterval, [[3], []]],
  ['interval(-1, 4)', ad.interval(-1, 4), [[2, 3]]],
  ['simplex', ad.simplex, [[2], [4], [3, 3]]],
];

describe.each(constraints)('%s', (_name, c, shapes) => {
  const caseArb = fc.tuple(fc.constantFrom(...shapes), fc.integer({ min: 0, max: 1_000_000 }));

  it('log-Jacobian equals the numerical log|det ∂x/∂u| and the inverse undoes the forward map', () => {
    fc.assert(
      fc.property(caseArb, ([shape, seed]) => {
        const ushape = c.unconstrainedShape(shape);
        const u = randomTensor(ushape, seed, -2, 2).data;
        const { x, logJ } = forwardValues(c, u, ushape, shape);
        const n = u.length;
        // Central-difference Jacobian of the free coordinates; error O(h²) ≈ 1e-10, tolerance 1e-6.
        const jac = new Float64Array(n * n);
        for (let j = 0; j < n; j++) {
          const h = 1e-5;
          const up = Float64Array.from(u);
          const dn = Float64Array.from(u);
          up[j] += h;
          dn[j] -= h;
          const fp = freeCoordinates(c, forwardValues(c, up, ushape, shape).x, shape);
          const fm = freeCoordinates(c, forwardValues(c, dn, ushape, shape).x, shape);
          for (let i = 0; i < n; i++) jac[i * n + j] = (fp[i] - fm[i]) / (2 * h);
        }
        expect(Math.abs(logJ - (n === 0 ? 0 : logAbsDet(jac, n)))).toBeLessThan(1e-6 * Math.max(1, Math.abs(logJ)));
        const back = c.inverse(x, shape, 'test');
        for (let i = 0; i < n; i++) expect(back[i]).toBeCloseTo(u[i], 8);
      }),
      propertyRuns,
    );
  });

  it('value and log-Jacobian have autodiff gradients that match finite differences', () => {
    fc.assert(
      fc.property(caseArb, ([shape, seed]) => {
        const ushape = c.unconstrainedShape(shape);
        const u = randomTensor(ushape, seed, -2, 2);
        expectGradMatchesFiniteDifferences((t) => {
          const { value, logJacobian } = c.forward(t, shape);
          return ad.concat([ad.reshape(value, [-1]), ad.reshape(ad.asTensor(logJacobian), [1])]);
        }, [u]);
      }),
      propertyRuns,
    );
  });
});

describe('constraint supports', () => {
  it('values land in the support', () => {
    const u = ad.tensor([-30, -1, 0, 2, 30]);
    expect(ad.positive.forward(u, [5]).value.toArray().every((v) => v > 0)).toBe(true);
    expect(ad.interval(-1, 4).forward(u, [5]).value.toArray().every((v) => v >= -1 && v <= 4)).toBe(true);
    const s = ad.simplex.forward(ad.tensor([0.3, -2, 5, 1, 0, 0], [2, 3]), [2, 4]).value.toArray();
    expect(s.every((v) => v > 0)).toBe(true);
    expect(s.slice(0, 4).reduce((p, v) => p + v, 0)).toBeCloseTo(1, 14);
    expect(s.slice(4).reduce((p, v) => p + v, 0)).toBeCloseTo(1, 14);
    // u = 0 maps to the uniform simplex, as in Stan.
    expect(ad.simplex.forward(ad.zeros([3]), [4]).value.toArray()).toEqual([0.25, 0.25, 0.25, 0.25].map((v) => expect.closeTo(v, 14)));
  });

  it('inverse rejects values outside the support, naming where', () => {
    expect(() => ad.positive.inverse([1, -2], [2], "parameter 'tau'")).toThrow(/parameter 'tau': element 1 = -2 is not > 0/);
    expect(() => ad.unitInterval.inverse([1], [1], 'p')).toThrow(/p: element 0 = 1 is not in the open interval \(0, 1\)/);
    expect(() => ad.simplex.inverse([0.5, 0.6], [2], 'w')).toThrow(/w: simplex row 0 sums to 1.1, not 1/);
    expect(() => ad.simplex.unconstrainedShape([1])).toThrow(/simplex needs a last axis of extent ≥ 2/);
    expect(() => ad.interval(2, 1)).toThrow(/need finite lo < hi/);
  });
});
