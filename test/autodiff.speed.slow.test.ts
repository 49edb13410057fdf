import { describe, expect, it } from 'vitest';
import { benchLogistic } from '../examples/bench-autodiff.js';

describe('autodiff speed (issue 9)', () => {
  it('a custom logistic regression (batch 32, 50 features) runs value+gradient within 3× of the fused kernel', () => {
    // Median CPU time over alternating slices, so machine load hits both sides alike.
    const r = benchLogistic(32, 50, 3);
    console.log(`autodiff ${r.autodiffUs.toFixed(2)} µs, fused ${r.fusedUs.toFixed(2)} µs, ratio ${r.ratio.toFixed(2)}`);
    expect(r.ratio).toBeLessThan(3);
  });
});
