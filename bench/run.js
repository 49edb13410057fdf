#!/usr/bin/env node
/**
 * sgbayes against PyTorch (CPU, eager), side by side on the same machine and the same problems.
 *
 *   npm run bench [-- --json] [-- --reps 7] [-- --threads 1] [-- --only sgld,mlp]
 *                 [-- --onnxruntime DIR] [-- --python PATH] [-- --quick]
 *
 * Each case times a block of work on the sgbayes side (the compiled library in dist/) and then
 * the same block in PyTorch (bench/torch/peer.py, a long-lived child process), alternating for
 * `--reps` repetitions so both sides see the same machine load. Reported per unit of work: the
 * median, the interquartile range, and ratio = peerMs / sgbayesMs (above 1: sgbayes is faster).
 * Without a Python that imports torch the sgbayes side still runs and the peer columns are null.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = { json: false, reps: 7, threads: 1, only: null, onnxruntime: null, python: null, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`bench: ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--json') args.json = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--reps') args.reps = Number(value());
    else if (a === '--threads') args.threads = Number(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--onnxruntime') args.onnxruntime = value();
    else if (a === '--python') args.python = value();
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--json] [--reps N] [--threads N] [--only a,b] [--onnxruntime DIR] [--python PATH] [--quick]');
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${a} (try --help)`);
  }
  if (!Number.isInteger(args.reps) || args.reps < 1) throw new Error(`bench: --reps must be a positive integer, got ${args.reps}`);
  if (!Number.isInteger(args.threads) || args.threads < 1) throw new Error(`bench: --threads must be a positive integer, got ${args.threads}`);
  if (args.quick) args.reps = Math.min(args.reps, 3);
  return args;
}

const args = parseArgs(process.argv.slice(2));
const log = (...parts) => {
  if (!args.json) console.log(...parts);
  else console.error(...parts);
};

// ---------------------------------------------------------------------------------------------
// The PyTorch peer process

const INSTALL_TORCH = 'apt-get install -y python3-torch';

function findPython() {
  const candidates = [args.python, process.env.SGBAYES_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return null;
}

class Peer {
  constructor(python) {
    // OpenBLAS and OpenMP pools get the same thread count as torch and the native engine.
    const threads = String(args.threads);
    const env = { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
    this.child = spawn(python, [join(root, 'bench', 'torch', 'peer.py')], { stdio: ['pipe', 'pipe', 'inherit'], env });
    this.pending = [];
    this.child.on('exit', (code) => {
      for (const { reject } of this.pending.splice(0)) reject(new Error(`bench: the PyTorch peer exited with code ${code}`));
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiter = this.pending.shift();
      if (!waiter) return;
      const reply = JSON.parse(line);
      if (reply.error) waiter.reject(new Error(`bench: PyTorch peer: ${reply.error}`));
      else waiter.resolve(reply);
    });
  }

  request(message) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  close() {
    this.child.stdin.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Data shared with the peer (little-endian binary files)

const scratch = mkdtempSync(join(tmpdir(), 'sgbayes-bench-'));
let fileCount = 0;
function shareArray(array) {
  const path = join(scratch, `a${fileCount++}.bin`);
  writeFileSync(path, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return path;
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summary(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), q25: quantile(sorted, 0.25), q75: quantile(sorted, 0.75) };
}

/** Milliseconds per unit of one call of `block`, which returns the number of units it did. */
function timeBlock(block) {
  const start = performance.now();
  const units = block();
  return (performance.now() - start) / units;
}

// ---------------------------------------------------------------------------------------------
// Problems

async function problems() {
  const random = await dist('core/random.js');
  const { key, split, normal, uniform, foldIn } = random;

  function logisticData(rows, features, seed) {
    const [kx, kw, ku] = split(key(seed), 3);
    const x = normal(kx, rows * features);
    const w = normal(kw, features);
    const u = uniform(ku, rows);
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let z = 0;
      for (let j = 0; j < features; j++) z += x[i * features + j] * w[j];
      y[i] = u[i] < 1 / (1 + Math.exp(-z / Math.sqrt(features))) ? 1 : 0;
    }
    return dataset(x, y, rows, features, `synthetic logistic ${rows}×${features}`);
  }

  function dataset(x, y, rows, cols, source) {
    return { x, y, rows, cols, featureNames: Array.from({ length: cols }, (_, j) => `x${j}`), targetName: 'y', source };
  }

  /** `count` batches of `size` row indices, uniform with replacement within a batch. */
  function indexBatches(rows, size, count, seed) {
    const u = uniform(key(seed), size * count);
    const flat = new Int32Array(size * count);
    for (let i = 0; i < flat.length; i++) flat[i] = Math.min(rows - 1, Math.floor(u[i] * rows));
    return { flat, batches: Array.from({ length: count }, (_, b) => flat.subarray(b * size, (b + 1) * size)) };
  }

  /** Wine with standardised features and centred quality, the UCI regression set the project ships. */
  async function wine() {
    const { loadWine } = await dist('data/node.js');
    const { dataset: data } = loadWine();
    const { rows, cols } = data;
    const x = Float64Array.from(data.x);
    for (let j = 0; j < cols; j++) {
      let mean = 0;
      for (let i = 0; i < rows; i++) mean += x[i * cols + j] / rows;
      let sq = 0;
      for (let i = 0; i < rows; i++) sq += (x[i * cols + j] - mean) ** 2;
      const sd = Math.sqrt(sq / (rows - 1)) || 1;
      for (let i = 0; i < rows; i++) x[i * cols + j] = (x[i * cols + j] - mean) / sd;
    }
    let yMean = 0;
    for (let i = 0; i < rows; i++) yMean += data.y[i] / rows;
    const y = data.y.map((v) => v - yMean);
    return dataset(x, y, rows, cols, 'wine-quality-red (standardised)');
  }

  return { random: { key, foldIn, uniform, normal, split }, logisticData, dataset, indexBatches, wine };
}

// ---------------------------------------------------------------------------------------------
// Cases. Each returns { sizes, units, sg: () => msPerUnit, peer: { case, params } | local peer }.

async function moduleOrNull(path) {
  try {
    return await dist(path);
  } catch {
    return null;
  }
}

async function buildCases(p, engines) {
  const { key, foldIn } = p.random;
  const cases = [];

  // 1. SGLD on logistic regression, 50 features, batch 32.
  cases.push({
    id: 'sgld',
    name: 'SGLD, logistic regression (50 features, batch 32)',
    units: 'step',
    async setup() {
      const { sgld } = await dist('samplers/sgld.js');
      const { logisticRegression } = await dist('models/logistic.js');
      const data = p.logisticData(10000, 50, 1);
      const { flat, batches } = p.indexBatches(data.rows, 32, 512, 2);
      const steps = 2000;
      const stepSize = 1e-4;
      const sampler = sgld(logisticRegression(data, { priorPrecision: 1 }), { stepSize });
      const root = key(3);
      let state = sampler.init(new Float64Array(51), root);
      let t = 0;
      return {
        sizes: { rows: 10000, features: 50, batch: 32, stepsPerBlock: steps },
        sg: () =>
          timeBlock(() => {
            for (let i = 0; i < steps; i++, t++) [state] = sampler.step(foldIn(root, t), state, batches[t % batches.length]);
            return steps;
          }),
        peer: {
          case: 'sgld-logistic',
          params: { rows: 10000, features: 50, batchSize: 32, x: shareArray(data.x), y: shareArray(data.y), batches: shareArray(flat), stepSize, priorPrecision: 1, steps },
        },
      };
    },
  });

  // 2. Constant SGD, full optimal preconditioner, wine, noise-covariance estimation included.
  cases.push({
    id: 'constant-sgd',
    name: 'constant SGD, full optimal preconditioner, linear regression on wine (batch 32)',
    units: 'step',
    async setup() {
      const mod = await moduleOrNull('samplers/constantSgd.js');
      if (!mod || !(await moduleOrNull('noise/optimal.js'))) return { pending: 'src/samplers/constantSgd.ts and src/noise are not built yet' };
      const { linearRegression } = await dist('models/linear.js');
      const data = await p.wine();
      const { flat, batches } = p.indexBatches(data.rows, 32, 256, 4);
      const steps = 1000;
      const warmup = 500;
      const rate = 0.1;
      const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 1 });
      const options = { preconditioner: { kind: 'scalar', rate }, adaptive: { kind: 'full', warmup, estimateFrom: 0 } };
      return {
        sizes: { rows: data.rows, features: data.cols, batch: 32, steps, warmup, estimatedFrom: 0 },
        sg: () =>
          timeBlock(() => {
            const sampler = mod.constantSgd(model, options);
            let state = sampler.init(new Float64Array(model.dim), key(5));
            for (let t = 0; t < steps; t++) [state] = sampler.step(key(0), state, batches[t % batches.length]);
            if (!state.adapted) throw new Error('bench: constant SGD did not switch to the optimal preconditioner');
            return steps;
          }),
        peer: {
          case: 'constant-sgd-full',
          params: { rows: data.rows, features: data.cols, batchSize: 32, x: shareArray(data.x), y: shareArray(data.y), batches: shareArray(flat), priorPrecision: 1, noisePrecision: 1, rate, warmup, steps },
        },
      };
    },
  });

  // 3. NUTS on logistic regression 1000 × 25: gradient evaluations.
  cases.push({
    id: 'nuts',
    name: 'NUTS, logistic regression (1000 × 25), per gradient evaluation',
    units: 'gradient evaluation',
    async setup() {
      const mod = await moduleOrNull('samplers/nuts.js');
      if (!mod) return { pending: 'src/samplers/nuts.ts is not built' };
      const { logisticRegression } = await dist('models/logistic.js');
      const data = p.logisticData(1000, 25, 6);
      const model = logisticRegression(data, { priorPrecision: 1 });
      let seed = 0;
      return {
        sizes: { rows: 1000, features: 25, warmup: 100, draws: 100, chains: 1 },
        sg: () =>
          timeBlock(() => {
            let evals = 0;
            mod.sampleNuts(model, { chains: 1, warmup: 100, draws: 100, seed: seed++, onIteration: (_c, _i, info) => (evals += info.numGradEvals) });
            return evals;
          }),
        peer: { case: 'logistic-gradient', params: { rows: 1000, features: 25, x: shareArray(data.x), y: shareArray(data.y), priorPrecision: 1, evals: 2000 } },
      };
    },
  });

  // 4. One epoch of matrix-variate Gaussian VI on wine, 50 hidden, batch 32.
  cases.push({
    id: 'vi',
    name: 'matrix-variate Gaussian VI, one epoch on wine (50 hidden, batch 32)',
    units: 'epoch',
    async setup() {
      const bnn = await moduleOrNull('vi/bnn.js');
      const train = await moduleOrNull('vi/train.js');
      if (!bnn || !train) return { pending: 'src/vi is not built yet' };
      const data = await p.wine();
      const net = new bnn.BayesianMlp({ sizes: [data.cols, 50, 1], family: 'mvg', likelihood: 'gaussian' });
      const order = Int32Array.from({ length: data.rows }, (_, i) => i);
      let seed = 0;
      return {
        sizes: { rows: data.rows, features: data.cols, hidden: 50, batch: 32 },
        sg: () =>
          timeBlock(() => {
            // The one-off refit of q(τ) after training (≈ 13 passes over wine) is not part of an epoch.
            train.trainVi(net, data.x, data.y, data.rows, { epochs: 1, batchSize: 32, seed: seed++, refitNoise: false });
            return 1;
          }),
        peer: { case: 'mvg-vi', params: { rows: data.rows, features: data.cols, hidden: [50], batchSize: 32, x: shareArray(data.x), y: shareArray(data.y), order: shareArray(order) } },
      };
    },
  });

  // 5. One training step of a 784-400-400-10 network at batch 100.
  const sizes = [784, 400, 400, 10];
  const mlpVariants = [{ label: 'gemm.ts loops (default)', engine: null, precision: 'float64' }, { label: 'blocked JS', engine: engines.blocked, precision: 'float64' }];
  if (engines.native64) mlpVariants.push({ label: engines.native64.name, engine: engines.native64, precision: 'float64' });
  if (engines.native32) {
    mlpVariants.push({ label: `float64 network, ${engines.native32.name} gemm`, engine: engines.native32, precision: 'float32' });
    mlpVariants.push({ label: `float32 network, ${engines.native32.name} sgemm`, engine: engines.native32, precision: 'float32', network: 'float32' });
  }
  // 5e/5f: the WebAssembly SIMD engine (the browsers' fast path), float64 and float32 gemm.
  if (engines.wasm64) mlpVariants.push({ label: engines.wasm64.name, engine: engines.wasm64, precision: 'float64' });
  if (engines.wasm32) {
    mlpVariants.push({ label: `float64 network, ${engines.wasm32.name} gemm`, engine: engines.wasm32, precision: 'float32' });
    mlpVariants.push({ label: `float32 network, ${engines.wasm32.name} sgemm`, engine: engines.wasm32, precision: 'float32', network: 'float32' });
  }
  for (const variant of mlpVariants) {
    cases.push({
      id: 'mlp',
      name: `MLP 784-400-400-10 training step, batch 100, ${variant.precision} (${variant.label})`,
      units: 'training step',
      async setup() {
        const nn = await moduleOrNull('nn/mlp.js');
        if (!nn) return { pending: 'src/nn/mlp.ts is not built yet' };
        const { key: mkKey, uniform } = p.random;
        const u = uniform(mkKey(7), 100 * 784 + 100);
        const x = u.subarray(0, 100 * 784);
        const y = Float64Array.from(u.subarray(100 * 784), (v) => Math.min(9, Math.floor(10 * v)));
        const data = p.dataset(x, y, 100, 784, 'uniform pixels, random labels');
        const batch = Int32Array.from({ length: 100 }, (_, i) => i);
        const steps = variant.engine === null ? 3 : 10;
        const step = await mlpTrainingStep(nn, data, batch, variant.engine, mkKey(11), variant.network);
        if (step === null) return { pending: 'float32MlpClassifier or setSgemmEngine is not built yet' };
        if (!engines.native64 && variant === mlpVariants[mlpVariants.length - 1]) {
          log(`  (native engine not loaded: ${engines.nativeError}; pass --onnxruntime DIR or install onnxruntime-node)`);
        }
        return {
          sizes: { sizes, batch: 100, precision: variant.precision, engine: variant.engine ? variant.engine.name : 'gemm.ts', via: step.via },
          sg: () =>
            timeBlock(() => {
              for (let i = 0; i < steps; i++) step.run();
              return steps;
            }),
          peer: { case: 'mlp-step', params: { sizes, batchSize: 100, precision: variant.precision, learningRate: 1e-4, priorPrecision: 1, steps: 10 } },
        };
      },
    });
  }

  // 6. A custom autodiff model against the fused built-in (same logistic regression).
  cases.push({
    id: 'custom',
    name: 'custom autodiff logistic regression vs fused built-in (50 features, batch 32), per gradient',
    units: 'gradient evaluation',
    peerName: 'sgbayes fused built-in',
    async setup() {
      const ad = await moduleOrNull('autodiff/index.js');
      const custom = await moduleOrNull('models/custom.js');
      if (!ad || !custom) return { pending: 'src/autodiff and src/models/custom.ts are not built yet' };
      const { logisticRegression } = await dist('models/logistic.js');
      const data = p.logisticData(10000, 50, 8);
      const { batches } = p.indexBatches(data.rows, 32, 512, 9);
      const xT = ad.tensor(data.x, [data.rows, 50]);
      const yT = ad.tensor(data.y, [data.rows]);
      const customTarget = custom.customModel({
        params: { w: { shape: 50 }, b: {} },
        logPrior: ({ w, b }) => ad.add(ad.sum(ad.normalLogPdf(w, 0, 1)), ad.normalLogPdf(b, 0, 1)),
        logLikelihood: ({ w, b }, batch) => ad.sum(ad.bernoulliLogitLogPmf(ad.gather(yT, batch), ad.add(ad.matmul(ad.gather(xT, batch), w), b))),
        dataSize: data.rows,
        batchSize: (batch) => batch.length,
        fullBatch: () => Int32Array.from({ length: data.rows }, (_, i) => i),
      });
      const fused = logisticRegression(data, { priorPrecision: 1 });
      const theta = p.random.normal(key(10), 51).map((v) => 0.1 * v);
      const evals = 2000;
      const block = (target) => () =>
        timeBlock(() => {
          for (let i = 0; i < evals; i++) {
            const batch = batches[i % batches.length];
            target.logPrior(theta);
            target.logLikelihood(theta, batch);
          }
          return evals;
        });
      return { sizes: { rows: 10000, features: 50, batch: 32 }, sg: block(customTarget), localPeer: block(fused) };
    },
  });

  return cases;
}

/**
 * One SGD step θ ← θ + η ∇(log prior + log likelihood) of `mlpClassifier` (or, for network
 * 'float32', of `float32MlpClassifier` with the engine's `sgemm`) on a batch. With an
 * engine, `setGemmEngine` of src/nn/gemm.ts is used when it exists; otherwise the same forward
 * and backward passes as MlpWorkspace are run here over the library's layer functions.
 */
async function mlpTrainingStep(nn, data, batch, engine, initKey, network = 'float64') {
  const gemmModule = await dist('nn/gemm.js');
  const lr = 1e-4;
  if (network === 'float32') {
    // Weights, activations and gradients in Float32Arrays, updated in place as PyTorch's add_ does.
    if (typeof nn.float32MlpClassifier !== 'function' || typeof gemmModule.setSgemmEngine !== 'function' || !engine?.sgemm) return null;
    const model = nn.float32MlpClassifier(data, { hidden: [400, 400], classes: 10 });
    const theta = model.initialPosition(initKey);
    return {
      via: 'float32MlpClassifier.sgdStep + setSgemmEngine',
      run() {
        gemmModule.setSgemmEngine(engine.sgemm);
        try {
          model.sgdStep(theta, batch, { learningRate: lr });
        } finally {
          gemmModule.setSgemmEngine(null);
        }
      },
    };
  }
  if (engine === null || typeof gemmModule.setGemmEngine === 'function') {
    const model = nn.mlpClassifier(data, { hidden: [400, 400], classes: 10 });
    let theta = model.initialPosition(initKey);
    return {
      via: engine === null ? 'mlpClassifier' : 'mlpClassifier + setGemmEngine',
      run() {
        if (engine !== null) gemmModule.setGemmEngine(engine.gemm);
        try {
          const prior = model.logPrior(theta);
          const lik = model.logLikelihood(theta, batch);
          const next = new Float64Array(theta.length);
          for (let i = 0; i < next.length; i++) next[i] = theta[i] + lr * (prior.grad[i] + lik.grad[i]);
          theta = next;
        } finally {
          if (engine !== null) gemmModule.setGemmEngine(null);
        }
      },
    };
  }
  const layout = nn.mlpLayout([data.cols, 400, 400, 10]);
  const { layers } = layout;
  const gemm = engine.gemm;
  const n = batch.length;
  const inputs = layers.map((l) => new Float64Array(n * l.rows));
  const pre = layers.map((l) => new Float64Array(n * l.outputs));
  const dPre = layers.map((l) => new Float64Array(n * l.outputs));
  const dAug = new Float64Array(n * Math.max(...layers.map((l) => l.rows)));
  const dOut = new Float64Array(n * 10);
  let theta = nn.heInit(layout, initKey);
  return {
    via: 'MlpWorkspace passes rebuilt in bench (no setGemmEngine in src/nn/gemm.ts yet)',
    run() {
      nn.augmentInput(data.x, layers[0].inputs, batch, n, layers[0].inputScale, inputs[0]);
      for (let l = 0; l < layers.length; l++) {
        const L = layers[l];
        gemm(false, false, n, L.outputs, L.rows, 1, inputs[l], 0, theta, L.offset, 0, pre[l], 0);
        if (l + 1 < layers.length) nn.reluAugment(pre[l], L.outputs, n, layers[l + 1].inputScale, inputs[l + 1]);
      }
      dOut.set(pre[layers.length - 1]);
      nn.softmaxRows(dOut, n, 10, data.y, batch);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 10; k++) dOut[i * 10 + k] = -dOut[i * 10 + k];
        dOut[i * 10 + data.y[batch[i]]] += 1;
      }
      const grad = new Float64Array(layout.dim);
      for (let i = 0; i < grad.length; i++) grad[i] = -theta[i];
      let g = dOut;
      for (let l = layers.length - 1; l >= 0; l--) {
        const L = layers[l];
        gemm(true, false, L.rows, L.outputs, n, 1, inputs[l], 0, g, 0, 1, grad, L.offset);
        if (l === 0) break;
        gemm(false, true, n, L.rows, L.outputs, 1, g, 0, theta, L.offset, 0, dAug, 0);
        nn.reluAugmentBackward(dAug, pre[l - 1], layers[l - 1].outputs, n, L.inputScale, dPre[l - 1]);
        g = dPre[l - 1];
      }
      const next = new Float64Array(layout.dim);
      for (let i = 0; i < next.length; i++) next[i] = theta[i] + lr * grad[i];
      theta = next;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Matrix-multiply throughput at the network's layer shapes

async function matmulTable(engines, peer) {
  const { gemm } = await dist('nn/gemm.js');
  const { uniform, key } = (await problems()).random;
  const shapes = [
    [100, 400, 785],
    [785, 400, 100],
    [400, 400, 400],
  ];
  const kernels = [['gemm.ts loops', gemm], ['blocked JS', engines.blocked.gemm]];
  if (engines.native64) kernels.push([engines.native64.name, engines.native64.gemm]);
  if (engines.native32) kernels.push([engines.native32.name, engines.native32.gemm]);
  if (engines.wasm64) kernels.push([engines.wasm64.name, engines.wasm64.gemm]);
  if (engines.wasm32) kernels.push([engines.wasm32.name, engines.wasm32.gemm]);
  const rows = [];
  for (const [m, n, k] of shapes) {
    const a = uniform(key(m), m * k);
    const b = uniform(key(n + 1), k * n);
    const c = new Float64Array(m * n);
    const flops = 2 * m * n * k;
    const row = { shape: `${m}×${k} · ${k}×${n}`, gflops: {} };
    for (const [name, fn] of kernels) {
      const reps = name === 'gemm.ts loops' ? 2 : 10;
      fn(false, false, m, n, k, 1, a, 0, b, 0, 0, c, 0);
      const times = [];
      for (let r = 0; r < args.reps; r++) times.push(timeBlock(() => {
        for (let i = 0; i < reps; i++) fn(false, false, m, n, k, 1, a, 0, b, 0, 0, c, 0);
        return reps;
      }));
      row.gflops[name] = flops / summary(times).median / 1e6;
    }
    if (peer) {
      for (const precision of ['float32', 'float64']) {
        const id = `matmul-${m}-${n}-${k}-${precision}`;
        await peer.request({ cmd: 'setup', id, case: 'matmul', params: { m, n, k, precision, reps: 20 } });
        const times = [];
        for (let r = 0; r < args.reps; r++) times.push((await peer.request({ cmd: 'time', id })).ms);
        row.gflops[`torch ${precision}`] = flops / summary(times).median / 1e6;
        await peer.request({ cmd: 'drop', id });
      }
    }
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Main

async function loadEngines() {
  const engines = { blocked: (await dist('nn/gemm-blocked.js')).blockedGemmEngine, native64: null, native32: null, wasm64: null, wasm32: null, nativeError: null };
  const wasm = await moduleOrNull('nn/gemm-wasm.js');
  if (wasm) {
    engines.wasm64 = await wasm.loadWasmGemm({ precision: 'float64' });
    engines.wasm32 = await wasm.loadWasmGemm({ precision: 'float32' });
  }
  const native = await moduleOrNull('nn/gemm-native.js');
  if (!native) {
    engines.nativeError = 'dist/nn/gemm-native.js is missing';
    return engines;
  }
  const options = { threads: args.threads, packageLocation: args.onnxruntime ?? process.env.SGBAYES_ONNXRUNTIME ?? undefined };
  try {
    engines.native64 = await native.loadNativeGemm({ ...options, precision: 'float64' });
    engines.native32 = await native.loadNativeGemm({ ...options, precision: 'float32' });
  } catch (error) {
    engines.nativeError = error.message;
  }
  return engines;
}

function machineInfo(torchVersion) {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' });
  const model = /Model name:\s*(.+)/.exec(lscpu.stdout ?? '')?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return { cpu: model, cores: cpus().length, node: process.version, torch: torchVersion, threads: args.threads, loadAverageAtStart: loadavg()[0] };
}

async function main() {
  const python = findPython();
  let peer = null;
  let torchVersion = null;
  let blas = null;
  if (python === null) {
    log(`PyTorch not found: the peer columns stay empty. Install it with \`${INSTALL_TORCH}\` (or pass --python PATH).`);
  } else {
    peer = new Peer(python);
    const info = await peer.request({ cmd: 'info', threads: args.threads });
    torchVersion = info.torch;
    blas = info.blas;
    if (/\/blas\/libblas/.test(blas)) {
      log(`warning: torch is using the reference BLAS (${blas}), far slower than a tuned one; install \`apt-get install -y libopenblas0-pthread\` for a fair peer`);
    }
  }
  const machine = machineInfo(torchVersion);
  machine.torchBlas = blas;
  log(`sgbayes bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, torch ${torchVersion ?? '—'}, ${args.threads} thread(s), ${args.reps} reps, load ${machine.loadAverageAtStart.toFixed(2)}`);
  const p = await problems();
  const engines = await loadEngines();
  const results = [];
  let caseNumber = 0;
  for (const c of await buildCases(p, engines)) {
    if (args.only && !args.only.some((o) => c.id.includes(o))) continue;
    const setup = await c.setup();
    if (setup.pending) {
      results.push({ name: c.name, sgbayesMs: null, peerMs: null, ratio: null, pending: setup.pending });
      log(`- ${c.name}: pending (${setup.pending})`);
      continue;
    }
    const id = `case${caseNumber++}`;
    let peerTime = null;
    if (setup.peer && peer) {
      await peer.request({ cmd: 'setup', id, case: setup.peer.case, params: setup.peer.params });
      peerTime = async () => (await peer.request({ cmd: 'time', id })).ms;
    } else if (setup.localPeer) {
      peerTime = async () => setup.localPeer();
    }
    // One untimed round on each side warms the JIT and the allocator.
    setup.sg();
    if (peerTime) await peerTime();
    const sgTimes = [];
    const peerTimes = [];
    for (let r = 0; r < args.reps; r++) {
      sgTimes.push(setup.sg());
      if (peerTime) peerTimes.push(await peerTime());
    }
    if (setup.peer && peer) await peer.request({ cmd: 'drop', id });
    const sg = summary(sgTimes);
    const pe = summary(peerTimes);
    const result = {
      name: c.name,
      units: c.units,
      peer: c.peerName ?? (setup.peer ? `PyTorch ${torchVersion ?? ''} eager CPU`.trim() : null),
      sgbayesMs: sg.median,
      peerMs: pe ? pe.median : null,
      ratio: pe ? pe.median / sg.median : null,
      spread: { sgbayes: [sg.q25, sg.q75], peer: pe ? [pe.q25, pe.q75] : null },
      sizes: setup.sizes,
    };
    results.push(result);
    const fmt = (v) => (v === null ? '—' : v < 0.1 ? v.toFixed(4) : v.toFixed(3));
    log(`- ${c.name}: sgbayes ${fmt(result.sgbayesMs)} ms/${c.units}, peer ${fmt(result.peerMs)} ms, ratio ${result.ratio === null ? '—' : result.ratio.toFixed(2)}`);
  }
  const matmul = !args.only || args.only.includes('matmul') ? await matmulTable(engines, peer) : [];
  for (const row of matmul) log(`- matmul ${row.shape}: ${Object.entries(row.gflops).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} GFLOP/s`);
  machine.loadAverageAtEnd = loadavg()[0];
  machine.nativeEngine = engines.native64 ? engines.native64.name : `not loaded (${engines.nativeError})`;
  if (peer) peer.close();
  engines.native64?.dispose();
  engines.native32?.dispose();
  rmSync(scratch, { recursive: true, force: true });
  if (args.json) console.log(JSON.stringify({ cases: results, matmul, machine }, null, 2));
}

main().catch((error) => {
  rmSync(scratch, { recursive: true, force: true });
  console.error(error.stack ?? String(error));
  process.exit(1);
});
