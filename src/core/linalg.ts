/**
 * Dense linear algebra over flat row-major `Float64Array` matrices.
 *
 * Matrices in sgbayes are flat row-major arrays with explicit sizes: `n` for square matrices,
 * `rows`/`cols` otherwise; entry (i, j) of an r×c matrix is `a[i * c + j]`. LU and the symmetric
 * eigendecomposition delegate to ml-matrix; Cholesky, triangular solves, the real Schur form and
 * the Lyapunov solver are written here because they need error reports (the failing pivot) or
 * structure (quasi-triangular blocks) that ml-matrix does not expose.
 */
import { EigenvalueDecomposition, LuDecomposition, Matrix } from 'ml-matrix';

/** Thrown when array sizes do not match the dimensions given. */
export class DimensionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'DimensionError';
  }
}

/** Thrown by {@link cholesky} when the matrix is not (numerically) symmetric positive definite. */
export class NotPositiveDefiniteError extends Error {
  /**
   * @param size - the matrix size n
   * @param pivotIndex - the 0-based row at which the pivot d = a_ii − Σ_k L_ik² was not positive
   * @param pivotValue - that pivot value
   */
  constructor(
    readonly size: number,
    readonly pivotIndex: number,
    readonly pivotValue: number,
    context = 'cholesky',
  ) {
    super(
      `${context}: ${size}×${size} matrix is not positive definite: pivot ${pivotIndex} is ${pivotValue} ` +
        `(must be > 0 and finite)`,
    );
    this.name = 'NotPositiveDefiniteError';
  }
}

/** Thrown when a linear system is singular to working precision. */
export class SingularMatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SingularMatrixError';
  }
}

/** Thrown by {@link lyapunov} when λ_i(A) + λ_j(A) = 0 for some pair, so no unique solution exists. */
export class LyapunovSingularError extends SingularMatrixError {
  constructor(message: string) {
    super(message);
    this.name = 'LyapunovSingularError';
  }
}

/** Thrown when an iterative decomposition fails to converge. */
export class ConvergenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConvergenceError';
  }
}

function checkSize(where: string, name: string, a: ArrayLike<number>, expected: number): void {
  if (a.length !== expected) {
    throw new DimensionError(`${where}: ${name} has length ${a.length}, expected ${expected}`);
  }
}

function checkDim(where: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new DimensionError(`${where}: ${name} must be a non-negative integer, got ${value}`);
  }
}

function toMatrix(a: ArrayLike<number>, rows: number, cols: number): Matrix {
  return Matrix.from1DArray(rows, cols, a);
}

function fromMatrix(m: Matrix): Float64Array {
  const rows = m.rows;
  const cols = m.columns;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = m.get(i, j);
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Bytes of one shared buffer that {@link vectorAllocator} cuts its vectors from. */
export const VECTOR_SLAB_BYTES = 4096;

/**
 * A source of fresh zeroed vectors of length `length`, cut in turn from shared buffers of
 * `slabBytes` (default 4 KiB): one buffer allocation per ⌊slabBytes / 8·length⌋ vectors instead of
 * one per vector (V8 allocates every typed-array buffer above 64 bytes outside its heap, and with
 * the collections they bring that costs 2–4 µs in a tight loop, more than the rest of a small
 * sampler step's bookkeeping). Each vector is handed out once, so states built from them stay
 * immutable; a kept vector keeps at most its slab alive (mind `byteOffset` when reading
 * `.buffer`). Vectors above half a slab get a buffer of their own.
 */
export function vectorAllocator(length: number, slabBytes: number = VECTOR_SLAB_BYTES): () => Float64Array {
  checkDim('vectorAllocator', 'length', length);
  checkDim('vectorAllocator', 'slabBytes', slabBytes);
  const perSlab = length === 0 ? 0 : Math.floor(slabBytes / (8 * length));
  if (perSlab < 2) return () => new Float64Array(length);
  let slab = new ArrayBuffer(0);
  let used = perSlab;
  return () => {
    if (used === perSlab) {
      slab = new ArrayBuffer(8 * length * perSlab);
      used = 0;
    }
    return new Float64Array(slab, 8 * length * used++, length);
  };
}

/** The n×n identity matrix. */
export function identity(n: number): Float64Array {
  checkDim('identity', 'n', n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/**
 * Matrix product C = A B with A m×k and B k×n (all row-major); returns C, m×n.
 * `out` must not alias `a` or `b`.
 */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  m: number,
  k: number,
  n: number,
  out: Float64Array = new Float64Array(m * n),
): Float64Array {
  checkSize('matmul', 'a', a, m * k);
  checkSize('matmul', 'b', b, k * n);
  checkSize('matmul', 'out', out, m * n);
  out.fill(0);
  // i-p-j loop order streams rows of B and C contiguously.
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[ci + j] += aip * b[bp + j];
    }
  }
  return out;
}

/** Matrix–vector product y = A x with A rows×cols. */
export function matvec(
  a: Float64Array,
  x: Float64Array,
  rows: number,
  cols: number,
  out: Float64Array = new Float64Array(rows),
): Float64Array {
  checkSize('matvec', 'a', a, rows * cols);
  checkSize('matvec', 'x', x, cols);
  checkSize('matvec', 'out', out, rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const ai = i * cols;
    for (let j = 0; j < cols; j++) s += a[ai + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** Transpose of a rows×cols matrix (returns cols×rows). `out` must not alias `a`. */
export function transpose(
  a: Float64Array,
  rows: number,
  cols: number,
  out: Float64Array = new Float64Array(rows * cols),
): Float64Array {
  checkSize('transpose', 'a', a, rows * cols);
  checkSize('transpose', 'out', out, rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** The symmetric part (A + Aᵀ)/2 of an n×n matrix. `out` may alias `a`. */
export function symmetrize(a: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  checkSize('symmetrize', 'a', a, n * n);
  checkSize('symmetrize', 'out', out, n * n);
  for (let i = 0; i < n; i++) {
    out[i * n + i] = a[i * n + i];
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (a[i * n + j] + a[j * n + i]);
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Cholesky factor of a symmetric positive definite n×n matrix: the lower-triangular L with
 * A = L Lᵀ (Golub & Van Loan, Matrix Computations, Alg. 4.2.1). Only the lower triangle of A is read.
 * L is written to `out` (default a new array) with its upper triangle zeroed; `out` may alias `a`
 * (each entry of A is read just before its entry of L is written).
 *
 * @throws NotPositiveDefiniteError naming n and the first pivot that is not positive.
 */
export function cholesky(a: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  checkDim('cholesky', 'n', n);
  checkSize('cholesky', 'a', a, n * n);
  checkSize('cholesky', 'out', out, n * n);
  const L = out;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0) || !Number.isFinite(d)) throw new NotPositiveDefiniteError(n, j, d);
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
    for (let i = 0; i < j; i++) L[i * n + j] = 0;
  }
  return L;
}

/**
 * Solve L X = B by forward substitution, L n×n lower triangular, B n×c (c = b.length / n; a
 * vector is n×1). Returns X.
 */
export function solveLower(L: Float64Array, b: Float64Array, n: number): Float64Array {
  checkSize('solveLower', 'L', L, n * n);
  const c = columnsOf('solveLower', b, n);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const lii = L[i * n + i];
    if (lii === 0) throw new SingularMatrixError(`solveLower: diagonal entry ${i} of the ${n}×${n} factor is 0`);
    for (let col = 0; col < c; col++) {
      let s = x[i * c + col];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * x[k * c + col];
      x[i * c + col] = s / lii;
    }
  }
  return x;
}

/** Solve Lᵀ X = B by back substitution, L n×n lower triangular, B n×c. Returns X. */
export function solveLowerTransposed(L: Float64Array, b: Float64Array, n: number): Float64Array {
  checkSize('solveLowerTransposed', 'L', L, n * n);
  const c = columnsOf('solveLowerTransposed', b, n);
  const x = Float64Array.from(b);
  for (let i = n - 1; i >= 0; i--) {
    const lii = L[i * n + i];
    if (lii === 0) {
      throw new SingularMatrixError(`solveLowerTransposed: diagonal entry ${i} of the ${n}×${n} factor is 0`);
    }
    for (let col = 0; col < c; col++) {
      let s = x[i * c + col];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k * c + col];
      x[i * c + col] = s / lii;
    }
  }
  return x;
}

function columnsOf(where: string, b: Float64Array, n: number): number {
  checkDim(where, 'n', n);
  if (n === 0 ? b.length !== 0 : b.length % n !== 0 || b.length === 0) {
    throw new DimensionError(`${where}: right-hand side has length ${b.length}, not a positive multiple of n = ${n}`);
  }
  return n === 0 ? 0 : b.length / n;
}

/**
 * Solve A X = B given the Cholesky factor L of A (A = L Lᵀ): X = L⁻ᵀ (L⁻¹ B). B is n×c row-major
 * (a vector is n×1).
 */
export function choleskySolve(L: Float64Array, b: Float64Array, n: number): Float64Array {
  return solveLowerTransposed(L, solveLower(L, b, n), n);
}

/**
 * log det A for a symmetric positive definite A: 2 Σ_i log L_ii with A = L Lᵀ.
 *
 * @throws NotPositiveDefiniteError if A is not positive definite.
 */
export function logDetSPD(a: Float64Array, n: number): number {
  const L = cholesky(a, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]);
  return 2 * s;
}

/**
 * Solve A X = B for a general n×n A by LU with partial pivoting (ml-matrix). B is n×c row-major
 * (a vector is n×1). Returns X with the shape of B.
 *
 * @throws SingularMatrixError if a pivot of U is below n·ε·max|A|.
 */
export function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  checkDim('solve', 'n', n);
  checkSize('solve', 'a', a, n * n);
  const c = columnsOf('solve', b, n);
  if (n === 0) return new Float64Array(0);
  const lu = new LuDecomposition(toMatrix(a, n, n));
  const scale = maxAbs(a);
  const U = lu.upperTriangularMatrix;
  for (let i = 0; i < n; i++) {
    const u = Math.abs(U.get(i, i));
    if (!(u > n * Number.EPSILON * scale)) {
      throw new SingularMatrixError(`solve: ${n}×${n} matrix is singular to working precision (pivot ${i} is ${U.get(i, i)})`);
    }
  }
  return fromMatrix(lu.solve(toMatrix(b, n, c)));
}

/** Inverse of a general n×n matrix via LU. Prefer {@link solve} or {@link choleskySolve} when possible. */
export function inverse(a: Float64Array, n: number): Float64Array {
  return solve(a, identity(n), n);
}

/** Eigendecomposition of a symmetric matrix: A = V diag(values) Vᵀ. */
export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Orthonormal eigenvectors as the columns of an n×n row-major matrix: column j pairs with values[j]. */
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric n×n matrix (ml-matrix: Householder tridiagonalisation and the
 * implicit QL algorithm). The symmetric part of `a` is used. Eigenvalues ascend.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  checkDim('symmetricEigen', 'n', n);
  checkSize('symmetricEigen', 'a', a, n * n);
  const sym = symmetrize(a, n);
  const fin = sym.findIndex((x) => !Number.isFinite(x));
  if (fin >= 0) throw new RangeError(`symmetricEigen: entry (${Math.floor(fin / n)}, ${fin % n}) is not finite`);
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const evd = new EigenvalueDecomposition(toMatrix(sym, n, n), { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const order = Array.from(raw.keys()).sort((i, j) => raw[i] - raw[j]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    values[j] = raw[order[j]];
    for (let i = 0; i < n; i++) vectors[i * n + j] = V.get(i, order[j]);
  }
  return { values, vectors };
}

/** A real Schur decomposition A = Z T Zᵀ. */
export interface RealSchur {
  /** Upper quasi-triangular n×n: 1×1 and 2×2 diagonal blocks (2×2 for complex pairs). */
  T: Float64Array;
  /** Orthogonal n×n. */
  Z: Float64Array;
  /** Start index of each diagonal block, ascending; block b spans blockStarts[b] .. blockStarts[b+1]-1. */
  blockStarts: number[];
}

/**
 * Real Schur form A = Z T Zᵀ of a general real n×n matrix: Householder reduction to Hessenberg
 * form, then Francis implicit double-shift QR with deflation (Golub & Van Loan, Matrix
 * Computations, 4th ed., Algs. 7.4.2, 7.5.1–7.5.2). Cost O(n³) (about 25n³ flops).
 *
 * @throws ConvergenceError if QR does not converge within 30n sweeps per eigenvalue block.
 */
export function realSchur(a: Float64Array, n: number): RealSchur {
  checkDim('realSchur', 'n', n);
  checkSize('realSchur', 'a', a, n * n);
  const fin = a.findIndex((x) => !Number.isFinite(x));
  if (fin >= 0) throw new RangeError(`realSchur: entry (${Math.floor(fin / n)}, ${fin % n}) is not finite`);
  const H = Float64Array.from(a);
  const Z = identity(n);
  hessenberg(H, Z, n);
  francisQR(H, Z, n);
  const blockStarts: number[] = [];
  for (let i = 0; i < n; ) {
    blockStarts.push(i);
    i += i + 1 < n && H[(i + 1) * n + i] !== 0 ? 2 : 1;
  }
  return { T: H, Z, blockStarts };
}

/** Reduce H to upper Hessenberg form in place by Householder reflections, accumulating Z ← Z P. */
function hessenberg(H: Float64Array, Z: Float64Array, n: number): void {
  const v = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let alpha = 0;
    for (let i = k + 1; i < n; i++) alpha = Math.max(alpha, Math.abs(H[i * n + k]));
    if (alpha === 0) continue;
    let sigma = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = H[i * n + k] / alpha;
      sigma += v[i] * v[i];
    }
    const norm = Math.sqrt(sigma);
    // Choose the sign that avoids cancellation in v[k+1].
    const beta = v[k + 1] >= 0 ? norm : -norm;
    v[k + 1] += beta;
    let vtv = 0;
    for (let i = k + 1; i < n; i++) vtv += v[i] * v[i];
    applyReflector(H, Z, n, v, k + 1, n - 1, 2 / vtv, 0);
    H[(k + 1) * n + k] = -beta * alpha;
    for (let i = k + 2; i < n; i++) H[i * n + k] = 0;
  }
}

/**
 * Apply P = I − tau v vᵀ (v supported on rows lo..hi) as H ← P H P and Z ← Z P; the row
 * update starts at column `colStart` because H is already zero to the left of it.
 */
function applyReflector(
  H: Float64Array,
  Z: Float64Array,
  n: number,
  v: Float64Array,
  lo: number,
  hi: number,
  tau: number,
  colStart: number,
): void {
  for (let j = colStart; j < n; j++) {
    let s = 0;
    for (let i = lo; i <= hi; i++) s += v[i] * H[i * n + j];
    s *= tau;
    for (let i = lo; i <= hi; i++) H[i * n + j] -= s * v[i];
  }
  const rowEnd = Math.min(n - 1, hi + 1);
  for (let i = 0; i <= rowEnd; i++) {
    let s = 0;
    for (let j = lo; j <= hi; j++) s += H[i * n + j] * v[j];
    s *= tau;
    for (let j = lo; j <= hi; j++) H[i * n + j] -= s * v[j];
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = lo; j <= hi; j++) s += Z[i * n + j] * v[j];
    s *= tau;
    for (let j = lo; j <= hi; j++) Z[i * n + j] -= s * v[j];
  }
}

/** Francis double-shift QR on a Hessenberg H in place, to real Schur form; accumulates Z. */
function francisQR(H: Float64Array, Z: Float64Array, n: number): void {
  const eps = Number.EPSILON;
  const v = new Float64Array(n);
  let hNorm = 0;
  for (let i = 0; i < n * n; i++) hNorm = Math.max(hNorm, Math.abs(H[i]));
  let hi = n - 1;
  let iterations = 0;
  while (hi >= 0) {
    // Find the top `lo` of the active unreduced block ending at `hi`.
    let lo = hi;
    while (lo > 0) {
      const s = Math.abs(H[(lo - 1) * n + (lo - 1)]) + Math.abs(H[lo * n + lo]);
      if (Math.abs(H[lo * n + lo - 1]) <= eps * (s === 0 ? hNorm : s)) {
        H[lo * n + lo - 1] = 0;
        break;
      }
      lo--;
    }
    if (lo === hi) {
      hi -= 1;
      iterations = 0;
      continue;
    }
    if (lo === hi - 1) {
      splitRealPair(H, Z, n, hi - 1);
      hi -= 2;
      iterations = 0;
      continue;
    }
    iterations++;
    if (iterations > 30 * n) {
      throw new ConvergenceError(`realSchur: QR iteration did not converge for the block ending at row ${hi} of ${n}`);
    }
    const m = hi;
    let s: number;
    let t: number;
    if (iterations % 11 === 10) {
      // Exceptional shift breaks rare cycles of the standard Wilkinson double shift.
      const w = Math.abs(H[m * n + m - 1]) + Math.abs(H[(m - 1) * n + m - 2]);
      s = 1.5 * w + H[m * n + m];
      t = w * w;
    } else {
      s = H[(m - 1) * n + m - 1] + H[m * n + m];
      t = H[(m - 1) * n + m - 1] * H[m * n + m] - H[(m - 1) * n + m] * H[m * n + m - 1];
    }
    const h00 = H[lo * n + lo];
    const h10 = H[(lo + 1) * n + lo];
    let x = h00 * h00 + H[lo * n + lo + 1] * h10 - s * h00 + t;
    let y = h10 * (h00 + H[(lo + 1) * n + lo + 1] - s);
    let z = h10 * H[(lo + 2) * n + lo + 1];
    for (let k = lo; k <= m - 2; k++) {
      const r = Math.max(Math.abs(x), Math.abs(y), Math.abs(z));
      if (r !== 0) {
        const x1 = x / r;
        const y1 = y / r;
        const z1 = z / r;
        const norm = Math.sqrt(x1 * x1 + y1 * y1 + z1 * z1);
        const beta = x1 >= 0 ? norm : -norm;
        v[k] = x1 + beta;
        v[k + 1] = y1;
        v[k + 2] = z1;
        const vtv = v[k] * v[k] + y1 * y1 + z1 * z1;
        applyReflector(H, Z, n, v, k, k + 2, 2 / vtv, Math.max(lo, k - 1));
        if (k > lo) {
          H[k * n + k - 1] = -beta * r;
          H[(k + 1) * n + k - 1] = 0;
          H[(k + 2) * n + k - 1] = 0;
        }
      }
      x = H[(k + 1) * n + k];
      y = H[(k + 2) * n + k];
      if (k < m - 2) z = H[(k + 3) * n + k];
    }
    // Final 2-vector reflector on rows m-1, m.
    const r = Math.max(Math.abs(x), Math.abs(y));
    if (r !== 0) {
      const x1 = x / r;
      const y1 = y / r;
      const norm = Math.sqrt(x1 * x1 + y1 * y1);
      const beta = x1 >= 0 ? norm : -norm;
      v[m - 1] = x1 + beta;
      v[m] = y1;
      const vtv = v[m - 1] * v[m - 1] + y1 * y1;
      applyReflector(H, Z, n, v, m - 1, m, 2 / vtv, m - 2);
      H[(m - 1) * n + m - 2] = -beta * r;
      H[m * n + m - 2] = 0;
    }
  }
}

/**
 * A converged 2×2 diagonal block at rows p, p+1: if its eigenvalues are real, rotate it to upper
 * triangular form so that only complex pairs remain as 2×2 blocks.
 */
function splitRealPair(H: Float64Array, Z: Float64Array, n: number, p: number): void {
  const a = H[p * n + p];
  const b = H[p * n + p + 1];
  const c = H[(p + 1) * n + p];
  const d = H[(p + 1) * n + p + 1];
  if (c === 0) return;
  const half = 0.5 * (a - d);
  const disc = half * half + b * c;
  if (disc < 0) return;
  // Eigenvalue λ = d + half ± root with the sign that avoids cancellation in λ − d.
  const root = Math.sqrt(disc);
  // Eigenvector (λ − d, c) of the block; rotate it onto e1.
  let x = half >= 0 ? half + root : half - root;
  let y = c;
  const r = Math.hypot(x, y);
  if (r === 0) return;
  x /= r;
  y /= r;
  // Rotation G = [[x, y], [-y, x]] applied as H ← G H Gᵀ on rows/cols p, p+1.
  for (let j = 0; j < n; j++) {
    const h1 = H[p * n + j];
    const h2 = H[(p + 1) * n + j];
    H[p * n + j] = x * h1 + y * h2;
    H[(p + 1) * n + j] = -y * h1 + x * h2;
  }
  for (let i = 0; i < n; i++) {
    const h1 = H[i * n + p];
    const h2 = H[i * n + p + 1];
    H[i * n + p] = x * h1 + y * h2;
    H[i * n + p + 1] = -y * h1 + x * h2;
    const z1 = Z[i * n + p];
    const z2 = Z[i * n + p + 1];
    Z[i * n + p] = x * z1 + y * z2;
    Z[i * n + p + 1] = -y * z1 + x * z2;
  }
  H[(p + 1) * n + p] = 0;
}

/** How {@link lyapunov} solves: see its TSDoc. */
export type LyapunovMethod = 'auto' | 'symmetric' | 'schur' | 'kronecker';

/** Options of {@link lyapunov}. */
export interface LyapunovOptions {
  /** 'auto' (default): 'symmetric' when A is symmetric to 1e-12 relative, else 'schur'. */
  method?: LyapunovMethod;
}

/**
 * Solve the continuous Lyapunov equation A Σ + Σ Aᵀ = Q for Σ, with A a general real n×n matrix.
 *
 * This gives the stationary covariance of the Ornstein–Uhlenbeck process dθ = −Aθ dt + B dW with
 * Q = BBᵀ. For constant-rate SGD (Mandt, Hoffman & Blei 2017, JMLR 18, Eq. 13) call it with A the
 * Hessian and Q = (ε/S) BBᵀ: ΣA + AΣ = (ε/S) BBᵀ. For the preconditioned form (their Theorem 1 /
 * Eq. 16, AΣ + H⁻¹ΣAH = (1/S) BBᵀH with symmetric H), multiply on the left by H: this is
 * (HA) Σ + Σ (HA)ᵀ = (1/S) H BBᵀ H, so call it with A ← HA (non-symmetric) and Q ← H BBᵀ H / S.
 *
 * Methods, all exact up to rounding:
 * - 'symmetric' (A = Aᵀ): A = V Λ Vᵀ, Q̃ = Vᵀ Q V, Σ̃_ij = Q̃_ij / (λ_i + λ_j), Σ = V Σ̃ Vᵀ. O(n³).
 * - 'schur' (general A; Bartels & Stewart 1972, CACM 15(9)): A = Z T Zᵀ real Schur, solve
 *   T Y + Y Tᵀ = Zᵀ Q Z by block back-substitution over the 1×1/2×2 diagonal blocks of T (each a
 *   ≤4×4 linear system), Σ = Z Y Zᵀ. O(n³), about 30n³ flops.
 * - 'kronecker' (n ≤ 30 only; a cross-check): (I⊗A + A⊗I) vec Σ = vec Q by LU, O(n⁶) time and
 *   O(n⁴) memory (about 1 s at n = 30 against 10 ms for 'schur').
 *
 * The solution is unique iff λ_i(A) + λ_j(A) ≠ 0 for all i, j; if Q is symmetric Σ is returned
 * exactly symmetric.
 *
 * @throws LyapunovSingularError when some λ_i + λ_j is zero to working precision.
 */
export function lyapunov(A: Float64Array, Q: Float64Array, n: number, options: LyapunovOptions = {}): Float64Array {
  checkDim('lyapunov', 'n', n);
  checkSize('lyapunov', 'A', A, n * n);
  checkSize('lyapunov', 'Q', Q, n * n);
  for (const [name, m] of [['A', A], ['Q', Q]] as const) {
    const bad = m.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RangeError(`lyapunov: ${name}(${Math.floor(bad / n)}, ${bad % n}) is not finite`);
  }
  const method = options.method ?? 'auto';
  let sigma: Float64Array;
  if (method === 'symmetric' || (method === 'auto' && isSymmetric(A, n, 1e-12))) {
    sigma = lyapunovSymmetric(A, Q, n);
  } else if (method === 'schur' || method === 'auto') {
    sigma = lyapunovSchur(A, Q, n);
  } else if (method === 'kronecker') {
    sigma = lyapunovKronecker(A, Q, n);
  } else {
    throw new RangeError(`lyapunov: unknown method '${String(method)}'`);
  }
  if (isSymmetric(Q, n, 0)) symmetrize(sigma, n, sigma);
  return sigma;
}

function isSymmetric(a: Float64Array, n: number, relTol: number): boolean {
  const tol = relTol * maxAbs(a);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (Math.abs(a[i * n + j] - a[j * n + i]) > tol) return false;
  return true;
}

function lyapunovSymmetric(A: Float64Array, Q: Float64Array, n: number): Float64Array {
  const { values, vectors: V } = symmetricEigen(A, n);
  const Vt = transpose(V, n, n);
  const Qt = matmul(matmul(Vt, Q, n, n, n), V, n, n, n);
  const scale = maxAbs(values);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const denom = values[i] + values[j];
      if (!(Math.abs(denom) > 4 * n * Number.EPSILON * scale)) {
        throw new LyapunovSingularError(
          `lyapunov: ${n}×${n} A has eigenvalues λ_${i} = ${values[i]} and λ_${j} = ${values[j]} summing to 0; ` +
            `A Σ + Σ Aᵀ = Q has no unique solution`,
        );
      }
      Qt[i * n + j] /= denom;
    }
  }
  return matmul(matmul(V, Qt, n, n, n), Vt, n, n, n);
}

function lyapunovSchur(A: Float64Array, Q: Float64Array, n: number): Float64Array {
  const { T, Z, blockStarts } = realSchur(A, n);
  const Zt = transpose(Z, n, n);
  const Y = matmul(matmul(Zt, Q, n, n, n), Z, n, n, n);
  const tScale = maxAbs(T);
  const ends = blockStarts.map((s, b) => (b + 1 < blockStarts.length ? blockStarts[b + 1] : n));
  const nb = blockStarts.length;
  const rhs = new Float64Array(4);
  const sys = new Float64Array(16);
  // Y holds C = ZᵀQZ and is overwritten by the solution, block (I, J) at a time, J and I descending:
  // T_II Y_IJ + Y_IJ T_JJᵀ = C_IJ − Σ_{K>I} T_IK Y_KJ − Σ_{K>J} Y_IK T_JKᵀ.
  for (let J = nb - 1; J >= 0; J--) {
    const j0 = blockStarts[J];
    const j1 = ends[J];
    for (let I = nb - 1; I >= 0; I--) {
      const i0 = blockStarts[I];
      const i1 = ends[I];
      const p = i1 - i0;
      const q = j1 - j0;
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          let s = Y[i * n + j];
          for (let k = i1; k < n; k++) s -= T[i * n + k] * Y[k * n + j];
          for (let k = j1; k < n; k++) s -= Y[i * n + k] * T[j * n + k];
          // Unknown (i, j) goes to slot (i − i0) + p (j − j0): column-major vec of the p×q block.
          rhs[i - i0 + p * (j - j0)] = s;
        }
      }
      // (I_q ⊗ T_II + T_JJ ⊗ I_p) vec(Y_IJ) = vec(R).
      const m = p * q;
      sys.fill(0);
      for (let jj = 0; jj < q; jj++) {
        for (let ii = 0; ii < p; ii++) {
          const row = ii + p * jj;
          for (let kk = 0; kk < p; kk++) sys[row * m + kk + p * jj] += T[(i0 + ii) * n + i0 + kk];
          for (let ll = 0; ll < q; ll++) sys[row * m + ii + p * ll] += T[(j0 + jj) * n + j0 + ll];
        }
      }
      if (!solveSmall(sys, rhs, m, 4 * n * Number.EPSILON * tScale)) {
        throw new LyapunovSingularError(
          `lyapunov: ${n}×${n} A has eigenvalues (Schur blocks at rows ${i0} and ${j0}) with λ_i + λ_j = 0 ` +
            `to working precision; A Σ + Σ Aᵀ = Q has no unique solution`,
        );
      }
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) Y[i * n + j] = rhs[i - i0 + p * (j - j0)];
    }
  }
  return matmul(matmul(Z, Y, n, n, n), Zt, n, n, n);
}

/** Gaussian elimination with partial pivoting on an m×m system (m ≤ 4), in place; false if singular. */
function solveSmall(a: Float64Array, b: Float64Array, m: number, tol: number): boolean {
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r * m + c]) > Math.abs(a[piv * m + c])) piv = r;
    if (!(Math.abs(a[piv * m + c]) > tol)) return false;
    if (piv !== c) {
      for (let k = 0; k < m; k++) {
        const t = a[c * m + k];
        a[c * m + k] = a[piv * m + k];
        a[piv * m + k] = t;
      }
      const t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (let r = c + 1; r < m; r++) {
      const f = a[r * m + c] / a[c * m + c];
      if (f === 0) continue;
      for (let k = c; k < m; k++) a[r * m + k] -= f * a[c * m + k];
      b[r] -= f * b[c];
    }
  }
  for (let r = m - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < m; k++) s -= a[r * m + k] * b[k];
    b[r] = s / a[r * m + r];
  }
  return true;
}

function lyapunovKronecker(A: Float64Array, Q: Float64Array, n: number): Float64Array {
  if (n > 30) throw new RangeError(`lyapunov: method 'kronecker' is limited to n ≤ 30 (O(n⁶) cost), got n = ${n}`);
  const N = n * n;
  // Row-major vec: Σ_ij at index i n + j; (AΣ)_ij = Σ_k A_ik Σ_kj, (ΣAᵀ)_ij = Σ_k A_jk Σ_ik.
  const K = new Float64Array(N * N);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const row = (i * n + j) * N;
      for (let k = 0; k < n; k++) {
        K[row + k * n + j] += A[i * n + k];
        K[row + i * n + k] += A[j * n + k];
      }
    }
  }
  try {
    return solve(K, Float64Array.from(Q), N);
  } catch (e) {
    if (e instanceof SingularMatrixError) {
      throw new LyapunovSingularError(`lyapunov: ${n}×${n} A has λ_i + λ_j = 0 for some pair; no unique solution`);
    }
    throw e;
  }
}
