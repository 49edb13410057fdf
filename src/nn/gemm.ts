/**
 * The matrix-multiply entry points of the network kernels. Every dense float64 product of src/nn
 * and src/vi goes through `gemm`, and every float32 product of the float32 networks through
 * `sgemm`, so a faster engine (blocked, SIMD, native, WebGPU) can replace either body without
 * touching the layers.
 */

import { checkGemmShapes, gemmBlocked, scaleC, type GemmFunction } from './gemm-blocked.js';

/** Thrown when `gemm` is given buffers too short for the stated shapes. */
export class GemmShapeError extends RangeError {
  override readonly name = 'GemmShapeError';
}

let engine: GemmFunction | null = null;

/**
 * Route every `gemm` call of the networks through `next` — e.g. the native engine,
 * `setGemmEngine((await loadNativeGemm()).gemm)` from `sgbayes/node` — or, with null, back to the
 * built-in kernels (plain loops for small products, the cache-blocked kernel from 2¹⁵ multiply-adds).
 */
export function setGemmEngine(next: GemmFunction | null): void {
  engine = next;
}

/** Products with at least this many multiply-adds go to the cache-blocked kernel. */
const BLOCKED_MIN_WORK = 1 << 15;

/**
 * General matrix multiply over row-major, densely packed `Float64Array` matrices (BLAS dgemm):
 *
 *   C ← α op(A) op(B) + β C,   op(A) m×k, op(B) k×n, C m×n,
 *
 * where op(X) = Xᵀ when the matching `trans` flag is set. A is stored as m×k (k×m when transposed)
 * starting at `aOffset`, likewise B and C. β = 0 overwrites C (NaNs already in C are discarded).
 * Loop orders keep the innermost loop on contiguous memory for each of the four cases.
 *
 * @throws GemmShapeError if a shape or offset is not a non-negative integer, or a buffer is too short for it.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  beta: number,
  c: Float64Array,
  cOffset: number,
): void {
  checkGemmShapes('gemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
  if (engine !== null) {
    engine(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
    return;
  }
  if (m * n * k >= BLOCKED_MIN_WORK) {
    gemmBlocked(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
    return;
  }
  scaleC(beta, c, cOffset, m * n);
  if (alpha === 0 || k === 0) return;
  if (!transA && !transB) {
    // C[i,:] += α A[i,p] B[p,:], four rows of B per pass (halves the loads and stores of C).
    for (let i = 0; i < m; i++) {
      const ci = cOffset + i * n;
      const ai = aOffset + i * k;
      let p = 0;
      for (; p + 3 < k; p += 4) {
        const s0 = alpha * a[ai + p];
        const s1 = alpha * a[ai + p + 1];
        const s2 = alpha * a[ai + p + 2];
        const s3 = alpha * a[ai + p + 3];
        const b0 = bOffset + p * n;
        const b1 = b0 + n;
        const b2 = b1 + n;
        const b3 = b2 + n;
        for (let j = 0; j < n; j++) c[ci + j] += s0 * b[b0 + j] + s1 * b[b1 + j] + s2 * b[b2 + j] + s3 * b[b3 + j];
      }
      for (; p < k; p++) {
        const s = alpha * a[ai + p];
        const bp = bOffset + p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else if (transA && !transB) {
    // A stored k×m: C[i,:] += α A[p,i] B[p,:], four values of p per pass.
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = aOffset + p * m;
      const b0 = bOffset + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let i = 0; i < m; i++) {
        const s0 = alpha * a[a0 + i];
        const s1 = alpha * a[a0 + m + i];
        const s2 = alpha * a[a0 + 2 * m + i];
        const s3 = alpha * a[a0 + 3 * m + i];
        const ci = cOffset + i * n;
        for (let j = 0; j < n; j++) c[ci + j] += s0 * b[b0 + j] + s1 * b[b1 + j] + s2 * b[b2 + j] + s3 * b[b3 + j];
      }
    }
    for (; p < k; p++) {
      const ap = aOffset + p * m;
      const bp = bOffset + p * n;
      for (let i = 0; i < m; i++) {
        const s = alpha * a[ap + i];
        const ci = cOffset + i * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else if (!transA && transB) {
    // B stored n×k: C[i,j] += α A[i,:]·B[j,:]
    for (let i = 0; i < m; i++) {
      const ai = aOffset + i * k;
      const ci = cOffset + i * n;
      for (let j = 0; j < n; j++) {
        const bj = bOffset + j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
        c[ci + j] += alpha * s;
      }
    }
  } else {
    // A stored k×m, B stored n×k: C[i,j] += α Σ_p A[p,i] B[j,p]
    for (let i = 0; i < m; i++) {
      const ci = cOffset + i * n;
      for (let j = 0; j < n; j++) {
        const bj = bOffset + j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[aOffset + p * m + i] * b[bj + p];
        c[ci + j] += alpha * s;
      }
    }
  }
}

/**
 * The float32 counterpart of `GemmFunction` (BLAS sgemm): C ← α op(A) op(B) + β C on row-major,
 * densely packed Float32Arrays, same argument order and layout as `gemm`.
 */
export type SgemmFunction = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  beta: number,
  c: Float32Array,
  cOffset: number,
) => void;

let sgemmEngine: SgemmFunction | null = null;

/**
 * Route every `sgemm` call of the float32 networks through `next` — e.g. the native engine,
 * `setSgemmEngine((await loadNativeGemm()).sgemm)` from `sgbayes/node`, which hands the buffers to
 * ONNX Runtime without conversion — or, with null, back to the JavaScript loops.
 */
export function setSgemmEngine(next: SgemmFunction | null): void {
  sgemmEngine = next;
}

/**
 * General matrix multiply over row-major Float32Arrays (BLAS sgemm):
 *
 *   C ← α op(A) op(B) + β C,   op(A) m×k, op(B) k×n, C m×n,
 *
 * with the arguments of `gemm`. Without an engine (`setSgemmEngine`) it runs `sgemmLoops`.
 *
 * @throws GemmShapeError if a shape or offset is not a non-negative integer, or a buffer is too short for it.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  beta: number,
  c: Float32Array,
  cOffset: number,
): void {
  checkGemmShapes('sgemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
  (sgemmEngine ?? sgemmLoops)(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
}

/**
 * C ← α op(A) op(B) + β C over Float32Arrays by plain loops (the fallback of `sgemm`, and the
 * small-product kernel of the native engine). Sums run in float64 registers; each store rounds to
 * float32. Shapes are not checked here (`sgemm` does).
 */
export function sgemmLoops(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  beta: number,
  c: Float32Array,
  cOffset: number,
): void {
  scaleC(beta, c, cOffset, m * n);
  if (alpha === 0 || k === 0) return;
  if (!transB) {
    // C[i,:] += α op(A)[i,p] B[p,:], two values of p per pass over a row of C (fewer rounding stores).
    const aRow = transA ? 1 : k;
    const aCol = transA ? m : 1;
    for (let i = 0; i < m; i++) {
      const ci = cOffset + i * n;
      const ai = aOffset + i * aRow;
      let p = 0;
      for (; p + 1 < k; p += 2) {
        const s0 = alpha * a[ai + p * aCol];
        const s1 = alpha * a[ai + (p + 1) * aCol];
        const b0 = bOffset + p * n;
        const b1 = b0 + n;
        for (let j = 0; j < n; j++) c[ci + j] += s0 * b[b0 + j] + s1 * b[b1 + j];
      }
      if (p < k) {
        const s = alpha * a[ai + p * aCol];
        const bp = bOffset + p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
    return;
  }
  // B stored n×k: C[i,j] += α op(A)[i,:]·B[j,:]
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  for (let i = 0; i < m; i++) {
    const ai = aOffset + i * aRow;
    const ci = cOffset + i * n;
    for (let j = 0; j < n; j++) {
      const bj = bOffset + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p * aCol] * b[bj + p];
      c[ci + j] += alpha * s;
    }
  }
}
