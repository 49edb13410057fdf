/**
 * The computable terms of the trajectory generalisation bound for heavy-tailed (α-stable
 * Lévy-driven) dynamics of Dupuis & Viallard 2023 ("From mutual information to expected dynamics:
 * new generalization bounds for heavy-tailed SGD", arXiv 2312.00427), measured on a run.
 *
 * What the bound is made of (from the paper's abstract, all our notes have): the learning dynamics
 * dW = −∇V_S(W) dt + σ dL^α, driven by the empirical risk F̂_S, are compared with the *expected*
 * dynamics driven by the population risk F; the gap between them is a "geometric decoupling" term
 * that replaces the mutual-information terms of earlier bounds, and is itself bounded with
 * heavy-tail and fractal-dimension arguments.
 *
 * Computable here, from the trajectory and data:
 * - the drift mismatch ‖∇F̂_S(W_t) − ∇F(W_t)‖ along the trajectory (the integrand of the geometric
 *   term), with ∇F estimated on held-out data and the held-out estimate's own error removed;
 * - the tail index of the iterates' increments (block-sum and Hill), whose value bounds the
 *   Hausdorff (Blumenthal–Getoor) dimension of the trajectory of an α-stable-driven process, the
 *   fractal quantity of Şimşekli, Sener, Deligiannidis & Erdogdu 2020 (NeurIPS);
 * - the √(d_H · log n / n) rate of those dimension-based bounds, without their constants.
 *
 * Not computable here: the assembled bound. Its theorem (constants, how the heavy-tail and fractal
 * terms enter, the confidence term, the PAC-Bayesian KL of the perturbed variant) is not in our
 * notes, and ∇F is known only through a finite held-out sample. So the terms are reported next to
 * the measured gap, not added up into a number that would claim to be the paper's bound.
 */
import type { IndexBatch, Target, Vec } from '../core/types.js';
import { blockSumTailIndexVectors, hillTailIndex } from './tailIndex.js';

/** Thrown for inputs the bound terms cannot use; the message names the function and the problem. */
export class BoundTermsError extends RangeError {
  override name = 'BoundTermsError';
}

/** Increments W_{k+1} − W_k of a run, row-major (one step per row) over `dim` tracked coordinates. */
export interface RecordedIncrements {
  values: Float64Array;
  dim: number;
}

/** Inputs of {@link trajectoryBoundTerms}. */
export interface TrajectoryBoundInput {
  /** The model on the training set S: F̂_S(w) = −(1/n) log p(S | w). */
  train: Target<IndexBatch>;
  /** The same model on held-out data S′ independent of S and of the run (n′ ≥ 4 rows): stands in for F. */
  heldOut: Target<IndexBatch>;
  /** Positions W_{t_j} at evenly spaced times along the trajectory (at least one). */
  positions: readonly Vec[];
  /** Time between consecutive positions, γ × (steps between snapshots), for the time integral. */
  timeBetween: number;
  /** Stability index α of the driving noise. */
  alpha: number;
  /** Increments of the run (optional), for the tail index of the iterates. */
  increments?: RecordedIncrements;
}

/** The computable terms of the bound, for one run. */
export interface TrajectoryBoundTerms {
  /** n, the training-set size. */
  sampleSize: number;
  /** n′, the held-out size. */
  heldOutSize: number;
  /** Number of trajectory positions the averages are over. */
  positions: number;
  /** T = positions × timeBetween, the time the averages stand for. */
  horizon: number;
  /** (1/J) Σ_j ‖∇F̂_S(W_j) − ∇F̂_{S′}(W_j)‖, the raw drift mismatch against the held-out risk. */
  driftMismatchRaw: number;
  /** √((1/J) Σ_j E‖∇F̂_{S′}(W_j) − ∇F(W_j)‖²): the part of the raw mismatch due to the finite S′. */
  heldOutError: number;
  /**
   * √(max(0, (1/J) Σ_j ‖∇F̂_S − ∇F̂_{S′}‖² − heldOutError²)): an estimate of the root-mean-square
   * drift mismatch ‖∇F̂_S(W_t) − ∇F(W_t)‖ along the trajectory, the geometric decoupling integrand.
   */
  driftMismatch: number;
  /** horizon × driftMismatch ≈ ∫₀ᵀ ‖∇F̂_S(W_t) − ∇F(W_t)‖ dt (root-mean-square in place of the mean). */
  integratedMismatch: number;
  /** α of the driving noise, the Blumenthal–Getoor index: dim_H of the continuous trajectory ≤ α. */
  alpha: number;
  /** Block-sum tail index of the increments (pooled over tracked coordinates), when recorded. */
  alphaHatIncrements?: number;
  /** Hill tail index of the increments' coordinates, when recorded. */
  alphaHatIncrementsHill?: number;
  /** min(alphaHatIncrements, 2) when recorded, else α: the dimension proxy d_H of the trajectory. */
  dimensionProxy: number;
  /** √(d_H log n / n): the rate of Hausdorff-dimension bounds (Şimşekli et al. 2020), no constants. */
  fractalRate: number;
}

function meanRiskGradient(target: Target<IndexBatch>, theta: Vec, rows: IndexBatch): Float64Array {
  // F̂ is a mean loss, so its gradient is −(1/|B|) ∇ log p(B | θ).
  const grad = target.logLikelihood(theta, rows).grad;
  const out = new Float64Array(grad.length);
  const scale = -1 / rows.length;
  for (let i = 0; i < grad.length; i++) out[i] = scale * grad[i];
  return out;
}

function squaredDistance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return sum;
}

/**
 * The squared error of the held-out mean gradient, E‖∇F̂_{S′}(w) − ∇F(w)‖² = tr Σ(w) / n′, from a
 * split of S′ into halves A (even positions) and B (odd): E‖ḡ_A − ḡ_B‖² = tr Σ (1/|A| + 1/|B|)
 * for independent examples, so tr Σ / n′ = ‖ḡ_A − ḡ_B‖² · |A||B| / n′² (unbiased when the rows are
 * i.i.d.; Σ is the per-example gradient covariance).
 */
export function heldOutGradientError(heldOut: Target<IndexBatch>, theta: Vec): number {
  const rows = heldOut.fullBatch();
  const n = rows.length;
  if (n < 4) throw new BoundTermsError(`heldOutGradientError: the held-out set has ${n} rows, need at least 4`);
  // Even and odd positions, so data stored in blocks (e.g. sorted by class) still splits evenly.
  const even = rows.filter((_, i) => i % 2 === 0);
  const odd = rows.filter((_, i) => i % 2 === 1);
  const gA = meanRiskGradient(heldOut, theta, even);
  const gB = meanRiskGradient(heldOut, theta, odd);
  return (squaredDistance(gA, gB) * even.length * odd.length) / (n * n);
}

/**
 * The computable terms of Dupuis & Viallard's (2023) trajectory bound for one run (see the module
 * note for what is and is not computable). With J positions W_j of the trajectory,
 *
 *   m_j² = ‖∇F̂_S(W_j) − ∇F̂_{S′}(W_j)‖²,   e_j² = ‖ḡ_A − ḡ_B‖² |A||B| / n′²  (S′ = A ∪ B),
 *   driftMismatch = √(max(0, mean_j m_j² − mean_j e_j²)),
 *
 * which estimates √(mean_j ‖∇F̂_S(W_j) − ∇F(W_j)‖²) without bias in the squares, because S′ is
 * independent of S and of the trajectory: E m_j² = ‖∇F̂_S − ∇F‖² + tr Σ / n′. The ℓ2 regulariser
 * is the same in both dynamics and cancels. With increments recorded, α̂ of the iterates is the
 * block-sum estimator (Mohammadi et al. 2015, Cor. 2.4) on median-centred increments, and the
 * dimension proxy d_H = min(α̂, 2) enters the rate √(d_H log n / n) of Hausdorff-dimension bounds
 * (Şimşekli, Sener, Deligiannidis & Erdogdu 2020, up to constants and their mutual-information term).
 */
export function trajectoryBoundTerms(input: TrajectoryBoundInput): TrajectoryBoundTerms {
  const where = 'trajectoryBoundTerms';
  const { train, heldOut, positions, timeBetween, alpha, increments } = input;
  if (train.dim !== heldOut.dim) {
    throw new BoundTermsError(`${where}: train has dim ${train.dim} but heldOut has dim ${heldOut.dim}; use the same model on both`);
  }
  if (positions.length === 0) throw new BoundTermsError(`${where}: positions is empty; pass at least one trajectory point`);
  if (!(Number.isFinite(timeBetween) && timeBetween > 0)) {
    throw new BoundTermsError(`${where}: timeBetween must be a finite number > 0, got ${timeBetween}`);
  }
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 2)) throw new BoundTermsError(`${where}: alpha must be in (0, 2], got ${alpha}`);
  const trainRows = train.fullBatch();
  const heldOutRows = heldOut.fullBatch();
  let raw = 0;
  let rawSquared = 0;
  let errorSquared = 0;
  positions.forEach((theta, j) => {
    if (theta.length !== train.dim) throw new BoundTermsError(`${where}: positions[${j}] has length ${theta.length}, the model's dim is ${train.dim}`);
    const mismatch = squaredDistance(meanRiskGradient(train, theta, trainRows), meanRiskGradient(heldOut, theta, heldOutRows));
    if (!Number.isFinite(mismatch)) throw new BoundTermsError(`${where}: the gradient mismatch at positions[${j}] is not finite`);
    raw += Math.sqrt(mismatch);
    rawSquared += mismatch;
    errorSquared += heldOutGradientError(heldOut, theta);
  });
  const count = positions.length;
  const driftMismatch = Math.sqrt(Math.max(0, (rawSquared - errorSquared) / count));
  const horizon = count * timeBetween;
  let alphaHatIncrements: number | undefined;
  let alphaHatIncrementsHill: number | undefined;
  if (increments) {
    const { values, dim } = increments;
    if (!Number.isSafeInteger(dim) || dim < 1 || values.length % dim !== 0 || values.length / dim < 4) {
      throw new BoundTermsError(`${where}: increments must hold at least 4 rows of dim ${dim}, got ${values.length} values`);
    }
    alphaHatIncrements = blockSumTailIndexVectors(values, dim, { mode: 'pooled', centre: 'median' });
    alphaHatIncrementsHill = hillTailIndex(values);
  }
  const dimensionProxy = alphaHatIncrements === undefined ? alpha : Math.min(alphaHatIncrements, 2);
  const n = trainRows.length;
  return {
    sampleSize: n,
    heldOutSize: heldOutRows.length,
    positions: count,
    horizon,
    driftMismatchRaw: raw / count,
    heldOutError: Math.sqrt(errorSquared / count),
    driftMismatch,
    integratedMismatch: horizon * driftMismatch,
    alpha,
    alphaHatIncrements,
    alphaHatIncrementsHill,
    dimensionProxy,
    fractalRate: Math.sqrt((dimensionProxy * Math.log(n)) / n),
  };
}
