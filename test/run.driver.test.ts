import { describe, expect, it } from 'vitest';
import { DivergenceError, DriverOptionError, runChains } from '../src/run/driver.js';
import { OnlineMoments } from '../src/run/moments.js';
import { sgld } from '../src/samplers/sgld.js';
import { foldIn, key, normal } from '../src/core/random.js';
import { minibatchAt } from '../src/data/minibatch.js';
import type { IndexBatch, Sampler, StepInfo, Target, Vec } from '../src/core/types.js';

/** Prior N(0, I); observations x_i ~ N(θ, I) in 2-D: a posterior N(Σx_i/(N+1), I/(N+1)). */
function gaussianTarget(n: number): Target<IndexBatch> {
  const z = normal(key(5), 2 * n);
  return {
    dim: 2,
    dataSize: n,
    logPrior: (theta: Vec) => ({ value: -0.5 * (theta[0] ** 2 + theta[1] ** 2), grad: Float64Array.of(-theta[0], -theta[1]) }),
    logLikelihood(theta: Vec, batch: IndexBatch) {
      const grad = new Float64Array(2);
      let value = 0;
      for (const i of batch) {
        for (let j = 0; j < 2; j++) {
          const r = 1 + z[2 * i + j] - theta[j];
          value -= 0.5 * r * r;
          grad[j] += r;
        }
      }
      return { value, grad };
    },
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: n }, (_, i) => i),
  };
}

/** A 1-D target with a constant gradient 1 that turns NaN once θ > 5. */
const cliffTarget: Target<IndexBatch> = {
  dim: 1,
  dataSize: 1,
  logPrior: (theta: Vec) => ({ value: 0, grad: Float64Array.of(theta[0] > 5 ? Number.NaN : 0) }),
  logLikelihood: (theta: Vec) => ({ value: theta[0], grad: Float64Array.of(1) }),
  batchSize: (batch) => batch.length,
  fullBatch: () => Int32Array.of(0),
};

describe('runChains', () => {
  const target = gaussianTarget(40);
  const base = { target, sampler: sgld(target, { stepSize: 0.01 }), initial: Float64Array.of(0, 0), steps: 300, batchSize: 8, seed: 17 };

  it('uses the documented keys: chain c replays from foldIn(key(seed), c) by hand', () => {
    const result = runChains({ ...base, chains: 3 });
    const chainKey = foldIn(key(17), 2);
    const sampler = sgld(target, { stepSize: 0.01 });
    let state = sampler.init(Float64Array.of(0, 0), foldIn(chainKey, 0));
    for (let t = 0; t < 300; t++) {
      const batch = minibatchAt(foldIn(chainKey, 1), 40, 8, t);
      [state] = sampler.step(foldIn(foldIn(chainKey, 2), t), state, batch);
    }
    expect(Array.from(result.chains[2].finalPosition)).toEqual(Array.from(state.position));
  });

  it('gives a chain the same bits alone or among more chains, and the same run for the same seed', () => {
    const two = runChains({ ...base, chains: 2, keepDraws: true });
    const three = runChains({ ...base, chains: 3, keepDraws: true });
    for (const c of [0, 1]) expect(Array.from(three.chains[c].draws!)).toEqual(Array.from(two.chains[c].draws!));
    expect(Array.from(three.chains[2].draws!)).not.toEqual(Array.from(three.chains[1].draws!));
    const other = runChains({ ...base, chains: 2, seed: 18 });
    expect(Array.from(other.chains[0].finalPosition)).not.toEqual(Array.from(two.chains[0].finalPosition));
  });

  it('keeps the draws after burn-in and thinning, with moments equal to those of the kept draws', () => {
    const drawSteps: number[][] = [[], []];
    const result = runChains({
      ...base,
      chains: 2,
      burnIn: 100,
      thin: 7,
      keepDraws: true,
      onDraw: (chain, step) => drawSteps[chain].push(step),
    });
    const expectedSteps = Array.from({ length: Math.floor((300 - 100 - 1) / 7) + 1 }, (_, i) => 100 + 7 * i);
    expect(drawSteps[0]).toEqual(expectedSteps);
    expect(drawSteps[1]).toEqual(expectedSteps);
    const all = new OnlineMoments(2);
    for (const chain of result.chains) {
      expect(chain.count).toBe(expectedSteps.length);
      const own = new OnlineMoments(2);
      for (let r = 0; r < chain.count; r++) {
        own.push(chain.draws!.subarray(2 * r, 2 * r + 2));
        all.push(chain.draws!.subarray(2 * r, 2 * r + 2));
      }
      expect(Array.from(chain.mean)).toEqual(Array.from(own.mean()));
      expect(Array.from(chain.cov!)).toEqual(Array.from(own.covariance()));
    }
    expect(result.pooled.count).toBe(2 * expectedSteps.length);
    result.pooled.mean.forEach((m, i) => expect(m).toBeCloseTo(all.mean()[i], 12));
    result.pooled.cov!.forEach((v, i) => expect(v).toBeCloseTo(all.covariance()[i], 12));
  });

  it('averages the numeric info fields over the post-burn-in steps', () => {
    const schedule = (t: number) => 0.01 / (1 + t);
    const result = runChains({ ...base, sampler: sgld(target, { stepSize: schedule, temperature: 0.5 }), burnIn: 200 });
    let expected = 0;
    for (let t = 200; t < 300; t++) expected += schedule(t) / 100;
    expect(result.chains[0].infoMean.stepSize).toBeCloseTo(expected, 15);
    expect(result.chains[0].infoMean.temperature).toBe(0.5);
    expect(result.chains[0].infoMean.gradNorm).toBeGreaterThan(0);
  });

  it('uses the full batch every step when batchSize ≥ N (temperature 0 is then gradient ascent)', () => {
    const sampler = sgld(target, { stepSize: 0.01, temperature: 0 });
    const result = runChains({ ...base, sampler, batchSize: 40, steps: 5 });
    let theta = Float64Array.of(0, 0);
    for (let t = 0; t < 5; t++) {
      const prior = target.logPrior(theta).grad;
      const lik = target.logLikelihood(theta, target.fullBatch()).grad;
      theta = Float64Array.from(theta, (v, i) => v + 0.005 * (prior[i] + 1 * lik[i]));
    }
    expect(Array.from(result.chains[0].finalPosition)).toEqual(Array.from(theta));
  });

  it('reports progress up to the total number of steps', () => {
    const seen: number[] = [];
    runChains({ ...base, chains: 2, onProgress: (p) => seen.push(p.done) });
    expect(seen.at(-1)).toBe(600);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('stops with a DivergenceError naming the chain and step at a non-finite gradient', () => {
    // At T = 0 and ε = 1 the chain moves θ_t = θ_0 + t/2; from θ_0 = 0 the gradient at step 11 (θ = 5.5) is NaN.
    const sampler = sgld(cliffTarget, { stepSize: 1, temperature: 0 });
    const run = () =>
      runChains({ target: cliffTarget, sampler, initial: [Float64Array.of(-100), Float64Array.of(0)], chains: 2, steps: 50, batchSize: 1, seed: 0 });
    expect(run).toThrow(DivergenceError);
    expect(run).toThrow(/chain 1 diverged at step 11: gradient norm is NaN \(step size 1\)/);
    try {
      run();
    } catch (error) {
      expect(error).toMatchObject({ chain: 1, step: 11, quantity: 'gradient' });
    }
  });

  it('stops with a DivergenceError naming the entry when a position becomes non-finite', () => {
    const blowUp: Sampler<{ position: Vec }, StepInfo, IndexBatch> = {
      init: (position) => ({ position: Float64Array.from(position) }),
      step: (_key, state) => {
        const position = Float64Array.from(state.position, (v, i) => (i === 1 ? v * 1e200 : v));
        return [{ position }, { stepSize: 0.1, gradNorm: 1, noiseNorm: 0 }] as const;
      },
    };
    expect(() => runChains({ ...base, sampler: blowUp, initial: Float64Array.of(1, 1), steps: 10 })).toThrow(
      /chain 0 diverged at step 1: position\[1\] is Infinity/,
    );
  });

  it('rejects bad options with messages naming them', () => {
    expect(() => runChains({ ...base, burnIn: 300 })).toThrow(/burnIn \(300\) must be less than steps \(300\)/);
    expect(() => runChains({ ...base, thin: 0 })).toThrow(DriverOptionError);
    expect(() => runChains({ ...base, chains: 1.5 })).toThrow(/chains must be an integer ≥ 1, got 1.5/);
    expect(() => runChains({ ...base, initial: Float64Array.of(0) })).toThrow(/initial position of chain 0 has length 1, target.dim is 2/);
    expect(() => runChains({ ...base, initial: Float64Array.of(0, Number.NaN) })).toThrow(/non-finite entry \[1\]/);
    expect(() => runChains({ ...base, chains: 2, initial: [Float64Array.of(0, 0)] })).toThrow(/chain 1 needs one/);
  });

  it('gives each chain its own sampler from a factory and its own initial position from a function', () => {
    const made: number[] = [];
    const result = runChains({
      ...base,
      chains: 2,
      sampler: (chain) => {
        made.push(chain);
        return sgld(target, { stepSize: 0.01, temperature: 0 });
      },
      initial: (chain) => Float64Array.of(chain, -chain),
      steps: 1,
      batchSize: 40,
    });
    expect(made).toEqual([0, 1]);
    expect(result.chains[0].finalPosition[0]).not.toBe(result.chains[1].finalPosition[0]);
  });
});
