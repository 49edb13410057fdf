/**
 * Float64 tensors and the tape of reverse-mode automatic differentiation.
 *
 * Each evaluation records the operations that depend on its input variables on a fresh tape;
 * `backward` then walks the tape in reverse, each node adding its contribution to its inputs'
 * gradients (Griewank & Walther 2008, "Evaluating Derivatives", ch. 3). Tensors created outside
 * the active tape are constants: operations on constants only compute values, so data-only work
 * costs nothing in the backward pass.
 */
import {
  AutodiffError,
  ShapeError,
  addReducedTo,
  broadcastShapes,
  checkShape,
  expandTo,
  formatShape,
  sameShape,
  sizeOf,
  type Shape,
} from './shape.js';

/** The operations recorded during one evaluation, in execution order. */
export class Tape {
  readonly nodes: Tensor[] = [];
}

let activeTape: Tape | null = null;

/**
 * Values that are whole rows of another buffer: row r is `source[rows[r] * rowLength …+ rowLength]`.
 * `gather` returns such a view so that `matmul` can read the rows in place instead of copying them.
 */
export interface RowView {
  readonly source: Float64Array;
  readonly rows: Int32Array;
  readonly rowLength: number;
}

const NO_VALUES = new Float64Array(0);

/** A row-major float64 tensor; on a tape it also carries the gradient of the output with respect to it. */
export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  /** The values, or null while they are only a row view (copied on first read of `data`). */
  private values: Float64Array | null;
  /** Set while the values are rows of another buffer that no one has needed as a copy yet. */
  rowView: RowView | null;
  /** ∂output/∂this, filled by the backward pass (null until something flows into it). */
  grad: Float64Array | null = null;
  /** The tape this tensor belongs to; null for constants. */
  tape: Tape | null = null;
  /** Adds this node's gradient into its inputs' gradients. */
  backwardFn: (() => void) | null = null;

  /**
   * Wraps `data` without copying or checking (use `tensor()` for checked construction). With
   * `rows` (internal, for `gather`), the values are that row view and `data` is ignored.
   */
  constructor(data: Float64Array, shape: Shape, rows: RowView | null = null) {
    this.shape = shape;
    this.rowView = rows;
    this.values = rows === null ? data : null;
    this.size = rows === null ? data.length : rows.rows.length * rows.rowLength;
  }

  /** The row-major values (a row view is copied out on first read). */
  get data(): Float64Array {
    const v = this.values;
    return v !== null ? v : this.materialize();
  }

  private materialize(): Float64Array {
    const { source, rows, rowLength } = this.rowView as RowView;
    const out = allocUninit(this.size);
    for (let r = 0; r < rows.length; r++) {
      const src = rows[r] * rowLength;
      out.set(source.subarray(src, src + rowLength), r * rowLength);
    }
    this.values = out;
    this.rowView = null;
    return out;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ShapeError(`item(): tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    }
    return this.data[0];
  }

  /** The values as a plain array (row-major, flat). */
  toArray(): number[] {
    return Array.from(this.data);
  }
}

/** A tensor or a plain number (a scalar constant). */
export type TensorLike = Tensor | number;

type NestedArray = number | readonly NestedArray[];

function inferShape(x: NestedArray, where: string): number[] {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (shape.length > 0 && typeof cur !== 'number' && !Array.isArray(cur)) {
    throw new AutodiffError(`${where}: nested arrays must hold numbers`);
  }
  return shape;
}

function flatten(x: NestedArray, shape: number[], depth: number, out: number[], where: string): void {
  if (depth === shape.length) {
    if (typeof x !== 'number') throw new ShapeError(`${where}: ragged nested array (expected a number at depth ${depth})`);
    out.push(x);
    return;
  }
  if (!Array.isArray(x) || x.length !== shape[depth]) {
    throw new ShapeError(`${where}: ragged nested array (expected length ${shape[depth]} at depth ${depth})`);
  }
  for (const el of x) flatten(el, shape, depth + 1, out, where);
}

/**
 * A constant tensor from a number, a (nested) array or a Float64Array (not copied) and an
 * optional shape (default: inferred from nesting, or 1-D for a typed array).
 */
export function tensor(values: NestedArray | Float64Array | ArrayLike<number>, shape?: Shape): Tensor {
  let data: Float64Array;
  let inferred: number[];
  if (values instanceof Float64Array) {
    data = values;
    inferred = [values.length];
  } else if (typeof values === 'number') {
    data = Float64Array.of(values);
    inferred = [];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values as NestedArray, 'tensor()');
    const flat: number[] = [];
    flatten(values as NestedArray, inferred, 0, flat, 'tensor()');
    data = Float64Array.from(flat);
  } else {
    data = Float64Array.from(values as ArrayLike<number>);
    inferred = [data.length];
  }
  const finalShape = shape ?? inferred;
  checkShape(finalShape, 'tensor()');
  if (sizeOf(finalShape) !== data.length) {
    throw new ShapeError(`tensor(): ${data.length} values do not fill shape ${formatShape(finalShape)}`);
  }
  return new Tensor(data, finalShape.slice());
}

/** A scalar constant. */
export function scalar(value: number): Tensor {
  return new Tensor(Float64Array.of(value), []);
}

/** A constant tensor of zeros. */
export function zeros(shape: Shape): Tensor {
  checkShape(shape, 'zeros()');
  return new Tensor(new Float64Array(sizeOf(shape)), shape.slice());
}

/** A constant tensor filled with `value`. */
export function full(shape: Shape, value: number): Tensor {
  checkShape(shape, 'full()');
  return new Tensor(new Float64Array(sizeOf(shape)).fill(value), shape.slice());
}

const scalarShape: Shape = Object.freeze([]) as Shape;

/** A tensor from a TensorLike (numbers become scalar constants). */
export function asTensor(x: TensorLike): Tensor {
  if (typeof x === 'number') {
    const value = allocUninit(1);
    value[0] = x;
    return new Tensor(value, scalarShape);
  }
  if (!(x instanceof Tensor)) throw new AutodiffError(`expected a Tensor or a number, got ${String(x)}`);
  return x;
}

/** Whether `t` depends on the variables of the active tape (its gradient is needed). */
export function isTracked(t: Tensor): boolean {
  return t.tape !== null && t.tape === activeTape;
}

/** Record `out` on the active tape with the closure that propagates its gradient. */
export function record(out: Tensor, backwardFn: () => void): Tensor {
  out.tape = activeTape;
  out.backwardFn = backwardFn;
  (activeTape as Tape).nodes.push(out);
  return out;
}

// Buffers of op outputs and gradients come from an arena while a tape is active: V8 gives typed
// arrays over 64 bytes an off-heap store (~1 µs each, plus page faults on fresh memory), whereas
// arena views reuse the same warm memory every evaluation. `endTape` rewinds the arena, so tensors
// made during an evaluation must not be kept after it (values and gradients returned are copies).
// A tape begun with a BufferPool goes further: its k-th allocation reuses the pool's k-th buffer
// when the length matches, so an evaluation that repeats the previous one creates no typed arrays.
const SMALL = 8;
const CHUNK = 1 << 16;
const ARENA_MAX = CHUNK >> 1;
const arenaChunks: Float64Array[] = [];
let arenaChunk = 0;
let arenaOffset = 0;

/**
 * Buffers kept from one evaluation to the next of the same function: the k-th allocation of an
 * evaluation gets the k-th buffer again when its length matches (a new one otherwise). Give each
 * function that is evaluated repeatedly its own pool (see `beginTape`).
 */
export class BufferPool {
  /** The buffers, in allocation order of the last evaluation. */
  readonly buffers: Float64Array[] = [];
  /** Index copies, likewise. */
  readonly indexBuffers: Int32Array[] = [];
  /** Whether a tape is using the pool (a pool cannot serve two live tapes). */
  inUse = false;
  /** Buffers of longer length are not kept. */
  static readonly maxLength = 1 << 16;
}

let activePool: BufferPool | null = null;
let poolNext = 0;
let poolIndexNext = 0;

function fromPool(pool: BufferPool, n: number): Float64Array {
  const k = poolNext++;
  const buffers = pool.buffers;
  if (k < buffers.length) {
    const kept = buffers[k];
    if (kept.length === n) return kept;
    return (buffers[k] = new Float64Array(n));
  }
  const fresh = new Float64Array(n);
  buffers.push(fresh);
  return fresh;
}

function fromArena(n: number): Float64Array {
  if (arenaOffset + n > CHUNK) {
    arenaChunk++;
    arenaOffset = 0;
  }
  if (arenaChunk === arenaChunks.length) arenaChunks.push(new Float64Array(CHUNK));
  const out = arenaChunks[arenaChunk].subarray(arenaOffset, arenaOffset + n);
  arenaOffset += n;
  return out;
}

/**
 * A zeroed buffer of `n` doubles for an op's output or gradient: from the tape's pool or the arena
 * while a tape is active (valid until that tape ends), otherwise a fresh array.
 */
export function alloc(n: number): Float64Array {
  if (activeTape === null) return new Float64Array(n);
  if (activePool !== null && n <= BufferPool.maxLength) {
    const out = fromPool(activePool, n);
    // A loop beats the fill builtin's call overhead for the short buffers that dominate here.
    if (n < 64) for (let i = 0; i < n; i++) out[i] = 0;
    else out.fill(0);
    return out;
  }
  if (n <= SMALL || n > ARENA_MAX) return new Float64Array(n);
  return fromArena(n).fill(0);
}

/**
 * Like `alloc`, but the contents are unspecified (stale values): for outputs whose every element
 * the caller writes, so a large copy does not pay for zeroing first.
 */
export function allocUninit(n: number): Float64Array {
  if (activeTape === null) return new Float64Array(n);
  if (activePool !== null && n <= BufferPool.maxLength) return fromPool(activePool, n);
  if (n <= SMALL || n > ARENA_MAX) return new Float64Array(n);
  return fromArena(n);
}

// Index copies (gather keeps its indices until the backward pass) get a small arena of their own.
const INDEX_CHUNK = 1 << 14;
const indexChunks: Int32Array[] = [];
let indexChunk = 0;
let indexOffset = 0;

/**
 * A copy of `indices` that stays valid while the active tape lives (the caller may reuse its
 * buffer before the backward pass): from the pool or an arena while a tape is active, otherwise
 * a fresh array.
 */
export function copyIndices(indices: Int32Array): Int32Array {
  const n = indices.length;
  if (activeTape !== null && activePool !== null && n <= BufferPool.maxLength) {
    const k = poolIndexNext++;
    const kept = activePool.indexBuffers;
    let out: Int32Array;
    if (k < kept.length && kept[k].length === n) out = kept[k];
    else {
      out = new Int32Array(n);
      if (k < kept.length) kept[k] = out;
      else kept.push(out);
    }
    out.set(indices);
    return out;
  }
  if (n <= 16 || n > INDEX_CHUNK >> 1 || activeTape === null) return indices.slice();
  if (indexOffset + n > INDEX_CHUNK) {
    indexChunk++;
    indexOffset = 0;
  }
  if (indexChunk === indexChunks.length) indexChunks.push(new Int32Array(INDEX_CHUNK));
  const out = indexChunks[indexChunk].subarray(indexOffset, indexOffset + n);
  indexOffset += n;
  out.set(indices);
  return out;
}

/**
 * A tensor of `shape` whose values are rows of `source` (row r at `rows[r] * rowLength`), read in
 * place by ops that understand row views and copied out by the others. `rows` must stay unchanged
 * while the tensor lives (pass a copy).
 */
export function rowViewTensor(source: Float64Array, rows: Int32Array, rowLength: number, shape: Shape): Tensor {
  return new Tensor(NO_VALUES, shape, { source, rows, rowLength });
}

/** Release the arena's memory (it regrows on demand); only call when no tape is active. */
export function releaseArena(): void {
  if (activeTape !== null) throw new AutodiffError('releaseArena(): a tape is active');
  arenaChunks.length = 0;
  arenaChunk = 0;
  arenaOffset = 0;
  indexChunks.length = 0;
  indexChunk = 0;
  indexOffset = 0;
}

/** The gradient buffer of `t`, allocated (zeros) on first use. */
export function gradOf(t: Tensor): Float64Array {
  return t.grad ?? (t.grad = alloc(t.size));
}

/** A copy of `x` that is a constant: gradients do not flow through it. */
export function stopGradient(x: Tensor): Tensor {
  return new Tensor(x.data, x.shape);
}

/** What `endTape` needs to restore: the previous tape, its pool position and the arena positions. */
export interface TapeScope {
  readonly tape: Tape;
  readonly previous: Tape | null;
  readonly pool: BufferPool | null;
  readonly previousPool: BufferPool | null;
  readonly poolNext: number;
  readonly poolIndexNext: number;
  readonly arenaChunk: number;
  readonly arenaOffset: number;
  readonly indexChunk: number;
  readonly indexOffset: number;
}

/**
 * Start recording on a new tape; pass the result to `endTape` (in a `finally`). With a `pool`,
 * the tape's buffers are the pool's, reused from its previous evaluation (the pool must not be
 * in use by a live tape); without one they come from the shared arena.
 */
export function beginTape(pool: BufferPool | null = null): TapeScope {
  if (pool !== null) {
    if (pool.inUse) throw new AutodiffError('beginTape(): the buffer pool is already in use by a live tape');
    pool.inUse = true;
  }
  const scope: TapeScope = {
    tape: new Tape(),
    previous: activeTape,
    pool,
    previousPool: activePool,
    poolNext,
    poolIndexNext,
    arenaChunk,
    arenaOffset,
    indexChunk,
    indexOffset,
  };
  activeTape = scope.tape;
  // Without a pool of its own a nested tape takes from the arena, leaving the outer pool alone.
  activePool = pool;
  poolNext = 0;
  poolIndexNext = 0;
  return scope;
}

/** Stop recording, restore the previous tape and rewind the arenas: the tape's tensors are dead. */
export function endTape(scope: TapeScope): void {
  activeTape = scope.previous;
  if (scope.pool !== null) scope.pool.inUse = false;
  activePool = scope.previousPool;
  poolNext = scope.poolNext;
  poolIndexNext = scope.poolIndexNext;
  arenaChunk = scope.arenaChunk;
  arenaOffset = scope.arenaOffset;
  indexChunk = scope.indexChunk;
  indexOffset = scope.indexOffset;
}

/** Whether a tape is recording (ops then return arena-backed tensors that die with it). */
export function tapeActive(): boolean {
  return activeTape !== null;
}

/**
 * A differentiable variable on the active tape over `data` (not copied); its gradient accumulates
 * into `grad` (zeros on entry, not cleared here).
 */
export function variable(data: Float64Array, shape: Shape, grad: Float64Array): Tensor {
  if (activeTape === null) throw new AutodiffError('variable(): no active tape (use valueAndGrad)');
  const t = new Tensor(data, shape);
  t.tape = activeTape;
  t.grad = grad;
  return t;
}

/** Propagate d output/d output = 1 backwards through the tape. `output` must be a scalar. */
export function backward(tape: Tape, output: Tensor): void {
  if (output.size !== 1) {
    throw new ShapeError(`backward(): the output must be a scalar, got shape ${formatShape(output.shape)}`);
  }
  if (output.tape !== tape) return;
  gradOf(output)[0] += 1;
  const nodes = tape.nodes;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.grad !== null && node.backwardFn !== null) node.backwardFn();
  }
}

/**
 * Value and gradients of a scalar function of tensors: `f` receives variables with the inputs'
 * values and shapes; the gradients come back in input order. Tensors created inside `f` live in
 * a scratch arena that is reused after the call: do not keep them.
 */
export function valueAndGrad(
  f: (...xs: Tensor[]) => TensorLike,
  inputs: readonly Tensor[],
): { value: number; grads: Float64Array[] } {
  const scope = beginTape();
  const tape = scope.tape;
  try {
    const grads = inputs.map((x) => new Float64Array(x.size));
    const vars = inputs.map((x, i) => variable(x.data, x.shape, grads[i]));
    const out = asTensor(f(...vars));
    if (out.size !== 1) {
      throw new ShapeError(`valueAndGrad(): f must return a scalar, got shape ${formatShape(out.shape)}`);
    }
    backward(tape, out);
    return { value: out.data[0], grads };
  } finally {
    endTape(scope);
  }
}

/**
 * How an elementwise op reads its inputs: every input is read as `data[i * stride]` over the
 * broadcast output, with stride 1 (same shape, or materialised broadcast) or 0 (one element).
 */
export interface BroadcastPlan {
  readonly shape: Shape;
  readonly n: number;
  readonly data: Float64Array[];
  readonly strides: (0 | 1)[];
  readonly expanded: boolean[];
}

function planOf(inputs: readonly Tensor[], op: string): BroadcastPlan {
  const count = inputs.length;
  const first = inputs[0].shape;
  let allSame = true;
  for (let k = 1; k < count; k++) if (!sameShape(inputs[k].shape, first)) allSame = false;
  // Plain loops fill the plan (no per-op closures): this runs once per elementwise op.
  const data = new Array<Float64Array>(count);
  const strides = new Array<0 | 1>(count);
  const expanded = new Array<boolean>(count);
  if (allSame) {
    for (let k = 0; k < count; k++) {
      data[k] = inputs[k].data;
      strides[k] = 1;
      expanded[k] = false;
    }
    return { shape: first, n: inputs[0].size, data, strides, expanded };
  }
  // Fast path: every input has the largest input's shape or is a single element of no higher rank.
  let largest = inputs[0];
  for (let k = 1; k < count; k++) if (inputs[k].size > largest.size) largest = inputs[k];
  let simple = true;
  for (let k = 0; k < count; k++) {
    const t = inputs[k];
    if (t.size === 1 ? t.shape.length > largest.shape.length : !sameShape(t.shape, largest.shape)) simple = false;
  }
  const shape = simple ? largest.shape : broadcastShapes(inputs.map((t) => t.shape), op);
  for (let k = 0; k < count; k++) {
    const t = inputs[k];
    if (t.size === 1) {
      data[k] = t.data;
      strides[k] = 0;
      expanded[k] = false;
    } else if (sameShape(t.shape, shape)) {
      data[k] = t.data;
      strides[k] = 1;
      expanded[k] = false;
    } else {
      data[k] = expandTo(t.data, t.shape, shape);
      strides[k] = 1;
      expanded[k] = true;
    }
  }
  return { shape, n: sizeOf(shape), data, strides, expanded };
}

/** The broadcast plan of an elementwise op over `inputs`; `op` names the op in shape errors. */
export function planBroadcast(inputs: readonly Tensor[], op: string): BroadcastPlan {
  return planOf(inputs, op);
}

/**
 * Where input `k`'s gradient is written during an elementwise backward pass: its own gradient
 * buffer (read with the plan's stride), or a temporary of the output's size for materialised
 * broadcasts, which `flushGradSink` reduces back.
 */
export function gradSink(plan: BroadcastPlan, k: number, input: Tensor): Float64Array {
  return plan.expanded[k] ? alloc(plan.n) : gradOf(input);
}

/** Finish a gradient sink: sum a materialised broadcast's temporary back into the input's gradient. */
export function flushGradSink(plan: BroadcastPlan, k: number, input: Tensor, sink: Float64Array): void {
  if (plan.expanded[k]) addReducedTo(sink, plan.shape, input.shape, gradOf(input));
}
