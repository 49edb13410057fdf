/**
 * Online first and second moments of vectors, so long runs need not store their draws.
 *
 * Welford's update (Welford 1962, "Note on a method for calculating corrected sums of squares and
 * products", Technometrics 4(3)) per draw, and the pairwise merge of Chan, Golub & LeVeque (1979,
 * "Updating formulae and a pairwise algorithm for computing sample variances") to pool chains.
 */

/** Which second moments an accumulator keeps: the full d×d matrix or only the diagonal. */
export type MomentsKind = 'full' | 'diagonal';

/** The complete state of an `OnlineMoments` as plain data (for checkpoints); arrays are copies. */
export interface MomentsSnapshot {
  dim: number;
  kind: MomentsKind;
  count: number;
  mean: Float64Array;
  /** Centred sum of products: d×d row-major for 'full', length d for 'diagonal'. */
  m2: Float64Array;
}

/** Thrown when moments are asked of an accumulator that cannot give them. */
export class MomentsError extends Error {
  override name = 'MomentsError';
}

/**
 * Running mean and (co)variance of d-dimensional vectors.
 *
 * After n draws x_1..x_n, with x̄_n their mean, it holds the centred sum of products
 * M_n = Σ_i (x_i − x̄_n)(x_i − x̄_n)ᵀ, updated per draw as
 *   δ = x − x̄_{n−1},  x̄_n = x̄_{n−1} + δ/n,  M_n = M_{n−1} + ((n−1)/n) δδᵀ   (Welford 1962),
 * which is symmetric by construction and avoids the cancellation of Σx², Σxxᵀ sums.
 */
export class OnlineMoments {
  /** Dimension of the vectors. */
  readonly dim: number;
  /** Whether the full covariance or only the variances are kept. */
  readonly kind: MomentsKind;
  private n = 0;
  private readonly meanAcc: Float64Array;
  /** Centred sum of products: d×d row-major for 'full', length d for 'diagonal'. */
  private readonly m2: Float64Array;
  private readonly delta: Float64Array;

  /**
   * @param dim dimension of the vectors pushed.
   * @param kind 'full' keeps the d×d covariance (O(d²) per push); 'diagonal' only variances (O(d)).
   */
  constructor(dim: number, kind: MomentsKind = 'full') {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`OnlineMoments: dim must be a positive integer, got ${dim}`);
    }
    if (kind !== 'full' && kind !== 'diagonal') {
      throw new RangeError(`OnlineMoments: kind must be 'full' or 'diagonal', got ${String(kind)}`);
    }
    this.dim = dim;
    this.kind = kind;
    this.meanAcc = new Float64Array(dim);
    this.m2 = new Float64Array(kind === 'full' ? dim * dim : dim);
    this.delta = new Float64Array(dim);
  }

  /** Number of draws pushed (or merged in). */
  get count(): number {
    return this.n;
  }

  /** Add one draw (Welford's update). */
  push(x: ArrayLike<number>): void {
    const d = this.dim;
    if (x.length !== d) {
      throw new RangeError(`OnlineMoments.push: expected a vector of length ${d}, got ${x.length}`);
    }
    this.n += 1;
    const n = this.n;
    const delta = this.delta;
    for (let i = 0; i < d; i++) {
      delta[i] = x[i] - this.meanAcc[i];
      this.meanAcc[i] += delta[i] / n;
    }
    const w = (n - 1) / n;
    if (this.kind === 'diagonal') {
      for (let i = 0; i < d; i++) this.m2[i] += w * delta[i] * delta[i];
      return;
    }
    // Upper triangle then mirror: exact symmetry and half the multiplications.
    for (let i = 0; i < d; i++) {
      const wi = w * delta[i];
      const row = i * d;
      for (let j = i; j < d; j++) this.m2[row + j] += wi * delta[j];
    }
    for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) this.m2[i * d + j] = this.m2[j * d + i];
  }

  /** The running mean (a copy; zeros before the first draw). */
  mean(): Float64Array {
    return this.meanAcc.slice();
  }

  /**
   * The covariance M_n / (n − ddof), d×d row-major (a copy).
   * @param ddof delta degrees of freedom: 1 (default) for the unbiased sample covariance, 0 for the
   *   maximum-likelihood one.
   */
  covariance(ddof = 1): Float64Array {
    if (this.kind !== 'full') {
      throw new MomentsError('OnlineMoments.covariance: this accumulator keeps only variances (kind "diagonal")');
    }
    return this.scaled(this.m2, ddof, 'covariance');
  }

  /** The per-coordinate variances M_n[i,i] / (n − ddof) (a copy). */
  variance(ddof = 1): Float64Array {
    if (this.kind === 'diagonal') return this.scaled(this.m2, ddof, 'variance');
    const d = this.dim;
    const diag = new Float64Array(d);
    for (let i = 0; i < d; i++) diag[i] = this.m2[i * d + i];
    return this.scaled(diag, ddof, 'variance');
  }

  private scaled(source: Float64Array, ddof: number, what: string): Float64Array {
    const denominator = this.n - ddof;
    if (denominator <= 0) {
      throw new MomentsError(`OnlineMoments.${what}: needs more than ${ddof} draw(s), has ${this.n}`);
    }
    const out = new Float64Array(source.length);
    for (let i = 0; i < source.length; i++) out[i] = source[i] / denominator;
    return out;
  }

  /**
   * A new accumulator holding the moments of both inputs' draws together (neither input changes):
   *   n = n_a + n_b,  δ = x̄_b − x̄_a,  x̄ = x̄_a + δ n_b/n,  M = M_a + M_b + δδᵀ n_a n_b / n
   * (Chan, Golub & LeVeque 1979). Exact up to rounding: equals pushing all draws into one accumulator.
   */
  merge(other: OnlineMoments): OnlineMoments {
    if (other.dim !== this.dim || other.kind !== this.kind) {
      throw new RangeError(
        `OnlineMoments.merge: accumulators differ (dim ${this.dim}/${other.dim}, kind ${this.kind}/${other.kind})`,
      );
    }
    const merged = new OnlineMoments(this.dim, this.kind);
    const na = this.n;
    const nb = other.n;
    const n = na + nb;
    merged.n = n;
    if (n === 0) return merged;
    const d = this.dim;
    const delta = merged.delta;
    for (let i = 0; i < d; i++) {
      delta[i] = other.meanAcc[i] - this.meanAcc[i];
      merged.meanAcc[i] = this.meanAcc[i] + (delta[i] * nb) / n;
    }
    const w = (na * nb) / n;
    if (this.kind === 'diagonal') {
      for (let i = 0; i < d; i++) merged.m2[i] = this.m2[i] + other.m2[i] + w * delta[i] * delta[i];
      return merged;
    }
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const k = i * d + j;
        merged.m2[k] = this.m2[k] + other.m2[k] + w * delta[i] * delta[j];
        merged.m2[j * d + i] = merged.m2[k];
      }
    }
    return merged;
  }

  /** The accumulator's complete state as plain data (copies), so a checkpoint can restore it bit for bit. */
  snapshot(): MomentsSnapshot {
    return { dim: this.dim, kind: this.kind, count: this.n, mean: this.meanAcc.slice(), m2: this.m2.slice() };
  }

  /** An accumulator restored from `snapshot()`; further pushes give the same bits as the original's would. */
  static fromSnapshot(snapshot: MomentsSnapshot): OnlineMoments {
    const restored = new OnlineMoments(snapshot.dim, snapshot.kind);
    const m2Length = snapshot.kind === 'full' ? snapshot.dim * snapshot.dim : snapshot.dim;
    if (!Number.isSafeInteger(snapshot.count) || snapshot.count < 0) {
      throw new RangeError(`OnlineMoments.fromSnapshot: count must be a non-negative integer, got ${snapshot.count}`);
    }
    if (snapshot.mean.length !== snapshot.dim || snapshot.m2.length !== m2Length) {
      throw new RangeError(
        `OnlineMoments.fromSnapshot: mean has length ${snapshot.mean.length} and m2 ${snapshot.m2.length}, ` +
          `expected ${snapshot.dim} and ${m2Length} for dim ${snapshot.dim}, kind ${snapshot.kind}`,
      );
    }
    restored.n = snapshot.count;
    restored.meanAcc.set(snapshot.mean);
    restored.m2.set(snapshot.m2);
    return restored;
  }

  /** Merge any number of accumulators of the same shape (an empty accumulator if none are given). */
  static mergeAll(parts: readonly OnlineMoments[], dim?: number, kind: MomentsKind = 'full'): OnlineMoments {
    if (parts.length === 0) {
      if (dim === undefined) throw new RangeError('OnlineMoments.mergeAll: no accumulators and no dim given');
      return new OnlineMoments(dim, kind);
    }
    let acc = parts[0].merge(new OnlineMoments(parts[0].dim, parts[0].kind));
    for (let i = 1; i < parts.length; i++) acc = acc.merge(parts[i]);
    return acc;
  }
}
