/** Matrix products and axis permutations. */
import { ShapeError, formatShape, normalizeAxis, sizeOf } from './shape.js';
import { Tensor, alloc, allocUninit, asTensor, gradOf, isTracked, record, type TensorLike } from './tensor.js';

/**
 * Matrix product. Shapes: [m, k] @ [k, n] → [m, n]; [m, k] @ [k] → [m] (matrix-vector);
 * [k] @ [k, n] → [n]; [k] @ [k] → [] (dot). Gradients: ∂A = G Bᵀ, ∂B = Aᵀ G.
 *
 * A left operand that is a row view (`gather` of matrix rows) is read in place, row i at
 * `rows[i] · k` of its source, so a minibatch's design matrix is never copied.
 */
export function matmul(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  if (a.rank < 1 || a.rank > 2 || b.rank < 1 || b.rank > 2) {
    throw new ShapeError(
      `matmul: operands must be 1-D or 2-D, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  // A vector on the left is a 1 × k row; on the right a k × 1 column.
  const m = a.rank === 2 ? a.shape[0] : 1;
  const k = a.shape[a.rank - 1];
  const kb = b.shape[0];
  const n = b.rank === 2 ? b.shape[1] : 1;
  if (k !== kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)} (${k} vs ${kb})`,
    );
  }
  const shape: number[] = [];
  if (a.rank === 2) shape.push(m);
  if (b.rank === 2) shape.push(n);
  // Row i of A starts in `da` at i·k for a dense A, at rows[i]·k for a row view.
  const view = a.rowView;
  const da = view !== null ? view.source : a.data;
  const rowIds = view !== null ? view.rows : null;
  const db = b.data;
  if (n === 1) {
    const out = allocUninit(m);
    matVec(da, rowIds, m, k, db, out);
    return recordMatmul(new Tensor(out, shape), a, b, m, k, n, da, rowIds);
  }
  const out = alloc(m * n);
  for (let i = 0; i < m; i++) {
    const orow = i * n;
    const row = rowIds === null ? i * k : rowIds[i] * k;
    for (let p = 0; p < k; p++) {
      const aip = da[row + p];
      const brow = p * n;
      for (let j = 0; j < n; j++) out[orow + j] += aip * db[brow + j];
    }
  }
  return recordMatmul(new Tensor(out, shape), a, b, m, k, n, da, rowIds);
}

/** The backward pass of z = A B; A's rows are read from `da` at `rowIds[i] · k` when given, else i · k. */
function recordMatmul(
  z: Tensor,
  a: Tensor,
  b: Tensor,
  m: number,
  k: number,
  n: number,
  da: Float64Array,
  rowIds: Int32Array | null,
): Tensor {
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (!ta && !tb) return z;
  const db = b.data;
  return record(z, () => {
    const g = z.grad as Float64Array;
    // ∂A is dense m × k even for a row view: the gather node scatters it back into the source.
    if (ta && n === 1) {
      const ga = gradOf(a);
      for (let i = 0; i < m; i++) {
        const gi = g[i];
        const arow = i * k;
        for (let p = 0; p < k; p++) ga[arow + p] += gi * db[p];
      }
    } else if (ta) {
      const ga = gradOf(a);
      for (let i = 0; i < m; i++) {
        const grow = i * n;
        for (let p = 0; p < k; p++) {
          let s = 0;
          const brow = p * n;
          for (let j = 0; j < n; j++) s += g[grow + j] * db[brow + j];
          ga[i * k + p] += s;
        }
      }
    }
    if (tb && n === 1) {
      addTransposedMatVec(da, rowIds, m, k, g, gradOf(b));
    } else if (tb) {
      const gb = gradOf(b);
      for (let i = 0; i < m; i++) {
        const grow = i * n;
        const arow = rowIds === null ? i * k : rowIds[i] * k;
        for (let p = 0; p < k; p++) {
          const aip = da[arow + p];
          const brow = p * n;
          for (let j = 0; j < n; j++) gb[brow + j] += aip * g[grow + j];
        }
      }
    }
  });
}

/**
 * out_i = Σ_p A_ip b_p for the m × k matrix A whose row i starts in `da` at `rowIds[i] · k`
 * (or i · k when `rowIds` is null). A top-level function with everything passed in, so V8 keeps
 * the operands in registers; four rows per sweep share each load of b and keep four independent
 * sums (and four memory streams, which matters when the rows are scattered through a large source).
 */
function matVec(da: Float64Array, rowIds: Int32Array | null, m: number, k: number, db: Float64Array, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const r0 = rowIds === null ? i * k : rowIds[i] * k;
    const r1 = rowIds === null ? r0 + k : rowIds[i + 1] * k;
    const r2 = rowIds === null ? r1 + k : rowIds[i + 2] * k;
    const r3 = rowIds === null ? r2 + k : rowIds[i + 3] * k;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let p = 0; p < k; p++) {
      const bp = db[p];
      s0 += da[r0 + p] * bp;
      s1 += da[r1 + p] * bp;
      s2 += da[r2 + p] * bp;
      s3 += da[r3 + p] * bp;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < m; i++) {
    const row = rowIds === null ? i * k : rowIds[i] * k;
    let s = 0;
    for (let p = 0; p < k; p++) s += da[row + p] * db[p];
    out[i] = s;
  }
}

/**
 * gb_p += Σ_i A_ip g_i (∂b of A b), rows located as in {@link matVec}; four rows per sweep so each
 * gb_p is loaded and stored a quarter as often.
 */
function addTransposedMatVec(
  da: Float64Array,
  rowIds: Int32Array | null,
  m: number,
  k: number,
  g: Float64Array,
  gb: Float64Array,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const g0 = g[i];
    const g1 = g[i + 1];
    const g2 = g[i + 2];
    const g3 = g[i + 3];
    const r0 = rowIds === null ? i * k : rowIds[i] * k;
    const r1 = rowIds === null ? r0 + k : rowIds[i + 1] * k;
    const r2 = rowIds === null ? r1 + k : rowIds[i + 2] * k;
    const r3 = rowIds === null ? r2 + k : rowIds[i + 3] * k;
    for (let p = 0; p < k; p++) gb[p] += da[r0 + p] * g0 + da[r1 + p] * g1 + (da[r2 + p] * g2 + da[r3 + p] * g3);
  }
  for (; i < m; i++) {
    const gi = g[i];
    const row = rowIds === null ? i * k : rowIds[i] * k;
    for (let p = 0; p < k; p++) gb[p] += da[row + p] * gi;
  }
}

/** Permute axes (default: reverse them, the matrix transpose for 2-D). */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const a = asTensor(x);
  const rank = a.rank;
  const p = perm ? perm.map((ax) => normalizeAxis(ax, rank, 'transpose')) : a.shape.map((_, i) => rank - 1 - i);
  if (p.length !== rank || new Set(p).size !== rank) {
    throw new ShapeError(`transpose: [${perm?.join(', ')}] is not a permutation of the ${rank} axes`);
  }
  const shape = p.map((ax) => a.shape[ax]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= a.shape[i];
  }
  // srcIndex[i] is the input flat index of output element i.
  const n = sizeOf(shape);
  const srcIndex = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let idx = 0;
  for (let i = 0; i < n; i++) {
    srcIndex[i] = idx;
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]++;
      idx += inStrides[p[ax]];
      if (counter[ax] < shape[ax]) break;
      idx -= inStrides[p[ax]] * counter[ax];
      counter[ax] = 0;
    }
  }
  const d = a.data;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = d[srcIndex[i]];
  const z = new Tensor(out, shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[srcIndex[i]] += g[i];
    });
  }
  return z;
}
