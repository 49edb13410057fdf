/** Reshaping, indexing (gather, select, slice) and joining (concat, stack). */
import { ShapeError, checkShape, formatShape, normalizeAxis, sizeOf, splitAtAxis, type Shape } from './shape.js';
import {
  Tensor,
  allocUninit,
  asTensor,
  copyIndices,
  gradOf,
  isTracked,
  record,
  rowViewTensor,
  tapeActive,
  type TensorLike,
} from './tensor.js';

/** The same values with a new shape; one extent may be −1 (inferred). Shares the data buffer. */
export function reshape(x: TensorLike, shape: Shape): Tensor {
  const a = asTensor(x);
  const target = shape.slice();
  const free = target.indexOf(-1);
  if (free >= 0) {
    const known = target.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (known === 0 || a.size % known !== 0) {
      throw new ShapeError(`reshape: cannot infer −1 in ${formatShape(shape)} for ${a.size} elements`);
    }
    target[free] = a.size / known;
  }
  checkShape(target, 'reshape');
  if (sizeOf(target) !== a.size) {
    throw new ShapeError(`reshape: ${formatShape(a.shape)} (${a.size} elements) cannot become ${formatShape(shape)}`);
  }
  const z = new Tensor(a.data, target);
  if (isTracked(a)) {
    const n = a.size;
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i];
    });
  }
  return z;
}

/** The indices as an Int32Array (one element type keeps the loops monomorphic), range-checked. */
function checkedIndices(indices: ArrayLike<number>, extent: number, op: string): Int32Array {
  if (!(indices instanceof Int32Array)) {
    for (let i = 0; i < indices.length; i++) {
      if (!Number.isInteger(indices[i])) {
        throw new ShapeError(`${op}: index ${indices[i]} at position ${i} is not an integer`);
      }
    }
  }
  const idx = indices instanceof Int32Array ? indices : Int32Array.from(indices);
  for (let i = 0; i < idx.length; i++) {
    const ix = idx[i];
    if (ix < 0 || ix >= extent) throw new ShapeError(`${op}: index ${ix} at position ${i} is out of range [0, ${extent})`);
  }
  return idx;
}

/** Slice length from which `gather` copies each slice with `set` instead of an element loop. */
const GATHER_MEMCPY_MIN = 24;

/**
 * Rows (slices along `axis`, default 0) picked by `indices`, repeats allowed: the output has
 * `indices.length` in place of the axis. Gradient: scatter-add back into the picked slices.
 *
 * During an evaluation, rows of a matrix (axis 0, rank ≥ 2) come back as a row view: `matmul`
 * reads them in place, and any other op copies them out on first use.
 */
export function gather(x: TensorLike, indices: ArrayLike<number>, axis = 0): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'gather');
  const [outer, extent, inner] = splitAtAxis(a.shape, ax);
  const ids = checkedIndices(indices, extent, 'gather');
  const m = ids.length;
  const shape = a.shape.slice();
  shape[ax] = m;
  const tracked = isTracked(a);
  const asView = ax === 0 && a.rank >= 2 && tapeActive();
  // Copy: the caller may reuse its index buffer before the view is read or the backward pass runs.
  const idx = (tracked || asView) && ids === indices ? copyIndices(ids) : ids;
  let z: Tensor;
  if (asView) {
    z = rowViewTensor(a.data, idx, inner, shape);
  } else {
    const d = a.data;
    const out = allocUninit(outer * m * inner);
    if (inner >= GATHER_MEMCPY_MIN) {
      // Long slices: one native block copy each beats an element loop (about 2× at 50 doubles).
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < m; r++) {
          const src = (o * extent + idx[r]) * inner;
          out.set(d.subarray(src, src + inner), (o * m + r) * inner);
        }
      }
    } else {
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < m; r++) {
          const src = (o * extent + idx[r]) * inner;
          const dst = (o * m + r) * inner;
          for (let j = 0; j < inner; j++) out[dst + j] = d[src + j];
        }
      }
    }
    z = new Tensor(out, shape);
  }
  if (tracked) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < m; r++) {
          const src = (o * extent + idx[r]) * inner;
          const dst = (o * m + r) * inner;
          for (let j = 0; j < inner; j++) ga[src + j] += g[dst + j];
        }
      }
    });
  }
  return z;
}

/** The slice at `index` along `axis` (default 0), with that axis removed: x[i] for a vector is a scalar. */
export function select(x: TensorLike, index: number, axis = 0): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'select');
  const g = gather(a, [index], ax);
  const shape = a.shape.slice();
  shape.splice(ax, 1);
  return reshape(g, shape);
}

/** Elements `start ≤ i < end` along `axis` (default 0); negative bounds count from the end. */
export function slice(x: TensorLike, start: number, end?: number, axis = 0): Tensor {
  const a = asTensor(x);
  const ax = normalizeAxis(axis, a.rank, 'slice');
  const extent = a.shape[ax];
  const lo = start < 0 ? start + extent : start;
  const hi = end === undefined ? extent : end < 0 ? end + extent : end;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > extent || lo > hi) {
    throw new ShapeError(`slice: [${start}, ${end ?? extent}) is not a range within axis ${ax} of extent ${extent}`);
  }
  const idx = new Int32Array(hi - lo);
  for (let i = 0; i < idx.length; i++) idx[i] = lo + i;
  return gather(a, idx, ax);
}

/** Join tensors along an existing `axis` (default 0); other extents must agree. */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const ts = xs.map(asTensor);
  const rank = ts[0].rank;
  const ax = normalizeAxis(axis, rank, 'concat');
  for (let t = 1; t < ts.length; t++) {
    const s = ts[t].shape;
    const ok = s.length === rank && s.every((d, i) => i === ax || d === ts[0].shape[i]);
    if (!ok) {
      throw new ShapeError(
        `concat: tensor ${t} has shape ${formatShape(s)}, which does not match ${formatShape(ts[0].shape)} off axis ${ax}`,
      );
    }
  }
  const [outer] = splitAtAxis(ts[0].shape, ax);
  const chunk = ts.map((t) => t.size / Math.max(outer, 1));
  const total = chunk.reduce((p, c) => p + c, 0);
  const out = allocUninit(outer * total);
  const offsets: number[] = [];
  let off = 0;
  for (let t = 0; t < ts.length; t++) {
    offsets.push(off);
    const d = ts[t].data;
    const c = chunk[t];
    for (let o = 0; o < outer; o++) out.set(d.subarray(o * c, (o + 1) * c), o * total + off);
    off += c;
  }
  const shape = ts[0].shape.slice();
  shape[ax] = ts.reduce((p, t) => p + t.shape[ax], 0);
  const z = new Tensor(out, shape);
  const tracked = ts.map(isTracked);
  if (tracked.some(Boolean)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      for (let t = 0; t < ts.length; t++) {
        if (!tracked[t]) continue;
        const gt = gradOf(ts[t]);
        const c = chunk[t];
        for (let o = 0; o < outer; o++) {
          const src = o * total + offsets[t];
          for (let j = 0; j < c; j++) gt[o * c + j] += g[src + j];
        }
      }
    });
  }
  return z;
}

/** Join same-shape tensors along a new `axis` (default 0). */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: needs at least one tensor');
  const ts = xs.map(asTensor);
  const ax = normalizeAxis(axis, ts[0].rank + 1, 'stack');
  const expanded = ts.map((t) => {
    const s = t.shape.slice();
    s.splice(ax, 0, 1);
    return reshape(t, s);
  });
  return concat(expanded, ax);
}
