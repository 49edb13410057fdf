/**
 * Natural-gradient VI against Adam-based VI on Bayesian logistic regression (breast cancer):
 * passes over the data to reach the ELBO of the full-batch reference VI, mean-field and full-rank
 * Gaussians (issue 6; Khan et al. 2018). See docs/natural-gradient.md.
 * Run: `npx tsx experiments/ngvi.ts [--json] [--passes N] [--batch S] [--seed n]`
 * (the integrator wires the same into `sgbayes experiment natural-gradient --vi`).
 */
import { toJson } from '../src/cli/format.js';
import { loadBreastCancer } from '../src/data/node.js';
import { printNgviTable, runNgviComparison } from '../src/vi/ngvi.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`experiments/ngvi.ts: ${name} needs a positive number, got '${process.argv[i + 1]}'`);
  return value;
}

const json = process.argv.includes('--json');
const started = performance.now();
const result = runNgviComparison({
  dataset: loadBreastCancer(),
  maxPasses: flag('--passes', 60),
  batchSize: flag('--batch', 32),
  seed: flag('--seed', 0) | 0,
  onRun: json ? undefined : (row) => process.stderr.write(`  ${row.covariance} ${row.method} ${row.schedule}: ${row.passesToReference ?? 'not reached'} (${row.seconds.toFixed(1)} s)\n`),
});
if (json) process.stdout.write(`${toJson(result, 2)}\n`);
else {
  process.stdout.write(`${printNgviTable(result.rows)}\n`);
  process.stdout.write(`\n${result.rows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
