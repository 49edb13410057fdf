import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.js';
import { ModelError } from '../src/models/common.js';
import { ConfigError, loadRunConfig, parseRunConfig, type RunConfig } from '../src/run/config.js';
import { DivergenceError } from '../src/run/driver.js';
import { CheckpointError } from '../src/run/chain.js';
import { runToDirectory, RunSetupError } from '../src/run/run.js';
import { register } from '../src/cli/commands/run.js';

const FIXTURES = resolve(__dirname, 'fixtures/run');
const made: string[] = [];
const tempDir = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `sgbayes-${name}-`));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function config(overrides: Record<string, unknown> = {}, model: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig(
    {
      model: { type: 'linear-regression', data: 'linear.csv', target: 'y', priorPrecision: 1, ...model },
      sampler: { type: 'sgld', stepSize: 0.0005 },
      steps: 200,
      chains: 1,
      batchSize: 10,
      checkpointEvery: 50,
      ...overrides,
    },
    'errors-test.json',
    FIXTURES,
  );
}

const run = (c: RunConfig, outDir = tempDir('errors'), resume = false) => runToDirectory({ config: c, outDir, inProcess: true, resume });

describe('bad data', () => {
  it('names a missing data file by its path, resolved next to the config file', async () => {
    const dir = tempDir('missing');
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ model: { type: 'linear-regression', data: 'nowhere/data.csv', target: 'y', priorPrecision: 1 }, sampler: { type: 'sgld', stepSize: 0.1 }, steps: 10, batchSize: 5 }));
    const loaded = loadRunConfig(join(dir, 'run.json'));
    await expect(run(loaded)).rejects.toThrow(new DataError({ file: join(dir, 'nowhere/data.csv') }, 'file not found'));
  });

  it('names file:line:column of a bad CSV cell', async () => {
    const error = await run(config({}, { data: 'bad-cell.csv' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(`${join(FIXTURES, 'bad-cell.csv')}:6:2: non-numeric cell "abc" in column "x2"`);
  });

  it('names a missing target column and lists the header', async () => {
    await expect(run(config({}, { target: 'price' }))).rejects.toThrow(
      `${join(FIXTURES, 'linear.csv')}:1: target column "price" not found; the header has "x1", "x2", "x3", "y"`,
    );
  });

  it('names the row of a class label outside 0..K−1', async () => {
    const softmax = config({}, { type: 'softmax-regression', data: 'classes.csv', target: 'label', classes: 2 });
    const error = await run(softmax).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/classes\.csv: row \d+, target "label" is 2 \(must be an integer class in 0\.\.1\)/);
  });

  it('writes nothing to the run directory when the data is bad', async () => {
    const dir = tempDir('nothing');
    await expect(run(config({}, { data: 'bad-cell.csv' }), dir)).rejects.toThrow(DataError);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });
});

describe('run directories', () => {
  it('refuses to overwrite a run without --resume, and to resume with another configuration', async () => {
    const dir = tempDir('occupied');
    await run(config(), dir);
    await expect(run(config(), dir)).rejects.toThrow(RunSetupError);
    await expect(run(config(), dir)).rejects.toThrow(/already holds a run \(.*\); pass --resume to continue it, or choose another --out/);
    const changed = parseRunConfig({ ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), sampler: { type: 'sgld', stepSize: 0.001 } }, 'changed.json', '/');
    await expect(run(changed, dir, true)).rejects.toThrow(`cannot resume ${dir}: the configuration differs from its config.json at sampler.stepSize`);
  });

  it('refuses a checkpoint written by another configuration', async () => {
    const first = tempDir('first');
    const second = tempDir('second');
    await run(config({ seed: 1 }), first);
    await run(config({ seed: 2, steps: 100 }), second);
    copyFileSync(join(first, 'checkpoint-chain0.json'), join(second, 'checkpoint-chain0.json'));
    const error = await run(config({ seed: 2, steps: 100 }), second, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/checkpoint-chain0\.json: written by a run with a different configuration/);
  });
});

describe('divergence', () => {
  // SGLD with ε = 0.5 on N = 120 points is unstable (ε λ_max ≫ 2), so it blows up within a few dozen steps.
  const diverging = config({ sampler: { type: 'sgld', stepSize: 0.5 }, steps: 400, checkpointEvery: 5, chains: 2 });

  it('stops naming the chain and step, keeping every draw and checkpoint written before', async () => {
    const dir = tempDir('diverge');
    const error = await run(diverging, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const { chain, step, message } = error as DivergenceError;
    expect(chain).toBe(0);
    expect(message).toMatch(new RegExp(`^chain 0 diverged at step ${step}: (gradient norm is (NaN|Infinity)|position\\[\\d\\] is (NaN|-?Infinity)) \\(step size 0\\.5\\); try a smaller step size`));
    expect(step).toBeGreaterThan(5);
    // burnIn 0, thin 1: one CSV row per finite step before the divergence, in order, none torn.
    const rows = readFileSync(join(dir, 'draws-chain0.csv'), 'utf8').split('\n');
    expect(rows.at(-1)).toBe('');
    expect(rows.slice(1, -1).map((line) => Number(line.split(',')[0]))).toEqual(Array.from({ length: step }, (_, t) => t));
    const checkpoint = JSON.parse(readFileSync(join(dir, 'checkpoint-chain0.json'), 'utf8')) as { step: number };
    expect(checkpoint.step).toBe(5 * Math.floor(step / 5));
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    expect(existsSync(join(dir, 'checkpoint-chain1.json'))).toBe(false);
  });

  it('comes back from a worker thread as a DivergenceError naming the chain and step', async () => {
    const inProcess = await run(diverging).catch((e: unknown) => e);
    const error = await runToDirectory({ config: diverging, outDir: tempDir('diverge-workers'), workers: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    expect((error as DivergenceError).chain).toBe(0);
    expect((error as DivergenceError).step).toBe((inProcess as DivergenceError).step);
    expect((error as DivergenceError).message).toBe((inProcess as DivergenceError).message);
  });
});

describe('sgbayes run command', () => {
  async function parse(args: string[]): Promise<unknown> {
    const program = new Command('sgbayes').exitOverride().configureOutput({ writeErr: () => undefined });
    register(program);
    return program.parseAsync(['node', 'sgbayes', 'run', ...args]).catch((e: unknown) => e);
  }

  it('reports a malformed config file with its path and every bad field', async () => {
    const dir = tempDir('cli');
    const path = join(dir, 'run.json');
    writeFileSync(path, JSON.stringify({ model: { type: 'linear-regression', data: 'd.csv', target: 'y', priorPrecision: -1 }, sampler: { type: 'sgld', stepSize: 'abc' }, steps: 10, batchSize: 5 }));
    const error = await parse([path, '--out', join(dir, 'out')]);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${path}: 2 problems:\n  model.priorPrecision: expected a positive number, got -1\n  sampler.stepSize: expected a positive number, got "abc"`,
    );
  });

  it('refuses a bad --workers value and a missing --out', async () => {
    const path = join(FIXTURES, 'linear-sgld.json');
    expect(String(await parse([path, '--out', tempDir('cli'), '--workers', '0']))).toMatch(/--workers must be a positive integer, got '0'/);
    expect(String(await parse([path]))).toMatch(/required option '--out <dir>' not specified/);
  });
});
