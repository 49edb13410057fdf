import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ad from '../src/autodiff/index.js';
import { Tensor } from '../src/autodiff/index.js';
import {
  broadcastPairArb,
  expectGradMatchesFiniteDifferences,
  propertyRuns,
  randomSigned,
  randomTensor,
  shapeArb,
} from './autodiff.gradcheck.js';

const seedArb = fc.integer({ min: 0, max: 1_000_000 });

describe('unary ops: gradients match finite differences over random shapes', () => {
  // [name, op, lo, hi, signed]: values drawn in the op's domain, away from kinks and poles.
  const cases: [string, (x: Tensor) => Tensor, number, number, boolean][] = [
    ['neg', ad.neg, -3, 3, false],
    ['exp', ad.exp, -3, 3, false],
    ['log', ad.log, 0.1, 5, false],
    ['log1p', ad.log1p, -0.9, 5, false],
    ['expm1', ad.expm1, -3, 3, false],
    ['sqrt', ad.sqrt, 0.1, 5, false],
    ['square', ad.square, -3, 3, false],
    ['abs', ad.abs, 0.1, 3, true],
    ['softplus', ad.softplus, -20, 20, false],
    ['sigmoid', ad.sigmoid, -10, 10, false],
    ['logSigmoid', ad.logSigmoid, -20, 20, false],
    ['tanh', ad.tanh, -3, 3, false],
    ['relu', ad.relu, 0.1, 3, true],
    ['lgamma', ad.lgamma, 0.1, 12, false],
    ['lgamma (negative, between poles)', ad.lgamma, -0.9, -0.1, false],
    ['digamma', ad.digamma, 0.2, 12, false],
  ];
  it.each(cases)('%s', (_name, op, lo, hi, signed) => {
    fc.assert(
      fc.property(shapeArb(), seedArb, (shape, seed) => {
        const x = signed ? randomSigned(shape, seed, lo, hi) : randomTensor(shape, seed, lo, hi);
        expectGradMatchesFiniteDifferences(op, [x]);
      }),
      propertyRuns,
    );
  });
});

describe('binary ops broadcast and their gradients reduce over broadcast axes', () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, [number, number], [number, number]][] = [
    ['add', ad.add, [-2, 2], [-2, 2]],
    ['sub', ad.sub, [-2, 2], [-2, 2]],
    ['mul', ad.mul, [-2, 2], [-2, 2]],
    ['div', ad.div, [-2, 2], [0.5, 3]],
    ['pow', ad.pow, [0.5, 3], [-2, 2]],
    ['maximum', ad.maximum, [-2, 2], [-2, 2]],
    ['minimum', ad.minimum, [-2, 2], [-2, 2]],
  ];
  it.each(cases)('%s', (_name, op, [alo, ahi], [blo, bhi]) => {
    fc.assert(
      fc.property(broadcastPairArb, seedArb, ([sa, sb], seed) => {
        const a = randomTensor(sa, seed, alo, ahi);
        const b = randomTensor(sb, seed + 1, blo, bhi);
        expectGradMatchesFiniteDifferences(op, [a, b]);
      }),
      propertyRuns,
    );
  });

  it('computes the NumPy broadcast values', () => {
    const col = ad.tensor([[1], [2]]);
    const row = ad.tensor([10, 20, 30]);
    const z = ad.add(col, row);
    expect(z.shape).toEqual([2, 3]);
    expect(z.toArray()).toEqual([11, 21, 31, 12, 22, 32]);
    expect(ad.mul(2, row).toArray()).toEqual([20, 40, 60]);
  });

  it('rejects shapes that do not broadcast, naming the op and shapes', () => {
    expect(() => ad.add(ad.zeros([2, 3]), ad.zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] do not broadcast/);
    expect(() => ad.add(ad.zeros([2, 3]), ad.zeros([4]))).toThrow(ad.ShapeError);
  });
});

describe('reductions and normalisations', () => {
  const axisCase = fc
    .tuple(shapeArb(3, 4).filter((s) => s.length >= 1), seedArb, fc.nat(), fc.boolean())
    .map(([shape, seed, a, keep]) => ({ shape, seed, axis: (a % (2 * shape.length)) - shape.length, keep }));

  it('sum and mean over one axis, several axes and all', () => {
    fc.assert(
      fc.property(axisCase, ({ shape, seed, axis, keep }) => {
        const x = randomTensor(shape, seed);
        expectGradMatchesFiniteDifferences((t) => ad.sum(t, axis, keep), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.mean(t, axis, keep), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.mean(t), [x]);
        if (shape.length >= 2) expectGradMatchesFiniteDifferences((t) => ad.sum(t, [0, -1], keep), [x]);
      }),
      propertyRuns,
    );
  });

  it('logsumexp, softmax, logSoftmax and cumsum along an axis', () => {
    fc.assert(
      fc.property(axisCase, ({ shape, seed, axis, keep }) => {
        const x = randomTensor(shape, seed, -3, 3);
        expectGradMatchesFiniteDifferences((t) => ad.logsumexp(t, axis, keep), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.logsumexp(t), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.softmax(t, axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.logSoftmax(t, axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.cumsum(t, axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.cumsum(t, axis, true), [x]);
      }),
      propertyRuns,
    );
  });

  it('gives the right values', () => {
    const x = ad.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(ad.sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(ad.sum(x, 1, true).shape).toEqual([2, 1]);
    expect(ad.mean(x).item()).toBeCloseTo(3.5, 14);
    expect(ad.logsumexp(ad.tensor([1000, 1000])).item()).toBeCloseTo(1000 + Math.LN2, 10);
    expect(ad.sum(ad.softmax(x), 1).toArray()).toEqual([1, 1].map((v) => expect.closeTo(v, 14)));
    expect(ad.cumsum(ad.tensor([1, 2, 3]), 0, true).toArray()).toEqual([0, 1, 3]);
    expect(() => ad.sum(x, 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
  });
});

describe('matmul and transpose', () => {
  const dims = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }));
  it('matrix–matrix, matrix–vector, vector–matrix and dot', () => {
    fc.assert(
      fc.property(dims, seedArb, ([m, k, n], seed) => {
        const a = randomTensor([m, k], seed);
        const b = randomTensor([k, n], seed + 1);
        const v = randomTensor([k], seed + 2);
        const u = randomTensor([m], seed + 3);
        expectGradMatchesFiniteDifferences(ad.matmul, [a, b]);
        expectGradMatchesFiniteDifferences(ad.matmul, [a, v]);
        expectGradMatchesFiniteDifferences(ad.matmul, [u, a]);
        expectGradMatchesFiniteDifferences(ad.matmul, [v, v]);
      }),
      propertyRuns,
    );
  });

  it('matrix–vector uses the unrolled path correctly for long rows', () => {
    const a = randomTensor([9, 11], 5);
    const v = randomTensor([11], 6);
    expectGradMatchesFiniteDifferences(ad.matmul, [a, v]);
    const z = ad.matmul(a, v);
    for (let i = 0; i < 9; i++) {
      let s = 0;
      for (let p = 0; p < 11; p++) s += a.data[i * 11 + p] * v.data[p];
      expect(z.data[i]).toBeCloseTo(s, 12);
    }
  });

  it('computes values and rejects mismatched inner dimensions', () => {
    const a = ad.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(ad.matmul(a, a).toArray()).toEqual([7, 10, 15, 22]);
    expect(ad.matmul(a, ad.tensor([1, 1])).toArray()).toEqual([3, 7]);
    expect(() => ad.matmul(a, ad.zeros([3]))).toThrow(/matmul: inner dimensions differ: \[2, 2\] @ \[3\]/);
  });

  it('transpose permutes axes', () => {
    fc.assert(
      fc.property(shapeArb(3, 4), seedArb, fc.nat(), (shape, seed, r) => {
        const x = randomTensor(shape, seed);
        const perm = shape.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = (r + i * 7) % (i + 1);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        expectGradMatchesFiniteDifferences((t) => ad.transpose(t, perm), [x]);
        expect(ad.transpose(ad.transpose(x, perm), perm.map((_, i) => perm.indexOf(i))).toArray()).toEqual(x.toArray());
      }),
      propertyRuns,
    );
    expect(ad.transpose(ad.tensor([[1, 2, 3]])).toArray()).toEqual([1, 2, 3]);
    expect(ad.transpose(ad.tensor([[1, 2, 3]])).shape).toEqual([3, 1]);
  });
});

describe('indexing and joining', () => {
  const indexed = fc
    .tuple(shapeArb(3, 4).filter((s) => s.length >= 1), seedArb, fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }))
    .map(([shape, seed, a, raw]) => {
      const axis = a % shape.length;
      return { shape, seed, axis, indices: raw.map((r) => r % shape[axis]) };
    });

  it('gather (with repeated indices), select and slice', () => {
    fc.assert(
      fc.property(indexed, ({ shape, seed, axis, indices }) => {
        const x = randomTensor(shape, seed);
        expectGradMatchesFiniteDifferences((t) => ad.gather(t, indices, axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.gather(t, Int32Array.from(indices), axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.select(t, indices[0], axis), [x]);
        expectGradMatchesFiniteDifferences((t) => ad.slice(t, 0, Math.min(2, shape[axis]), axis), [x]);
      }),
      propertyRuns,
    );
    const m = ad.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(ad.gather(m, [2, 0, 2]).toArray()).toEqual([5, 6, 1, 2, 5, 6]);
    expect(ad.gather(m, [1], 1).toArray()).toEqual([2, 4, 6]);
    expect(ad.select(m, 1).toArray()).toEqual([3, 4]);
    expect(ad.slice(m, -2).toArray()).toEqual([3, 4, 5, 6]);
    expect(() => ad.gather(m, [3])).toThrow(/gather: index 3 at position 0 is out of range \[0, 3\)/);
    expect(() => ad.gather(m, [0.5])).toThrow(/not an integer/);
  });

  it('concat, stack and reshape', () => {
    fc.assert(
      fc.property(shapeArb(3, 3).filter((s) => s.length >= 1), seedArb, fc.nat(), (shape, seed, a) => {
        const axis = a % shape.length;
        const other = shape.slice();
        other[axis] = (other[axis] % 3) + 1;
        const x = randomTensor(shape, seed);
        const y = randomTensor(other, seed + 1);
        const z = randomTensor(shape, seed + 2);
        expectGradMatchesFiniteDifferences((p, q) => ad.concat([p, q, p], axis), [x, y]);
        expectGradMatchesFiniteDifferences((p, q) => ad.stack([p, q], axis), [x, z]);
        expectGradMatchesFiniteDifferences((p) => ad.mul(ad.reshape(p, [-1]), ad.reshape(p, [x.size])), [x]);
      }),
      propertyRuns,
    );
    expect(ad.concat([ad.tensor([[1], [2]]), ad.tensor([[3, 4], [5, 6]])], 1).toArray()).toEqual([1, 3, 4, 2, 5, 6]);
    expect(() => ad.reshape(ad.zeros([2, 3]), [4])).toThrow(/reshape: \[2, 3\] \(6 elements\) cannot become \[4\]/);
    expect(() => ad.concat([ad.zeros([2, 2]), ad.zeros([3, 3])], 0)).toThrow(/concat: tensor 1 has shape \[3, 3\]/);
  });
});

describe('tape semantics', () => {
  it('a composite expression differentiates through every path', () => {
    const x = randomTensor([3, 4], 11);
    const w = randomTensor([4], 12);
    expectGradMatchesFiniteDifferences(
      (a, b) => ad.sum(ad.mul(ad.tanh(ad.matmul(a, b)), ad.logsumexp(a, 1))),
      [x, w],
    );
  });

  it('constants and stopGradient get no gradient; an output not depending on the input has zero gradient', () => {
    const x = ad.tensor([1, 2, 3]);
    const r = ad.valueAndGrad((a) => ad.sum(ad.mul(a, ad.stopGradient(a))), [x]);
    expect(Array.from(r.grads[0])).toEqual([1, 2, 3]);
    const c = ad.valueAndGrad(() => ad.scalar(5), [x]);
    expect(c.value).toBe(5);
    expect(Array.from(c.grads[0])).toEqual([0, 0, 0]);
  });

  it('a reused intermediate accumulates gradient from all its uses', () => {
    const x = ad.tensor([0.3, -1.2]);
    const r = ad.valueAndGrad((a) => {
      const e = ad.exp(a);
      return ad.sum(ad.mul(e, e));
    }, [x]);
    expect(r.grads[0][0]).toBeCloseTo(2 * Math.exp(0.6), 12);
    expect(r.grads[0][1]).toBeCloseTo(2 * Math.exp(-2.4), 12);
  });

  it('valueAndGrad rejects a non-scalar result', () => {
    expect(() => ad.valueAndGrad((a) => a, [ad.tensor([1, 2])])).toThrow(/must return a scalar, got shape \[2\]/);
  });

  it('tensors larger than the small-array limit survive many evaluations (arena reuse keeps values right)', () => {
    const x = randomTensor([40], 3);
    const expected = x.toArray().reduce((s, v) => s + Math.exp(v), 0);
    for (let rep = 0; rep < 3000; rep++) {
      const r = ad.valueAndGrad((a) => ad.sum(ad.exp(ad.add(a, ad.zeros([40])))), [x]);
      if (Math.abs(r.value - expected) > 1e-12 * expected) throw new Error(`rep ${rep}: ${r.value} vs ${expected}`);
      if (Math.abs(r.grads[0][7] - Math.exp(x.data[7])) > 1e-12) throw new Error(`rep ${rep}: gradient wrong`);
    }
  });

  it('tensor() checks its input', () => {
    expect(() => ad.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => ad.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(ad.tensor([[1, 2], [3, 4]]).shape).toEqual([2, 2]);
  });
});
