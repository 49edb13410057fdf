/**
 * Independent minibatches: the sampling scheme under which the OU analysis of constant SGD holds.
 */
import type { IndexBatch } from '../core/types.js';
import { uniform, type Key } from '../core/random.js';
import { NoiseError } from './types.js';

/** Scratch marks of the rows taken by the current draw; all zero between calls. */
let taken = new Uint8Array(0);

/**
 * A uniformly random S-subset of the rows 0..N−1, drawn afresh from `key` alone (Floyd's algorithm,
 * O(S) time), so successive steps see independent minibatches — assumption A1 of Mandt, Hoffman &
 * Blei 2017 (JMLR 18, Eq. 6), with the finite-population factor (N − S)/(N − 1) on the noise
 * (`withoutReplacementFrom` in src/noise/ornsteinUhlenbeck.ts). Epochs of a permutation (random
 * reshuffling, src/data/minibatch.ts) break A1: the minibatch noise then sums to zero over each
 * epoch, and when an epoch is not short against the relaxation time of the iterates their
 * stationary covariance falls well below the OU prediction (about half of it in
 * test/noise.ornsteinUhlenbeck.test.ts's setting).
 *
 * @throws NoiseError unless 1 ≤ S ≤ N are integers.
 */
export function independentMinibatch(key: Key, dataSize: number, batchSize: number): IndexBatch {
  const N = dataSize;
  const S = batchSize;
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(S) || S < 1 || S > N) {
    throw new NoiseError(`independentMinibatch: need integers 1 ≤ batchSize ≤ dataSize, got batchSize ${S}, dataSize ${N}`);
  }
  const u = uniform(key, S);
  if (taken.length < N) taken = new Uint8Array(N);
  const chosen = new Int32Array(S);
  for (let j = N - S, i = 0; j < N; j++, i++) {
    // Floyd: pick t in 0..j; if already taken, take j (never taken before this round).
    const t = Math.min(j, Math.floor(u[i] * (j + 1)));
    const pick = taken[t] ? j : t;
    taken[pick] = 1;
    chosen[i] = pick;
  }
  for (let i = 0; i < S; i++) taken[chosen[i]] = 0; // leave the scratch clear for the next call
  return chosen;
}
