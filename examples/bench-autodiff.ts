/**
 * Micro-benchmark: value + gradient of a custom (autodiff) logistic regression against a fused,
 * hand-written kernel and against the built-in `logisticRegression` (src/models/logistic.ts), at
 * batch 32 and 50 features (issue 9 asks for a ratio ≤ 3).
 *
 *   npx tsx examples/bench-autodiff.ts [--batch 32] [--features 50] [--seconds 2]
 */
import { pathToFileURL } from 'node:url';
import {
  add,
  bernoulliLogitLogPmf,
  gather,
  matmul,
  normalLogPdf,
  sum,
  tensor,
} from '../src/autodiff/index.js';
import { customModel } from '../src/models/custom.js';
import { logisticRegression } from '../src/models/logistic.js';
import { key, normal, split, uniform } from '../src/core/random.js';
import type { ValueGrad } from '../src/core/types.js';

/** Synthetic logistic-regression data: rows × features standard normal inputs, labels from a known w. */
export function logisticData(rows: number, features: number, seed: number): { x: Float64Array; y: Float64Array } {
  const [kx, kw, ku] = split(key(seed), 3);
  const x = normal(kx, rows * features);
  const w = normal(kw, features);
  const u = uniform(ku, rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let l = 0;
    for (let j = 0; j < features; j++) l += x[i * features + j] * w[j];
    y[i] = u[i] < 1 / (1 + Math.exp(-l)) ? 1 : 0;
  }
  return { x, y };
}

/** The autodiff model: w ~ N(0, priorScale²) per feature, b ~ N(0, priorScale²), y ~ Bernoulli(σ(Xw + b)). */
export function autodiffLogistic(x: Float64Array, y: Float64Array, rows: number, features: number, priorScale = 1) {
  const xTensor = tensor(x, [rows, features]);
  const yTensor = tensor(y, [rows]);
  return customModel({
    params: { w: { shape: features }, b: {} },
    logPrior: ({ w, b }) => add(sum(normalLogPdf(w, 0, priorScale)), normalLogPdf(b, 0, priorScale)),
    logLikelihood: ({ w, b }, batch: Int32Array) =>
      sum(bernoulliLogitLogPmf(gather(yTensor, batch), add(matmul(gather(xTensor, batch), w), b))),
    dataSize: rows,
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: rows }, (_, i) => i),
    sliceBatch: (batch, i) => batch.subarray(i, i + 1),
  });
}

/** The fused reference: the same log prior and log likelihood with hand-derived gradients in one pass each. */
export function fusedLogistic(x: Float64Array, y: Float64Array, features: number, priorScale = 1) {
  const dim = features + 1;
  const logNorm = -0.5 * Math.log(2 * Math.PI) - Math.log(priorScale);
  const invVar = 1 / (priorScale * priorScale);
  return {
    logPrior(theta: Float64Array): ValueGrad {
      const grad = new Float64Array(dim);
      let value = 0;
      for (let j = 0; j < dim; j++) {
        value += logNorm - 0.5 * theta[j] * theta[j] * invVar;
        grad[j] = -theta[j] * invVar;
      }
      return { value, grad };
    },
    logLikelihood(theta: Float64Array, batch: Int32Array): ValueGrad {
      const grad = new Float64Array(dim);
      let value = 0;
      for (let r = 0; r < batch.length; r++) {
        const row = batch[r] * features;
        let l = theta[features];
        for (let j = 0; j < features; j++) l += x[row + j] * theta[j];
        const yi = y[batch[r]];
        value += yi * l - (l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l)));
        const resid = yi - 1 / (1 + Math.exp(-l));
        for (let j = 0; j < features; j++) grad[j] += resid * x[row + j];
        grad[features] += resid;
      }
      return { value, grad };
    },
  };
}

/** CPU time of this process in microseconds (less disturbed than wall time on a shared machine). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Microseconds of CPU time per call of f over a slice of about `ms` milliseconds. */
function timeSlice(f: () => void, ms: number): number {
  let calls = 0;
  const start = cpuMicros();
  let now = start;
  while (now - start < ms * 1000) {
    for (let i = 0; i < 100; i++) f();
    calls += 100;
    now = cpuMicros();
  }
  return (now - start) / calls;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((p, q) => p - q);
  return s[s.length >> 1];
}

/**
 * Alternate short time slices of a and b (so both see the same machine load) and return the
 * median microseconds per call of each and the median of the per-round ratios a/b.
 */
function timePair(a: () => void, b: () => void, seconds: number): [number, number, number] {
  for (let i = 0; i < 3000; i++) {
    a();
    b();
  }
  const rounds = Math.max(5, Math.round((seconds * 1000) / 100));
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ta.push(timeSlice(a, 50));
    tb.push(timeSlice(b, 50));
    ratios.push(ta[r] / tb[r]);
  }
  return [median(ta), median(tb), median(ratios)];
}

/** CPU microseconds per value+gradient (prior + likelihood) of each, and the median ratios. */
export function benchLogistic(batch: number, features: number, seconds: number) {
  const rows = 1000;
  const { x, y } = logisticData(rows, features, 1);
  const custom = autodiffLogistic(x, y, rows, features);
  const fused = fusedLogistic(x, y, features);
  const theta = normal(key(2), features + 1);
  const batches = Array.from({ length: 64 }, (_, k) => {
    const u = uniform(key(100 + k), batch);
    return Int32Array.from(u, (v) => Math.floor(v * rows));
  });
  let sink = 0;
  let k = 0;
  const [autodiffUs, fusedUs, ratio] = timePair(
    () => {
      const b = batches[k++ & 63];
      sink += custom.logPrior(theta).value + custom.logLikelihood(theta, b).grad[0];
    },
    () => {
      const b = batches[k++ & 63];
      sink += fused.logPrior(theta).value + fused.logLikelihood(theta, b).grad[0];
    },
    seconds,
  );
  const builtin = logisticRegression({ x, y, rows, cols: features, featureNames: [], targetName: 'y', source: 'generated' });
  const [, builtinUs, builtinRatio] = timePair(
    () => {
      const b = batches[k++ & 63];
      sink += custom.logPrior(theta).value + custom.logLikelihood(theta, b).grad[0];
    },
    () => {
      const b = batches[k++ & 63];
      sink += builtin.logPrior(theta).value + builtin.logLikelihood(theta, b).grad[0];
    },
    seconds,
  );
  if (!Number.isFinite(sink)) throw new Error('benchmark produced a non-finite value');
  return { autodiffUs, fusedUs, ratio, builtinUs, builtinRatio };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const batch = arg('batch', 32);
  const features = arg('features', 50);
  const seconds = arg('seconds', 2);
  const r = benchLogistic(batch, features, seconds);
  console.log(
    `logistic regression, batch ${batch}, ${features} features, CPU µs per value+gradient (prior + likelihood):\n` +
      `  autodiff ${r.autodiffUs.toFixed(2)} vs fused reference ${r.fusedUs.toFixed(2)}: ratio ${r.ratio.toFixed(2)}\n` +
      `  autodiff vs built-in logisticRegression ${r.builtinUs.toFixed(2)}: ratio ${r.builtinRatio.toFixed(2)}`,
  );
}
