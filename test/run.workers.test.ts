import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/run/config.js';
import { runToDirectory } from '../src/run/run.js';

const DATA = resolve(__dirname, 'fixtures/run/linear.csv');

const config = parseRunConfig(
  {
    model: { type: 'linear-regression', data: DATA, target: 'y', priorPrecision: 1, noisePrecision: 4 },
    sampler: { type: 'sgld', stepSize: 0.0005 },
    steps: 1500,
    burnIn: 300,
    thin: 3,
    chains: 3,
    seed: 11,
    batchSize: 16,
    checkpointEvery: 500,
  },
  'workers-test.json',
  '/',
);

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

describe('run on worker threads', () => {
  it('writes byte-identical files with 1 worker, 2 workers and in-process', async () => {
    const dirs = ['inprocess', 'one', 'two'].map((name) => mkdtempSync(join(tmpdir(), `sgbayes-workers-${name}-`)));
    made.push(...dirs);
    const progress: [number, number][] = [];
    const [inProcess, one, two] = await Promise.all([
      runToDirectory({ config, outDir: dirs[0], inProcess: true }),
      runToDirectory({ config, outDir: dirs[1], workers: 1 }),
      runToDirectory({ config, outDir: dirs[2], workers: 2, onProgress: (chain, steps) => progress.push([chain, steps]) }),
    ]);
    expect([inProcess.workers, one.workers, two.workers]).toEqual([0, 1, 2]);
    const reference = filesOf(dirs[0]);
    expect([...reference.keys()]).toEqual([
      'checkpoint-chain0.json',
      'checkpoint-chain1.json',
      'checkpoint-chain2.json',
      'config.json',
      'draws-chain0.arrows',
      'draws-chain0.csv',
      'draws-chain1.arrows',
      'draws-chain1.csv',
      'draws-chain2.arrows',
      'draws-chain2.csv',
      'draws.arrow',
      'summary.json',
    ]);
    for (const dir of dirs.slice(1)) {
      const files = filesOf(dir);
      expect([...files.keys()]).toEqual([...reference.keys()]);
      for (const [name, bytes] of reference) expect(files.get(name)?.equals(bytes), `${dir}/${name}`).toBe(true);
    }
    // Chains differ from one another (each has its own key), and every chain reported its last step.
    const csv = (c: number): string => reference.get(`draws-chain${c}.csv`)?.toString() ?? '';
    expect(csv(0)).not.toBe(csv(1));
    for (let c = 0; c < 3; c++) expect(progress).toContainEqual([c, 1500]);
    expect(two.parameters.map((p) => p.mean)).toEqual(inProcess.parameters.map((p) => p.mean));
  });
});
