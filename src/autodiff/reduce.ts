/**
 * Reductions and normalisations over axes: sum, mean, logsumexp, softmax, logSoftmax, cumsum.
 *
 * An axis reduction views the input as (outer, extent, inner) and loops with strides, so any axis
 * of any rank costs one pass.
 */
import { ShapeError, normalizeAxis, splitAtAxis, type Shape } from './shape.js';
import { Tensor, alloc, allocUninit, asTensor, gradOf, isTracked, record, type TensorLike } from './tensor.js';

/** Axes to reduce: one axis, several, or all when omitted. */
export type Axes = number | readonly number[] | undefined;

function reducedShape(shape: Shape, axis: number, keepDims: boolean): number[] {
  const out = shape.slice();
  if (keepDims) out[axis] = 1;
  else out.splice(axis, 1);
  return out;
}

const NO_AXES: Shape = Object.freeze([]) as Shape;

function sumAll(a: Tensor, keepDims: boolean): Tensor {
  const d = a.data;
  const n = a.size;
  let s = 0;
  for (let i = 0; i < n; i++) s += d[i];
  const value = allocUninit(1);
  value[0] = s;
  const z = new Tensor(value, keepDims ? a.shape.map(() => 1) : NO_AXES);
  if (isTracked(a)) {
    record(z, () => {
      const g = (z.grad as Float64Array)[0];
      if (a.grad === null) {
        // First gradient into `a`: fill instead of zeroing and adding.
        const ga = (a.grad = allocUninit(n));
        for (let i = 0; i < n; i++) ga[i] = g;
        return;
      }
      const ga = a.grad;
      for (let i = 0; i < n; i++) ga[i] += g;
    });
  }
  return z;
}

function sumAxis(a: Tensor, axis: number, keepDims: boolean): Tensor {
  const [outer, extent, inner] = splitAtAxis(a.shape, axis);
  const d = a.data;
  const out = alloc(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * extent * inner;
    const ob = o * inner;
    for (let k = 0; k < extent; k++) {
      const row = base + k * inner;
      for (let j = 0; j < inner; j++) out[ob + j] += d[row + j];
    }
  }
  const z = new Tensor(out, reducedShape(a.shape, axis, keepDims));
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        const base = o * extent * inner;
        const ob = o * inner;
        for (let k = 0; k < extent; k++) {
          const row = base + k * inner;
          for (let j = 0; j < inner; j++) ga[row + j] += g[ob + j];
        }
      }
    });
  }
  return z;
}

function sortedAxes(axes: readonly number[], rank: number, op: string): number[] {
  const norm = axes.map((ax) => normalizeAxis(ax, rank, op));
  const unique = Array.from(new Set(norm)).sort((p, q) => q - p);
  if (unique.length !== norm.length) throw new ShapeError(`${op}: repeated axis in [${axes.join(', ')}]`);
  return unique;
}

/**
 * Σ over `axis` (one axis, a list, or all when omitted). `keepDims` keeps reduced axes with
 * extent 1 (for broadcasting back against the input).
 */
export function sum(x: TensorLike, axis?: Axes, keepDims = false): Tensor {
  const a = asTensor(x);
  if (axis === undefined) return sumAll(a, keepDims);
  if (typeof axis === 'number') return sumAxis(a, normalizeAxis(axis, a.rank, 'sum'), keepDims);
  let z = a;
  // Descending order keeps the remaining axis numbers valid after each reduction.
  for (const ax of sortedAxes(axis, a.rank, 'sum')) z = sumAxis(z, ax, keepDims);
  return z;
}

/** Mean over `axis` (one axis, a list, or all when omitted); `keepDims` as for `sum`. */
export function mean(x: TensorLike, axis?: Axes, keepDims = false): Tensor {
  const a = asTensor(x);
  let count: number;
  if (axis === undefined) count = a.size;
  else if (typeof axis === 'number') count = a.shape[normalizeAxis(axis, a.rank, 'mean')];
  else count = sortedAxes(axis, a.rank, 'mean').reduce((c, ax) => c * a.shape[ax], 1);
  const s = sum(a, axis, keepDims);
  return scaleBy(s, 1 / count);
}

/** c · x for a plain number c (one op, no broadcasting work). */
export function scaleBy(x: TensorLike, c: number): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = alloc(n);
  for (let i = 0; i < n; i++) out[i] = c * d[i];
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += c * g[i];
    });
  }
  return z;
}

/**
 * log Σ exp(x) over `axis` (or all elements), computed as m + log Σ exp(x − m) with m the maximum;
 * its gradient is softmax(x). An all −∞ slice gives −∞ with zero gradient.
 */
export function logsumexp(x: TensorLike, axis?: number, keepDims = false): Tensor {
  const a = asTensor(x);
  let outer: number;
  let extent: number;
  let inner: number;
  let shape: number[];
  if (axis === undefined) {
    [outer, extent, inner] = [1, a.size, 1];
    shape = keepDims ? a.shape.map(() => 1) : [];
  } else {
    const ax = normalizeAxis(axis, a.rank, 'logsumexp');
    [outer, extent, inner] = splitAtAxis(a.shape, ax);
    shape = reducedShape(a.shape, ax, keepDims);
  }
  const d = a.data;
  const out = alloc(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * extent * inner + j;
      let m = -Infinity;
      for (let k = 0; k < extent; k++) if (d[base + k * inner] > m) m = d[base + k * inner];
      if (m === -Infinity || m === Infinity) {
        out[o * inner + j] = m;
        continue;
      }
      let s = 0;
      for (let k = 0; k < extent; k++) s += Math.exp(d[base + k * inner] - m);
      out[o * inner + j] = m + Math.log(s);
    }
  }
  const z = new Tensor(out, shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const lse = out[o * inner + j];
          if (lse === -Infinity) continue;
          const gz = g[o * inner + j];
          const base = o * extent * inner + j;
          for (let k = 0; k < extent; k++) ga[base + k * inner] += gz * Math.exp(d[base + k * inner] - lse);
        }
      }
    });
  }
  return z;
}

/**
 * log softmax(x) = x − logsumexp(x) along `axis` (default last). Gradient: g − softmax · Σg.
 */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'logSoftmax');
  const [outer, extent, inner] = splitAtAxis(a.shape, ax);
  const d = a.data;
  const out = alloc(a.size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * extent * inner + j;
      let m = -Infinity;
      for (let k = 0; k < extent; k++) if (d[base + k * inner] > m) m = d[base + k * inner];
      let s = 0;
      for (let k = 0; k < extent; k++) s += Math.exp(d[base + k * inner] - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < extent; k++) out[base + k * inner] = d[base + k * inner] - lse;
    }
  }
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * extent * inner + j;
          let gs = 0;
          for (let k = 0; k < extent; k++) gs += g[base + k * inner];
          for (let k = 0; k < extent; k++) {
            const idx = base + k * inner;
            ga[idx] += g[idx] - Math.exp(out[idx]) * gs;
          }
        }
      }
    });
  }
  return z;
}

/** softmax(x) = exp(x − logsumexp(x)) along `axis` (default last). Gradient: s ⊙ (g − ⟨g, s⟩). */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'softmax');
  const [outer, extent, inner] = splitAtAxis(a.shape, ax);
  const d = a.data;
  const out = alloc(a.size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * extent * inner + j;
      let m = -Infinity;
      for (let k = 0; k < extent; k++) if (d[base + k * inner] > m) m = d[base + k * inner];
      let s = 0;
      for (let k = 0; k < extent; k++) {
        const e = Math.exp(d[base + k * inner] - m);
        out[base + k * inner] = e;
        s += e;
      }
      for (let k = 0; k < extent; k++) out[base + k * inner] /= s;
    }
  }
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * extent * inner + j;
          let gs = 0;
          for (let k = 0; k < extent; k++) gs += g[base + k * inner] * out[base + k * inner];
          for (let k = 0; k < extent; k++) {
            const idx = base + k * inner;
            ga[idx] += out[idx] * (g[idx] - gs);
          }
        }
      }
    });
  }
  return z;
}

/**
 * Cumulative sum along `axis` (default last). `exclusive` starts each sum at 0 (yₖ = Σ_{j<k} xⱼ);
 * the gradient is the reverse cumulative sum of the output gradient.
 */
export function cumsum(x: TensorLike, axis = -1, exclusive = false): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'cumsum');
  const [outer, extent, inner] = splitAtAxis(a.shape, ax);
  const d = a.data;
  const out = alloc(a.size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * extent * inner + j;
      let s = 0;
      for (let k = 0; k < extent; k++) {
        const idx = base + k * inner;
        if (exclusive) {
          out[idx] = s;
          s += d[idx];
        } else {
          s += d[idx];
          out[idx] = s;
        }
      }
    }
  }
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * extent * inner + j;
          let s = 0;
          for (let k = extent - 1; k >= 0; k--) {
            const idx = base + k * inner;
            if (exclusive) {
              ga[idx] += s;
              s += g[idx];
            } else {
              s += g[idx];
              ga[idx] += s;
            }
          }
        }
      }
    });
  }
  return z;
}
