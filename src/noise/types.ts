/**
 * A constant-SGD preconditioner as a data value, applied as θ ← θ − H ĝ_S (Mandt, Hoffman & Blei 2017,
 * JMLR 18, Eq. 17): a scalar learning rate, a diagonal h (H = diag h), or a full d×d row-major H.
 */
export type Preconditioner =
  | { kind: 'scalar'; rate: number }
  | { kind: 'diagonal'; h: Float64Array }
  | { kind: 'full'; H: Float64Array };

/** How much of the gradient-noise covariance C = BBᵀ an estimate keeps. */
export type NoiseCovarianceKind = 'scalar' | 'diagonal' | 'full' | 'lowrank';

/**
 * An estimate of C = BBᵀ, the covariance of ONE example's gradient ∇ℓ_n (Mandt, Hoffman & Blei
 * 2017, JMLR 18, Eq. 6, assumption A1), with ℓ_n = −log p(x_n|θ) − (1/N) log p(θ). The prior term is
 * the same for every n, so C is also the covariance of the per-example log-likelihood gradients.
 *
 * - 'scalar': only `trace` = Tr C.
 * - 'diagonal': `diag` = (C_11 … C_dd) and its sum `trace`.
 * - 'full': `full` (d×d row-major, symmetric), with `diag` and `trace`.
 * - 'lowrank': C ≈ U diag(`eigenvalues`) Uᵀ + `isotropic`·I with U = `factor` (d×`rank` row-major,
 *   orthonormal columns); `trace` is exact (the isotropic part carries the discarded mass) and
 *   `diag` is the diagonal of the approximation.
 */
export interface NoiseCovariance {
  readonly kind: NoiseCovarianceKind;
  /** d, the number of parameters. */
  readonly dim: number;
  /** Tr C. */
  readonly trace: number;
  /** The diagonal of C (all kinds but 'scalar'). */
  readonly diag?: Float64Array;
  /** C itself, d×d row-major ('full' only). */
  readonly full?: Float64Array;
  /** U, d×rank row-major with orthonormal columns ('lowrank' only). */
  readonly factor?: Float64Array;
  /** The top `rank` eigenvalues of C, descending ('lowrank' only). */
  readonly eigenvalues?: Float64Array;
  /** k, the number of eigenpairs kept ('lowrank' only). */
  readonly rank?: number;
  /** σ² of the isotropic remainder σ²I ('lowrank' only). */
  readonly isotropic?: number;
  /** How many minibatches (or examples, for the exact covariance) the estimate has seen. */
  readonly count: number;
}

/** Bad input to the gradient-noise tools: a shape, a kind, or a value out of range; the message says where. */
export class NoiseError extends Error {
  override name = 'NoiseError';
}
