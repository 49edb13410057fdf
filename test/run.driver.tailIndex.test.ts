import { describe, expect, it } from 'vitest';
import { DriverOptionError, runChains } from '../src/run/driver.js';
import { sgld } from '../src/samplers/sgld.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { symmetricStable } from '../src/core/stable.js';
import { gradientNoiseTailIndex } from '../src/diagnostics/tailIndex.js';
import type { IndexBatch, Target, Vec } from '../src/core/types.js';

/** log p(x_i | θ) = −(θ − x_i)²/2 in 1-D: the per-example gradient x_i − θ carries the data's tails. */
function locationTarget(data: Float64Array): Target<IndexBatch> {
  return {
    dim: 1,
    dataSize: data.length,
    logPrior: (theta: Vec) => ({ value: -0.5 * theta[0] ** 2, grad: Float64Array.of(-theta[0]) }),
    logLikelihood(theta: Vec, batch: IndexBatch) {
      let value = 0;
      let grad = 0;
      for (const i of batch) {
        const r = data[i] - theta[0];
        value -= 0.5 * r * r;
        grad += r;
      }
      return { value, grad: Float64Array.of(grad) };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: data.length }, (_, i) => i),
  };
}

const run = (target: Target<IndexBatch>, tailIndex: { samples: number; batchSize?: number; every?: number }) =>
  runChains({
    target,
    sampler: sgld(target, { stepSize: 1e-4 }),
    initial: Float64Array.of(0),
    chains: 2,
    steps: 20,
    batchSize: 10,
    seed: 3,
    tailIndex,
  });

describe('runChains tailIndex diagnostic', () => {
  const heavy = locationTarget(symmetricStable(key(1), 4000, 1.3));
  const gaussian = locationTarget(normal(key(2), 4000));

  it('reports gradientNoiseTailIndex at each final position, under the chain key’s tag 3', () => {
    const result = run(heavy, { samples: 400, batchSize: 1 });
    for (const chain of result.chains) {
      const tagKey = foldIn(foldIn(foldIn(key(3), chain.chain), 3), 20);
      const direct = gradientNoiseTailIndex(heavy, chain.finalPosition, tagKey, { samples: 400, batchSize: 1 });
      expect(chain.tailIndex).toEqual(direct);
      expect(chain.tailIndexTrace).toBeUndefined();
    }
  });

  it('tells heavy-tailed gradient noise from Gaussian noise', () => {
    // Batch size 1: the noise is one centred data point, α-stable (1.3) or Gaussian. At 4000 draws
    // the block-sum estimate, over 30 seeds, was 1.29 ± 0.064 (α = 1.3) and 2.04 ± 0.146 (Gaussian),
    // so 1.55 is 4 sd above the first and 1.65 is 2.7 sd below the second.
    const heavyAlpha = run(heavy, { samples: 4000, batchSize: 1 }).chains[0].tailIndex?.alpha ?? NaN;
    const gaussAlpha = run(gaussian, { samples: 4000, batchSize: 1 }).chains[0].tailIndex?.alpha ?? NaN;
    expect(heavyAlpha).toBeLessThan(1.55);
    expect(gaussAlpha).toBeGreaterThan(1.65);
  });

  it('traces every `every` steps and reuses the last trace entry for the final estimate', () => {
    const result = run(heavy, { samples: 100, every: 5 });
    for (const chain of result.chains) {
      expect(chain.tailIndexTrace?.map((entry) => entry.step)).toEqual([5, 10, 15, 20]);
      expect(chain.tailIndex).toBe(chain.tailIndexTrace?.[3].estimate);
    }
  });

  it('rejects a noise batch as large as the data, and too few samples, naming the option', () => {
    expect(() => run(heavy, { samples: 100, batchSize: 4000 })).toThrow(DriverOptionError);
    expect(() => run(heavy, { samples: 100, batchSize: 4000 })).toThrow(/tailIndex\.batchSize \(4000\)/);
    expect(() => run(heavy, { samples: 2 })).toThrow(/tailIndex\.samples/);
  });
});
