import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../src/cli/commands/uci.js';

const folder = join(import.meta.dirname, 'fixtures', 'nn', 'tiny-uci');

/** Run `sgbayes uci <args>` on a fresh program; returns what it printed to stdout. */
async function run(args: string[]): Promise<string> {
  const program = new Command('sgbayes').exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'sgbayes', 'uci', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('sgbayes uci', () => {
  for (const method of ['mvg', 'mvg-pseudo', 'meanfield', 'sgld', 'constant-sgd']) {
    it(`--json prints the protocol summary with per-split results (${method})`, async () => {
      const text = await run(['--data', folder, '--method', method, '--splits', '2', '--epochs', '30', '--batch-size', '16', '--samples', '10', '--json']);
      const result = JSON.parse(text);
      expect(result.dataset).toBe('tiny-uci');
      expect(result.method).toBe(method);
      expect(result.splits).toBe(2);
      expect(result.perSplit).toHaveLength(2);
      for (const field of ['rmse', 'testLogLikelihood']) {
        expect(Number.isFinite(result[field].mean)).toBe(true);
        expect(result[field].se).toBeGreaterThanOrEqual(0);
      }
      // Mean and s.e. are those of the per-split values.
      const rmses = result.perSplit.map((r: { rmse: number }) => r.rmse);
      expect(result.rmse.mean).toBeCloseTo((rmses[0] + rmses[1]) / 2, 12);
      expect(result.rmse.se).toBeCloseTo(Math.abs(rmses[0] - rmses[1]) / 2, 12);
      expect(result.settings.epochs).toBe(30);
      expect(result.settings.batchSize).toBe(16);
    });
  }

  it('--noise-prior fixed keeps Gamma(6, 6) and changes the result; the default is empirical Bayes', async () => {
    const args = ['--data', folder, '--splits', '1', '--epochs', '10', '--samples', '5', '--json'];
    const fitted = JSON.parse(await run(args));
    const fixed = JSON.parse(await run([...args, '--noise-prior', 'fixed']));
    expect(fitted.settings.noisePrior).toBe('empirical-bayes');
    expect(fixed.settings.noisePrior).toBe('fixed');
    expect(fixed.testLogLikelihood.mean).not.toBe(fitted.testLogLikelihood.mean);
  });

  it('records the fixed Gamma(6, 6) noise prior for the samplers and refuses empirical Bayes for them', async () => {
    const args = ['--data', folder, '--method', 'sgld', '--splits', '1', '--epochs', '5', '--samples', '5', '--json'];
    expect(JSON.parse(await run(args)).settings.noisePrior).toBe('fixed');
    await expect(run([...args, '--noise-prior', 'empirical-bayes'])).rejects.toThrow(/sgld samples the noise precision under the fixed Gamma\(6, 6\) prior/);
  });

  it('--pseudo-noise sets the pseudo data noise bound of mvg-pseudo; several are chosen from by validation, the default being 2.5e-5 and 0.01', async () => {
    const args = ['--data', folder, '--method', 'mvg-pseudo', '--splits', '1', '--epochs', '10', '--samples', '5', '--json'];
    const chosen = JSON.parse(await run(args));
    expect(chosen.settings.maxPseudoNoise).toEqual([2.5e-5, 0.01]);
    const { maxPseudoNoise, validationLogLikelihood } = chosen.perSplit[0].selection;
    expect(validationLogLikelihood).toHaveLength(2);
    expect(maxPseudoNoise).toBe([2.5e-5, 0.01][validationLogLikelihood.indexOf(Math.max(...validationLogLikelihood))]);
    const narrow = JSON.parse(await run([...args, '--pseudo-noise', '2.5e-5']));
    const wide = JSON.parse(await run([...args, '--pseudo-noise', '0.01']));
    expect(wide.settings.maxPseudoNoise).toEqual([0.01]);
    expect(wide.perSplit[0].selection).toBeUndefined();
    expect(wide.testLogLikelihood.mean).not.toBe(narrow.testLogLikelihood.mean);
    // The chosen candidate's final fit is the single-candidate run's (same seed, same rows).
    expect(chosen.testLogLikelihood.mean).toBe((maxPseudoNoise === 0.01 ? wide : narrow).testLogLikelihood.mean);
    await expect(run([...args, '--pseudo-noise', '0'])).rejects.toThrow(/--pseudo-noise must be numbers in \(0, 1\], comma-separated, got '0'/);
    await expect(run([...args, '--pseudo-noise', '0.01,x'])).rejects.toThrow(/got '0.01,x'/);
  });

  it('prints a table without --json', async () => {
    const text = await run(['--data', folder, '--splits', '1', '--epochs', '5', '--samples', '5']);
    expect(text).toMatch(/tiny-uci: mvg, 1 split\(s\), 8 hidden units, 5 epochs/);
    expect(text).toMatch(/test log likelihood\s+-?\d/);
  });

  it('rejects a bad method, more splits than the folder has, and a missing folder, naming the problem', async () => {
    await expect(run(['--data', folder, '--method', 'dropout'])).rejects.toThrow(/--method must be one of/);
    await expect(run(['--data', folder, '--splits', '3'])).rejects.toThrow(/--splits 3 exceeds the 2 splits/);
    await expect(run(['--data', folder, '--noise-prior', 'flat'])).rejects.toThrow(/--noise-prior must be empirical-bayes or fixed, got 'flat'/);
    await expect(run(['--data', join(folder, 'missing')])).rejects.toThrow(/missing/);
  });
});
