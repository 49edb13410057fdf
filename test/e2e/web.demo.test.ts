// Unit tests of the browser demo's DOM-free parts (web/posteriors, web/methods, web/vi, web/contours)
// and the ellipse geometry it shares with the reports; the browser itself is tested by demo.e2e.ts.
import { describe, expect, it } from 'vitest';
import { key } from '../../src/core/random.js';
import { fullGradient } from '../../src/models/estimator.js';
import { runChains } from '../../src/run/driver.js';
import { levyLangevin } from '../../src/samplers/levy.js';
import { ellipseRadius, gaussianEllipse, EllipseError } from '../../src/report/geometry.js';
import { contourSegments } from '../../web/contours.js';
import { DemoRun, METHODS, modeGeometry } from '../../web/methods.js';
import { demoPosterior, highestDensityLevels, logDensityGrid, POSTERIOR_NAMES } from '../../web/posteriors.js';
import { gaussianFamily, gaussianVi } from '../../web/vi.js';

describe('demo posteriors', () => {
  it.each(POSTERIOR_NAMES)('%s: per-example gradients sum to the likelihood gradient, which matches finite differences', (name) => {
    const { target } = demoPosterior(name);
    const theta = new Float64Array([0.37, -0.61]);
    const batch = Int32Array.from([0, 3, 7, 11]);
    const rows = new Float64Array(batch.length * 2);
    target.perExampleGrads?.(theta, batch, rows);
    const ll = target.logLikelihood(theta, batch);
    for (let k = 0; k < 2; k++) {
      let sum = 0;
      for (let i = 0; i < batch.length; i++) sum += rows[2 * i + k];
      expect(sum).toBeCloseTo(ll.grad[k], 12);
    }
    // Central differences of the full log posterior: error O(h²) ≈ 1e-8 relative at h = 1e-5.
    const exact = fullGradient(target, theta).grad;
    for (let k = 0; k < 2; k++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[k] += 1e-5;
      minus[k] -= 1e-5;
      const numeric = (fullGradient(target, plus).value - fullGradient(target, minus).value) / 2e-5;
      expect(Math.abs(numeric - exact[k])).toBeLessThan(1e-6 * (1 + Math.abs(exact[k])));
    }
  });

  it('the mixture posterior has its two modes where Welling & Teh place them', () => {
    const posterior = demoPosterior('mixture');
    const fromAbove = modeGeometry(posterior, new Float64Array([0, 1])).mode;
    const fromBelow = modeGeometry(posterior, new Float64Array([1, -1])).mode;
    expect(Math.hypot(fromAbove[0] - 0, fromAbove[1] - 1)).toBeLessThan(0.35);
    expect(Math.hypot(fromBelow[0] - 1, fromBelow[1] + 1)).toBeLessThan(0.35);
  });

  it('HPD levels on a Gaussian grid hold the χ²₂ masses', () => {
    // A standard normal on a fine grid: the 50% HPD region is the disc of radius √(−2 log 0.5).
    const n = 201;
    const values = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      const x = -5 + (10 * i) / (n - 1);
      const y = -5 + (10 * j) / (n - 1);
      values[j * n + i] = -0.5 * (x * x + y * y);
    }
    const [level] = highestDensityLevels(values, 0, [0.5]);
    expect(Math.sqrt(-2 * level)).toBeCloseTo(ellipseRadius(0.5), 1);
  });
});

describe('contours and ellipses', () => {
  it('marching squares puts a circle’s contour at its radius', () => {
    const n = 61;
    const values = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[j * n + i] = Math.hypot(i - 30, j - 30);
    const segments = contourSegments(values, n, n, 20);
    expect(segments.length).toBeGreaterThan(100);
    for (let s = 0; s < segments.length; s += 2) expect(Math.abs(Math.hypot(segments[s] - 30, segments[s + 1] - 30) - 20)).toBeLessThan(0.05);
  });

  it('ellipse points satisfy (x − m)ᵀΣ⁻¹(x − m) = r²', () => {
    const cov = [2, 0.9, 0.9, 1];
    const det = cov[0] * cov[3] - cov[1] * cov[2];
    const points = gaussianEllipse([1, -2], cov, 1.7, 50);
    expect(points.length).toBe(102);
    for (let k = 0; k < points.length; k += 2) {
      const dx = points[k] - 1;
      const dy = points[k + 1] + 2;
      const quad = (cov[3] * dx * dx - 2 * cov[1] * dx * dy + cov[0] * dy * dy) / det;
      expect(quad).toBeCloseTo(1.7 ** 2, 10);
    }
    expect(() => gaussianEllipse([0, 0], [1, 2, 2, 1], 1)).toThrow(EllipseError);
    expect(() => ellipseRadius(1)).toThrow(/probability/);
  });
});

describe('demo runs', () => {
  it('a page run equals runChains (same keys and batches) for a library sampler', () => {
    const posterior = demoPosterior('banana');
    const settings = { method: 'levy' as const, learningRate: 0.05, batchSize: 10, alpha: 1.7, temperature: 1, seed: 9 };
    const run = new DemoRun(posterior, settings);
    run.advance(200);
    const target = posterior.target;
    const expected = runChains({
      target,
      sampler: levyLangevin(target, { stepSize: 0.05, alpha: 1.7, sigma: Math.sqrt(1 / target.dataSize), usePrior: true }),
      initial: posterior.initial,
      steps: 200,
      batchSize: 10,
      seed: 9,
      keepDraws: true,
    }).chains[0].draws as Float64Array;
    expect(Float64Array.from(run.draws)).toEqual(expected);
  });

  it('constant SGD at c = 1 has the OU covariance A⁻¹/N · (N − S)/(N − 1) (Mandt et al. Corollary 4)', () => {
    const posterior = demoPosterior('logistic');
    const geometry = modeGeometry(posterior);
    const N = posterior.target.dataSize;
    const S = 20;
    const run = new DemoRun(posterior, { method: 'constant-sgd', learningRate: 1, batchSize: S, alpha: 2, temperature: 1, seed: 1 }, geometry);
    const sigma = run.built.constantSgd?.stationaryCovariance as Float64Array;
    const A = geometry.hessian;
    const det = A[0] * A[3] - A[1] * A[2];
    const inverse = [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
    // H* = (2S/N)C⁻¹ makes HAΣ + ΣAH = HCH·f/S solve to Σ = A⁻¹ f/(2·… ) = A⁻¹/N · S f, f = (N − S)/(S(N − 1)).
    const factor = (S * (N - S)) / (S * (N - 1));
    for (let i = 0; i < 4; i++) expect(sigma[i]).toBeCloseTo((inverse[i] / N) * factor, 8);
  });

  it('every method runs 300 finite steps on every posterior at its default rate', () => {
    for (const name of POSTERIOR_NAMES) {
      const posterior = demoPosterior(name);
      const geometry = modeGeometry(posterior);
      for (const m of METHODS) {
        const run = new DemoRun(posterior, { method: m.name, learningRate: 10 ** m.defaultLogRate, batchSize: 10, alpha: 1.8, temperature: 1, seed: 3 }, geometry);
        run.advance(300);
        expect({ name, method: m.name, error: run.error, steps: run.steps }).toEqual({ name, method: m.name, error: null, steps: 300 });
      }
    }
  });

  it('full-rank VI lands on the exact posterior’s mean and spread', () => {
    // Exact moments by quadrature on a 121² grid of the (near-Gaussian, slightly skewed) logistic
    // posterior. The Adam iterates of m jitter with one-sample gradients, so we average m over the
    // last 1000 of 4000 steps and allow 0.03 on means and 20 % on standard deviations (4000 q draws
    // estimate an sd to ≈ 1.1 %; the rest is the Gaussian family's bias and Adam's noise).
    const posterior = demoPosterior('logistic');
    const n = 121;
    const { values, max } = logDensityGrid(posterior, n, n);
    const { xMin, xMax, yMin, yMax } = posterior.box;
    let mass = 0;
    const first = [0, 0];
    const second = [0, 0];
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      const w = Math.exp(values[j * n + i] - max);
      const point = [xMin + ((xMax - xMin) * i) / (n - 1), yMin + ((yMax - yMin) * j) / (n - 1)];
      mass += w;
      for (let k = 0; k < 2; k++) {
        first[k] += w * point[k];
        second[k] += w * point[k] * point[k];
      }
    }
    const exactMean = first.map((v) => v / mass);
    const exactSd = second.map((v, k) => Math.sqrt(v / mass - exactMean[k] ** 2));
    const sampler = gaussianVi(posterior.target, { family: 'fullrank', learningRate: 0.01 });
    let state = sampler.init(posterior.initial, key(0));
    const all = posterior.target.fullBatch();
    const averageMean = [0, 0];
    for (let t = 0; t < 4000; t++) {
      state = sampler.step(key(t + 1), state, all)[0];
      if (t >= 3000) for (let k = 0; k < 2; k++) averageMean[k] += state.position[k] / 1000;
    }
    const family = gaussianFamily('fullrank', 2);
    const m = state.params.phi;
    const draws = Array.from({ length: 4000 }, (_, i) => family.sample(key(10_000 + i), state.params));
    for (let k = 0; k < 2; k++) {
      expect(Math.abs(averageMean[k] - exactMean[k])).toBeLessThan(0.03);
      const mean = draws.reduce((s, d) => s + d[k], 0) / draws.length;
      const sd = Math.sqrt(draws.reduce((s, d) => s + (d[k] - mean) ** 2, 0) / draws.length);
      expect(Math.abs(sd / exactSd[k] - 1)).toBeLessThan(0.2);
    }
    // logQ is a normalised density: at the mean it is −log(2π det L) = −log(2π) − Σρ.
    expect(family.logQ(m.slice(0, 2), state.params)).toBeCloseTo(-Math.log(2 * Math.PI) - m[2] - m[3], 10);
  });
});

describe('logDensityGrid', () => {
  it('peaks at the mode of the logistic posterior', () => {
    const posterior = demoPosterior('logistic');
    const { values, max } = logDensityGrid(posterior, 61, 61);
    const at = values.indexOf(max);
    const { xMin, xMax, yMin, yMax } = posterior.box;
    const x = xMin + ((xMax - xMin) * (at % 61)) / 60;
    const y = yMin + ((yMax - yMin) * Math.floor(at / 61)) / 60;
    const mode = modeGeometry(posterior).mode;
    expect(Math.abs(x - mode[0])).toBeLessThan(0.06);
    expect(Math.abs(y - mode[1])).toBeLessThan(0.06);
  });
});
