/**
 * Source of the WebAssembly matrix-multiply engine (src/nn/gemm-wasm.ts): this generator prints the
 * module's WebAssembly text, which `wasm/build.ts` assembles with wabt into src/nn/wasm/gemm-module.ts.
 *
 * Why hand-written WAT from a generator rather than AssemblyScript or Emscripten: the whole speed is
 * in one register-blocked micro-kernel, and in WAT every v128 accumulator, load and splat is written
 * out, so what V8 compiles is exactly what was designed (no compiler's unrolling or spills to second-
 * guess); the generator only unrolls the MR×NR tile, which by hand would be error-prone. The only
 * toolchain is the `wabt` npm package (the WebAssembly group's assembler, compiled to JS), needed
 * solely to regenerate the module; the built bytes ship as base64, so users need nothing.
 *
 * Scheme: GotoBLAS/BLIS (Goto & van de Geijn 2008, "Anatomy of high-performance matrix
 * multiplication", ACM TOMS 34(3)). C is updated in KC-deep slices; each slice of op(B) is packed
 * into NR-column panels and each MC×KC block of op(A) into MR-row panels (any transpose case then
 * reads contiguous memory), and an MR×NR micro-kernel keeps its sums in v128 registers for the
 * whole slice. f64 tiles are 4×4 (8 f64x2 accumulators); f32 tiles 4×8 (8 f32x4 accumulators).
 * Three exports share them: gemm_f64 (float64 throughout), gemm_f32 (Float64Array matrices rounded
 * to f32 while packing; each slice's f32 sums widened to f64 as they are added into C) and
 * sgemm_f32 (Float32Array matrices, float32 throughout). Without fused multiply-add in simd128, each
 * update needs a temporary, so 8 accumulators + 2 B vectors + splats fill x64's 16 xmm registers;
 * 6×4, 8×4 and 4×6 tiles measured 30–40% slower under V8 (spills).
 */

/** Register and cache blocking of one precision. */
export interface GemmBlocking {
  /** Rows of a micro-tile (rows of C per A panel). */
  readonly mr: number;
  /** Columns of a micro-tile (columns of C per B panel); a multiple of the vector width. */
  readonly nr: number;
  /** Rows of C per packed block of A. */
  readonly mc: number;
  /** Depth of a packed slice. */
  readonly kc: number;
  /** Columns of C per packed block of B. */
  readonly nc: number;
}

/** Blocking of the float64 kernels: an MC×KC block of A (128 KiB) stays in L2 beside B's KC×NR panel. */
export const BLOCKING_F64: GemmBlocking = { mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024 };
/** Blocking of the float32 kernels (single-precision panels, so twice the depth fits). */
export const BLOCKING_F32: GemmBlocking = { mr: 4, nr: 8, mc: 64, kc: 512, nc: 1024 };

type Precision = 'f64' | 'f32';

const bytesOf = (p: Precision): number => (p === 'f64' ? 8 : 4);
const lanesOf = (p: Precision): number => (p === 'f64' ? 2 : 4);

/**
 * Packs R-wide panels of a strided source (element type `io`) into `out` (element type `p`): for panel i0 and depth
 * p the R values src[(i0 + r)·si + p·sp] are stored consecutively; rows past `count` are zeros.
 * Strides are in bytes, so one function serves both transposes of A and of B. `width` is even.
 */
function packFunction(p: Precision, io: Precision, width: number): string {
  const e = bytesOf(p);
  const ioBytes = bytesOf(io);
  const store = (offset: number, value: string): string => `(${p}.store offset=${offset} (local.get $out) ${value})`;
  const convert = (value: string): string => (p === io ? value : `(f32.demote_f64 ${value})`);
  const load = `(${io}.load (local.get $t))`;
  const scalarRow: string[] = [];
  for (let r = 0; r < width; r++) {
    scalarRow.push(store(r * e, convert(load)));
    if (r + 1 < width) scalarRow.push('(local.set $t (i32.add (local.get $t) (local.get $si)))');
  }
  // Contiguous rows (si = one element) are copied a vector at a time.
  const vectorRow: string[] = [];
  if (p === io) {
    const perVector = 16 / e;
    let r = 0;
    for (; r + perVector <= width; r += perVector) vectorRow.push(`(v128.store offset=${r * e} (local.get $out) (v128.load offset=${r * e} (local.get $s)))`);
    if (r < width) vectorRow.push(`(v128.store64_lane offset=${r * e} 0 (local.get $out) (v128.load64_zero offset=${r * e} (local.get $s)))`);
  } else {
    let r = 0;
    for (; r + 4 <= width; r += 4) {
      const lo = `(f32x4.demote_f64x2_zero (v128.load offset=${r * 8} (local.get $s)))`;
      const hi = `(f32x4.demote_f64x2_zero (v128.load offset=${r * 8 + 16} (local.get $s)))`;
      vectorRow.push(`(v128.store offset=${r * 4} (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${lo} ${hi}))`);
    }
    if (r < width) vectorRow.push(`(v128.store64_lane offset=${r * 4} 0 (local.get $out) (f32x4.demote_f64x2_zero (v128.load offset=${r * 8} (local.get $s))))`);
  }
  const zero = p === 'f64' ? '(f64.const 0)' : '(f32.const 0)';
  return `
  (func $pack_${io}_${p}_${width} (param $src i32) (param $si i32) (param $sp i32) (param $count i32) (param $kb i32) (param $out i32)
    (local $i0 i32) (local $s i32) (local $t i32) (local $q i32) (local $r i32)
    (block $fullDone
      (loop $panels
        (br_if $fullDone (i32.gt_u (i32.add (local.get $i0) (i32.const ${width})) (local.get $count)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $i0) (local.get $si))))
        (local.set $q (local.get $kb))
        (if (i32.eq (local.get $si) (i32.const ${ioBytes}))
          (then
            (loop $depthV
              ${vectorRow.join('\n              ')}
              (local.set $out (i32.add (local.get $out) (i32.const ${width * e})))
              (local.set $s (i32.add (local.get $s) (local.get $sp)))
              (br_if $depthV (local.tee $q (i32.sub (local.get $q) (i32.const 1))))))
          (else
            (loop $depth
              (local.set $t (local.get $s))
              ${scalarRow.join('\n              ')}
              (local.set $out (i32.add (local.get $out) (i32.const ${width * e})))
              (local.set $s (i32.add (local.get $s) (local.get $sp)))
              (br_if $depth (local.tee $q (i32.sub (local.get $q) (i32.const 1)))))))
        (local.set $i0 (i32.add (local.get $i0) (i32.const ${width})))
        (br $panels)))
    ;; The last, partial panel: rows past count are zero.
    (if (i32.lt_u (local.get $i0) (local.get $count))
      (then
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $i0) (local.get $si))))
        (local.set $q (local.get $kb))
        (loop $depthP
          (local.set $t (local.get $s))
          (local.set $r (i32.const 0))
          (loop $rows
            (${p}.store (i32.add (local.get $out) (i32.mul (local.get $r) (i32.const ${e})))
              (if (result ${p}) (i32.lt_u (i32.add (local.get $i0) (local.get $r)) (local.get $count))
                (then ${convert(load)})
                (else ${zero})))
            (local.set $t (i32.add (local.get $t) (local.get $si)))
            (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const ${width}))))
          (local.set $out (i32.add (local.get $out) (i32.const ${width * e})))
          (local.set $s (i32.add (local.get $s) (local.get $sp)))
          (br_if $depthP (local.tee $q (i32.sub (local.get $q) (i32.const 1)))))))
  )`;
}

/**
 * The MR×NR micro-kernel: acc = Σ_p A[:, p] B[p, :] over the packed panels (in `p`), then
 * C ← α acc + β C (β = 0: C ← α acc without reading C), C row-major `io` with row stride ldc bytes.
 */
function kernelFunction(p: Precision, io: Precision, { mr, nr }: GemmBlocking): string {
  const lanes = lanesOf(p);
  const e = bytesOf(p);
  const vecs = nr / lanes;
  const acc = (i: number, j: number): string => `$c${i}_${j}`;
  const locals: string[] = [];
  for (let i = 0; i < mr; i++) for (let j = 0; j < vecs; j++) locals.push(`(local ${acc(i, j)} v128)`);
  for (let j = 0; j < vecs; j++) locals.push(`(local $b${j} v128)`);
  // One depth step s past the panel pointers: acc[i][j] += A[p+s, i] · B[p+s, j-th vector].
  const step = (s: number): string[] => {
    const out: string[] = [];
    for (let j = 0; j < vecs; j++) out.push(`(local.set $b${j} (v128.load offset=${s * nr * e + 16 * j} (local.get $pb)))`);
    for (let i = 0; i < mr; i++) {
      out.push(`(local.set $a (v128.load${e * 8}_splat offset=${s * mr * e + i * e} (local.get $pa)))`);
      for (let j = 0; j < vecs; j++) {
        out.push(`(local.set ${acc(i, j)} (${p}x${lanes}.add (local.get ${acc(i, j)}) (${p}x${lanes}.mul (local.get $a) (local.get $b${j}))))`);
      }
    }
    return out;
  };
  const advance = (steps: number): string =>
    `(local.set $pa (i32.add (local.get $pa) (i32.const ${steps * mr * e}))) (local.set $pb (i32.add (local.get $pb) (i32.const ${steps * nr * e})))`;
  // Not unrolled: 2× and 4× unrolling measured slower under V8 (its register allocator spills).
  const depthLoop = `(loop $depth
      ${step(0).join('\n      ')}
      ${advance(1)}
      (br_if $depth (local.tee $kb (i32.sub (local.get $kb) (i32.const 1)))))`;
  // Each accumulator becomes one (f64) or two (f32, widened) f64x2 values of C, at byte offsets in the row.
  const pieces = (i: number, j: number): [number, string][] => {
    if (p === io) return [[16 * j, `(local.get ${acc(i, j)})`]];
    const v = `(local.get ${acc(i, j)})`;
    return [
      [32 * j, `(f64x2.promote_low_f32x4 ${v})`],
      [32 * j + 16, `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v}))`],
    ];
  };
  const ioOps = io === 'f64' ? 'f64x2' : 'f32x4';
  const splat = (v: string): string => (io === 'f64' ? `(f64x2.splat ${v})` : `(f32x4.splat (f32.demote_f64 ${v}))`);
  const overwrite: string[] = [];
  const update: string[] = [];
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < vecs; j++) {
      for (const [offset, value] of pieces(i, j)) {
        overwrite.push(`(v128.store offset=${offset} (local.get $row) (${ioOps}.mul (local.get $alphaV) ${value}))`);
        update.push(
          `(v128.store offset=${offset} (local.get $row) (${ioOps}.add (${ioOps}.mul (local.get $betaV) (v128.load offset=${offset} (local.get $row))) (${ioOps}.mul (local.get $alphaV) ${value})))`,
        );
      }
    }
    const next = '(local.set $row (i32.add (local.get $row) (local.get $ldc)))';
    if (i + 1 < mr) {
      overwrite.push(next);
      update.push(next);
    }
  }
  return `
  (func $kernel_${p}_${io} (param $pa i32) (param $pb i32) (param $kb i32) (param $c i32) (param $ldc i32) (param $alpha f64) (param $beta f64)
    (local $a v128) (local $row i32) (local $alphaV v128) (local $betaV v128)
    ${locals.join(' ')}
    ${depthLoop}
    (local.set $row (local.get $c))
    (local.set $alphaV ${splat('(local.get $alpha)')})
    (if (f64.eq (local.get $beta) (f64.const 0))
      (then
        ${overwrite.join('\n        ')})
      (else
        (local.set $betaV ${splat('(local.get $beta)')})
        ${update.join('\n        ')}))
  )`;
}

/** C[rows×cols at c, row stride ldc bytes] ← α tile + β C in `io` arithmetic, the tile dense with row stride tileStride bytes. */
function edgeFunction(io: Precision): string {
  const e = bytesOf(io);
  const scalar = (v: string): string => (io === 'f64' ? v : `(f32.demote_f64 ${v})`);
  return `
  (func $edge_${io} (param $tile i32) (param $tileStride i32) (param $c i32) (param $ldc i32) (param $rows i32) (param $cols i32) (param $alpha f64) (param $beta f64)
    (local $i i32) (local $j i32) (local $dst i32) (local $src i32) (local $alphaS ${io}) (local $betaS ${io})
    (local.set $alphaS ${scalar('(local.get $alpha)')})
    (local.set $betaS ${scalar('(local.get $beta)')})
    (loop $rowLoop
      (local.set $dst (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
      (local.set $src (i32.add (local.get $tile) (i32.mul (local.get $i) (local.get $tileStride))))
      (local.set $j (i32.const 0))
      (loop $colLoop
        (${io}.store (local.get $dst)
          (if (result ${io}) (f64.eq (local.get $beta) (f64.const 0))
            (then (${io}.mul (local.get $alphaS) (${io}.load (local.get $src))))
            (else (${io}.add (${io}.mul (local.get $betaS) (${io}.load (local.get $dst))) (${io}.mul (local.get $alphaS) (${io}.load (local.get $src)))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const ${e})))
        (local.set $src (i32.add (local.get $src) (i32.const ${e})))
        (br_if $colLoop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $cols))))
      (br_if $rowLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))
  )`;
}

const min = (a: string, b: string): string => `(select ${a} ${b} (i32.lt_u ${a} ${b}))`;
const roundUp = (v: string, to: number): string => `(i32.and (i32.add ${v} (i32.const ${to - 1})) (i32.const ${-to}))`;

/** One exported routine: the type products are computed in (`compute`) and the element type of the caller's A, B and C (`io`). */
interface Routine {
  readonly name: string;
  readonly compute: Precision;
  readonly io: Precision;
}

/** gemm_f64: float64 throughout; gemm_f32: f64 matrices, products in f32; sgemm_f32: float32 throughout. */
const ROUTINES: readonly Routine[] = [
  { name: 'gemm_f64', compute: 'f64', io: 'f64' },
  { name: 'gemm_f32', compute: 'f32', io: 'f64' },
  { name: 'sgemm_f32', compute: 'f32', io: 'f32' },
];

/**
 * The exported driver: C ← α op(A) op(B) + β C with A, B, C row-major `io` at byte addresses a, b, c;
 * packA, packB, tile are scratch of mc·kc, kc·nc (`compute` elements) and mr·nr (`io` elements).
 * Requires m, n, k ≥ 1; β applies on the first KC slice only.
 */
function driverFunction({ name, compute: p, io }: Routine, blocking: GemmBlocking): string {
  const { mr, nr, mc, kc, nc } = blocking;
  const e = bytesOf(p);
  const ioBytes = bytesOf(io);
  const shift = Math.log2(ioBytes);
  return `
  (func (export "${name}") (param $transA i32) (param $transB i32) (param $m i32) (param $n i32) (param $k i32)
      (param $alpha f64) (param $a i32) (param $b i32) (param $beta f64) (param $c i32) (param $packA i32) (param $packB i32) (param $tile i32)
    (local $jc i32) (local $pc i32) (local $ic i32) (local $jr i32) (local $ir i32)
    (local $nb i32) (local $kb i32) (local $mb i32) (local $nPad i32) (local $mPad i32)
    (local $betaSlice f64) (local $rows i32) (local $cols i32) (local $cTile i32) (local $ldc i32)
    (local.set $ldc (i32.shl (local.get $n) (i32.const ${shift})))
    (loop $jcLoop
      (local.set $nb ${min('(i32.sub (local.get $n) (local.get $jc))', `(i32.const ${nc})`)})
      (local.set $nPad ${roundUp('(local.get $nb)', nr)})
      (local.set $pc (i32.const 0))
      (local.set $betaSlice (local.get $beta))
      (loop $pcLoop
        (local.set $kb ${min('(i32.sub (local.get $k) (local.get $pc))', `(i32.const ${kc})`)})
        ;; op(B)[pc:pc+kb, jc:jc+nb]: B is k×n (element (p, j) at p·n + j) or, transposed, n×k.
        (if (local.get $transB)
          (then (call $pack_${io}_${p}_${nr}
            (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $jc) (local.get $k)) (local.get $pc)) (i32.const ${shift})))
            (i32.shl (local.get $k) (i32.const ${shift})) (i32.const ${ioBytes}) (local.get $nb) (local.get $kb) (local.get $packB)))
          (else (call $pack_${io}_${p}_${nr}
            (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $n)) (local.get $jc)) (i32.const ${shift})))
            (i32.const ${ioBytes}) (local.get $ldc) (local.get $nb) (local.get $kb) (local.get $packB))))
        (local.set $ic (i32.const 0))
        (loop $icLoop
          (local.set $mb ${min('(i32.sub (local.get $m) (local.get $ic))', `(i32.const ${mc})`)})
          (local.set $mPad ${roundUp('(local.get $mb)', mr)})
          ;; op(A)[ic:ic+mb, pc:pc+kb]: A is m×k or, transposed, k×m.
          (if (local.get $transA)
            (then (call $pack_${io}_${p}_${mr}
              (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $m)) (local.get $ic)) (i32.const ${shift})))
              (i32.const ${ioBytes}) (i32.shl (local.get $m) (i32.const ${shift})) (local.get $mb) (local.get $kb) (local.get $packA)))
            (else (call $pack_${io}_${p}_${mr}
              (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $ic) (local.get $k)) (local.get $pc)) (i32.const ${shift})))
              (i32.shl (local.get $k) (i32.const ${shift})) (i32.const ${ioBytes}) (local.get $mb) (local.get $kb) (local.get $packA))))
          (local.set $jr (i32.const 0))
          (loop $jrLoop
            (local.set $cols ${min('(i32.sub (local.get $nb) (local.get $jr))', `(i32.const ${nr})`)})
            (local.set $ir (i32.const 0))
            (loop $irLoop
              (local.set $rows ${min('(i32.sub (local.get $mb) (local.get $ir))', `(i32.const ${mr})`)})
              (local.set $cTile (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $n)) (i32.add (local.get $jc) (local.get $jr))) (i32.const ${shift}))))
              (if (i32.and (i32.eq (local.get $rows) (i32.const ${mr})) (i32.eq (local.get $cols) (i32.const ${nr})))
                (then (call $kernel_${p}_${io}
                  (i32.add (local.get $packA) (i32.mul (local.get $ir) (i32.mul (local.get $kb) (i32.const ${e}))))
                  (i32.add (local.get $packB) (i32.mul (local.get $jr) (i32.mul (local.get $kb) (i32.const ${e}))))
                  (local.get $kb) (local.get $cTile) (local.get $ldc) (local.get $alpha) (local.get $betaSlice)))
                (else
                  ;; A partial tile goes through a dense scratch tile, so the kernel never writes past C's edge.
                  (call $kernel_${p}_${io}
                    (i32.add (local.get $packA) (i32.mul (local.get $ir) (i32.mul (local.get $kb) (i32.const ${e}))))
                    (i32.add (local.get $packB) (i32.mul (local.get $jr) (i32.mul (local.get $kb) (i32.const ${e}))))
                    (local.get $kb) (local.get $tile) (i32.const ${nr * ioBytes}) (f64.const 1) (f64.const 0))
                  (call $edge_${io} (local.get $tile) (i32.const ${nr * ioBytes}) (local.get $cTile) (local.get $ldc) (local.get $rows) (local.get $cols)
                    (local.get $alpha) (local.get $betaSlice))))
              (br_if $irLoop (i32.lt_u (local.tee $ir (i32.add (local.get $ir) (i32.const ${mr}))) (local.get $mPad))))
            (br_if $jrLoop (i32.lt_u (local.tee $jr (i32.add (local.get $jr) (i32.const ${nr}))) (local.get $nPad))))
          (br_if $icLoop (i32.lt_u (local.tee $ic (i32.add (local.get $ic) (i32.const ${mc}))) (local.get $m))))
        (local.set $betaSlice (f64.const 1))
        (br_if $pcLoop (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (i32.const ${kc}))) (local.get $k))))
      (br_if $jcLoop (i32.lt_u (local.tee $jc (i32.add (local.get $jc) (i32.const ${nc}))) (local.get $n))))
  )`;
}

/**
 * The WebAssembly text of the gemm module: exported memory and `gemm_f64`, `gemm_f32`, `sgemm_f32`
 * (other blockings for tuning only).
 */
export function gemmWat(f64: GemmBlocking = BLOCKING_F64, f32: GemmBlocking = BLOCKING_F32): string {
  const blockingOf = (p: Precision): GemmBlocking => (p === 'f64' ? f64 : f32);
  const parts: string[] = [];
  const seen = new Set<string>();
  const once = (id: string, text: () => string): void => {
    if (!seen.has(id)) parts.push(text());
    seen.add(id);
  };
  for (const routine of ROUTINES) {
    const { compute, io } = routine;
    const blocking = blockingOf(compute);
    for (const width of [blocking.mr, blocking.nr]) once(`pack ${io} ${compute} ${width}`, () => packFunction(compute, io, width));
    once(`kernel ${compute} ${io}`, () => kernelFunction(compute, io, blocking));
    once(`edge ${io}`, () => edgeFunction(io));
  }
  for (const routine of ROUTINES) parts.push(driverFunction(routine, blockingOf(routine.compute)));
  return `;; Generated by wasm/gemm-wat.ts; do not edit. Packed, register-blocked gemm (Goto & van de Geijn 2008).
(module
  (memory (export "memory") 1)
  ${parts.join('\n')}
)
`;
}
