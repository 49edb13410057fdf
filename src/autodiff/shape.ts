/**
 * Shapes, NumPy-style broadcasting and axis handling for the autodiff engine.
 *
 * Tensors are row-major; a shape is a list of non-negative integer extents and `[]` is a scalar.
 */

/** A tensor shape: row-major extents; `[]` is a scalar. */
export type Shape = readonly number[];

/** Base class of every error raised by the autodiff engine. */
export class AutodiffError extends Error {
  override name = 'AutodiffError';
}

/** Shapes that do not fit an operation (broadcasting, matmul, reshape, axes). */
export class ShapeError extends AutodiffError {
  override name = 'ShapeError';
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Whether two shapes are identical. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `[2, 3]` style text for error messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Check that a shape is a list of non-negative integers; `where` names the caller in errors. */
export function checkShape(shape: Shape, where: string): void {
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${where}: shape ${formatShape(shape)} has a bad extent ${d} at axis ${i}`);
    }
  }
}

/** The NumPy broadcast of several shapes; throws a ShapeError naming `op` if they do not broadcast. */
export function broadcastShapes(shapes: readonly Shape[], op: string): number[] {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const pad = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[pad + i];
      if (d === o || d === 1) continue;
      if (o === 1) out[pad + i] = d;
      else {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(formatShape).join(' and ')} do not broadcast (axis ${pad + i}: ${o} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/**
 * For each flat index of `outShape`, the flat index of the element of `inShape` that broadcasting
 * reads there (`inShape` must broadcast to `outShape`).
 */
export function broadcastIndexMap(inShape: Shape, outShape: Shape): Int32Array {
  const rank = outShape.length;
  const pad = rank - inShape.length;
  // Input strides aligned to the output axes; broadcast axes get stride 0.
  const inStrides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    inStrides[pad + i] = inShape[i] === 1 ? 0 : stride;
    stride *= inShape[i];
  }
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let idx = 0;
  for (let i = 0; i < n; i++) {
    map[i] = idx;
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]++;
      idx += inStrides[ax];
      if (counter[ax] < outShape[ax]) break;
      idx -= inStrides[ax] * counter[ax];
      counter[ax] = 0;
    }
  }
  return map;
}

/** Materialise `data` (of `inShape`) broadcast to `outShape`. */
export function expandTo(data: Float64Array, inShape: Shape, outShape: Shape): Float64Array {
  const map = broadcastIndexMap(inShape, outShape);
  const out = new Float64Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = data[map[i]];
  return out;
}

/** Add `src` (of `outShape`) into `dst` (of `inShape`), summing over broadcast axes: the adjoint of expandTo. */
export function addReducedTo(src: Float64Array, outShape: Shape, inShape: Shape, dst: Float64Array): void {
  const map = broadcastIndexMap(inShape, outShape);
  for (let i = 0; i < map.length; i++) dst[map[i]] += src[i];
}

/** A possibly negative axis as an index in [0, rank); throws a ShapeError naming `op` otherwise. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Split a shape around `axis` into (outer, extent, inner) element counts for strided loops. */
export function splitAtAxis(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}
