/**
 * Elementwise operations with NumPy broadcasting, each with its gradient beside it.
 *
 * Loops are written out per op (no per-element callbacks) so that V8 keeps them monomorphic;
 * broadcast inputs are read as `data[i * stride]` with stride 0 for one-element tensors.
 */
import { digamma as digamma1, lgamma as lgamma1, sigmoid1, softplus1, trigamma } from './special.js';
import {
  Tensor,
  allocUninit,
  asTensor,
  flushGradSink,
  gradOf,
  gradSink,
  isTracked,
  planBroadcast,
  record,
  type TensorLike,
} from './tensor.js';

// ---------------------------------------------------------------------------------------------
// Binary ops

/** x + y, broadcast. */
export function add(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], 'add');
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = da[i * sa] + db[i * sb];
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta && sa === 1 && !p.expanded[0] && a.grad === null) {
        // First gradient into a same-shape input: a copy, not zeros plus a sum.
        a.grad = allocUninit(n);
        a.grad.set(g);
      } else if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) ga[i * sa] += g[i];
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) gb[i * sb] += g[i];
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

/** x − y, broadcast. */
export function sub(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], 'sub');
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = da[i * sa] - db[i * sb];
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) ga[i * sa] += g[i];
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) gb[i * sb] -= g[i];
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

/** x · y elementwise, broadcast. */
export function mul(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], 'mul');
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = da[i * sa] * db[i * sb];
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) ga[i * sa] += g[i] * db[i * sb];
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) gb[i * sb] += g[i] * da[i * sa];
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

/** x / y elementwise, broadcast. */
export function div(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], 'div');
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = da[i * sa] / db[i * sb];
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) ga[i * sa] += g[i] / db[i * sb];
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        // ∂(a/b)/∂b = −(a/b)/b
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) gb[i * sb] -= (g[i] * out[i]) / db[i * sb];
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

/**
 * xʸ elementwise, broadcast. ∂/∂x = y·xʸ⁻¹; ∂/∂y = xʸ·log x (taken as 0 where xʸ = 0, the limit
 * for x → 0⁺ and y > 0).
 */
export function pow(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], 'pow');
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.pow(da[i * sa], db[i * sb]);
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) {
          const e = db[i * sb];
          ga[i * sa] += e === 0 ? 0 : g[i] * e * Math.pow(da[i * sa], e - 1);
        }
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) gb[i * sb] += out[i] === 0 ? 0 : g[i] * out[i] * Math.log(da[i * sa]);
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

/** max(x, y) elementwise, broadcast; at ties the gradient goes to x. */
export function maximum(x: TensorLike, y: TensorLike): Tensor {
  return selectBinary(x, y, 'maximum', true);
}

/** min(x, y) elementwise, broadcast; at ties the gradient goes to x. */
export function minimum(x: TensorLike, y: TensorLike): Tensor {
  return selectBinary(x, y, 'minimum', false);
}

function selectBinary(x: TensorLike, y: TensorLike, op: string, takeMax: boolean): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const p = planBroadcast([a, b], op);
  const [da, db] = p.data;
  const [sa, sb] = p.strides;
  const n = p.n;
  const out = allocUninit(n);
  const fromA = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = da[i * sa];
    const v = db[i * sb];
    const pickA = takeMax ? u >= v : u <= v;
    fromA[i] = pickA ? 1 : 0;
    out[i] = pickA ? u : v;
  }
  const z = new Tensor(out, p.shape);
  const ta = isTracked(a);
  const tb = isTracked(b);
  if (ta || tb) {
    record(z, () => {
      const g = z.grad as Float64Array;
      if (ta) {
        const ga = gradSink(p, 0, a);
        for (let i = 0; i < n; i++) if (fromA[i]) ga[i * sa] += g[i];
        flushGradSink(p, 0, a, ga);
      }
      if (tb) {
        const gb = gradSink(p, 1, b);
        for (let i = 0; i < n; i++) if (!fromA[i]) gb[i * sb] += g[i];
        flushGradSink(p, 1, b, gb);
      }
    });
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// Unary ops. Each computes `out`, and on a tape adds g · f'(x) into x's gradient.

/** −x. */
export function neg(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = -d[i];
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] -= g[i];
    });
  }
  return z;
}

/** eˣ. */
export function exp(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * out[i];
    });
  }
  return z;
}

/** Natural logarithm. */
export function log(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.log(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] / d[i];
    });
  }
  return z;
}

/** log(1 + x), accurate for small x. */
export function log1p(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.log1p(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] / (1 + d[i]);
    });
  }
  return z;
}

/** eˣ − 1, accurate for small x. */
export function expm1(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.expm1(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * (out[i] + 1);
    });
  }
  return z;
}

/** √x. */
export function sqrt(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += (0.5 * g[i]) / out[i];
    });
  }
  return z;
}

/** x². */
export function square(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = d[i] * d[i];
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += 2 * g[i] * d[i];
    });
  }
  return z;
}

/** |x|; the gradient at 0 is taken as 0. */
export function abs(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.abs(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += d[i] > 0 ? g[i] : d[i] < 0 ? -g[i] : 0;
    });
  }
  return z;
}

/** softplus(x) = log(1 + eˣ), stable; its derivative is σ(x). */
export function softplus(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = softplus1(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * sigmoid1(d[i]);
    });
  }
  return z;
}

/** σ(x) = 1 / (1 + e⁻ˣ); σ' = σ(1 − σ). */
export function sigmoid(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = sigmoid1(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * out[i] * (1 - out[i]);
    });
  }
  return z;
}

/** log σ(x) = −softplus(−x), stable; its derivative is σ(−x). */
export function logSigmoid(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = -softplus1(-d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * sigmoid1(-d[i]);
    });
  }
  return z;
}

/** tanh x; tanh' = 1 − tanh². */
export function tanh(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = Math.tanh(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * (1 - out[i] * out[i]);
    });
  }
  return z;
}

/** max(x, 0); the gradient at 0 is taken as 0. */
export function relu(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = d[i] > 0 ? d[i] : 0;
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) if (d[i] > 0) ga[i] += g[i];
    });
  }
  return z;
}

/** log|Γ(x)|; its derivative is the digamma function ψ(x). */
export function lgamma(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = lgamma1(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * digamma1(d[i]);
    });
  }
  return z;
}

/** ψ(x) = d/dx log Γ(x); its derivative is the trigamma function ψ₁(x). */
export function digamma(x: TensorLike): Tensor {
  const a = asTensor(x);
  const d = a.data;
  const n = a.size;
  const out = allocUninit(n);
  for (let i = 0; i < n; i++) out[i] = digamma1(d[i]);
  const z = new Tensor(out, a.shape);
  if (isTracked(a)) {
    record(z, () => {
      const g = z.grad as Float64Array;
      const ga = gradOf(a);
      for (let i = 0; i < n; i++) ga[i] += g[i] * trigamma(d[i]);
    });
  }
  return z;
}
