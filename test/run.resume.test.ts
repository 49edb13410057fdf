import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig } from '../src/run/config.js';
import { runToDirectory, RunStoppedError } from '../src/run/run.js';
import { runChains } from '../src/run/driver.js';
import { OnlineMoments } from '../src/run/moments.js';
import { decodeState, encodeState, CheckpointEncodingError } from '../src/run/serialize.js';
import { buildRunTarget, loadRunData } from '../src/run/target.js';
import { getSampler } from '../src/samplers/registry.js';
import { normal, key } from '../src/core/random.js';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(__dirname, 'fixtures/run/linear.csv');

function linearConfig(overrides: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig(
    {
      model: { type: 'linear-regression', data: DATA, target: 'y', priorPrecision: 1, noisePrecision: 4 },
      sampler: { type: 'sgld', stepSize: 0.0005 },
      steps: 1200,
      burnIn: 200,
      thin: 2,
      chains: 2,
      seed: 5,
      batchSize: 10,
      checkpointEvery: 300,
      ...overrides,
    },
    'resume-test.json',
    '/',
  );
}

const made: string[] = [];
const tempDir = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `sgbayes-${name}-`));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every file of a run directory by name (checkpoint temporaries would show up here too). */
function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

function expectSameFiles(dir: string, reference: string): void {
  const expected = filesOf(reference);
  const actual = filesOf(dir);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) expect(actual.get(name)?.equals(bytes), `${name} differs`).toBe(true);
}

/** Stop an in-process run once chain `chain` has done at least `after` steps. */
async function runUntil(config: RunConfig, outDir: string, chain: number, after: number): Promise<void> {
  const controller = new AbortController();
  await expect(
    runToDirectory({
      config,
      outDir,
      inProcess: true,
      signal: controller.signal,
      onProgress: (c, steps) => {
        if (c === chain && steps >= after) controller.abort();
      },
    }),
  ).rejects.toThrow(RunStoppedError);
}

describe('checkpoint encoding', () => {
  it('restores numbers and typed arrays bit for bit, including −0, NaN and ±Infinity', () => {
    const state = {
      position: Float64Array.of(1 / 3, -0, Number.NaN, Number.POSITIVE_INFINITY, 5e-324, -1.7976931348623157e308),
      step: 17,
      nested: { negativeZero: -0, list: [Number.NEGATIVE_INFINITY, 0.1, true, null, 'text'], counts: Int32Array.of(-1, 2 ** 31 - 1) },
      flags: Uint8Array.of(0, 255),
    };
    const restored = decodeState(JSON.parse(JSON.stringify(encodeState(state)))) as typeof state;
    expect(restored.position).toBeInstanceOf(Float64Array);
    expect(Buffer.from(restored.position.buffer).equals(Buffer.from(state.position.buffer))).toBe(true);
    expect(Object.is(restored.nested.negativeZero, -0)).toBe(true);
    expect(restored.nested.list).toEqual(state.nested.list);
    expect(restored.nested.counts).toEqual(state.nested.counts);
    expect(restored.flags).toEqual(state.flags);
    expect(restored.step).toBe(17);
  });

  it('refuses state that is not plain data, naming where it is', () => {
    expect(() => encodeState({ inner: { accumulator: new OnlineMoments(2) } })).toThrow(CheckpointEncodingError);
    expect(() => encodeState({ inner: { accumulator: new OnlineMoments(2) } })).toThrow(/^state\.inner\.accumulator: cannot checkpoint an instance of OnlineMoments/);
    expect(() => encodeState({ f: () => 1 })).toThrow(/^state\.f: cannot checkpoint a function/);
  });

  it('restores online moments so that further draws give the same bits', () => {
    const draws = normal(key(3), 3 * 40);
    const whole = new OnlineMoments(3);
    const first = new OnlineMoments(3);
    for (let s = 0; s < 40; s++) whole.push(draws.subarray(3 * s, 3 * s + 3));
    for (let s = 0; s < 15; s++) first.push(draws.subarray(3 * s, 3 * s + 3));
    const restored = OnlineMoments.fromSnapshot(decodeState(JSON.parse(JSON.stringify(encodeState(first.snapshot())))) as ReturnType<OnlineMoments['snapshot']>);
    for (let s = 15; s < 40; s++) restored.push(draws.subarray(3 * s, 3 * s + 3));
    expect(restored.count).toBe(40);
    expect(restored.mean()).toEqual(whole.mean());
    expect(restored.covariance()).toEqual(whole.covariance());
  });
});

describe('runs that lose nothing', () => {
  it('keeps exactly the draws of runChains with the same seed (same keys, batches, burn-in and thinning)', async () => {
    const config = linearConfig();
    const dir = tempDir('driver');
    const report = await runToDirectory({ config, outDir: dir, inProcess: true });
    const { target } = buildRunTarget(config.model, loadRunData(config.model));
    const reference = runChains({
      target,
      sampler: () => getSampler('sgld').create(target, { stepSize: 0.0005 }),
      initial: new Float64Array(target.dim),
      chains: 2,
      steps: 1200,
      burnIn: 200,
      thin: 2,
      batchSize: 10,
      seed: 5,
      keepDraws: true,
    });
    const table = tableFromIPC(readFileSync(join(dir, 'draws.arrow')));
    expect(table.numRows).toBe(2 * 500);
    const names = report.parameterNames;
    for (let c = 0; c < 2; c++) {
      const chainDraws = reference.chains[c].draws as Float64Array;
      names.forEach((name, j) => {
        const column = table.getChild(name)?.toArray() as Float64Array;
        const fromFile = column.subarray(c * 500, (c + 1) * 500);
        expect(Float64Array.from({ length: 500 }, (_, s) => chainDraws[s * names.length + j])).toEqual(fromFile);
      });
      expect(report.chainInfo[c].infoMean.gradNorm).toBe(reference.chains[c].infoMean.gradNorm);
    }
    const steps = table.getChild('step')?.toArray() as Int32Array;
    expect(Array.from(steps.subarray(0, 3))).toEqual([200, 202, 204]);
    // The CSV holds the same numbers in shortest round-trip form.
    const csv = readFileSync(join(dir, 'draws-chain1.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('step,x1,x2,x3,intercept,stepSize__,gradNorm__,noiseNorm__,temperature__,logPosterior__');
    expect(csv).toHaveLength(501);
    expect(csv[1].split(',').slice(1, 5).map(Number)).toEqual(names.map((name) => (table.getChild(name)?.toArray() as Float64Array)[500]));
  });

  it.each([
    ['sgld, stopped mid-interval', linearConfig(), 1, 700, true],
    ['nuts, stopped inside the warm-up windows', linearConfig({ sampler: { type: 'nuts' }, steps: 240, burnIn: 120, thin: 1, checkpointEvery: 25 }), 0, 60, false],
    ['nuts, stopped after the warm-up', linearConfig({ sampler: { type: 'nuts' }, steps: 240, burnIn: 120, thin: 1, checkpointEvery: 25 }), 1, 160, true],
  ])('%s: a stopped run with torn trailing rows resumes to the bytes of an uninterrupted run', async (_label, config, chain, after, rowsAfterCheckpoint) => {
    const reference = tempDir('reference');
    await runToDirectory({ config, outDir: reference, inProcess: true });
    const dir = tempDir('stopped');
    await runUntil(config, dir, chain, after);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    const checkpoint = JSON.parse(readFileSync(join(dir, `checkpoint-chain${chain}.json`), 'utf8')) as { step: number; files: { csv: number } };
    expect(checkpoint.step).toBeLessThan(config.steps);
    // Draws after the checkpoint were flushed on stop; add a torn row as a kill inside a write would leave.
    if (rowsAfterCheckpoint) expect(readFileSync(join(dir, `draws-chain${chain}.csv`)).length).toBeGreaterThan(checkpoint.files.csv);
    appendFileSync(join(dir, `draws-chain${chain}.csv`), '9999,0.123');
    appendFileSync(join(dir, `draws-chain${chain}.arrows`), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10, 0x01]));
    // A kill between writing a checkpoint's temporary and renaming it leaves the temporary behind.
    writeFileSync(join(dir, `.checkpoint-chain${chain}.json.tmp-424242`), '{"step":');
    await runToDirectory({ config, outDir: dir, inProcess: true, resume: true });
    expectSameFiles(dir, reference);
    // Resuming a finished run changes nothing.
    await runToDirectory({ config, outDir: dir, inProcess: true, resume: true });
    expectSameFiles(dir, reference);
  });

  it('a CLI run killed with SIGKILL mid-way resumes with --resume to draws bit-identical to an uninterrupted run', async () => {
    const config = linearConfig({ steps: 12_000, burnIn: 1000, thin: 4, checkpointEvery: 1000, seed: 9 });
    const configDir = tempDir('kill-config');
    const configPath = join(configDir, 'run.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        model: { type: 'linear-regression', data: DATA, target: 'y', priorPrecision: 1, noisePrecision: 4 },
        sampler: { type: 'sgld', stepSize: 0.0005 },
        steps: 12_000,
        burnIn: 1000,
        thin: 4,
        chains: 2,
        seed: 9,
        batchSize: 10,
        checkpointEvery: 1000,
      }),
    );
    const killed = tempDir('killed');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'run', configPath, '--out', killed, '--workers', '2', '--json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    // Kill as soon as chain 0 has a checkpoint at step ≥ 2000 (a sixth of the way).
    const checkpointStep = (c: number): number => {
      try {
        return (JSON.parse(readFileSync(join(killed, `checkpoint-chain${c}.json`), 'utf8')) as { step: number }).step;
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 90_000;
    while (checkpointStep(0) < 2000 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal, `the run ended before it could be killed: ${stderr}`).toBe('SIGKILL');
    expect(existsSync(join(killed, 'summary.json'))).toBe(false);
    expect(checkpointStep(0)).toBeLessThan(12_000);

    const reference = tempDir('kill-reference');
    await runToDirectory({ config, outDir: reference, inProcess: true });
    await runToDirectory({ config, outDir: killed, inProcess: true, resume: true });
    expectSameFiles(killed, reference);
    const csv = readFileSync(join(killed, 'draws-chain0.csv'), 'utf8').trim().split('\n');
    const steps = csv.slice(1).map((line) => Number(line.split(',')[0]));
    expect(steps).toEqual(Array.from({ length: 2750 }, (_, i) => 1000 + 4 * i));
  });
});
