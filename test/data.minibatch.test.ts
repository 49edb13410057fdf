import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { key } from '../src/core/random.js';
import { batchesPerEpoch, epochPermutation, Minibatcher, minibatchAt } from '../src/data/index.js';

describe('minibatchAt', () => {
  it('covers every index exactly once per epoch, keeping the last partial batch', () => {
    const [n, size] = [23, 5];
    const perEpoch = batchesPerEpoch(n, size, { dropLast: false });
    expect(perEpoch).toBe(5);
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen: number[] = [];
      for (let b = 0; b < perEpoch; b++) {
        const batch = minibatchAt(key(1), n, size, epoch * perEpoch + b, { dropLast: false });
        expect(batch.length).toBe(b < perEpoch - 1 ? size : 3);
        seen.push(...batch);
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('drops the last partial batch by default, with distinct indices within an epoch', () => {
    const perEpoch = batchesPerEpoch(23, 5);
    expect(perEpoch).toBe(4);
    const seen = new Set<number>();
    for (let b = 0; b < perEpoch; b++) for (const i of minibatchAt(key(1), 23, 5, b)) seen.add(i);
    expect(seen.size).toBe(20);
    expect(minibatchAt(key(1), 23, 5, perEpoch)).toEqual(epochPermutation(key(1), 23, 1).slice(0, 5));
  });

  it('same key, same batches; another key or epoch, another order', () => {
    expect(minibatchAt(key(3), 100, 10, 7)).toEqual(minibatchAt(key(3), 100, 10, 7));
    expect(minibatchAt(key(3), 100, 10, 7)).not.toEqual(minibatchAt(key(4), 100, 10, 7));
    expect(epochPermutation(key(3), 100, 0)).not.toEqual(epochPermutation(key(3), 100, 1));
  });

  it('rejects bad sizes and steps', () => {
    expect(() => minibatchAt(key(0), 10, 11, 0)).toThrow(/batchSize must be an integer in \[1, n = 10\]/);
    expect(() => minibatchAt(key(0), 0, 1, 0)).toThrow(/n must be a positive integer/);
    expect(() => minibatchAt(key(0), 10, 2, -1)).toThrow(/step must be a non-negative integer/);
    expect(() => new Minibatcher(key(0), 10, 2).at(1.5)).toThrow(RangeError);
  });

  it('draws uniform permutations (chi-square over the 24 orders of 4 items)', () => {
    const epochs = 24_000;
    const counts = new Map<string, number>();
    const permutation = new Int32Array(4);
    for (let e = 0; e < epochs; e++) {
      const k = epochPermutation(key(11), 4, e, permutation).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const expected = epochs / 24;
    let chiSquare = 0;
    for (const count of counts.values()) chiSquare += (count - expected) ** 2 / expected;
    // Under uniformity χ² has 23 degrees of freedom: mean 23, sd √46 ≈ 6.8; allow 5 sd above the mean.
    expect(chiSquare).toBeLessThan(23 + 5 * Math.sqrt(46));
  });
});

describe('Minibatcher', () => {
  it('gives the batches of minibatchAt for any order of steps (resume anywhere)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        fc.array(fc.nat({ max: 500 }), { minLength: 1, maxLength: 30 }),
        fc.nat({ max: 1000 }),
        (n, sizePick, dropLast, steps, seed) => {
          const size = 1 + (sizePick % n);
          const batcher = new Minibatcher(key(seed), n, size, { dropLast });
          for (const step of steps) {
            expect(batcher.at(step)).toEqual(minibatchAt(key(seed), n, size, step, { dropLast }));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a run resumed at step t continues with the batches of the uninterrupted run', () => {
    const full = new Minibatcher(key(5), 1000, 32);
    const uninterrupted = Array.from({ length: 200 }, (_, t) => full.at(t));
    const resumed = new Minibatcher(key(5), 1000, 32);
    for (let t = 77; t < 200; t++) expect(resumed.at(t)).toEqual(uninterrupted[t]);
  });

  it('returns fresh arrays: mutating a batch does not change later ones', () => {
    const batcher = new Minibatcher(key(2), 10, 5);
    const first = batcher.at(0);
    const copy = first.slice();
    first.fill(-1);
    expect(batcher.at(0)).toEqual(copy);
  });
});
