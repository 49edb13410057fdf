import { describe, expect, it } from 'vitest';
import { linearRegression } from '../src/models/linear.js';
import { constantSgd } from '../src/samplers/constantSgd.js';
import { runChains, DriverOptionError } from '../src/run/driver.js';
import { exactNoiseCovariance } from '../src/noise/estimator.js';
import { optimalPreconditioner } from '../src/noise/optimal.js';
import { stationaryCovariance, relativeFrobeniusError } from '../src/noise/ornsteinUhlenbeck.js';
import { regressionData } from './models.helpers.js';

// Constant SGD at Theorem 1's optimal scalar rate on a small linear regression, run by the driver
// with each batching scheme; the OU prediction (Mandt et al. 2017, Eq. 13, exact discrete form with
// the finite-population factor) is the truth for independent batches.
describe('runChains batching', () => {
  const data = regressionData(5, 400, 3, 1);
  const model = linearRegression(data, { priorPrecision: 1, noisePrecision: 1 });
  const exact = model.exactPosterior();
  const d = model.dim;
  const N = model.dataSize;
  const S = 20;
  const noise = exactNoiseCovariance(model, exact.mean, { kind: 'full' });
  const p = optimalPreconditioner('scalar', noise, { batchSize: S, dataSize: N });
  // A = ∇²L at the optimum, L = −(1/N) log posterior.
  const hessian = model.hessianLogPosterior(exact.mean).map((v) => -v / N);
  const predicted = stationaryCovariance({ hessian, noise, preconditioner: p, batchSize: S, withoutReplacementFrom: N, discrete: true });
  const traceOf = (m: Float64Array): number => {
    let t = 0;
    for (let i = 0; i < d; i++) t += m[i * d + i];
    return t;
  };
  const run = (batching: 'epochs' | 'independent') =>
    runChains({
      target: model,
      sampler: constantSgd(model, { preconditioner: p }),
      initial: exact.mean,
      chains: 2,
      steps: 60_000,
      burnIn: 1_000,
      thin: 1,
      batchSize: S,
      seed: 3,
      batching,
    });

  it("'independent' batches give the OU-predicted stationary covariance; epochs give a smaller one", () => {
    const independent = run('independent');
    // 2 × 59 000 draws with an autocorrelation time of ~10 steps: ~10⁴ effective draws, so the
    // covariance entries carry a relative standard error of about 1.5%; 0.1 is > 5 of them.
    expect(relativeFrobeniusError(independent.pooled.cov!, predicted)).toBeLessThan(0.1);
    const epochs = run('epochs');
    // Random reshuffling makes the noise sum to zero over each epoch of N/S = 20 steps.
    expect(traceOf(epochs.pooled.cov!) / traceOf(predicted)).toBeLessThan(0.8);
  });

  it('rejects an unknown batching scheme', () => {
    expect(() =>
      runChains({ target: model, sampler: constantSgd(model, { preconditioner: p }), initial: exact.mean, steps: 1, batchSize: S, seed: 0, batching: 'random' as never }),
    ).toThrow(DriverOptionError);
  });
});
