import { describe, expect, it } from 'vitest';
import { loadWine } from '../src/data/node.js';
import { fitStandardizer, selectRows } from '../src/data/preprocess.js';
import { solve } from '../src/core/linalg.js';
import { lowNoise } from './nn.helpers.js';
import { parseUciFolder } from '../src/data/uci.js';
import { runUci, runUciSplit, uciDefaults, uciDatasetName, UCI_MIN_UPDATES } from '../src/nn/uci.js';

/** Test RMSE (original units) of ridge regression with an intercept, λ = 1, on standardised inputs. */
function ridgeRmse(split: number): number {
  const { uci } = loadWine();
  const { train, test } = uci.split(split);
  const scaler = fitStandardizer(uci.dataset, train);
  const tr = scaler.apply(selectRows(uci.dataset, train));
  const te = scaler.apply(selectRows(uci.dataset, test));
  const d = tr.cols + 1;
  const gram = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let i = 0; i < tr.rows; i++) {
    const row = [...tr.x.subarray(i * tr.cols, (i + 1) * tr.cols), 1];
    for (let a = 0; a < d; a++) {
      rhs[a] += row[a] * tr.y[i];
      for (let b = 0; b < d; b++) gram[a * d + b] += row[a] * row[b];
    }
  }
  for (let a = 0; a < d - 1; a++) gram[a * d + a] += 1;
  const w = solve(gram, rhs, d);
  let sq = 0;
  for (let i = 0; i < te.rows; i++) {
    let f = w[d - 1];
    for (let a = 0; a < te.cols; a++) f += w[a] * te.x[i * te.cols + a];
    sq += (scaler.unscaleY(f) - scaler.unscaleY(te.y[i])) ** 2;
  }
  return Math.sqrt(sq / te.rows);
}

describe('UCI protocol on the shipped red-wine splits', () => {
  it('uses the folder and the paper set-up for its defaults', () => {
    const { uci } = loadWine();
    const settings = uciDefaults(uci, 'mvg');
    expect(uciDatasetName(uci)).toBe('wine-quality-red');
    expect(settings.hidden).toBe(50);
    expect(settings.batchSize).toBe(32);
    expect(settings.pseudoPairs).toBe(10);
    expect(settings.epochs * Math.floor(uci.split(0).train.length / 32)).toBeGreaterThanOrEqual(UCI_MIN_UPDATES);
    expect(() => uciDefaults(uci, 'dropout' as never)).toThrow(/unknown method 'dropout'/);
    expect(() => runUci(uci, settings, { splits: 21 })).toThrow(/splits must be an integer in 1..20/);
    expect(uciDefaults(uci, 'mvg-pseudo').maxPseudoNoise).toEqual([2.5e-5, 0.01]);
    expect(() => runUciSplit(uci, 0, { ...uciDefaults(uci, 'mvg-pseudo'), maxPseudoNoise: [] })).toThrow(/maxPseudoNoise must hold numbers in \(0, 1\], got \[\]/);
    expect(() => runUciSplit(uci, 0, { ...uciDefaults(uci, 'mvg-pseudo'), maxPseudoNoise: [0.01, 2] })).toThrow(/got \[0.01, 2\]/);
  });

  // Epochs: the pseudo-data posterior fits faster; plain MVG needs ~4000 updates (measured: RMSE 0.689 after 40 epochs, 0.648 after 100).
  for (const [method, epochs] of [['mvg', 150], ['mvg-pseudo', 25]] as const) {
    it(`${method}: ${epochs} epochs on split 0 beat ridge regression's test RMSE, with a sensible test log likelihood`, () => {
      const { uci } = loadWine();
      const settings = { ...uciDefaults(uci, method), epochs, samples: 30 };
      const result = runUciSplit(uci, 0, settings);
      const ridge = ridgeRmse(0);
      expect(ridge).toBeGreaterThan(0.6);
      expect(result.rmse).toBeLessThan(ridge);
      // A predictive with sd ≈ RMSE has log likelihood ≈ −log(0.65) − ½ log 2π − ½ ≈ −0.99.
      expect(result.testLogLikelihood).toBeGreaterThan(-1.2);
      expect(result.testLogLikelihood).toBeLessThan(-0.5);
    });
  }
});

/** A one-split folder in the UCI format: y = sin(2x₁) + ½x₂ + 0.03ε, 200 training and 40 test rows. */
function lowNoiseFolder() {
  const n = 240;
  const { x, y } = lowNoise(n, 11);
  const lines = Array.from({ length: n }, (_, i) => `${x[2 * i]} ${x[2 * i + 1]} ${y[i]}`);
  const files: Record<string, string> = {
    'data.txt': lines.join('\n'),
    'index_features.txt': '0\n1',
    'index_target.txt': '2',
    'index_train_0.txt': Array.from({ length: 200 }, (_, i) => String(i)).join('\n'),
    'index_test_0.txt': Array.from({ length: 40 }, (_, i) => String(200 + i)).join('\n'),
    'n_splits.txt': '1',
    'n_hidden.txt': '16',
    'n_epochs.txt': '40',
  };
  return parseUciFolder((name) => files[name], 'low-noise');
}

describe('the noise precision of the predictive', () => {
  // Gamma(6, 6) on the standardised target caps E τ near (a₀ + N/2)/b₀ = 106/6 ≈ 18 whatever the fit;
  // the noise here is 0.03 / sd(y) ≈ 0.04 standardised (τ ≈ 600).
  const cap = (6 + 200 / 2) / 6;
  it('mvg: empirical Bayes lifts E τ above the fixed prior\'s cap to the fit\'s 1/MSE; SGLD and constant SGD record their fixed prior', () => {
    const folder = lowNoiseFolder();
    const base = { ...uciDefaults(folder, 'mvg'), epochs: 2000, samples: 20 };
    expect(base.noisePrior).toBe('empirical-bayes');
    const fixed = runUciSplit(folder, 0, { ...base, noisePrior: 'fixed' });
    const fitted = runUciSplit(folder, 0, base);
    expect(fixed.noisePrecision).toBeLessThan(1.1 * cap);
    expect(fitted.noisePrecision).toBeGreaterThan(4 * cap);
    // The fixed point E τ = 1/m, m the training rows' mean squared error under q(W): within a factor 3 of
    // the inverse mean squared test error (standardised units).
    const train = folder.dataset.y.slice(0, 200);
    const mean = train.reduce((a, v) => a + v, 0) / 200;
    const ySd = Math.sqrt(train.reduce((a, v) => a + (v - mean) ** 2, 0) / 199);
    const inverseMse = (ySd / fitted.rmse) ** 2;
    expect(fitted.noisePrecision).toBeGreaterThan(inverseMse / 3);
    expect(fitted.noisePrecision).toBeLessThan(inverseMse * 3);
    expect(fitted.testLogLikelihood).toBeGreaterThan(fixed.testLogLikelihood + 0.3);
    for (const method of ['sgld', 'constant-sgd'] as const) {
      expect(uciDefaults(folder, method).noisePrior).toBe('fixed');
      expect(() => runUciSplit(folder, 0, { ...uciDefaults(folder, method), noisePrior: 'empirical-bayes' })).toThrow(/samples the noise precision under the fixed Gamma\(6, 6\) prior/);
    }
  });
});
