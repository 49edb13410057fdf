/**
 * Log densities of common distributions as fused, broadcasting autodiff ops.
 *
 * Every function returns the **elementwise** log density (or mass) over the broadcast shape of its
 * arguments; sum it for a joint log density: `sum(normalLogPdf(y, mu, sigma))`. Values are
 * normalised (constants included). Outside the support the value is −∞ (with zero gradient);
 * invalid parameters (a scale ≤ 0, a shape ≤ 0) give NaN. Partial derivatives are computed in the
 * forward pass, only for arguments that need a gradient, and applied in one generic backward loop.
 */
import { ShapeError, formatShape } from './shape.js';
import { digamma, lgamma } from './special.js';
import {
  Tensor,
  alloc,
  allocUninit,
  asTensor,
  flushGradSink,
  gradOf,
  gradSink,
  isTracked,
  planBroadcast,
  record,
  type BroadcastPlan,
  type TensorLike,
} from './tensor.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_PI = Math.log(Math.PI);
const LN2 = Math.LN2;

/**
 * Partial-derivative buffers for the inputs that need gradients (null for the others): zeros, or
 * unspecified when the caller writes every element (`everyElement`).
 */
function partialsFor(inputs: readonly Tensor[], n: number, everyElement = false): (Float64Array | null)[] {
  const partials = new Array<Float64Array | null>(inputs.length);
  for (let k = 0; k < inputs.length; k++) {
    partials[k] = isTracked(inputs[k]) ? (everyElement ? allocUninit(n) : alloc(n)) : null;
  }
  return partials;
}

/** Wrap `out` as a tensor and, if any input is tracked, record g · ∂out/∂input for each. */
function emit(
  plan: BroadcastPlan,
  inputs: readonly Tensor[],
  out: Float64Array,
  partials: readonly (Float64Array | null)[],
): Tensor {
  const z = new Tensor(out, plan.shape);
  let anyTracked = false;
  for (let k = 0; k < partials.length; k++) if (partials[k] !== null) anyTracked = true;
  if (anyTracked) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const n = plan.n;
      for (let k = 0; k < inputs.length; k++) {
        const pk = partials[k];
        if (pk === null) continue;
        const s = plan.strides[k];
        if (s === 1 && !plan.expanded[k] && inputs[k].grad === null) {
          // First gradient into this input: assign instead of zeroing a buffer and adding.
          const sink = (inputs[k].grad = allocUninit(n));
          for (let i = 0; i < n; i++) sink[i] = g[i] * pk[i];
          continue;
        }
        const sink = gradSink(plan, k, inputs[k]);
        for (let i = 0; i < n; i++) sink[i * s] += g[i] * pk[i];
        flushGradSink(plan, k, inputs[k], sink);
      }
    });
  }
  return z;
}

/** log N(x | loc, scale) = −½ log 2π − log σ − ½ ((x − μ)/σ)². */
export function normalLogPdf(x: TensorLike, loc: TensorLike, scale: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(loc), asTensor(scale)];
  const p = planBroadcast(inputs, 'normalLogPdf');
  const [dx, dm, ds] = p.data;
  const [sx, sm, ss] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gm, gs] = partialsFor(inputs, n, true);
  // Parameters are often broadcast scalars: recompute log σ only when σ changes.
  let lastSigma = NaN;
  let logSigma = NaN;
  let invSigma = NaN;
  for (let i = 0; i < n; i++) {
    const sigma = ds[i * ss];
    if (!(sigma > 0)) {
      out[i] = NaN;
      if (gx) gx[i] = 0;
      if (gm) gm[i] = 0;
      if (gs) gs[i] = 0;
      continue;
    }
    if (sigma !== lastSigma) {
      // Multiplications by 1/σ replace the three divisions per element.
      lastSigma = sigma;
      logSigma = Math.log(sigma);
      invSigma = 1 / sigma;
    }
    const zi = (dx[i * sx] - dm[i * sm]) * invSigma;
    out[i] = -LOG_SQRT_2PI - logSigma - 0.5 * zi * zi;
    if (gx) gx[i] = -zi * invSigma;
    if (gm) gm[i] = zi * invSigma;
    if (gs) gs[i] = (zi * zi - 1) * invSigma;
  }
  return emit(p, inputs, out, [gx, gm, gs]);
}

/**
 * log Student-t(x | ν, μ, σ) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − log σ
 * − (ν+1)/2 · log(1 + z²/ν), z = (x − μ)/σ.
 */
export function studentTLogPdf(x: TensorLike, df: TensorLike, loc: TensorLike, scale: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(df), asTensor(loc), asTensor(scale)];
  const p = planBroadcast(inputs, 'studentTLogPdf');
  const [dx, dn, dm, ds] = p.data;
  const [sx, sn, sm, ss] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gn, gm, gs] = partialsFor(inputs, n);
  // The ν- and σ-only terms are recomputed only when ν or σ changes (usually broadcast scalars).
  let lastNu = NaN;
  let logNormNu = NaN;
  let dNormNu = NaN;
  let lastSigma = NaN;
  let logSigma = NaN;
  for (let i = 0; i < n; i++) {
    const nu = dn[i * sn];
    const sigma = ds[i * ss];
    if (!(sigma > 0) || !(nu > 0)) {
      out[i] = NaN;
      continue;
    }
    if (nu !== lastNu) {
      lastNu = nu;
      logNormNu = lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * Math.log(nu * Math.PI);
      dNormNu = gn ? 0.5 * digamma(0.5 * (nu + 1)) - 0.5 * digamma(0.5 * nu) - 0.5 / nu : 0;
    }
    if (sigma !== lastSigma) {
      lastSigma = sigma;
      logSigma = Math.log(sigma);
    }
    const zi = (dx[i * sx] - dm[i * sm]) / sigma;
    const q = (zi * zi) / nu;
    const l1q = Math.log1p(q);
    out[i] = logNormNu - logSigma - 0.5 * (nu + 1) * l1q;
    const dxi = (-(nu + 1) * zi) / (sigma * nu * (1 + q));
    if (gx) gx[i] = dxi;
    if (gm) gm[i] = -dxi;
    if (gs) gs[i] = -1 / sigma + ((nu + 1) * q) / (sigma * (1 + q));
    if (gn) gn[i] = dNormNu - 0.5 * l1q + ((nu + 1) * q) / (2 * nu * (1 + q));
  }
  return emit(p, inputs, out, [gx, gn, gm, gs]);
}

/** log Cauchy(x | loc, scale) = −log π − log s − log(1 + z²), z = (x − loc)/s. */
export function cauchyLogPdf(x: TensorLike, loc: TensorLike, scale: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(loc), asTensor(scale)];
  const p = planBroadcast(inputs, 'cauchyLogPdf');
  const [dx, dm, ds] = p.data;
  const [sx, sm, ss] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gm, gs] = partialsFor(inputs, n);
  let lastScale = NaN;
  let logScale = NaN;
  for (let i = 0; i < n; i++) {
    const s = ds[i * ss];
    if (!(s > 0)) {
      out[i] = NaN;
      continue;
    }
    if (s !== lastScale) {
      lastScale = s;
      logScale = Math.log(s);
    }
    const zi = (dx[i * sx] - dm[i * sm]) / s;
    const z2 = zi * zi;
    out[i] = -LOG_PI - logScale - Math.log1p(z2);
    const dxi = (-2 * zi) / (s * (1 + z2));
    if (gx) gx[i] = dxi;
    if (gm) gm[i] = -dxi;
    if (gs) gs[i] = (z2 - 1) / (s * (1 + z2));
  }
  return emit(p, inputs, out, [gx, gm, gs]);
}

/** log HalfNormal(x | scale) = log 2 − ½ log 2π − log σ − ½ (x/σ)² for x ≥ 0, −∞ below. */
export function halfNormalLogPdf(x: TensorLike, scale: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(scale)];
  const p = planBroadcast(inputs, 'halfNormalLogPdf');
  const [dx, ds] = p.data;
  const [sx, ss] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gs] = partialsFor(inputs, n);
  let lastSigma = NaN;
  let logSigma = NaN;
  for (let i = 0; i < n; i++) {
    const sigma = ds[i * ss];
    const xi = dx[i * sx];
    if (!(sigma > 0)) {
      out[i] = NaN;
      continue;
    }
    if (xi < 0) {
      out[i] = -Infinity;
      continue;
    }
    if (sigma !== lastSigma) {
      lastSigma = sigma;
      logSigma = Math.log(sigma);
    }
    const zi = xi / sigma;
    out[i] = LN2 - LOG_SQRT_2PI - logSigma - 0.5 * zi * zi;
    if (gx) gx[i] = -zi / sigma;
    if (gs) gs[i] = (zi * zi - 1) / sigma;
  }
  return emit(p, inputs, out, [gx, gs]);
}

/** log HalfCauchy(x | scale) = log 2 − log π − log s − log(1 + (x/s)²) for x ≥ 0, −∞ below. */
export function halfCauchyLogPdf(x: TensorLike, scale: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(scale)];
  const p = planBroadcast(inputs, 'halfCauchyLogPdf');
  const [dx, ds] = p.data;
  const [sx, ss] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gs] = partialsFor(inputs, n);
  let lastScale = NaN;
  let logScale = NaN;
  for (let i = 0; i < n; i++) {
    const s = ds[i * ss];
    const xi = dx[i * sx];
    if (!(s > 0)) {
      out[i] = NaN;
      continue;
    }
    if (xi < 0) {
      out[i] = -Infinity;
      continue;
    }
    if (s !== lastScale) {
      lastScale = s;
      logScale = Math.log(s);
    }
    const zi = xi / s;
    const z2 = zi * zi;
    out[i] = LN2 - LOG_PI - logScale - Math.log1p(z2);
    if (gx) gx[i] = (-2 * zi) / (s * (1 + z2));
    if (gs) gs[i] = (z2 - 1) / (s * (1 + z2));
  }
  return emit(p, inputs, out, [gx, gs]);
}

/** log Exponential(x | rate) = log λ − λx for x ≥ 0, −∞ below. */
export function exponentialLogPdf(x: TensorLike, rate: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(rate)];
  const p = planBroadcast(inputs, 'exponentialLogPdf');
  const [dx, dr] = p.data;
  const [sx, sr] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, gr] = partialsFor(inputs, n);
  for (let i = 0; i < n; i++) {
    const lambda = dr[i * sr];
    const xi = dx[i * sx];
    if (!(lambda > 0)) {
      out[i] = NaN;
      continue;
    }
    if (xi < 0) {
      out[i] = -Infinity;
      continue;
    }
    out[i] = Math.log(lambda) - lambda * xi;
    if (gx) gx[i] = -lambda;
    if (gr) gr[i] = 1 / lambda - xi;
  }
  return emit(p, inputs, out, [gx, gr]);
}

/**
 * log Gamma(x | α, β) with shape α and rate β: α log β − log Γ(α) + (α − 1) log x − βx for x > 0,
 * −∞ for x ≤ 0.
 */
export function gammaLogPdf(x: TensorLike, shape: TensorLike, rate: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(shape), asTensor(rate)];
  const p = planBroadcast(inputs, 'gammaLogPdf');
  const [dx, da, db] = p.data;
  const [sx, sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, ga, gb] = partialsFor(inputs, n);
  let lastAlpha = NaN;
  let lgammaAlpha = NaN;
  let digammaAlpha = NaN;
  for (let i = 0; i < n; i++) {
    const alpha = da[i * sa];
    const beta = db[i * sb];
    const xi = dx[i * sx];
    if (!(alpha > 0) || !(beta > 0)) {
      out[i] = NaN;
      continue;
    }
    if (!(xi > 0)) {
      out[i] = -Infinity;
      continue;
    }
    if (alpha !== lastAlpha) {
      lastAlpha = alpha;
      lgammaAlpha = lgamma(alpha);
      digammaAlpha = ga ? digamma(alpha) : 0;
    }
    const logx = Math.log(xi);
    const logb = Math.log(beta);
    out[i] = alpha * logb - lgammaAlpha + (alpha - 1) * logx - beta * xi;
    if (gx) gx[i] = (alpha - 1) / xi - beta;
    if (ga) ga[i] = logb - digammaAlpha + logx;
    if (gb) gb[i] = alpha / beta - xi;
  }
  return emit(p, inputs, out, [gx, ga, gb]);
}

/**
 * log Beta(x | a, b) = log Γ(a+b) − log Γ(a) − log Γ(b) + (a − 1) log x + (b − 1) log(1 − x)
 * for 0 < x < 1, −∞ outside.
 */
export function betaLogPdf(x: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const inputs = [asTensor(x), asTensor(a), asTensor(b)];
  const p = planBroadcast(inputs, 'betaLogPdf');
  const [dx, da, db] = p.data;
  const [sx, sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gx, ga, gb] = partialsFor(inputs, n);
  let lastA = NaN;
  let lastB = NaN;
  let logNorm = NaN;
  let dNormA = NaN;
  let dNormB = NaN;
  for (let i = 0; i < n; i++) {
    const al = da[i * sa];
    const be = db[i * sb];
    const xi = dx[i * sx];
    if (!(al > 0) || !(be > 0)) {
      out[i] = NaN;
      continue;
    }
    if (!(xi > 0 && xi < 1)) {
      out[i] = -Infinity;
      continue;
    }
    if (al !== lastA || be !== lastB) {
      lastA = al;
      lastB = be;
      logNorm = lgamma(al + be) - lgamma(al) - lgamma(be);
      const psiab = ga || gb ? digamma(al + be) : 0;
      dNormA = ga ? psiab - digamma(al) : 0;
      dNormB = gb ? psiab - digamma(be) : 0;
    }
    const logx = Math.log(xi);
    const log1mx = Math.log1p(-xi);
    out[i] = logNorm + (al - 1) * logx + (be - 1) * log1mx;
    if (gx) gx[i] = (al - 1) / xi - (be - 1) / (1 - xi);
    if (ga) ga[i] = dNormA + logx;
    if (gb) gb[i] = dNormB + log1mx;
  }
  return emit(p, inputs, out, [gx, ga, gb]);
}

/**
 * log Bernoulli(y | σ(ℓ)) = y ℓ − softplus(ℓ) for labels y ∈ {0, 1} and logits ℓ; ∂/∂ℓ = y − σ(ℓ).
 * (Fractional y is accepted: it is the cross-entropy against a soft label.)
 */
export function bernoulliLogitLogPmf(y: TensorLike, logits: TensorLike): Tensor {
  const inputs = [asTensor(y), asTensor(logits)];
  const p = planBroadcast(inputs, 'bernoulliLogitLogPmf');
  const [dy, dl] = p.data;
  const [sy, sl] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gy, gl] = partialsFor(inputs, n, true);
  for (let i = 0; i < n; i++) {
    const yi = dy[i * sy];
    const li = dl[i * sl];
    // One exponential serves both softplus(ℓ) = max(ℓ, 0) + log1p(e^−|ℓ|) and σ(ℓ).
    const e = Math.exp(-Math.abs(li));
    out[i] = yi * li - ((li > 0 ? li : 0) + Math.log1p(e));
    if (gy) gy[i] = li;
    if (gl) gl[i] = yi - (li >= 0 ? 1 / (1 + e) : e / (1 + e));
  }
  return emit(p, inputs, out, [gy, gl]);
}

/**
 * log Poisson(k | e^η) = kη − e^η − log Γ(k + 1) for counts k ≥ 0 and log rates η; −∞ for k < 0.
 * ∂/∂η = k − e^η.
 */
export function poissonLogLogPmf(k: TensorLike, logRate: TensorLike): Tensor {
  const inputs = [asTensor(k), asTensor(logRate)];
  const p = planBroadcast(inputs, 'poissonLogLogPmf');
  const [dk, de] = p.data;
  const [sk, se] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const [gk, ge] = partialsFor(inputs, n);
  for (let i = 0; i < n; i++) {
    const ki = dk[i * sk];
    const eta = de[i * se];
    if (ki < 0) {
      out[i] = -Infinity;
      continue;
    }
    const rate = Math.exp(eta);
    out[i] = ki * eta - rate - lgamma(ki + 1);
    if (gk) gk[i] = eta - digamma(ki + 1);
    if (ge) ge[i] = ki - rate;
  }
  return emit(p, inputs, out, [gk, ge]);
}

/**
 * log Categorical(label | softmax(ℓ)) = ℓ_label − logsumexp(ℓ) per row. `logits` has shape
 * [..., K] and `labels` one integer class in [0, K) per row (shape [...]); the result has shape
 * [...]. ∂/∂ℓ = onehot(label) − softmax(ℓ).
 */
export function categoricalLogitLogPmf(labels: ArrayLike<number> | Tensor, logits: TensorLike): Tensor {
  const l = asTensor(logits);
  if (l.rank < 1) throw new ShapeError('categoricalLogitLogPmf: logits must have a class axis (rank ≥ 1)');
  const classes = l.shape[l.rank - 1];
  const rows = classes === 0 ? 0 : l.size / classes;
  const lab = labels instanceof Tensor ? labels.data : labels;
  if (lab.length !== rows) {
    throw new ShapeError(
      `categoricalLogitLogPmf: ${lab.length} labels for logits of shape ${formatShape(l.shape)} (${rows} rows)`,
    );
  }
  for (let r = 0; r < rows; r++) {
    const c = lab[r];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new ShapeError(`categoricalLogitLogPmf: label ${c} at row ${r} is not a class in [0, ${classes})`);
    }
  }
  const d = l.data;
  const out = alloc(rows);
  const lse = alloc(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let m = -Infinity;
    for (let j = 0; j < classes; j++) if (d[base + j] > m) m = d[base + j];
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp(d[base + j] - m);
    lse[r] = m + Math.log(s);
    out[r] = d[base + lab[r]] - lse[r];
  }
  const z = new Tensor(out, l.shape.slice(0, -1));
  if (isTracked(l)) {
    const labelCopy = Int32Array.from(lab);
    record(z, () => {
      const g = z.grad as Float64Array;
      const gl = gradOf(l);
      for (let r = 0; r < rows; r++) {
        const base = r * classes;
        const gr = g[r];
        for (let j = 0; j < classes; j++) gl[base + j] -= gr * Math.exp(d[base + j] - lse[r]);
        gl[base + labelCopy[r]] += gr;
      }
    });
  }
  return z;
}
