/**
 * Convergence diagnostics for MCMC draws of one scalar quantity, exactly as defined by Vehtari,
 * Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and localization: an
 * improved R̂ for assessing convergence of MCMC", Bayesian Analysis 16(2), and implemented in Stan
 * and ArviZ: split chains, rank normalisation, R̂ (bulk and folded), bulk and tail ESS (Geyer's
 * initial monotone sequence on the multi-chain autocorrelation), and the MCSE of the mean.
 *
 * Input everywhere: `chains × draws` for one parameter, as `number[][]` or `Float64Array[]`. All
 * chains must have the same length. A draw that is not finite, or draws that are all equal, make
 * the statistic NaN (as in the `posterior` R package), rather than throwing.
 */

/** Draws of one parameter: one array per chain, all of the same length. */
export type ChainDraws = readonly ArrayLike<number>[];

/** Malformed draws (no chains, ragged chains, too short); the message says which. */
export class DrawsShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrawsShapeError';
  }
}

function checkShape(chains: ChainDraws, where: string, minDraws = 1): { numChains: number; numDraws: number } {
  if (!Array.isArray(chains) || chains.length === 0) {
    throw new DrawsShapeError(`${where}: expected an array of chains (chains × draws), got ${chains?.length ?? typeof chains} chains`);
  }
  const numDraws = chains[0]?.length;
  for (let c = 0; c < chains.length; c++) {
    if (chains[c] === null || typeof chains[c] !== 'object' || typeof chains[c].length !== 'number') {
      throw new DrawsShapeError(`${where}: chain ${c} is not an array of numbers`);
    }
    if (chains[c].length !== numDraws) {
      throw new DrawsShapeError(`${where}: chain ${c} has ${chains[c].length} draws but chain 0 has ${numDraws}`);
    }
  }
  if (numDraws < minDraws) throw new DrawsShapeError(`${where}: need at least ${minDraws} draws per chain, got ${numDraws}`);
  return { numChains: chains.length, numDraws };
}

/** NaN-propagating guard: true when any draw is not finite or all draws are equal (posterior's `should_return_NA`). */
function degenerate(chains: ChainDraws): boolean {
  const first = chains[0][0];
  let constant = true;
  for (const chain of chains) {
    for (let i = 0; i < chain.length; i++) {
      const x = chain[i];
      if (!Number.isFinite(x)) return true;
      if (x !== first) constant = false;
    }
  }
  return constant;
}

/** All draws of all chains, concatenated. */
function pooled(chains: ChainDraws): Float64Array {
  const total = chains.reduce((n, chain) => n + chain.length, 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const chain of chains) {
    for (let i = 0; i < chain.length; i++) out[offset + i] = chain[i];
    offset += chain.length;
  }
  return out;
}

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Sample variance with divisor n − 1. */
function variance(x: ArrayLike<number>): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - m) * (x[i] - m);
  return s / (x.length - 1);
}

/**
 * The p-quantile of a sample by linear interpolation between order statistics (R type 7, NumPy's
 * default): h = (n − 1)p, Q = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), 0-based order statistics.
 */
export function sampleQuantile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`sampleQuantile: probability must be in [0, 1], got ${p}`);
  if (values.length === 0) throw new DrawsShapeError('sampleQuantile: no values');
  const sorted = Float64Array.from(values).sort();
  return sortedQuantile(sorted, p);
}

/** Type-7 quantile of an already sorted array. */
export function sortedQuantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Split each chain into its first and second halves (Gelman et al. 2013, BDA3 §11.4); with an
 * odd number of draws the middle draw is dropped, as in `posterior` and ArviZ.
 */
export function splitChains(chains: ChainDraws): Float64Array[] {
  const { numDraws } = checkShape(chains, 'splitChains', 2);
  const half = Math.floor(numDraws / 2);
  const out: Float64Array[] = [];
  for (const chain of chains) {
    const first = new Float64Array(half);
    const second = new Float64Array(half);
    for (let i = 0; i < half; i++) {
      first[i] = chain[i];
      second[i] = chain[numDraws - half + i];
    }
    out.push(first, second);
  }
  return out;
}

/**
 * Wichura's AS 241 (1988) inverse of the standard normal CDF, Φ⁻¹(p), accurate to about 1e−16.
 * Returns ∓∞ at p = 0 / 1 and NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r +
          45921.95393154987) * r + 13731.69376550946) * r + 1971.5909503065513) * r +
          133.14166789178438) * r + 3.3871328727963665)) /
      (((((((5226.495278852546 * r + 28729.085735721943) * r + 39307.89580009271) * r +
        21213.794301586597) * r + 5394.196021424751) * r + 687.1870074920579) * r +
        42.31333070160091) * r + 1)
    );
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) * r + 3.6478483247632045) * r + 5.769497221460691) * r +
        4.630337846156546) * r + 1.4234371107496835) /
      (((((((1.0507500716444169e-09 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) * r + 0.6897673349851) * r + 1.6763848301838038) * r +
        2.053191626637759) * r + 1);
  } else {
    r -= 5;
    value =
      (((((((2.0103343992922881e-07 * r + 2.7115555687434876e-05) * r + 0.0012426609473880784) * r +
        0.026532189526576124) * r + 0.29656057182850487) * r + 1.7848265399172913) * r +
        5.463784911164114) * r + 6.657904643501103) /
      (((((((2.0442631033899397e-15 * r + 1.421511758316446e-07) * r + 1.8463183175100548e-05) * r +
        0.0007868691311456133) * r + 0.014875361290850615) * r + 0.1369298809227358) * r +
        0.599832206555888) * r + 1);
  }
  return q < 0 ? -value : value;
}

/**
 * Rank normalisation (Vehtari et al. 2021, eq. 14): pool all draws, take fractional ranks r with
 * ties given their average rank, and map them to z = Φ⁻¹((r − 3/8)/(S + 1/4)) (Blom 1958), S the
 * total number of draws. Returns the z-scores in the input's chains × draws layout.
 */
export function rankNormalize(chains: ChainDraws): Float64Array[] {
  checkShape(chains, 'rankNormalize');
  const all = pooled(chains);
  const total = all.length;
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => all[a] - all[b]);
  const z = new Float64Array(total);
  for (let start = 0; start < total; ) {
    let end = start + 1;
    while (end < total && all[order[end]] === all[order[start]]) end++;
    // Tied draws share the average of the 1-based ranks start+1 … end.
    const rank = (start + 1 + end) / 2;
    const score = normalQuantile((rank - 0.375) / (total + 0.25));
    for (let i = start; i < end; i++) z[order[i]] = score;
    start = end;
  }
  const out: Float64Array[] = [];
  let offset = 0;
  for (const chain of chains) {
    out.push(z.slice(offset, offset + chain.length));
    offset += chain.length;
  }
  return out;
}

/** In-place iterative radix-2 complex FFT (n a power of two); `inverse` uses e^{+iωt} without the 1/n. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / size;
    const wRe = Math.cos(angle);
    const wIm = Math.sin(angle);
    for (let start = 0; start < n; start += size) {
      let uRe = 1;
      let uIm = 0;
      for (let k = 0; k < size / 2; k++) {
        const a = start + k;
        const b = a + size / 2;
        const tRe = re[b] * uRe - im[b] * uIm;
        const tIm = re[b] * uIm + im[b] * uRe;
        re[b] = re[a] - tRe;
        im[b] = im[a] - tIm;
        re[a] += tRe;
        im[a] += tIm;
        const nextRe = uRe * wRe - uIm * wIm;
        uIm = uRe * wIm + uIm * wRe;
        uRe = nextRe;
      }
    }
  }
}

/** Below this length the autocovariance is summed directly (n² is cheap and exact). */
const DIRECT_AUTOCOVARIANCE_MAX = 128;

/**
 * Biased sample autocovariance γ̂_t = (1/n) Σ_{i=0}^{n−1−t} (x_i − x̄)(x_{i+t} − x̄), t = 0 … n−1
 * (Geyer 1992's recommended estimator, as Stan and ArviZ). Computed by FFT of the centred series
 * zero-padded to a power of two ≥ 2n (no circular wrap-around), or by direct sums for short series.
 */
export function autocovariance(x: ArrayLike<number>, method: 'auto' | 'fft' | 'direct' = 'auto'): Float64Array {
  const n = x.length;
  if (n === 0) throw new DrawsShapeError('autocovariance: empty series');
  const m = mean(x);
  const out = new Float64Array(n);
  if (method === 'direct' || (method === 'auto' && n <= DIRECT_AUTOCOVARIANCE_MAX)) {
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let i = 0; i + t < n; i++) s += (x[i] - m) * (x[i + t] - m);
      out[t] = s / n;
    }
    return out;
  }
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = x[i] - m;
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i] * re[i] + im[i] * im[i];
    im[i] = 0;
  }
  fft(re, im, true);
  for (let t = 0; t < n; t++) out[t] = re[t] / (size * n);
  return out;
}

/**
 * Effective sample size of the chains as given (no splitting, no rank normalisation), exactly as
 * Stan's `compute_effective_sample_size` (Vehtari et al. 2021, §3.2; Stan reference manual,
 * "Effective sample size"):
 *
 * - per chain m: autocovariances γ̂_{t,m} (biased), s²_m = γ̂_{0,m} · n/(n−1); W = mean_m s²_m;
 *   var⁺ = W (n−1)/n + B/n with B/n = variance of the chain means (one chain: var⁺ = W (n−1)/n);
 * - combined autocorrelation ρ̂_t = 1 − (W − mean_m γ̂_{t,m}) / var⁺;
 * - Geyer's initial positive sequence: sum pairs P_k = ρ̂_{2k} + ρ̂_{2k+1} while positive (stopping
 *   at n − 4), then the initial monotone sequence (each pair no larger than the previous one);
 * - τ̂ = −1 + 2 Σ_{t < T} ρ̂_t + ρ̂_even (the last even-lag term once more, which lowers the variance
 *   for antithetic chains); ESS = MN / τ̂, capped at MN·log₁₀(MN).
 *
 * NaN for fewer than 3 draws per chain, non-finite draws, or constant draws.
 */
export function effectiveSampleSize(chains: ChainDraws): number {
  const { numChains, numDraws: n } = checkShape(chains, 'effectiveSampleSize');
  if (n < 3 || degenerate(chains)) return NaN;
  const acov = chains.map((chain) => autocovariance(chain));
  const chainMeans = chains.map(mean);
  let meanVar = 0;
  for (let c = 0; c < numChains; c++) meanVar += (acov[c][0] * n) / (n - 1);
  meanVar /= numChains;
  let varPlus = (meanVar * (n - 1)) / n;
  if (numChains > 1) varPlus += variance(chainMeans);
  const meanAcov = (t: number): number => {
    let s = 0;
    for (let c = 0; c < numChains; c++) s += acov[c][t];
    return s / numChains;
  };
  const rho = new Float64Array(n + 2);
  let rhoEven = 1;
  rho[0] = rhoEven;
  let rhoOdd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = rhoOdd;
  // Initial positive sequence; the last pair is left out as a bias term for antithetic chains.
  let s = 1;
  while (s < n - 4 && rhoEven + rhoOdd > 0) {
    rhoEven = 1 - (meanVar - meanAcov(s + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - meanAcov(s + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rho[s + 1] = rhoEven;
      rho[s + 2] = rhoOdd;
    }
    s += 2;
  }
  const maxS = s;
  if (rhoEven > 0) rho[maxS + 1] = rhoEven;
  // Initial monotone sequence: no pair may exceed the pair before it.
  for (let t = 1; t <= maxS - 3; t += 2) {
    if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
      rho[t + 1] = (rho[t - 1] + rho[t]) / 2;
      rho[t + 2] = rho[t + 1];
    }
  }
  const total = numChains * n;
  let head = 0;
  for (let t = 0; t < maxS; t++) head += rho[t];
  const tau = -1 + 2 * head + rho[maxS + 1];
  return Math.min(total / tau, total * Math.log10(total));
}

/** ESS of the mean: {@link effectiveSampleSize} of the split chains (posterior's `ess_mean`). */
export function essMean(chains: ChainDraws): number {
  return effectiveSampleSize(splitChains(chains));
}

/** Bulk ESS (Vehtari et al. 2021, §4.3): ESS of the rank-normalised split chains. */
export function essBulk(chains: ChainDraws): number {
  const split = splitChains(chains);
  if (degenerate(split)) return NaN;
  return effectiveSampleSize(rankNormalize(split));
}

/**
 * ESS of the quantile q_p (Vehtari et al. 2021, §4.3): ESS of the split indicator chains
 * I(θ ≤ q̂_p), q̂_p the type-7 sample quantile of all draws.
 */
export function essQuantile(chains: ChainDraws, p: number): number {
  checkShape(chains, 'essQuantile');
  if (degenerate(chains)) return NaN;
  const q = sampleQuantile(pooled(chains), p);
  const indicators = chains.map((chain) => Float64Array.from(chain as ArrayLike<number>, (x) => (x <= q ? 1 : 0)));
  return effectiveSampleSize(splitChains(indicators));
}

/** Tail ESS (Vehtari et al. 2021, §4.3): min(ESS of q₀.₀₅, ESS of q₀.₉₅). */
export function essTail(chains: ChainDraws): number {
  return Math.min(essQuantile(chains, 0.05), essQuantile(chains, 0.95));
}

/**
 * R̂ of chains as given (BDA3 eq. 11.3–11.4): with M chains of n draws, B = n·var(chain means),
 * W = mean of chain variances, R̂ = √(((n − 1)/n · W + B/n) / W).
 */
export function potentialScaleReduction(chains: ChainDraws): number {
  const { numChains, numDraws: n } = checkShape(chains, 'potentialScaleReduction', 2);
  if (numChains < 2 || degenerate(chains)) return NaN;
  const between = n * variance(chains.map(mean));
  const within = mean(chains.map(variance));
  return Math.sqrt((((n - 1) / n) * within + between / n) / within);
}

/** Split-R̂ without rank normalisation (posterior's `rhat_basic`). */
export function rhatBasic(chains: ChainDraws): number {
  return potentialScaleReduction(splitChains(chains));
}

/**
 * Rank-normalised split-R̂ (Vehtari et al. 2021, §4.2): the maximum of the bulk R̂ (split R̂ of
 * the rank-normalised draws) and the tail R̂ (the same of the folded draws |θ − median θ|).
 */
export function rhat(chains: ChainDraws): number {
  const split = splitChains(chains);
  if (degenerate(split)) return NaN;
  const median = sampleQuantile(pooled(split), 0.5);
  const folded = split.map((chain) => chain.map((x) => Math.abs(x - median)));
  const bulk = potentialScaleReduction(rankNormalize(split));
  const tail = potentialScaleReduction(rankNormalize(folded));
  return Math.max(bulk, tail);
}

/** Monte Carlo standard error of the mean: sd(θ) / √ESS_mean, sd over all draws (divisor S − 1). */
export function mcseMean(chains: ChainDraws): number {
  checkShape(chains, 'mcseMean');
  return Math.sqrt(variance(pooled(chains)) / essMean(chains));
}

/**
 * Energy Bayesian fraction of missing information of one chain of Hamiltonian energies
 * (Betancourt 2016, "Diagnosing suboptimal cotangent disintegrations in Hamiltonian Monte Carlo"):
 *
 *   E-BFMI = Σ_{t=2}^{N} (E_t − E_{t−1})² / Σ_{t=1}^{N} (E_t − Ē)²
 *
 * Values below about 0.3 mean momentum resampling explores the energy levels poorly.
 */
export function energyBfmi(energy: ArrayLike<number>): number {
  const n = energy.length;
  if (n < 2) throw new DrawsShapeError(`energyBfmi: need at least 2 energies, got ${n}`);
  const m = mean(energy);
  let jumps = 0;
  let spread = 0;
  for (let t = 0; t < n; t++) {
    spread += (energy[t] - m) ** 2;
    if (t > 0) jumps += (energy[t] - energy[t - 1]) ** 2;
  }
  return jumps / spread;
}
