/**
 * A native matrix-multiply engine for Node: ONNX Runtime's CPU `Gemm` kernel (MLAS, AVX2/AVX-512
 * with its own thread pool), reached through the synchronous session binding of the optional
 * dependency `onnxruntime-node`, whose CPU binaries ship inside the npm package.
 *
 * The package is loaded lazily by `loadNativeGemm`, with a computed specifier, so this module
 * compiles and bundles without it and browsers never see it. Products smaller than `minWork`
 * multiply-adds go to a JavaScript kernel, because each float64 call costs about 50–100 µs.
 *
 * Session-run overhead, measured on this machine: ≈ 15 µs per call (one cached session per
 * element type, transpose case and α, β; inputs and the preallocated output are views of the
 * caller's buffers, so nothing is copied; onnxruntime-node exposes no IO binding, and none is
 * needed). The float32 `sgemm` therefore goes native from 2¹⁴ multiply-adds.
 */
import { blockedGemmEngine, checkGemmShapes, scaleC, type GemmEngine, type GemmFunction } from './gemm-blocked.js';
import { sgemmLoops, type SgemmFunction } from './gemm.js';

/** Thrown when the native engine cannot be loaded; the message says how to install it. */
export class NativeGemmUnavailableError extends Error {
  override readonly name = 'NativeGemmUnavailableError';
}

/** Options of {@link loadNativeGemm}. */
export interface NativeGemmOptions {
  /** 'float64' (default) or 'float32': A and B rounded to single precision, C accumulated in float64. */
  precision?: 'float64' | 'float32';
  /** ONNX Runtime intra-op threads (default 1, so runs compare at equal thread counts). */
  threads?: number;
  /** Products with m·n·k below this go to `small` (default 2¹⁷, where one call's overhead ≈ the JS time). */
  minWork?: number;
  /** The kernel for small products (default the blocked JavaScript kernel). */
  small?: GemmFunction;
  /**
   * Float32 products (`sgemm`) with m·n·k below this go to `sgemmLoops` (default 2¹⁴: a float32
   * call passes its buffers without conversion, so its overhead is only ≈ 15 µs).
   */
  sgemmMinWork?: number;
  /**
   * Where the onnxruntime-node package is, when it cannot be resolved from sgbayes itself (a
   * directory path or file URL, e.g. a separate install); default: resolve 'onnxruntime-node'.
   */
  packageLocation?: string;
}

/** The native engine: `gemm` on Float64Arrays (in `precision`) and `sgemm` on Float32Arrays. */
export interface NativeGemmEngine extends GemmEngine {
  /** C ← α op(A) op(B) + β C on Float32Arrays, passed to ONNX Runtime without conversion (for `setSgemmEngine`). */
  readonly sgemm: SgemmFunction;
}

/** The parts of onnxruntime-node this engine uses (declared here: the package is optional). */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtTensorConstructor {
  new (type: 'float32' | 'float64', data: Float32Array | Float64Array, dims: readonly number[]): OrtTensor;
}
interface OrtSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: Record<string, unknown>): Record<string, OrtTensor>;
  dispose(): void;
}
interface OrtBindingModule {
  binding: { InferenceSession: new () => OrtSession };
  initOrt(): void;
}

const INSTALL_HINT =
  'install the optional dependency: add "onnxruntime-node" to package.json and "onnxruntime-node-install=skip" to .npmrc (the CPU binaries ship in the package), then npm install';

async function importOptional(specifier: string): Promise<Record<string, unknown>> {
  const mod = (await import(specifier)) as Record<string, unknown>;
  // A CommonJS module arrives with its exports under `default`.
  return (mod.default ?? mod) as Record<string, unknown>;
}

/** Protocol-buffer wire encoding of the few ONNX message fields the Gemm graph needs. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}
function lengthDelimited(field: number, bytes: number[]): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}
function stringField(field: number, text: string): number[] {
  return lengthDelimited(field, [...new TextEncoder().encode(text)]);
}
function intField(field: number, value: number): number[] {
  return [...varint(field << 3), ...varint(value)];
}

/** Most sessions with α and β built in that one engine keeps (each holds a compiled graph). */
const SCALED_SESSIONS = 16;

/** ONNX TensorProto element types. */
const ONNX_FLOAT = 1;
const ONNX_DOUBLE = 11;

function tensorValueInfo(name: string, elemType: number, dims: readonly string[]): number[] {
  const shape = dims.flatMap((d) => lengthDelimited(1, stringField(2, d)));
  const tensorType = [...intField(1, elemType), ...lengthDelimited(2, shape)];
  return [...stringField(1, name), ...lengthDelimited(2, lengthDelimited(1, tensorType))];
}

function floatField(field: number, value: number): number[] {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return [...varint((field << 3) | 5), ...bytes];
}

/**
 * The serialised ONNX model (IR 8, opset 13) of one node with symbolic dimensions, so one session
 * serves every shape of a transpose case: Y = op(A) op(B) by `Gemm`, or, given `scaling`,
 * Y = α op(A) op(B) + β C (α and β are attributes, rounded to float32 by ONNX; C is an input only
 * when β ≠ 0).
 */
export function gemmModelBytes(
  precision: 'float64' | 'float32',
  transA: boolean,
  transB: boolean,
  scaling: { alpha: number; beta: number } = { alpha: 1, beta: 0 },
): Uint8Array {
  const elem = precision === 'float64' ? ONNX_DOUBLE : ONNX_FLOAT;
  const intAttribute = (name: string): number[] => lengthDelimited(5, [...stringField(1, name), ...intField(3, 1), ...intField(20, 2)]);
  const floatAttribute = (name: string, value: number): number[] => lengthDelimited(5, [...stringField(1, name), ...floatField(2, value), ...intField(20, 1)]);
  const { alpha, beta } = scaling;
  const withC = beta !== 0;
  const node = [
    ...stringField(1, 'A'),
    ...stringField(1, 'B'),
    ...(withC ? stringField(1, 'C') : []),
    ...stringField(2, 'Y'),
    ...stringField(4, 'Gemm'),
    ...(transA ? intAttribute('transA') : []),
    ...(transB ? intAttribute('transB') : []),
    ...(alpha !== 1 ? floatAttribute('alpha', alpha) : []),
    ...(withC && beta !== 1 ? floatAttribute('beta', beta) : []),
  ];
  const graph = [
    ...lengthDelimited(1, node),
    ...stringField(2, 'gemm'),
    ...lengthDelimited(11, tensorValueInfo('A', elem, ['a0', 'a1'])),
    ...lengthDelimited(11, tensorValueInfo('B', elem, ['b0', 'b1'])),
    ...(withC ? lengthDelimited(11, tensorValueInfo('C', elem, ['m', 'n'])) : []),
    ...lengthDelimited(12, tensorValueInfo('Y', elem, ['m', 'n'])),
  ];
  const opset = [...stringField(1, ''), ...intField(2, 13)];
  return new Uint8Array([...intField(1, 8), ...lengthDelimited(8, opset), ...lengthDelimited(7, graph)]);
}

/**
 * Loads ONNX Runtime and returns a synchronous `gemm` engine with the signature of src/nn/gemm.ts:
 * C ← α op(A) op(B) + β C. The native kernel computes Y = op(A) op(B); α and β are applied in
 * JavaScript (an m·n pass). In float64, α = 1, β = 0 writes straight into C. In float32, A and B are
 * rounded into single-precision scratch buffers first (relative error ~1e-7 · √k).
 *
 * The engine's `sgemm` takes Float32Arrays (the float32 networks, via `setSgemmEngine`) and hands
 * them to the float32 kernel as views, with no conversion; α = 1, β = 0 writes straight into C.
 *
 * @throws NativeGemmUnavailableError if onnxruntime-node is not installed or fails to load.
 */
export async function loadNativeGemm(options: NativeGemmOptions = {}): Promise<NativeGemmEngine> {
  const precision = options.precision ?? 'float64';
  if (precision !== 'float64' && precision !== 'float32') {
    throw new RangeError(`loadNativeGemm: precision must be 'float64' or 'float32', got '${String(precision)}'`);
  }
  const threads = options.threads ?? 1;
  if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`loadNativeGemm: threads must be an integer ≥ 1, got ${threads}`);
  const minWork = options.minWork ?? 2 ** 17;
  if (!(minWork >= 0)) throw new RangeError(`loadNativeGemm: minWork must be a number ≥ 0, got ${minWork}`);
  const small = options.small ?? blockedGemmEngine.gemm;
  const minWork32 = options.sgemmMinWork ?? 2 ** 14;
  if (!(minWork32 >= 0)) throw new RangeError(`loadNativeGemm: sgemmMinWork must be a number ≥ 0, got ${minWork32}`);
  const smallSgemm = sgemmLoops;

  let Tensor: OrtTensorConstructor;
  let bindingModule: OrtBindingModule;
  try {
    const base = options.packageLocation?.replace(/\/+$/, '');
    const main = await importOptional(base ? `${base}/dist/index.js` : 'onnxruntime-node');
    Tensor = main.Tensor as OrtTensorConstructor;
    bindingModule = (await importOptional(`${base ?? 'onnxruntime-node'}/dist/binding.js`)) as unknown as OrtBindingModule;
    if (typeof Tensor !== 'function' || typeof bindingModule.binding?.InferenceSession !== 'function') {
      throw new Error('onnxruntime-node does not expose Tensor and the session binding');
    }
    bindingModule.initOrt();
  } catch (error) {
    throw new NativeGemmUnavailableError(`loadNativeGemm: onnxruntime-node could not be loaded (${(error as Error).message}); ${INSTALL_HINT}`);
  }

  const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  const newSession = (type: 'float64' | 'float32', transA: boolean, transB: boolean, alpha: number, beta: number): OrtSession => {
    const session = new bindingModule.binding.InferenceSession();
    const bytes = gemmModelBytes(type, transA, transB, { alpha, beta });
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, sessionOptions);
    return session;
  };
  // One session per element type and transpose case for Y = op(A) op(B); symbolic dimensions let
  // it serve every shape.
  const plainSessions = new Map<number, OrtSession>();
  const plainSession = (type: 'float64' | 'float32', transA: boolean, transB: boolean): OrtSession => {
    const id = (type === 'float64' ? 4 : 0) + (transA ? 2 : 0) + (transB ? 1 : 0);
    let session = plainSessions.get(id);
    if (!session) {
      session = newSession(type, transA, transB, 1, 0);
      plainSessions.set(id, session);
    }
    return session;
  };
  // Sessions with α and β built in (α, β are ONNX attributes), so C ← α op(A) op(B) + β C runs in
  // place inside the kernel instead of as a JavaScript pass over C. Built from the second call
  // with the same scalars (a schedule that changes α every step never pays for a session), and
  // at most SCALED_SESSIONS of them, least recently used first out.
  const scaledSessions = new Map<string, OrtSession>();
  const scaledSightings = new Map<string, number>();
  const scaledSession = (type: 'float64' | 'float32', transA: boolean, transB: boolean, alpha: number, beta: number): OrtSession | null => {
    // ONNX attributes are float32: a float64 product takes them only when no rounding happens.
    if (type === 'float64' && (Math.fround(alpha) !== alpha || Math.fround(beta) !== beta)) return null;
    const id = `${type} ${transA} ${transB} ${alpha} ${beta}`;
    const session = scaledSessions.get(id);
    if (session) {
      scaledSessions.delete(id);
      scaledSessions.set(id, session);
      return session;
    }
    const seen = (scaledSightings.get(id) ?? 0) + 1;
    if (scaledSightings.size >= 4 * SCALED_SESSIONS) scaledSightings.clear();
    scaledSightings.set(id, seen);
    if (seen < 2) return null;
    if (scaledSessions.size >= SCALED_SESSIONS) {
      const [oldest, old] = scaledSessions.entries().next().value as [string, OrtSession];
      old.dispose();
      scaledSessions.delete(oldest);
    }
    const created = newSession(type, transA, transB, alpha, beta);
    scaledSessions.set(id, created);
    return created;
  };
  let scratchY64 = new Float64Array(0);
  let scratchY32 = new Float32Array(0);
  let scratchA = new Float32Array(0);
  let scratchB = new Float32Array(0);
  const emptyRun = {};

  /**
   * C ← α op(A) op(B) + β C with A, B and C (m×n) already in the element type `type`: in place
   * in C by a session with α and β built in when there is one, else Y = op(A) op(B) into scratch
   * and the α, β epilogue in JavaScript.
   */
  const runNative = <T extends Float32Array | Float64Array>(
    type: 'float64' | 'float32',
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    dataA: T,
    dataB: T,
    beta: number,
    c: T,
  ): void => {
    const A = new Tensor(type, dataA, transA ? [k, m] : [m, k]);
    const B = new Tensor(type, dataB, transB ? [n, k] : [k, n]);
    const plain = alpha === 1 && beta === 0;
    const session = plain ? plainSession(type, transA, transB) : scaledSession(type, transA, transB, alpha, beta);
    if (session) {
      // ONNX Runtime copies C into Y before accumulating, so Y may be C itself.
      const Y = new Tensor(type, c, [m, n]);
      session.run(beta === 0 ? { A, B } : { A, B, C: Y }, { Y }, emptyRun);
      return;
    }
    const size = m * n;
    let y: Float32Array | Float64Array;
    if (type === 'float64') {
      if (scratchY64.length < size) scratchY64 = new Float64Array(size);
      y = scratchY64.subarray(0, size);
    } else {
      if (scratchY32.length < size) scratchY32 = new Float32Array(size);
      y = scratchY32.subarray(0, size);
    }
    plainSession(type, transA, transB).run({ A, B }, { Y: new Tensor(type, y, [m, n]) }, emptyRun);
    if (beta === 0) for (let i = 0; i < size; i++) c[i] = alpha * y[i];
    else if (beta === 1) for (let i = 0; i < size; i++) c[i] += alpha * y[i];
    else for (let i = 0; i < size; i++) c[i] = beta * c[i] + alpha * y[i];
  };

  const native: GemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    checkGemmShapes('nativeGemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
    if (alpha === 0 || k === 0 || m === 0 || n === 0) {
      scaleC(beta, c, cOffset, m * n);
      return;
    }
    const size = m * n;
    if (precision === 'float64') {
      runNative('float64', transA, transB, m, n, k, alpha, a.subarray(aOffset, aOffset + m * k), b.subarray(bOffset, bOffset + k * n), beta, c.subarray(cOffset, cOffset + size));
      return;
    }
    // Float64 buffers in single precision: A and B rounded into scratch, Y widened into C.
    if (scratchA.length < m * k) scratchA = new Float32Array(m * k);
    if (scratchB.length < k * n) scratchB = new Float32Array(k * n);
    if (scratchY32.length < size) scratchY32 = new Float32Array(size);
    const dataA = scratchA.subarray(0, m * k);
    dataA.set(a.subarray(aOffset, aOffset + m * k));
    const dataB = scratchB.subarray(0, k * n);
    dataB.set(b.subarray(bOffset, bOffset + k * n));
    const y = scratchY32.subarray(0, size);
    plainSession('float32', transA, transB).run(
      { A: new Tensor('float32', dataA, transA ? [k, m] : [m, k]), B: new Tensor('float32', dataB, transB ? [n, k] : [k, n]) },
      { Y: new Tensor('float32', y, [m, n]) },
      emptyRun,
    );
    if (beta === 0) for (let i = 0; i < size; i++) c[cOffset + i] = alpha * y[i];
    else if (beta === 1) for (let i = 0; i < size; i++) c[cOffset + i] += alpha * y[i];
    else for (let i = 0; i < size; i++) c[cOffset + i] = beta * c[cOffset + i] + alpha * y[i];
  };

  // Float32 buffers go to ONNX Runtime as they are: views of A, B and C, with no conversion.
  const nativeSgemm: SgemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) => {
    checkGemmShapes('nativeSgemm', m, n, k, a, aOffset, b, bOffset, c, cOffset);
    if (alpha === 0 || k === 0 || m === 0 || n === 0) {
      sgemmLoops(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
      return;
    }
    runNative('float32', transA, transB, m, n, k, alpha, a.subarray(aOffset, aOffset + m * k), b.subarray(bOffset, bOffset + k * n), beta, c.subarray(cOffset, cOffset + m * n));
  };

  const gemm: GemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) =>
    (m * n * k >= minWork ? native : small)(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);
  const sgemm: SgemmFunction = (transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset) =>
    (m * n * k >= minWork32 ? nativeSgemm : smallSgemm)(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset);

  return {
    name: `onnxruntime-${precision}-${threads}t`,
    precision,
    gemm,
    sgemm,
    dispose() {
      for (const session of [...plainSessions.values(), ...scaledSessions.values()]) session.dispose();
      plainSessions.clear();
      scaledSessions.clear();
      scaledSightings.clear();
    },
  };
}
