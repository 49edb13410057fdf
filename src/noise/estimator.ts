/**
 * The gradient-noise covariance C = BBᵀ of constant SGD (Mandt, Hoffman & Blei 2017, JMLR 18,
 * Eqs. 6–7 and 21): estimated online from per-example gradients, or computed exactly over a data set.
 */
import type { Schedule, Target, Vec } from '../core/types.js';
import { scheduleValue } from '../core/types.js';
import { symmetricEigen, vectorAllocator } from '../core/linalg.js';
import { NoiseError, type NoiseCovariance, type NoiseCovarianceKind } from './types.js';

/** Options of {@link createNoiseEstimator}. */
export interface NoiseEstimatorOptions {
  /**
   * κ_t, the weight of the t-th minibatch's estimate in the moving average (t = 1, 2, …), in (0, 1].
   * Default {@link defaultNoiseDecay}(): κ_t = max(1/t, 10⁻³).
   */
  decay?: Schedule;
  /** k, the number of eigenpairs a 'lowrank' estimate keeps (default min(d, 10)). */
  rank?: number;
}

/** An online estimator of C; `update` folds in one minibatch, `snapshot` reads the estimate. */
export interface NoiseEstimator {
  readonly kind: NoiseCovarianceKind;
  readonly dim: number;
  /** Minibatches folded in so far. */
  readonly count: number;
  /**
   * Fold in one minibatch of per-example gradients (S×d row-major, S ≥ 2): its sample covariance
   * Ĉ_t = (1/(S−1)) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ enters the moving average of Eq. 21,
   * C_t = (1 − κ_t) C_{t−1} + κ_t Ĉ_t. Gradients of ℓ_n, of −log p(x_n|θ) or of log p(x_n|θ) give
   * the same estimate: the covariance ignores a sign and the shared prior term.
   */
  update(perExampleGrads: Float64Array, batchSize: number): void;
  /**
   * Fold in the paper's single-example estimate (Eq. 21) when per-example gradients are not
   * available: Ĉ_t = (S/(S−1)) (ĝ_1 − ĝ_S)(ĝ_1 − ĝ_S)ᵀ, ĝ_1 the gradient of one example of the
   * minibatch and ĝ_S the minibatch mean. The factor S/(S−1) removes the bias of the paper's form,
   * E(ĝ_1 − ĝ_S)(ĝ_1 − ĝ_S)ᵀ = (1 − 1/S) C, because ĝ_1 is part of ĝ_S.
   */
  updateSingle(exampleGrad: Vec, minibatchMeanGrad: Vec, batchSize: number): void;
  /** The current estimate (fresh arrays). */
  snapshot(): NoiseCovariance;
}

/** The default κ schedule: κ_t = max(1/t, floor), an exact running mean until t = 1/floor, then an EMA. */
export function defaultNoiseDecay(floor = 1e-3): (t: number) => number {
  if (!(floor > 0 && floor <= 1)) throw new NoiseError(`defaultNoiseDecay: floor must be in (0, 1], got ${floor}`);
  return (t) => Math.max(1 / t, floor);
}

function checkGrads(where: string, grads: Float64Array, batchSize: number, dim: number, minRows: number, checkValues = true): void {
  if (!Number.isInteger(batchSize) || batchSize < minRows) {
    throw new NoiseError(`${where}: batch size must be an integer ≥ ${minRows} (a covariance needs ${minRows} rows), got ${batchSize}`);
  }
  if (!(grads instanceof Float64Array) || grads.length < batchSize * dim) {
    throw new NoiseError(`${where}: per-example gradients must be a Float64Array of ${batchSize} × ${dim} = ${batchSize * dim} entries, got length ${grads?.length}`);
  }
  if (!checkValues) return;
  for (let i = 0; i < batchSize * dim; i++) {
    if (!Number.isFinite(grads[i])) {
      throw new NoiseError(`${where}: per-example gradient row ${Math.floor(i / dim)}, coordinate ${i % dim} is ${grads[i]} (must be finite)`);
    }
  }
}

// Column-major scratch of batchNoiseCovariance (centred, and centred × scale), grown on demand.
let centredColumns = new Float64Array(0);
let scaledColumns = new Float64Array(0);
// Per-column sums of squares of batchNoiseCovariance, grown on demand.
let columnSquares = new Float64Array(0);
// Bytes of the buffers the batch estimates' d×d matrices are cut from: 14 of d = 12 per buffer (4 KiB would hold 3).
const FULL_SLAB_BYTES = 16384;
// Fresh diag and full arrays of batchNoiseCovariance, cut from shared buffers (rebuilt when dim changes).
let allocatorDim = 0;
let newDiag: () => Float64Array = () => new Float64Array(0);
let newFull: () => Float64Array = () => new Float64Array(0);

/**
 * The sample covariance of one minibatch of per-example gradients as a noise estimate with
 * count 1 (Mandt, Hoffman & Blei 2017, Eq. 21 with κ = 1):
 *
 *   Ĉ = (1/(S−1)) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ,
 *
 * keeping Tr Ĉ ('scalar'), also diag Ĉ ('diagonal'), or also Ĉ ('full'). The same numbers as
 * `createNoiseEstimator(kind, dim, { decay: 1 })` after one `update` and `snapshot` (each entry
 * sums over the batch in row order), without building an estimator: the hot path of adaptive
 * constant SGD and SGFS. The gradients are transposed so that 2×4 entries of Ĉ accumulate at once.
 * The returned arrays are fresh (cut from shared buffers of 4 KiB, 16 KiB for C; see `vectorAllocator`).
 *
 * @param perExampleGrads - S×d row-major (S ≥ 2; only the first S·d entries are read).
 * @throws NoiseError for a bad kind, dimension, batch size or non-finite gradient.
 */
export function batchNoiseCovariance(
  kind: 'scalar' | 'diagonal' | 'full',
  dim: number,
  perExampleGrads: Float64Array,
  batchSize: number,
): NoiseCovariance {
  if (kind !== 'scalar' && kind !== 'diagonal' && kind !== 'full') {
    throw new NoiseError(`batchNoiseCovariance: kind must be 'scalar', 'diagonal' or 'full', got '${String(kind)}'`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw new NoiseError(`batchNoiseCovariance: dim must be a positive integer, got ${dim}`);
  // Shapes now; finiteness after the centring pass, whose trace is NaN exactly when an entry is not finite.
  checkGrads('noiseEstimator.update', perExampleGrads, batchSize, dim, 2, false);
  const S = batchSize;
  const size = S * dim;
  if (centredColumns.length < size) {
    centredColumns = new Float64Array(size);
    scaledColumns = new Float64Array(size);
  }
  if (columnSquares.length < dim) columnSquares = new Float64Array(dim);
  if (allocatorDim !== dim) {
    newDiag = vectorAllocator(dim);
    newFull = vectorAllocator(dim * dim, FULL_SLAB_BYTES);
    allocatorDim = dim;
  }
  const centred = centredColumns;
  const scaled = scaledColumns;
  const squares = columnSquares;
  const scale = 1 / (S - 1);
  centreColumns(perExampleGrads, S, dim, scale, centred, scaled, squares);
  const diag = kind === 'scalar' ? undefined : newDiag();
  let trace = 0;
  for (let k = 0; k < dim; k++) {
    const sq = squares[k] * scale;
    trace += sq;
    if (diag !== undefined) diag[k] = sq;
  }
  if (!Number.isFinite(trace)) checkGrads('noiseEstimator.update', perExampleGrads, batchSize, dim, 2);
  if (kind === 'scalar') return { kind, dim, trace, count: 1 };
  if (kind === 'diagonal') return { kind, dim, trace, diag, count: 1 };
  const full = newFull();
  lowerCrossProducts(full, scaled, centred, S, dim);
  mirrorLower(full, dim);
  return { kind, dim, trace, diag, full, count: 1 };
}

/**
 * The rows of an S×d matrix centred on their mean, transposed into column-major `centred` (and
 * × `scale` into `scaled`), with each column's sum of squares in `squares`. Four columns at a time
 * with the sums in registers, so that their chains of additions overlap (each column still sums
 * its rows in order); its own function, so that the loops are compiled for dynamic sizes once.
 */
function centreColumns(grads: Float64Array, S: number, dim: number, scale: number, centred: Float64Array, scaled: Float64Array, squares: Float64Array): void {
  const end = S * dim;
  let k = 0;
  for (; k + 3 < dim; k += 4) {
    let m0 = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    for (let j = k; j < end; j += dim) {
      m0 += grads[j];
      m1 += grads[j + 1];
      m2 += grads[j + 2];
      m3 += grads[j + 3];
    }
    m0 /= S;
    m1 /= S;
    m2 /= S;
    m3 /= S;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    const o0 = k * S;
    const o1 = o0 + S;
    const o2 = o1 + S;
    const o3 = o2 + S;
    for (let j = k, i = 0; j < end; j += dim, i++) {
      const c0 = grads[j] - m0;
      const c1 = grads[j + 1] - m1;
      const c2 = grads[j + 2] - m2;
      const c3 = grads[j + 3] - m3;
      centred[o0 + i] = c0;
      centred[o1 + i] = c1;
      centred[o2 + i] = c2;
      centred[o3 + i] = c3;
      scaled[o0 + i] = c0 * scale;
      scaled[o1 + i] = c1 * scale;
      scaled[o2 + i] = c2 * scale;
      scaled[o3 + i] = c3 * scale;
      q0 += c0 * c0;
      q1 += c1 * c1;
      q2 += c2 * c2;
      q3 += c3 * c3;
    }
    squares[k] = q0;
    squares[k + 1] = q1;
    squares[k + 2] = q2;
    squares[k + 3] = q3;
  }
  for (; k < dim; k++) {
    let mean = 0;
    for (let j = k; j < end; j += dim) mean += grads[j];
    mean /= S;
    let sq = 0;
    let o = k * S;
    for (let j = k; j < end; j += dim) {
      const c = grads[j] - mean;
      centred[o] = c;
      scaled[o] = c * scale;
      sq += c * c;
      o++;
    }
    squares[k] = sq;
  }
}

/**
 * out[a·d + b] = Σ_i scaled[a·S + i] · centred[b·S + i] for b ≤ a (column-major S-vectors), summed
 * from 0 in row order i (the bits of the plain loop). Two rows of `out` and four (then two) columns
 * per pass share the loads; a block may also write a few entries above the diagonal, which the caller's
 * mirror overwrites.
 */
function lowerCrossProducts(out: Float64Array, scaled: Float64Array, centred: Float64Array, S: number, dim: number): void {
  let a = 0;
  for (; a + 1 < dim; a += 2) {
    const za = a * S;
    const rowA = a * dim;
    const rowB = rowA + dim;
    let b = 0;
    for (; b + 3 <= a + 1; b += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      // One running index per array (the others at fixed strides of S): fewer index computations.
      for (let u = za, x = b * S, end = za + S; u < end; u++, x++) {
        const ua = scaled[u];
        const ub = scaled[u + S];
        const x0 = centred[x];
        const x1 = centred[x + S];
        const x2 = centred[x + 2 * S];
        const x3 = centred[x + 3 * S];
        s0 += ua * x0;
        s1 += ua * x1;
        s2 += ua * x2;
        s3 += ua * x3;
        t0 += ub * x0;
        t1 += ub * x1;
        t2 += ub * x2;
        t3 += ub * x3;
      }
      out[rowA + b] = s0;
      out[rowA + b + 1] = s1;
      out[rowA + b + 2] = s2;
      out[rowA + b + 3] = s3;
      out[rowB + b] = t0;
      out[rowB + b + 1] = t1;
      out[rowB + b + 2] = t2;
      out[rowB + b + 3] = t3;
    }
    for (; b + 1 <= a + 1; b += 2) {
      let s0 = 0;
      let s1 = 0;
      let t0 = 0;
      let t1 = 0;
      for (let u = za, x = b * S, end = za + S; u < end; u++, x++) {
        const ua = scaled[u];
        const ub = scaled[u + S];
        const x0 = centred[x];
        const x1 = centred[x + S];
        s0 += ua * x0;
        s1 += ua * x1;
        t0 += ub * x0;
        t1 += ub * x1;
      }
      out[rowA + b] = s0;
      out[rowA + b + 1] = s1;
      out[rowB + b] = t0;
      out[rowB + b + 1] = t1;
    }
    for (; b <= a + 1; b++) {
      let s = 0;
      let t = 0;
      for (let u = za, x = b * S, end = za + S; u < end; u++, x++) {
        const xb = centred[x];
        s += scaled[u] * xb;
        t += scaled[u + S] * xb;
      }
      out[rowA + b] = s;
      out[rowB + b] = t;
    }
  }
  if (a < dim) {
    const za = a * S;
    for (let b = 0; b <= a; b++) {
      let sum = 0;
      for (let u = za, x = b * S, end = za + S; u < end; u++, x++) sum += scaled[u] * centred[x];
      out[a * dim + b] = sum;
    }
  }
}

/** Centre the rows of an S×d matrix in place and return their mean. */
function centreRows(grads: Float64Array, rows: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let k = 0; k < dim; k++) mean[k] += grads[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= rows;
  for (let i = 0; i < rows; i++) for (let k = 0; k < dim; k++) grads[i * dim + k] -= mean[k];
  return mean;
}

/**
 * Σ_i z_i z_iᵀ · scale added into the lower triangle of `out` (d×d), z_i the rows of a centred S×d
 * matrix. Four rows per pass over `out`; every entry still sums its rows in order (same bits as a
 * row-by-row loop: the entries are never −0, so the terms with a zero factor change nothing).
 */
function addOuterProducts(out: Float64Array, centred: Float64Array, rows: number, dim: number, scale: number): void {
  let i = 0;
  for (; i + 3 < rows; i += 4) {
    const r0 = i * dim;
    const r1 = r0 + dim;
    const r2 = r1 + dim;
    const r3 = r2 + dim;
    for (let a = 0; a < dim; a++) {
      const z0 = centred[r0 + a] * scale;
      const z1 = centred[r1 + a] * scale;
      const z2 = centred[r2 + a] * scale;
      const z3 = centred[r3 + a] * scale;
      const outRow = a * dim;
      for (let b = 0; b <= a; b++) {
        out[outRow + b] = out[outRow + b] + z0 * centred[r0 + b] + z1 * centred[r1 + b] + z2 * centred[r2 + b] + z3 * centred[r3 + b];
      }
    }
  }
  for (; i < rows; i++) {
    const row = i * dim;
    for (let a = 0; a < dim; a++) {
      const za = centred[row + a] * scale;
      const outRow = a * dim;
      for (let b = 0; b <= a; b++) out[outRow + b] += za * centred[row + b];
    }
  }
}

function mirrorLower(m: Float64Array, dim: number): void {
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) m[b * dim + a] = m[a * dim + b];
}

/**
 * An online estimator of the gradient-noise covariance C = BBᵀ (Mandt, Hoffman & Blei 2017, JMLR 18,
 * Eq. 21, with the minibatch sample covariance of per-example gradients in place of the paper's
 * single-example difference, which the paper notes is the better estimate when they are available):
 *
 *   C_t = (1 − κ_t) C_{t−1} + κ_t Ĉ_t,   Ĉ_t = (1/(S−1)) Σ_{i∈batch} (∇ℓ_i − ḡ)(∇ℓ_i − ḡ)ᵀ.
 *
 * Kinds keep Tr C ('scalar', O(Sd) per update), diag C ('diagonal', O(Sd)), C ('full', O(Sd²)), or
 * a rank-k eigen-approximation plus an isotropic remainder ('lowrank', O(d(k+S)²) per update): the
 * new estimate (1 − κ)(UΛUᵀ + σ²I) + κĈ is written as MMᵀ + (1 − κ)σ²I with M = [√(1−κ) UΛ^½,
 * √(κ/(S−1)) Z] (Z the centred gradients, d×(k+S)); the top k eigenpairs of MMᵀ come from the small
 * Gram matrix MᵀM, and the trace of the discarded eigenpairs is spread over σ²I, so Tr C stays exact.
 *
 * @throws NoiseError for a bad kind, dimension, rank or decay.
 */
export function createNoiseEstimator(kind: NoiseCovarianceKind, dim: number, options: NoiseEstimatorOptions = {}): NoiseEstimator {
  const where = 'createNoiseEstimator';
  if (!['scalar', 'diagonal', 'full', 'lowrank'].includes(kind)) {
    throw new NoiseError(`${where}: kind must be 'scalar', 'diagonal', 'full' or 'lowrank', got '${String(kind)}'`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw new NoiseError(`${where}: dim must be a positive integer, got ${dim}`);
  const rank = options.rank ?? Math.min(dim, 10);
  if (kind === 'lowrank' && !(Number.isInteger(rank) && rank >= 1 && rank <= dim)) {
    throw new NoiseError(`${where}: rank must be an integer in [1, ${dim}], got ${rank}`);
  }
  const decay = options.decay ?? defaultNoiseDecay();
  let count = 0;
  let trace = 0;
  const diag = new Float64Array(dim);
  const full = kind === 'full' ? new Float64Array(dim * dim) : undefined;
  // Low-rank state: U (d×k, orthonormal columns), eigenvalues, isotropic σ²; rank grows to k.
  let factor: Float64Array = new Float64Array(0);
  let eigenvalues: Float64Array = new Float64Array(0);
  let keptRank = 0;
  let isotropic = 0;

  function nextKappa(): number {
    const t = count + 1;
    const kappa = scheduleValue(decay, t);
    if (!(kappa > 0 && kappa <= 1)) throw new NoiseError(`noiseEstimator: decay κ_${t} must be in (0, 1], got ${kappa}`);
    return kappa;
  }

  /** Fold in Ĉ = scale · Σ_i z_i z_iᵀ over the rows of a centred matrix. */
  function fold(centred: Float64Array, rows: number, scale: number): void {
    const kappa = nextKappa();
    const keep = 1 - kappa;
    let batchTrace = 0;
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += centred[i * dim + k] * centred[i * dim + k];
      s *= scale;
      batchTrace += s;
      diag[k] = keep * diag[k] + kappa * s;
    }
    trace = keep * trace + kappa * batchTrace;
    if (full) {
      for (let i = 0; i < dim * dim; i++) full[i] *= keep;
      addOuterProducts(full, centred, rows, dim, kappa * scale);
      mirrorLower(full, dim);
    } else if (kind === 'lowrank') {
      foldLowRank(centred, rows, kappa * scale, keep);
    }
    count += 1;
  }

  function foldLowRank(centred: Float64Array, rows: number, newScale: number, keep: number): void {
    const m = keptRank + rows;
    // M = [√keep U Λ^½, √newScale Z], d × m row-major.
    const M = new Float64Array(dim * m);
    for (let a = 0; a < dim; a++) {
      for (let j = 0; j < keptRank; j++) M[a * m + j] = Math.sqrt(keep * eigenvalues[j]) * factor[a * keptRank + j];
      for (let i = 0; i < rows; i++) M[a * m + keptRank + i] = Math.sqrt(newScale) * centred[i * dim + a];
    }
    const gram = new Float64Array(m * m);
    for (let a = 0; a < dim; a++) {
      for (let i = 0; i < m; i++) {
        const mi = M[a * m + i];
        if (mi === 0) continue;
        for (let j = 0; j <= i; j++) gram[i * m + j] += mi * M[a * m + j];
      }
    }
    mirrorLower(gram, m);
    const { values, vectors } = symmetricEigen(gram, m);
    const order = Array.from(values.keys()).sort((i, j) => values[j] - values[i]);
    let lowRankTrace = 0;
    for (let i = 0; i < m; i++) lowRankTrace += Math.max(0, values[i]);
    const k = Math.min(rank, m, dim);
    const nextFactor = new Float64Array(dim * k);
    const nextValues = new Float64Array(k);
    let keptTrace = 0;
    let filled = 0;
    for (const idx of order) {
      if (filled === k) break;
      const value = values[idx];
      if (!(value > 1e-14 * lowRankTrace)) break;
      // Eigenvector of MMᵀ: u = M v / √value (v the eigenvector of MᵀM).
      const inv = 1 / Math.sqrt(value);
      for (let a = 0; a < dim; a++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += M[a * m + j] * vectors[j * m + idx];
        nextFactor[a * k + filled] = s * inv;
      }
      nextValues[filled] = value;
      keptTrace += value;
      filled += 1;
    }
    keptRank = filled;
    factor = filled === k ? nextFactor : compactColumns(nextFactor, dim, k, filled);
    eigenvalues = nextValues.slice(0, filled);
    isotropic = keep * isotropic + Math.max(0, lowRankTrace - keptTrace) / dim;
    // The diagonal of the approximation, so 'diag' describes what the snapshot represents.
    for (let a = 0; a < dim; a++) {
      let s = isotropic;
      for (let j = 0; j < keptRank; j++) s += eigenvalues[j] * factor[a * keptRank + j] ** 2;
      diag[a] = s;
    }
  }

  return {
    kind,
    dim,
    get count() {
      return count;
    },
    update(perExampleGrads, batchSize) {
      checkGrads('noiseEstimator.update', perExampleGrads, batchSize, dim, 2);
      const centred = perExampleGrads.slice(0, batchSize * dim);
      centreRows(centred, batchSize, dim);
      fold(centred, batchSize, 1 / (batchSize - 1));
    },
    updateSingle(exampleGrad, minibatchMeanGrad, batchSize) {
      const w = 'noiseEstimator.updateSingle';
      checkGrads(w, exampleGrad, 1, dim, 1);
      checkGrads(w, minibatchMeanGrad, 1, dim, 1);
      if (!Number.isInteger(batchSize) || batchSize < 2) throw new NoiseError(`${w}: batch size must be an integer ≥ 2, got ${batchSize}`);
      const difference = new Float64Array(dim);
      for (let k = 0; k < dim; k++) difference[k] = exampleGrad[k] - minibatchMeanGrad[k];
      fold(difference, 1, batchSize / (batchSize - 1));
    },
    snapshot(): NoiseCovariance {
      switch (kind) {
        case 'scalar':
          return { kind, dim, trace, count };
        case 'diagonal':
          return { kind, dim, trace, diag: diag.slice(), count };
        case 'full':
          return { kind, dim, trace, diag: diag.slice(), full: (full as Float64Array).slice(), count };
        default:
          return {
            kind,
            dim,
            trace,
            diag: diag.slice(),
            factor: factor.slice(),
            eigenvalues: eigenvalues.slice(),
            rank: keptRank,
            isotropic,
            count,
          };
      }
    },
  };
}

function compactColumns(m: Float64Array, rows: number, cols: number, keep: number): Float64Array {
  const out = new Float64Array(rows * keep);
  for (let a = 0; a < rows; a++) for (let j = 0; j < keep; j++) out[a * keep + j] = m[a * cols + j];
  return out;
}

/** Options of {@link exactNoiseCovariance}. */
export interface ExactNoiseOptions {
  /** Which form to return (default 'full'). 'lowrank' keeps the top `rank` eigenpairs of the exact C. */
  kind?: NoiseCovarianceKind;
  /** k for 'lowrank' (default min(d, 10)). */
  rank?: number;
  /** Rows per call of `perExampleGrads` (default 1024), to bound memory. */
  chunkSize?: number;
}

/**
 * The exact gradient-noise covariance at θ over the whole training set (Mandt, Hoffman & Blei 2017,
 * JMLR 18, Eq. 6): the population covariance of one uniformly drawn example's gradient,
 *
 *   C = (1/N) Σ_n (∇ℓ_n − g)(∇ℓ_n − g)ᵀ,   g = (1/N) Σ_n ∇ℓ_n,
 *
 * from `target.perExampleGrads` in chunks (two passes: the mean first, then centred products).
 *
 * @throws NoiseError when the target has no per-example gradients, or θ has the wrong length.
 */
export function exactNoiseCovariance<Batch>(target: Target<Batch>, theta: Vec, options: ExactNoiseOptions = {}): NoiseCovariance {
  const where = 'exactNoiseCovariance';
  const kind = options.kind ?? 'full';
  const dim = target.dim;
  if (!target.perExampleGrads) {
    throw new NoiseError(`${where}: the target has no perExampleGrads; estimate C online with noiseEstimator.updateSingle instead`);
  }
  if (!(theta instanceof Float64Array) || theta.length !== dim) {
    throw new NoiseError(`${where}: theta must be a Float64Array of length target.dim = ${dim}, got length ${theta?.length}`);
  }
  const chunkSize = options.chunkSize ?? 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new NoiseError(`${where}: chunkSize must be a positive integer, got ${chunkSize}`);
  const all = target.fullBatch();
  const N = target.batchSize(all);
  if (!(all instanceof Int32Array)) {
    throw new NoiseError(`${where}: the target's batches must be index batches (Int32Array) so the data can be read in chunks`);
  }
  const buffer = new Float64Array(Math.min(chunkSize, N) * dim);
  const perExample = target.perExampleGrads.bind(target) as (t: Vec, b: Int32Array, out: Float64Array) => void;
  const mean = new Float64Array(dim);
  for (let start = 0; start < N; start += chunkSize) {
    const rows = Math.min(chunkSize, N - start);
    perExample(theta, all.subarray(start, start + rows), buffer);
    for (let i = 0; i < rows * dim; i++) mean[i % dim] += buffer[i];
  }
  for (let k = 0; k < dim; k++) mean[k] /= N;
  const cov = new Float64Array(dim * dim);
  for (let start = 0; start < N; start += chunkSize) {
    const rows = Math.min(chunkSize, N - start);
    perExample(theta, all.subarray(start, start + rows), buffer);
    for (let i = 0; i < rows; i++) for (let k = 0; k < dim; k++) buffer[i * dim + k] -= mean[k];
    addOuterProducts(cov, buffer, rows, dim, 1 / N);
  }
  mirrorLower(cov, dim);
  return noiseCovarianceFromMatrix(cov, dim, kind, { rank: options.rank, count: N });
}

/**
 * A {@link NoiseCovariance} of the given kind from a dense symmetric C (d×d row-major): the trace,
 * the diagonal, C itself, or its top-k eigenpairs with the remaining trace as σ²I.
 */
export function noiseCovarianceFromMatrix(
  C: Float64Array,
  dim: number,
  kind: NoiseCovarianceKind = 'full',
  options: { rank?: number; count?: number } = {},
): NoiseCovariance {
  if (!(C instanceof Float64Array) || C.length !== dim * dim) {
    throw new NoiseError(`noiseCovarianceFromMatrix: C must be a Float64Array of ${dim}×${dim} entries, got length ${C?.length}`);
  }
  const count = options.count ?? 1;
  const diag = new Float64Array(dim);
  let trace = 0;
  for (let k = 0; k < dim; k++) {
    diag[k] = C[k * dim + k];
    trace += diag[k];
  }
  if (kind === 'scalar') return { kind, dim, trace, count };
  if (kind === 'diagonal') return { kind, dim, trace, diag, count };
  if (kind === 'full') return { kind, dim, trace, diag, full: Float64Array.from(C), count };
  const rank = options.rank ?? Math.min(dim, 10);
  if (!(Number.isInteger(rank) && rank >= 1 && rank <= dim)) {
    throw new NoiseError(`noiseCovarianceFromMatrix: rank must be an integer in [1, ${dim}], got ${rank}`);
  }
  const { values, vectors } = symmetricEigen(C, dim);
  const order = Array.from(values.keys()).sort((i, j) => values[j] - values[i]);
  const factor = new Float64Array(dim * rank);
  const eigenvalues = new Float64Array(rank);
  let kept = 0;
  for (let j = 0; j < rank; j++) {
    const idx = order[j];
    eigenvalues[j] = Math.max(0, values[idx]);
    kept += eigenvalues[j];
    for (let a = 0; a < dim; a++) factor[a * rank + j] = vectors[a * dim + idx];
  }
  const isotropic = Math.max(0, trace - kept) / dim;
  const approxDiag = new Float64Array(dim);
  for (let a = 0; a < dim; a++) {
    let s = isotropic;
    for (let j = 0; j < rank; j++) s += eigenvalues[j] * factor[a * rank + j] ** 2;
    approxDiag[a] = s;
  }
  return { kind, dim, trace, diag: approxDiag, factor, eigenvalues, rank, isotropic, count };
}

/**
 * C as a dense d×d matrix from any estimate: C itself ('full'), diag(C) ('diagonal'),
 * UΛUᵀ + σ²I ('lowrank'), or (Tr C / d)·I ('scalar', the isotropic matrix with the same trace).
 */
export function noiseCovarianceMatrix(noise: NoiseCovariance): Float64Array {
  const d = noise.dim;
  const out = new Float64Array(d * d);
  switch (noise.kind) {
    case 'full':
      out.set(requireField(noise, 'full'));
      return out;
    case 'diagonal': {
      const diag = requireField(noise, 'diag');
      for (let k = 0; k < d; k++) out[k * d + k] = diag[k];
      return out;
    }
    case 'scalar':
      for (let k = 0; k < d; k++) out[k * d + k] = noise.trace / d;
      return out;
    case 'lowrank': {
      const U = requireField(noise, 'factor');
      const values = requireField(noise, 'eigenvalues');
      const k = values.length;
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          let s = a === b ? (noise.isotropic ?? 0) : 0;
          for (let j = 0; j < k; j++) s += values[j] * U[a * k + j] * U[b * k + j];
          out[a * d + b] = s;
        }
      }
      return out;
    }
    default:
      throw new NoiseError(`noiseCovarianceMatrix: unknown kind '${String((noise as { kind: unknown }).kind)}'`);
  }
}

/** A required array field of a noise estimate, or a NoiseError naming the kind and the field. */
export function requireField(noise: NoiseCovariance, field: 'diag' | 'full' | 'factor' | 'eigenvalues'): Float64Array {
  const value = noise[field];
  if (!(value instanceof Float64Array)) {
    throw new NoiseError(`a '${noise.kind}' noise estimate has no '${field}' (estimate C with a kind that keeps it)`);
  }
  return value;
}
