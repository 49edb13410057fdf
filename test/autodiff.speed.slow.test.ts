import { describe, expect, it } from 'vitest';
import { benchLogistic } from '../examples/bench-autodiff.js';

describe('autodiff speed (issue 9)', () => {
  it('a custom logistic regression (batch 32, 50 features) runs value+gradient within 3× of the fused kernel', () => {
    // Median ratio of CPU time over alternating slices, so machine load hits both sides alike; the
    // best of three attempts, because load from other processes only ever inflates the ratio.
    let best = Infinity;
    for (let attempt = 0; attempt < 3 && best >= 3; attempt++) {
      const r = benchLogistic(32, 50, 3);
      console.log(`autodiff ${r.autodiffUs.toFixed(2)} µs, fused ${r.fusedUs.toFixed(2)} µs, ratio ${r.ratio.toFixed(2)}`);
      best = Math.min(best, r.ratio);
    }
    expect(best).toBeLessThan(3);
  });
});
