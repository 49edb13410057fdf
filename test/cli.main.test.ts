import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Run the CLI from source (tsx), as `sgbayes <args>`; resolves even on a non-zero exit. */
async function sgbayes(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe.concurrent('sgbayes CLI', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await sgbayes('--version');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('--help lists the demo command', async () => {
    const result = await sgbayes('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: sgbayes/);
    expect(result.stdout).toMatch(/^\s+demo\b/m);
  });

  it('demo --json prints one JSON object with a finite symmetrised KL', async () => {
    const result = await sgbayes('demo', '--json', '--steps', '3000', '--chains', '2', '--seed', '3');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(''); // no progress bar when not on a TTY
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ model: 'bayesian-linear-regression', sampler: 'sgld', steps: 3000, chains: 2, seed: 3 });
    expect(Number.isFinite(report.symmetricKL)).toBe(true);
    expect(report.symmetricKL as number).toBeGreaterThan(0);
    const names = report.featureNames as string[];
    expect(names).toHaveLength(12);
    expect(names).toContain('alcohol');
    for (const field of ['sampleMean', 'sampleSd', 'exactMean', 'exactSd']) {
      const values = report[field] as number[];
      expect(values, field).toHaveLength(12);
      expect(values.every(Number.isFinite), field).toBe(true);
    }
    expect((report.exactSd as number[]).every((sd) => sd > 0)).toBe(true);
    expect(report.stepSize).toBe(5e-6);
    expect(report.seconds as number).toBeGreaterThan(0);
  });

  it('demo prints a table naming every coefficient and the KL', async () => {
    const result = await sgbayes('demo', '--steps', '1000', '--chains', '1');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/coefficient\s+SGLD mean\s+exact mean\s+SGLD sd\s+exact sd/);
    expect(result.stdout).toMatch(/^volatile_acidity\s/m);
    expect(result.stdout).toMatch(/^intercept\s/m);
    expect(result.stdout).toMatch(/symmetrised KL\(sample Gaussian ‖ exact posterior\) = \d/);
  });

  it('rejects a bad option value with a message naming the option', async () => {
    const result = await sgbayes('demo', '--steps', '-5');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--steps must be a positive integer, got '-5'/);
  });
});
