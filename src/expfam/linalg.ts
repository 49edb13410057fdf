/**
 * Small dense linear algebra over row-major `Float64Array` k×k matrices, for the exponential
 * families and their flows (k ≤ a few dozen).
 *
 * Kept local and allocation-light because the flows call it at every ODE stage and every discrete
 * step, where wrapping each 3×3 Fisher matrix in an ml-matrix object would dominate the cost.
 */
import type { Vec } from '../core/types.js';
import { ExponentialFamilyError } from './errors.js';

/** A k×k matrix stored row-major. */
export type SquareMatrix = Float64Array;

/** The k×k identity. */
export function identityMatrix(k: number): SquareMatrix {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) out[i * k + i] = 1;
  return out;
}

/** out = A x for a k×k matrix A. */
export function matVec(a: SquareMatrix, k: number, x: Vec, out: Vec = new Float64Array(k)): Vec {
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += a[i * k + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** out = Aᵀ x for a k×k matrix A. */
export function matTVec(a: SquareMatrix, k: number, x: Vec, out: Vec = new Float64Array(k)): Vec {
  out.fill(0, 0, k);
  for (let i = 0; i < k; i++) {
    const xi = x[i];
    for (let j = 0; j < k; j++) out[j] += a[i * k + j] * xi;
  }
  return out;
}

/** A B for k×k matrices. */
export function matMul(a: SquareMatrix, b: SquareMatrix, k: number): SquareMatrix {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let l = 0; l < k; l++) {
      const ail = a[i * k + l];
      if (ail === 0) continue;
      for (let j = 0; j < k; j++) out[i * k + j] += ail * b[l * k + j];
    }
  }
  return out;
}

/** Aᵀ for a k×k matrix. */
export function transpose(a: SquareMatrix, k: number): SquareMatrix {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[j * k + i] = a[i * k + j];
  return out;
}

/**
 * Lower Cholesky factor L with A = L Lᵀ, or `null` if A is not (numerically) positive definite.
 */
export function choleskyOrNull(a: SquareMatrix, k: number): SquareMatrix | null {
  const l = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j];
    for (let p = 0; p < j; p++) d -= l[j * k + p] * l[j * k + p];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j];
      for (let p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
      l[i * k + j] = s / ljj;
    }
  }
  return l;
}

/** Lower Cholesky factor of a symmetric positive-definite matrix; throws naming `where` if not SPD. */
export function cholesky(a: SquareMatrix, k: number, where = 'cholesky'): SquareMatrix {
  const l = choleskyOrNull(a, k);
  if (l === null) throw new ExponentialFamilyError(`${where}: matrix is not positive definite`);
  return l;
}

/** Solve (L Lᵀ) x = b given the lower Cholesky factor L. */
export function choleskySolve(l: SquareMatrix, k: number, b: Vec, out: Vec = new Float64Array(k)): Vec {
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[i * k + p] * out[p];
    out[i] = s / l[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = out[i];
    for (let p = i + 1; p < k; p++) s -= l[p * k + i] * out[p];
    out[i] = s / l[i * k + i];
  }
  return out;
}

/** Solve A x = b for symmetric positive-definite A. */
export function solveSPD(a: SquareMatrix, k: number, b: Vec, where = 'solveSPD'): Vec {
  return choleskySolve(cholesky(a, k, where), k, b);
}

/** A⁻¹ for symmetric positive-definite A (symmetrised). */
export function inverseSPD(a: SquareMatrix, k: number, where = 'inverseSPD'): SquareMatrix {
  const l = cholesky(a, k, where);
  const out = new Float64Array(k * k);
  const e = new Float64Array(k);
  const col = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    e.fill(0);
    e[j] = 1;
    choleskySolve(l, k, e, col);
    for (let i = 0; i < k; i++) out[i * k + j] = col[i];
  }
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const m = 0.5 * (out[i * k + j] + out[j * k + i]);
      out[i * k + j] = m;
      out[j * k + i] = m;
    }
  }
  return out;
}

/** log det A for symmetric positive-definite A. */
export function logDetSPD(a: SquareMatrix, k: number, where = 'logDetSPD'): number {
  const l = cholesky(a, k, where);
  let s = 0;
  for (let i = 0; i < k; i++) s += Math.log(l[i * k + i]);
  return 2 * s;
}

/** A⁻¹ for a general invertible matrix (Gauss–Jordan with partial pivoting). */
export function inverseGeneral(a: SquareMatrix, k: number, where = 'inverseGeneral'): SquareMatrix {
  const w = Float64Array.from(a);
  const inv = identityMatrix(k);
  let scale = 0;
  for (let i = 0; i < k * k; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(w[r * k + c]) > Math.abs(w[piv * k + c])) piv = r;
    const p = w[piv * k + c];
    if (!(Math.abs(p) > 1e-14 * scale)) throw new ExponentialFamilyError(`${where}: matrix is singular`);
    if (piv !== c) {
      for (let j = 0; j < k; j++) {
        [w[c * k + j], w[piv * k + j]] = [w[piv * k + j], w[c * k + j]];
        [inv[c * k + j], inv[piv * k + j]] = [inv[piv * k + j], inv[c * k + j]];
      }
    }
    for (let j = 0; j < k; j++) {
      w[c * k + j] /= p;
      inv[c * k + j] /= p;
    }
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = w[r * k + c];
      if (f === 0) continue;
      for (let j = 0; j < k; j++) {
        w[r * k + j] -= f * w[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  return inv;
}

/** Eigen-decomposition of a symmetric matrix: ascending eigenvalues, eigenvectors as columns. */
export interface SymmetricEigen {
  values: Float64Array;
  /** k×k row-major; column j is the eigenvector of values[j]. */
  vectors: SquareMatrix;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (accurate to machine
 * precision for the small matrices used here; the input's upper triangle is read).
 */
export function symmetricEigen(a: SquareMatrix, k: number): SymmetricEigen {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) m[i * k + j] = i <= j ? a[i * k + j] : a[j * k + i];
  }
  const v = identityMatrix(k);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const x = m[i * k + j] * m[i * k + j];
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q];
        if (apq === 0) continue;
        const theta = (m[q * k + q] - m[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r * k + p];
          const mrq = m[r * k + q];
          m[r * k + p] = c * mrp - s * mrq;
          m[r * k + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p * k + r];
          const mqr = m[q * k + r];
          m[p * k + r] = c * mpr - s * mqr;
          m[q * k + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((x, y) => m[x * k + x] - m[y * k + y]);
  const values = new Float64Array(k);
  const vectors = new Float64Array(k * k);
  order.forEach((src, dst) => {
    values[dst] = m[src * k + src];
    for (let r = 0; r < k; r++) vectors[r * k + dst] = v[r * k + src];
  });
  return { values, vectors };
}

/** V f(Λ) Vᵀ for symmetric A = V Λ Vᵀ, e.g. the matrix square root with f = Math.sqrt. */
export function symmetricMatrixFunction(a: SquareMatrix, k: number, f: (x: number) => number): SquareMatrix {
  const { values, vectors } = symmetricEigen(a, k);
  const out = new Float64Array(k * k);
  for (let l = 0; l < k; l++) {
    const fl = f(values[l]);
    for (let i = 0; i < k; i++) {
      const vil = vectors[i * k + l] * fl;
      for (let j = 0; j < k; j++) out[i * k + j] += vil * vectors[j * k + l];
    }
  }
  return out;
}
