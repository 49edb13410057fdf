import { describe, expect, it } from 'vitest';
import {
  DimensionError,
  LyapunovSingularError,
  NotPositiveDefiniteError,
  SingularMatrixError,
  cholesky,
  choleskySolve,
  identity,
  vectorAllocator,
  inverse,
  logDetSPD,
  lyapunov,
  matmul,
  matvec,
  realSchur,
  solve,
  solveLower,
  solveLowerTransposed,
  symmetricEigen,
  symmetrize,
  transpose,
} from '../src/core/linalg.js';
import { key, normal } from '../src/core/random.js';

function randomMatrix(seed: number, rows: number, cols: number): Float64Array {
  return normal(key(seed), rows * cols);
}

/** A random SPD matrix M Mᵀ + n I. */
function randomSPD(seed: number, n: number): Float64Array {
  const m = randomMatrix(seed, n, n);
  const a = matmul(m, transpose(m, n, n), n, n, n);
  for (let i = 0; i < n; i++) a[i * n + i] += n;
  return a;
}

/** A random matrix whose eigenvalues have positive real part (shifted by its Gershgorin radius). */
function randomStable(seed: number, n: number): Float64Array {
  const a = randomMatrix(seed, n, n);
  for (let i = 0; i < n; i++) {
    let radius = 0;
    for (let j = 0; j < n; j++) if (j !== i) radius += Math.abs(a[i * n + j]);
    a[i * n + i] = Math.abs(a[i * n + i]) + radius + 0.1;
  }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function lyapunovResidual(A: Float64Array, S: Float64Array, Q: Float64Array, n: number): number {
  const AS = matmul(A, S, n, n, n);
  const SAt = matmul(S, transpose(A, n, n), n, n, n);
  let r = 0;
  for (let i = 0; i < n * n; i++) r = Math.max(r, Math.abs(AS[i] + SAt[i] - Q[i]));
  return r;
}

describe('basic products', () => {
  it('matmul matches a hand-computed 2×3 by 3×2 product', () => {
    const a = Float64Array.of(1, 2, 3, 4, 5, 6);
    const b = Float64Array.of(7, 8, 9, 10, 11, 12);
    expect(Array.from(matmul(a, b, 2, 3, 2))).toEqual([58, 64, 139, 154]);
  });
  it('matvec and transpose agree with matmul', () => {
    const a = randomMatrix(1, 3, 4);
    const x = randomMatrix(2, 4, 1);
    expect(maxAbsDiff(matvec(a, x, 3, 4), matmul(a, x, 3, 4, 1))).toBe(0);
    const at = transpose(a, 3, 4);
    expect(at[2 * 3 + 1]).toBe(a[1 * 4 + 2]);
    expect(Array.from(transpose(at, 4, 3))).toEqual(Array.from(a));
  });
  it('symmetrize averages with the transpose, and identity is neutral', () => {
    const a = Float64Array.of(1, 2, 4, 3);
    expect(Array.from(symmetrize(a, 2))).toEqual([1, 3, 3, 3]);
    const m = randomMatrix(3, 3, 3);
    expect(Array.from(matmul(identity(3), m, 3, 3, 3))).toEqual(Array.from(m));
  });
  it('rejects mismatched sizes with a DimensionError naming the argument', () => {
    expect(() => matmul(new Float64Array(5), new Float64Array(6), 2, 3, 2)).toThrow(DimensionError);
    expect(() => matmul(new Float64Array(5), new Float64Array(6), 2, 3, 2)).toThrow(/matmul: a has length 5, expected 6/);
    expect(() => solve(identity(3), new Float64Array(4), 3)).toThrow(/not a positive multiple of n = 3/);
  });
});

describe('cholesky', () => {
  it('reconstructs A = L Lᵀ with L lower triangular', () => {
    const n = 6;
    const a = randomSPD(4, n);
    const L = cholesky(a, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(L[i * n + j]).toBe(0);
    expect(maxAbsDiff(matmul(L, transpose(L, n, n), n, n, n), a)).toBeLessThan(1e-12 * maxAbs(a));
  });
  it('factors in place into `out` (aliasing A allowed) with the bits of a fresh factor', () => {
    const n = 7;
    const a = randomSPD(11, n);
    const fresh = cholesky(a, n);
    const inPlace = Float64Array.from(a);
    expect(cholesky(inPlace, n, inPlace)).toBe(inPlace);
    expect(Array.from(inPlace)).toEqual(Array.from(fresh));
    const reused = new Float64Array(n * n).fill(Number.NaN);
    expect(Array.from(cholesky(a, n, reused))).toEqual(Array.from(fresh));
  });
  it('solves systems, vector and matrix right-hand sides', () => {
    const n = 5;
    const a = randomSPD(5, n);
    const b = randomMatrix(6, n, 3);
    const L = cholesky(a, n);
    const x = choleskySolve(L, b, n);
    expect(maxAbsDiff(matmul(a, x, n, n, 3), b)).toBeLessThan(1e-12);
    const v = randomMatrix(7, n, 1);
    expect(maxAbsDiff(matvec(L, solveLower(L, v, n), n, n), v)).toBeLessThan(1e-12);
    expect(maxAbsDiff(matvec(transpose(L, n, n), solveLowerTransposed(L, v, n), n, n), v)).toBeLessThan(1e-12);
  });
  it('logDetSPD matches the log of a closed-form determinant', () => {
    const a = Float64Array.of(4, 2, 2, 3);
    expect(logDetSPD(a, 2)).toBeCloseTo(Math.log(8), 14);
    const n = 4;
    const spd = randomSPD(8, n);
    const { values } = symmetricEigen(spd, n);
    expect(logDetSPD(spd, n)).toBeCloseTo(values.reduce((s, l) => s + Math.log(l), 0), 11);
  });
  it('throws NotPositiveDefiniteError naming the size and failing pivot', () => {
    const a = Float64Array.of(1, 0, 0, 0, 1, 2, 0, 2, 1); // lower-right block has eigenvalues 3, −1
    let err: unknown;
    try {
      cholesky(a, 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    const e = err as NotPositiveDefiniteError;
    expect(e.size).toBe(3);
    expect(e.pivotIndex).toBe(2);
    expect(e.pivotValue).toBeCloseTo(-3, 12);
    expect(e.message).toMatch(/3×3 .*pivot 2/);
    expect(() => cholesky(Float64Array.of(NaN), 1)).toThrow(NotPositiveDefiniteError);
  });
});

describe('LU solve and inverse', () => {
  it('solve round-trips on a random non-symmetric matrix', () => {
    const n = 7;
    const a = randomMatrix(9, n, n);
    const b = randomMatrix(10, n, 2);
    const x = solve(a, b, n);
    expect(maxAbsDiff(matmul(a, x, n, n, 2), b)).toBeLessThan(1e-11);
  });
  it('inverse times matrix is the identity', () => {
    const n = 5;
    const a = randomMatrix(11, n, n);
    expect(maxAbsDiff(matmul(inverse(a, n), a, n, n, n), identity(n))).toBeLessThan(1e-11);
  });
  it('throws SingularMatrixError on a rank-deficient matrix', () => {
    const a = Float64Array.of(1, 2, 3, 2, 4, 6, 1, 0, 1);
    expect(() => solve(a, Float64Array.of(1, 2, 3), 3)).toThrow(SingularMatrixError);
    expect(() => inverse(a, 3)).toThrow(/3×3 matrix is singular/);
  });
});

describe('symmetricEigen', () => {
  it('gives ascending eigenvalues and orthonormal vectors with A V = V Λ', () => {
    const n = 8;
    const a = randomSPD(12, n);
    for (let i = 0; i < n; i++) a[i * n + i] -= 2 * n; // make it indefinite
    const { values, vectors: V } = symmetricEigen(a, n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
    expect(maxAbsDiff(matmul(transpose(V, n, n), V, n, n, n), identity(n))).toBeLessThan(1e-12);
    const VL = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) VL[i * n + j] = V[i * n + j] * values[j];
    expect(maxAbsDiff(matmul(a, V, n, n, n), VL)).toBeLessThan(1e-11 * maxAbs(a));
  });
  it('matches the closed form of a 2×2', () => {
    const { values } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
  });
});

describe('realSchur', () => {
  it.each([1, 2, 5, 12, 40])('A = Z T Zᵀ with Z orthogonal and T quasi-triangular (n = %i)', (n) => {
    const a = randomMatrix(100 + n, n, n);
    const { T, Z, blockStarts } = realSchur(a, n);
    expect(maxAbsDiff(matmul(transpose(Z, n, n), Z, n, n, n), identity(n))).toBeLessThan(1e-13 * n);
    const back = matmul(matmul(Z, T, n, n, n), transpose(Z, n, n), n, n, n);
    expect(maxAbsDiff(back, a)).toBeLessThan(1e-13 * n * maxAbs(a));
    for (let i = 0; i < n; i++) for (let j = 0; j < i - 1; j++) expect(T[i * n + j]).toBe(0);
    // Each 2×2 block holds a complex pair: negative discriminant.
    for (const s of blockStarts) {
      if (s + 1 < n && T[(s + 1) * n + s] !== 0) {
        const half = 0.5 * (T[s * n + s] - T[(s + 1) * n + s + 1]);
        expect(half * half + T[s * n + s + 1] * T[(s + 1) * n + s]).toBeLessThan(0);
      }
    }
  });
  it('handles a rotation (pure complex pair), a Jordan block and the zero matrix', () => {
    for (const [a, n] of [
      [Float64Array.of(0, -1, 1, 0), 2],
      [Float64Array.of(2, 1, 0, 0, 2, 1, 0, 0, 2), 3],
      [new Float64Array(9), 3],
    ] as const) {
      const { T, Z } = realSchur(a, n);
      const back = matmul(matmul(Z, T, n, n, n), transpose(Z, n, n), n, n, n);
      expect(maxAbsDiff(back, a)).toBeLessThan(1e-14);
    }
  });
});

describe('lyapunov', () => {
  it('1×1 closed form Σ = q / (2a)', () => {
    expect(lyapunov(Float64Array.of(3), Float64Array.of(4), 1)[0]).toBeCloseTo(4 / 6, 15);
    expect(lyapunov(Float64Array.of(-2), Float64Array.of(1), 1, { method: 'schur' })[0]).toBeCloseTo(-0.25, 15);
  });
  it('symmetric A: Σ = A⁻¹/2 when Q = I (the 2/N-preconditioned OU limit, Mandt et al. 2017 Cor. 4)', () => {
    const n = 6;
    const a = randomSPD(20, n);
    const sigma = lyapunov(a, identity(n), n);
    const half = inverse(a, n).map((x) => x / 2);
    expect(maxAbsDiff(sigma, half)).toBeLessThan(1e-13);
  });
  it.each([
    ['symmetric', 10],
    ['symmetric', 30],
  ] as const)('residual is tiny for random SPD A, method %s (n = %i)', (method, n) => {
    const a = randomSPD(30 + n, n);
    const b = randomMatrix(31 + n, n, n);
    const q = matmul(b, transpose(b, n, n), n, n, n);
    const sigma = lyapunov(a, q, n, { method });
    expect(lyapunovResidual(a, sigma, q, n)).toBeLessThan(1e-12 * maxAbs(q) * n);
  });
  it.each([2, 3, 8, 25, 60])('residual is tiny for random non-symmetric stable A (n = %i)', (n) => {
    const a = randomStable(40 + n, n);
    const b = randomMatrix(41 + n, n, n);
    const q = matmul(b, transpose(b, n, n), n, n, n);
    const sigma = lyapunov(a, q, n);
    const scale = maxAbs(a) * maxAbs(sigma) + maxAbs(q);
    expect(lyapunovResidual(a, sigma, q, n)).toBeLessThan(1e-13 * n * scale);
    expect(maxAbsDiff(sigma, transpose(sigma, n, n))).toBe(0);
    // A positive-stable with Q ⪰ 0 ⇒ Σ ⪰ 0; Q ≻ 0 here almost surely, so Σ is SPD.
    expect(() => cholesky(sigma, n)).not.toThrow();
  });
  it('Schur and Kronecker methods agree, including a non-symmetric Q', () => {
    const n = 7;
    const a = randomStable(50, n);
    const q = randomMatrix(51, n, n);
    const viaSchur = lyapunov(a, q, n, { method: 'schur' });
    const viaKron = lyapunov(a, q, n, { method: 'kronecker' });
    expect(maxAbsDiff(viaSchur, viaKron)).toBeLessThan(1e-12 * maxAbs(viaKron));
    expect(lyapunovResidual(a, viaSchur, q, n)).toBeLessThan(1e-12);
  });
  it('solves the preconditioned OU form (HA)Σ + Σ(HA)ᵀ = H BBᵀ H', () => {
    const n = 5;
    const A = randomSPD(60, n);
    const H = randomSPD(61, n);
    const b = randomMatrix(62, n, n);
    const bbt = matmul(b, transpose(b, n, n), n, n, n);
    const HA = matmul(H, A, n, n, n);
    const sigma = lyapunov(HA, matmul(matmul(H, bbt, n, n, n), H, n, n, n), n);
    // Mandt et al. 2017 Eq. 16 form: AΣ + H⁻¹ΣAH = BBᵀH.
    const lhs = matmul(A, sigma, n, n, n);
    const second = matmul(matmul(matmul(inverse(H, n), sigma, n, n, n), A, n, n, n), H, n, n, n);
    const rhs = matmul(bbt, H, n, n, n);
    for (let i = 0; i < n * n; i++) lhs[i] += second[i];
    expect(maxAbsDiff(lhs, rhs)).toBeLessThan(1e-9 * maxAbs(rhs));
  });
  it('throws LyapunovSingularError when eigenvalues sum to zero', () => {
    const q = identity(2);
    expect(() => lyapunov(Float64Array.of(1, 0, 0, -1), q, 2)).toThrow(LyapunovSingularError);
    expect(() => lyapunov(Float64Array.of(0, 1, -1, 0), q, 2)).toThrow(LyapunovSingularError);
    expect(() => lyapunov(Float64Array.of(0, 1, -1, 0), q, 2, { method: 'kronecker' })).toThrow(/no unique solution/);
    expect(() => lyapunov(Float64Array.of(0), Float64Array.of(1), 1)).toThrow(/summing to 0/);
  });
  it('rejects non-finite input and oversized Kronecker systems', () => {
    expect(() => lyapunov(Float64Array.of(1, NaN, 0, 1), identity(2), 2)).toThrow(/A\(0, 1\) is not finite/);
    expect(() => lyapunov(identity(31), identity(31), 31, { method: 'kronecker' })).toThrow(/n ≤ 30/);
  });
});

describe('vectorAllocator', () => {
  it('hands out zeroed vectors of the given length that never share entries, many per 4 KiB buffer', () => {
    const next = vectorAllocator(12);
    const vectors = Array.from({ length: 100 }, () => next());
    for (const [i, v] of vectors.entries()) {
      expect(v.length).toBe(12);
      expect(Array.from(v)).toEqual(new Array(12).fill(0));
      v.fill(i);
    }
    for (const [i, v] of vectors.entries()) expect(Array.from(v), `vector ${i}`).toEqual(new Array(12).fill(i));
    // 42 vectors of 96 bytes per 4 KiB buffer: 100 vectors use three buffers.
    expect(new Set(vectors.map((v) => v.buffer)).size).toBe(3);
  });

  it('gives vectors above 2 KiB (and empty ones) buffers of their own, and rejects a bad length', () => {
    const big = vectorAllocator(257);
    const a = big();
    const b = big();
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.byteOffset).toBe(0);
    expect(vectorAllocator(0)().length).toBe(0);
    expect(() => vectorAllocator(-1)).toThrow(DimensionError);
    expect(() => vectorAllocator(1.5)).toThrow(/length must be a non-negative integer, got 1.5/);
    expect(() => vectorAllocator(4, -8)).toThrow(/slabBytes must be a non-negative integer, got -8/);
  });

  it('cuts ⌊slabBytes / 8·length⌋ vectors from each buffer of the given size', () => {
    const next = vectorAllocator(144, 16384);
    const vectors = Array.from({ length: 30 }, () => next());
    expect(new Set(vectors.map((v) => v.buffer)).size).toBe(3); // 14 per buffer
    expect(vectors[13].byteOffset).toBe(13 * 1152);
    expect(vectors[14].byteOffset).toBe(0);
  });
});
