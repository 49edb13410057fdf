/**
 * Counter-based, splittable pseudo-random keys built on Threefry-2x32 with 20 rounds
 * (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3", SC'11).
 *
 * Written by hand because no maintained npm package offers a splittable counter-based generator
 * with JAX-style keys that runs identically in Node and browsers; the cipher is 40 lines of 32-bit
 * integer arithmetic, checked against the published Random123 known-answer vectors.
 *
 * A key is an immutable pair of 32-bit words. Every random draw is a pure function of (key,
 * counter): same seed, same bits, on every platform.
 */

/** An immutable PRNG key: two unsigned 32-bit words. */
export interface Key {
  readonly hi: number;
  readonly lo: number;
}

/**
 * Threefry-2x32-20 block cipher: encrypts the counter (c0, c1) under key (k0, k1).
 * Writes the two output words into `out[offset]`, `out[offset + 1]` (unsigned 32-bit).
 * The 20 rounds (rotations 13 15 26 6 / 17 29 16 24, a key injection every 4) are unrolled with the
 * key schedule in locals: this is the innermost loop of every random draw.
 */
export function threefry2x32(
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  out: Uint32Array,
  offset = 0,
): void {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = 0x1bd11bda ^ ks0 ^ ks1;
  let x0 = (c0 + ks0) | 0;
  let x1 = (c1 + ks1) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks1) | 0;
  x1 = (x1 + ks2 + 1) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks2) | 0;
  x1 = (x1 + ks0 + 2) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks0) | 0;
  x1 = (x1 + ks1 + 3) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks1) | 0;
  x1 = (x1 + ks2 + 4) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks2) | 0;
  x1 = (x1 + ks0 + 5) | 0;
  out[offset] = x0 >>> 0;
  out[offset + 1] = x1 >>> 0;
}

const scratch = new Uint32Array(2);

/** The 53 random bits of the last cipher output in `scratch`, as an integer in [0, 2⁵³). */
function scratchBits53(): number {
  return (scratch[0] >>> 5) * 67108864 + (scratch[1] >>> 6);
}

function makeKey(hi: number, lo: number): Key {
  return Object.freeze({ hi: hi >>> 0, lo: lo >>> 0 });
}

/**
 * A key from an integer seed. Seeds up to 2^53 are used in full (high and low 32-bit words).
 */
export function key(seed: number): Key {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`key(seed): seed must be a non-negative safe integer, got ${seed}`);
  }
  return makeKey(Math.floor(seed / 2 ** 32), seed % 2 ** 32);
}

// Domain tags keep split, foldIn and raw bits from ever sharing a counter.
const TAG_SPLIT = 0x53504c54;
const TAG_FOLD = 0x464f4c44;

/** Split a key into `n` independent keys. */
export function split(k: Key, n = 2): Key[] {
  const keys: Key[] = new Array(n);
  for (let i = 0; i < n; i++) {
    threefry2x32(k.hi, k.lo, i, TAG_SPLIT, scratch);
    keys[i] = makeKey(scratch[0], scratch[1]);
  }
  return keys;
}

/** Derive a new key from a key and an integer (e.g. a step or chain index). */
export function foldIn(k: Key, data: number): Key {
  if (!Number.isInteger(data)) throw new RangeError(`foldIn(key, data): data must be an integer, got ${data}`);
  threefry2x32(k.hi, k.lo, data >>> 0, TAG_FOLD ^ (Math.floor(data / 2 ** 32) >>> 0), scratch);
  return makeKey(scratch[0], scratch[1]);
}

/** `n` random unsigned 32-bit words from a key. */
export function randomBits(k: Key, n: number, out: Uint32Array = new Uint32Array(n)): Uint32Array {
  const pairs = n >>> 1;
  for (let i = 0; i < pairs; i++) threefry2x32(k.hi, k.lo, i, 0, out, 2 * i);
  if (n & 1) {
    threefry2x32(k.hi, k.lo, pairs, 0, scratch);
    out[n - 1] = scratch[0];
  }
  return out;
}

/**
 * `n` uniform doubles in [0, 1) with 53 random bits each, from a key; counter i gives draw i.
 */
export function uniform(k: Key, n: number, out: Float64Array = new Float64Array(n)): Float64Array {
  const { hi, lo } = k;
  for (let i = 0; i < n; i += 2) {
    threefryPairBits53(hi, lo, i);
    out[i] = pairBits[0] / 9007199254740992;
    if (i + 1 < n) out[i + 1] = pairBits[1] / 9007199254740992;
  }
  return out;
}

/** One uniform double in [0, 1) from a key. */
export function uniform1(k: Key): number {
  threefry2x32(k.hi, k.lo, 0, 0, scratch);
  return scratchBits53() / 9007199254740992;
}

// The 53-bit integers of blocks (c, 0) and (c + 1, 0) from the last call of threefryPairBits53
// (a typed array, as module variables would box each double).
const pairBits = new Float64Array(2);

/**
 * The 53 random bits of Threefry-2x32-20 blocks (c, 0) and (c + 1, 0) under key (k0, k1), into
 * `pairBits`: the rounds of {@link threefry2x32} for both blocks side by side,
 * so that their serial add–rotate–xor chains overlap (uniform and normal draws use counters in pairs).
 */
function threefryPairBits53(k0: number, k1: number, c: number): void {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = 0x1bd11bda ^ ks0 ^ ks1;
  let x0 = (c + ks0) | 0;
  let x1 = ks1;
  let y0 = (c + 1 + ks0) | 0;
  let y1 = ks1;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0;
  x0 = (x0 + ks1) | 0;
  y0 = (y0 + ks1) | 0;
  x1 = (x1 + ks2 + 1) | 0;
  y1 = (y1 + ks2 + 1) | 0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  y1 = ((y1 << 17) | (y1 >>> 15)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  y1 = ((y1 << 29) | (y1 >>> 3)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  y1 = ((y1 << 16) | (y1 >>> 16)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  y1 = ((y1 << 24) | (y1 >>> 8)) ^ y0;
  x0 = (x0 + ks2) | 0;
  y0 = (y0 + ks2) | 0;
  x1 = (x1 + ks0 + 2) | 0;
  y1 = (y1 + ks0 + 2) | 0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0;
  x0 = (x0 + ks0) | 0;
  y0 = (y0 + ks0) | 0;
  x1 = (x1 + ks1 + 3) | 0;
  y1 = (y1 + ks1 + 3) | 0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  y1 = ((y1 << 17) | (y1 >>> 15)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  y1 = ((y1 << 29) | (y1 >>> 3)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  y1 = ((y1 << 16) | (y1 >>> 16)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  y1 = ((y1 << 24) | (y1 >>> 8)) ^ y0;
  x0 = (x0 + ks1) | 0;
  y0 = (y0 + ks1) | 0;
  x1 = (x1 + ks2 + 4) | 0;
  y1 = (y1 + ks2 + 4) | 0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  y1 = ((y1 << 13) | (y1 >>> 19)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  y1 = ((y1 << 15) | (y1 >>> 17)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  y1 = ((y1 << 26) | (y1 >>> 6)) ^ y0;
  x0 = (x0 + x1) | 0;
  y0 = (y0 + y1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  y1 = ((y1 << 6) | (y1 >>> 26)) ^ y0;
  x0 = (x0 + ks2) | 0;
  y0 = (y0 + ks2) | 0;
  x1 = (x1 + ks0 + 5) | 0;
  y1 = (y1 + ks0 + 5) | 0;
  pairBits[0] = (x0 >>> 5) * 67108864 + (x1 >>> 6);
  pairBits[1] = (y0 >>> 5) * 67108864 + (y1 >>> 6);
}

/**
 * `n` standard normal draws (Box–Muller on pairs of 53-bit uniforms in (0, 1]); counters 2j and
 * 2j+1 give the pair j, so draw i depends only on the key and i.
 */
export function normal(k: Key, n: number, out: Float64Array = new Float64Array(n)): Float64Array {
  const { hi, lo } = k;
  for (let c = 0; c < n; c += 2) {
    threefryPairBits53(hi, lo, c);
    const r = Math.sqrt(-2 * Math.log((pairBits[0] + 1) / 9007199254740992));
    const a = 2 * Math.PI * (pairBits[1] / 9007199254740992);
    out[c] = r * Math.cos(a);
    if (c + 1 < n) out[c + 1] = r * Math.sin(a);
  }
  return out;
}
