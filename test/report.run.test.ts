// The run report: reading a run directory written by `sgbayes run`, its diagnostics (reference,
// noise, predictive checks), the HTML page and the `sgbayes report` command.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cholesky } from '../src/core/linalg.js';
import { mvNormal } from '../src/core/distributions.js';
import { foldIn, key, normal, uniform } from '../src/core/random.js';
import { parseRunConfig } from '../src/run/config.js';
import { runToDirectory } from '../src/run/run.js';
import { buildRunTarget, loadRunData } from '../src/run/target.js';
import type { LinearRegressionModel } from '../src/models/linear.js';
import { readRunDirectory, RunDirectoryError, runDiagnostics, writeExperimentReport, writeRunReport } from '../src/run/report.js';
import { runReportHtml, RunReportError } from '../src/report/run.js';
import { register } from '../src/cli/commands/report.js';

let dir: string;
let runDir: string;
let logisticDir: string;

/** y = 0.5 + x1 − 2x2 + ε, ε ~ N(0, 1): data from the model the run fits (τ = 1). */
function writeLinearData(path: string, rows: number): void {
  const z = normal(key(11), 3 * rows);
  const lines = ['x1,x2,y'];
  for (let i = 0; i < rows; i++) lines.push(`${z[3 * i]},${z[3 * i + 1]},${0.5 + z[3 * i] - 2 * z[3 * i + 1] + z[3 * i + 2]}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function writeLogisticData(path: string, rows: number): void {
  const z = normal(key(12), 2 * rows);
  const u = uniform(key(13), rows);
  const lines = ['x1,x2,y'];
  for (let i = 0; i < rows; i++) {
    const p = 1 / (1 + Math.exp(-(1.5 * z[2 * i] - z[2 * i + 1])));
    lines.push(`${z[2 * i]},${z[2 * i + 1]},${u[i] < p ? 1 : 0}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sgbayes-report-'));
  writeLinearData(join(dir, 'linear.csv'), 200);
  writeLogisticData(join(dir, 'logistic.csv'), 200);
  const base = { steps: 600, burnIn: 200, thin: 2, chains: 2, seed: 3, batchSize: 20 };
  const linear = parseRunConfig(
    { model: { type: 'linear-regression', data: 'linear.csv', target: 'y', priorPrecision: 1, noisePrecision: 1 }, sampler: { type: 'sgld', stepSize: 5e-4 }, ...base },
    'linear.json',
    dir,
  );
  const logistic = parseRunConfig(
    { model: { type: 'logistic-regression', data: 'logistic.csv', target: 'y', priorPrecision: 1 }, sampler: { type: 'sgld', stepSize: 2e-3 }, ...base },
    'logistic.json',
    dir,
  );
  runDir = join(dir, 'linear-run');
  logisticDir = join(dir, 'logistic-run');
  await runToDirectory({ config: linear, outDir: runDir, inProcess: true });
  await runToDirectory({ config: logistic, outDir: logisticDir, inProcess: true });
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readRunDirectory', () => {
  it('reads the draws, names and summary of a finished run', () => {
    const run = readRunDirectory(runDir);
    expect(run.finished).toBe(true);
    expect(run.parameterNames).toEqual(['x1', 'x2', 'intercept']);
    expect(run.chains).toHaveLength(2);
    expect(run.chains[0].length).toBe(200 * 3);
    expect(Array.from(run.steps[0].slice(0, 3))).toEqual([200, 202, 204]);
    expect(run.summary.map((s) => s.name)).toEqual(['x1', 'x2', 'intercept']);
    // draws.arrow and the per-chain CSV agree on the first draw of chain 1.
    const csv = readFileSync(join(runDir, 'draws-chain1.csv'), 'utf8').split('\n')[1].split(',').map(Number);
    expect(Array.from(run.chains[1].slice(0, 3))).toEqual(csv.slice(1, 4));
  });

  it('falls back to the per-chain streams of an unfinished run, computing the summary', () => {
    // Copy the run without draws.arrow and summary.json, as a run still going leaves it.
    const copy = join(dir, 'unfinished');
    cpSync(runDir, copy, { recursive: true });
    unlinkSync(join(copy, 'draws.arrow'));
    unlinkSync(join(copy, 'summary.json'));
    const run = readRunDirectory(copy);
    const finished = readRunDirectory(runDir);
    expect(run.finished).toBe(false);
    expect(run.chains[0]).toEqual(finished.chains[0]);
    expect(run.summary[0].mean).toBeCloseTo(finished.summary[0].mean, 12);
  });

  it('names the problem for a directory that is not a run', () => {
    expect(() => readRunDirectory(dir)).toThrow(RunDirectoryError);
    expect(() => readRunDirectory(dir)).toThrow(/no config\.json/);
  });
});

describe('runDiagnostics', () => {
  it('uses the exact posterior of a linear regression, the noise spectrum and interval coverage', () => {
    const run = readRunDirectory(runDir);
    const diagnostics = runDiagnostics(run, { tailSamples: 400 });
    expect(diagnostics.reference?.exact).toBe(true);
    const model = buildRunTarget(run.config.model, loadRunData(run.config.model)).target as LinearRegressionModel;
    expect(Array.from(diagnostics.reference?.mean ?? [])).toEqual(Array.from(model.exactPosterior().mean));
    expect(diagnostics.noise?.eigenvalues.length).toBe(3);
    // With Gaussian data the gradient noise has finite variance: the block-sum α̂ should be near 2.
    expect(diagnostics.noise?.tailIndex?.alpha).toBeGreaterThan(1.6);
    expect(diagnostics.predictive?.kind).toBe('regression');
  });

  it('predictive intervals from exact posterior draws cover at their level', () => {
    // Replace the draws by 400 exact posterior draws: in-sample coverage of data simulated from the
    // model is then the level up to binomial error, sd √(ℓ(1−ℓ)/200) ≤ 0.036; allow 4 sd = 0.14.
    const run = readRunDirectory(runDir);
    const model = buildRunTarget(run.config.model, loadRunData(run.config.model)).target as LinearRegressionModel;
    const exact = model.exactPosterior();
    const L = cholesky(exact.cov, 3);
    const chains = [0, 1].map((c) => {
      const out = new Float64Array(200 * 3);
      for (let i = 0; i < 200; i++) out.set(mvNormal(foldIn(key(c), i), exact.mean, L), 3 * i);
      return out;
    });
    const diagnostics = runDiagnostics({ ...run, chains }, { noise: false, predictiveDraws: 400 });
    if (diagnostics.predictive?.kind !== 'regression') throw new Error('expected a regression check');
    for (const row of diagnostics.predictive.coverage) expect(Math.abs(row.coverage - row.level)).toBeLessThan(0.14);
    expect(diagnostics.noise).toBeUndefined();
  });

  it('uses the Laplace approximation and a reliability table for a logistic regression', () => {
    const diagnostics = runDiagnostics(readRunDirectory(logisticDir), { tailSamples: 400 });
    expect(diagnostics.reference?.exact).toBe(false);
    expect(diagnostics.reference?.label).toBe('Laplace approximation');
    if (diagnostics.predictive?.kind !== 'classification') throw new Error('expected a classification check');
    const counted = diagnostics.predictive.calibration.table.reduce((s, b) => s + b.count, 0);
    expect(counted).toBe(200);
    expect(diagnostics.predictive.accuracy).toBeGreaterThan(0.6);
  });

  it('prefers a reference.json in the run directory', () => {
    const copy = join(dir, 'with-reference');
    cpSync(runDir, copy, { recursive: true });
    writeFileSync(join(copy, 'reference.json'), JSON.stringify({ label: 'NUTS reference', mean: [1, 2, 3], cov: [1, 0, 0, 0, 1, 0, 0, 0, 1] }));
    const diagnostics = runDiagnostics(readRunDirectory(copy), { noise: false });
    expect(diagnostics.reference?.label).toBe('NUTS reference');
    writeFileSync(join(copy, 'reference.json'), JSON.stringify({ mean: [1, 2] }));
    expect(() => readRunDirectory(copy)).toThrow(/reference\.json: mean must be an array of 3 finite numbers/);
  });
});

describe('the run report', () => {
  it('writes one self-contained page with every section', async () => {
    const out = await writeRunReport(runDir, { out: join(dir, 'report.html'), tailSamples: 400 });
    const html = readFileSync(out, 'utf8');
    for (const heading of ['Convergence', 'Trace and rank plots', 'Marginal densities against the exact posterior', 'Pair plot', 'Gradient noise', 'Predictive interval coverage', 'Sampler statistics']) {
      expect(html).toContain(heading);
    }
    // 3 traces + 3 rank plots + 3 densities + pair + spectrum + coverage.
    expect(html.match(/<svg/g)?.length).toBe(12);
    expect(html).not.toMatch(/<script|<link |src="http|href="http/);
  }, 30_000);

  it('refuses data whose shapes disagree', async () => {
    const base = { title: 't', parameterNames: ['a', 'b'], summary: [] };
    await expect(runReportHtml({ ...base, chains: [new Float64Array(3)] })).rejects.toThrow(RunReportError);
    await expect(runReportHtml({ ...base, chains: [new Float64Array(4)], reference: { mean: new Float64Array(3), cov: new Float64Array(4), label: 'r', exact: true } })).rejects.toThrow(/reference has 3 means/);
    await expect(runReportHtml({ ...base, chains: [new Float64Array(4)] }, { pair: ['a', 'c'] })).rejects.toThrow(/pair a, c/);
  });

  it('`sgbayes report` writes the file named by --out', async () => {
    const program = new Command().exitOverride();
    register(program);
    const out = join(dir, 'cli-report.html');
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'sgbayes', 'report', logisticDir, '--out', out, '--no-noise', '--max-parameters', '1', '--pair', 'intercept,x1']);
    } finally {
      process.stdout.write = write;
    }
    expect(written.join('')).toContain(out);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('intercept vs x1');
    expect(html).not.toContain('Gradient noise');
    expect(html).toContain('first 1 of 3 parameters');
    await expect(program.parseAsync(['node', 'sgbayes', 'report', logisticDir, '--pair', 'x1'])).rejects.toThrow(/--pair/);
  }, 30_000);

  it('writeExperimentReport writes the page to the file', async () => {
    const file = join(dir, 'experiment.html');
    const path = await writeExperimentReport(file, { title: 'E', rows: [{ a: 1 }] });
    expect(path).toBe(file);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('<td class="num">1</td>');
  });
});
