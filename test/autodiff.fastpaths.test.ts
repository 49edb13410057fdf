/**
 * The fast paths added for speed (issue 9): gather's row views and block copies, matmul reading a
 * row view in place, the four-row matrix–vector kernel, buffer pools that replay allocations, and
 * first-writer gradient buffers. Each is checked against a plain reference or finite differences.
 */
import { describe, expect, it } from 'vitest';
import * as ad from '../src/autodiff/index.js';
import { BufferPool, beginTape, endTape, variable } from '../src/autodiff/tensor.js';
import { customModel } from '../src/models/custom.js';
import { expectGradMatchesFiniteDifferences, randomTensor } from './autodiff.gradcheck.js';

/** Rows `indices` of a row-major rows × cols matrix, by plain indexing. */
function referenceRows(x: Float64Array, cols: number, indices: readonly number[]): number[] {
  const out: number[] = [];
  for (const r of indices) for (let j = 0; j < cols; j++) out.push(x[r * cols + j]);
  return out;
}

/** A · v by plain loops. */
function referenceMatVec(a: ArrayLike<number>, rows: number, cols: number, v: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[i * cols + j] * v[j];
    out.push(s);
  }
  return out;
}

const contiguous = [3, 4, 5, 6, 7];
const scattered = [9, 0, 4, 4, 11, 2, 0];

describe('gather: row views during an evaluation, copies outside', () => {
  // Row lengths below and above the block-copy threshold (24), and both index orders.
  for (const cols of [3, 40]) {
    for (const [label, indices] of [
      ['contiguous', contiguous],
      ['scattered with repeats', scattered],
    ] as const) {
      it(`${label} rows of length ${cols} give the picked rows, inside and outside a tape`, () => {
        const x = randomTensor([12, cols], cols);
        const expected = referenceRows(x.data, cols, indices);
        expect(ad.gather(x, indices).toArray()).toEqual(expected);
        const scope = beginTape();
        try {
          const view = ad.gather(x, Int32Array.from(indices));
          expect(view.shape).toEqual([indices.length, cols]);
          expect(view.size).toBe(indices.length * cols);
          expect(view.rowView).not.toBeNull();
          expect(view.toArray()).toEqual(expected);
          // Reading the values copies them out once; the view is then gone.
          expect(view.rowView).toBeNull();
        } finally {
          endTape(scope);
        }
      });
    }
  }

  it('keeps its own copy of the indices (the caller may reuse its buffer before the view is read)', () => {
    const x = randomTensor([12, 30], 5);
    const w = randomTensor([30], 6);
    const idx = Int32Array.from(scattered);
    const expectedRows = referenceRows(x.data, 30, scattered);
    const expectedProduct = referenceMatVec(expectedRows, scattered.length, 30, w.data);
    const { value } = ad.valueAndGrad(
      (xv, wv) => {
        const rows = ad.gather(xv, idx);
        const product = ad.matmul(ad.gather(x, idx), wv);
        idx.fill(1);
        expect(rows.toArray()).toEqual(expectedRows);
        return ad.sum(product);
      },
      [x, w],
    );
    expect(value).toBeCloseTo(
      expectedProduct.reduce((s, v) => s + v, 0),
      12,
    );
  });

  it('gather along other axes and of vectors still copies (no view)', () => {
    const x = randomTensor([4, 5], 8);
    const scope = beginTape();
    try {
      expect(ad.gather(x, [4, 0, 4], 1).rowView).toBeNull();
      expect(ad.gather(randomTensor([6], 9), [5, 1]).rowView).toBeNull();
    } finally {
      endTape(scope);
    }
  });
});

describe('matmul over a row view', () => {
  // m = 1..9 covers the four-row sweeps and every tail length; n = 1 and n = 3 both kernels.
  it('matches the copied product and plain loops for every row count', () => {
    const x = randomTensor([15, 27], 11);
    const v = randomTensor([27], 12);
    for (let m = 1; m <= 9; m++) {
      const indices = Array.from({ length: m }, (_, i) => (7 * i + 3) % 15);
      const rows = referenceRows(x.data, 27, indices);
      const expected = referenceMatVec(rows, m, 27, v.data);
      const dense = ad.matmul(ad.tensor(Float64Array.from(rows), [m, 27]), v).toArray();
      const scope = beginTape();
      try {
        const viaView = ad.matmul(ad.gather(x, indices), v).toArray();
        for (let i = 0; i < m; i++) {
          // Same products, summed in a different order than the reference loop: a few ulps.
          expect(Math.abs(viaView[i] - expected[i])).toBeLessThan(1e-12);
          expect(Math.abs(dense[i] - expected[i])).toBeLessThan(1e-12);
        }
      } finally {
        endTape(scope);
      }
    }
  });

  it('gradients into the weights and (scattered back) into the source match finite differences', () => {
    for (const m of [3, 4, 7]) {
      const indices = [5, 1, 5, 0, 2, 3, 1].slice(0, m);
      const x = randomTensor([6, 30], 20 + m);
      const v = randomTensor([30], 30 + m);
      const b = randomTensor([30, 3], 40 + m);
      expectGradMatchesFiniteDifferences((xv, vv) => ad.matmul(ad.gather(xv, indices), vv), [x, v]);
      expectGradMatchesFiniteDifferences((xv, bv) => ad.matmul(ad.gather(xv, indices), bv), [x, b]);
      // A constant source with a view: only the right operand is differentiated.
      expectGradMatchesFiniteDifferences((vv) => ad.tanh(ad.matmul(ad.gather(x, indices), vv)), [v]);
    }
  });

  it('a view used by matmul and by another op gives consistent values and gradients', () => {
    const x = randomTensor([8, 26], 50);
    const v = randomTensor([26], 51);
    const indices = [6, 2, 2, 7, 0];
    expectGradMatchesFiniteDifferences(
      (xv, vv) => {
        const rows = ad.gather(xv, indices);
        return ad.add(ad.matmul(rows, vv), ad.sum(ad.square(rows), 1));
      },
      [x, v],
    );
  });
});

describe('buffer pools', () => {
  it('replay allocations across evaluations, with the right values when shapes change', () => {
    const pool = new BufferPool();
    for (let rep = 0; rep < 50; rep++) {
      // Lengths alternate so that pool slots are both reused and replaced.
      const n = rep % 3 === 0 ? 5 : 40;
      const x = randomTensor([n], rep);
      const grad = new Float64Array(n);
      const scope = beginTape(pool);
      try {
        const v = variable(x.data, [n], grad);
        const out = ad.sum(ad.mul(ad.exp(v), ad.add(v, 1)));
        ad.backward(scope.tape, out);
        let expected = 0;
        for (let i = 0; i < n; i++) expected += Math.exp(x.data[i]) * (x.data[i] + 1);
        expect(Math.abs(out.item() - expected)).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected)));
        for (let i = 0; i < n; i++) {
          // d/dx eˣ(x + 1) = eˣ(x + 2)
          expect(Math.abs(grad[i] - Math.exp(x.data[i]) * (x.data[i] + 2))).toBeLessThan(1e-12 * Math.exp(x.data[i]) * 4);
        }
      } finally {
        endTape(scope);
      }
    }
  });

  it('refuse to serve two live tapes, and a nested tape without a pool leaves the outer buffers alone', () => {
    const pool = new BufferPool();
    const outer = beginTape(pool);
    try {
      expect(() => beginTape(pool)).toThrow(/buffer pool is already in use/);
      const kept = ad.exp(randomTensor([20], 1));
      const before = kept.toArray();
      const inner = ad.valueAndGrad((a) => ad.sum(ad.exp(ad.mul(a, 3))), [randomTensor([20], 2)]);
      expect(Number.isFinite(inner.value)).toBe(true);
      expect(kept.toArray()).toEqual(before);
    } finally {
      endTape(outer);
    }
    expect(pool.inUse).toBe(false);
  });
});

describe('buffers that skip zeroing are still fully written', () => {
  it('normalLogPdf gives zero gradient where σ ≤ 0 even when its pooled buffers hold old partials', () => {
    const pool = new BufferPool();
    const x = Float64Array.of(0.5, -1, 2);
    const run = (sigma: Float64Array): Float64Array => {
      const grad = new Float64Array(3);
      const scope = beginTape(pool);
      try {
        const v = variable(x, [3], grad);
        ad.backward(scope.tape, ad.sum(ad.normalLogPdf(v, 0, ad.tensor(sigma))));
      } finally {
        endTape(scope);
      }
      return grad;
    };
    // First with every σ valid, so the pooled partials hold non-zero values...
    expect(Array.from(run(Float64Array.of(1, 1, 1)))).toEqual([-0.5, 1, -2]);
    // ...then with σ₁ < 0: that element's partial must be written as 0, not left stale.
    expect(Array.from(run(Float64Array.of(1, -1, 2)))).toEqual([-0.5, 0, -0.5]);
  });

  it('add(a, a) and add(a, b) give the first gradient into a fresh input right', () => {
    const a = randomTensor([6], 70);
    const b = randomTensor([6], 71);
    expectGradMatchesFiniteDifferences((u) => {
      const t = ad.tanh(u);
      return ad.sum(ad.exp(ad.add(t, t)));
    }, [a]);
    expectGradMatchesFiniteDifferences((u, v) => ad.sum(ad.mul(ad.add(ad.square(u), v), ad.tanh(u))), [a, b]);
  });
});

describe('customModel evaluation reuses its scratch buffers safely', () => {
  it('a likelihood that evaluates the model again inside gets the same answers as separate calls', () => {
    const theta = Float64Array.of(0.3, -0.7, 1.1);
    const base = customModel({
      params: { w: { shape: 2 }, s: { constraint: ad.positive } },
      logPrior: ({ w, s }) => ad.add(ad.sum(ad.normalLogPdf(w, 0, s)), ad.normalLogPdf(s, 1, 1)),
      logDensity: ({ w }) => ad.sum(ad.square(w)),
    });
    const expectedPrior = base.logPrior(theta);
    let nestedPrior = NaN;
    const nesting = customModel({
      params: { w: { shape: 2 }, s: { constraint: ad.positive } },
      logPrior: ({ w, s }) => ad.add(ad.sum(ad.normalLogPdf(w, 0, s)), ad.normalLogPdf(s, 1, 1)),
      logDensity: ({ w }) => {
        nestedPrior = nesting.logPrior(theta).value;
        return ad.sum(ad.square(w));
      },
    });
    const lik = nesting.logLikelihood(theta, null);
    expect(nestedPrior).toBe(expectedPrior.value);
    expect(lik.value).toBeCloseTo(0.3 * 0.3 + 0.7 * 0.7, 14);
    expect(Array.from(lik.grad)).toEqual([0.6, -1.4, 0]);
    const again = nesting.logPrior(theta);
    expect(again.value).toBe(expectedPrior.value);
    expect(Array.from(again.grad)).toEqual(Array.from(expectedPrior.grad));
  });

  it('returns fresh gradient arrays: a kept result is not overwritten by the next evaluation', () => {
    const model = customModel({
      params: { w: { shape: 3 } },
      logDensity: ({ w }) => ad.sum(ad.normalLogPdf(w, 0, 1)),
    });
    const first = model.logLikelihood(Float64Array.of(1, 2, 3), null);
    const copy = Array.from(first.grad);
    model.logLikelihood(Float64Array.of(-4, 5, -6), null);
    expect(Array.from(first.grad)).toEqual(copy);
    expect(copy).toEqual([-1, -2, -3]);
  });
});
