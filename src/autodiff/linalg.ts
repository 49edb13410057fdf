/** Matrix products and axis permutations. */
import { ShapeError, formatShape, normalizeAxis, sizeOf } from './shape.js';
import { Tensor, alloc, asTensor, gradOf, isTracked, record, type TensorLike } from './tensor.js';

/**
 * Matrix product. Shapes: [m, k] @ [k, n] → [m, n]; [m, k] @ [k] → [m] (matrix-vector);
 * [k] @ [k, n] → [n]; [k] @ [k] → [] (dot). Gradients: ∂A = G Bᵀ, ∂B = Aᵀ G.
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
  const da = a.data;
  const db = b.data;
  const out = alloc(m * n);
  if (n === 1) {
    const k4 = k - (k & 3);
    for (let i = 0; i < m; i++) {
      // Four partial sums let the CPU overlap the multiply-adds.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const row = i * k;
      let p = 0;
      for (; p < k4; p += 4) {
        s0 += da[row + p] * db[p];
        s1 += da[row + p + 1] * db[p + 1];
        s2 += da[row + p + 2] * db[p + 2];
        s3 += da[row + p + 3] * db[p + 3];
      }
      for (; p < k; p++) s0 += da[row + p] * db[p];
      out[i] = s0 + s1 + (s2 + s3);
    }
  } else {
    for (let i = 0; i < m; i++) {
      const orow = i * n;
      for (let p = 0; p < k; p++) {
        const aip = da[i * k + p];
        const brow = p * n;
        for (let j = 0; j < n; j++) out[orow + j] += aip * db[brow + j];
      }
    }
  }
  const z = new Tensor(out, shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
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
        // ∂b = Aᵀg, four rows per sweep so each gb[p] is loaded and stored a quarter as often.
        const gb = gradOf(b);
        const m4 = m - (m & 3);
        let i = 0;
        for (; i < m4; i += 4) {
          const g0 = g[i];
          const g1 = g[i + 1];
          const g2 = g[i + 2];
          const g3 = g[i + 3];
          const r0 = i * k;
          const r1 = r0 + k;
          const r2 = r1 + k;
          const r3 = r2 + k;
          for (let p = 0; p < k; p++) gb[p] += da[r0 + p] * g0 + da[r1 + p] * g1 + (da[r2 + p] * g2 + da[r3 + p] * g3);
        }
        for (; i < m; i++) {
          const gi = g[i];
          const arow = i * k;
          for (let p = 0; p < k; p++) gb[p] += da[arow + p] * gi;
        }
      } else if (tb) {
        const gb = gradOf(b);
        for (let i = 0; i < m; i++) {
          const grow = i * n;
          const arow = i * k;
          for (let p = 0; p < k; p++) {
            const aip = da[arow + p];
            const brow = p * n;
            for (let j = 0; j < n; j++) gb[brow + j] += aip * g[grow + j];
          }
        }
      }
    });
  }
  return z;
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
  const out = alloc(n);
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
