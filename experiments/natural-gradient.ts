/**
 * Reproduces the rate claims of Datar & Ay 2025 (arXiv 2504.19259): measured vs predicted
 * continuous-time KL rates of θ-GD, η-GD and natural gradient descent for each family and
 * reparameterisation factor c, with discrete-time stable steps and noise floors.
 * Run: `npx tsx experiments/natural-gradient.ts [--json]` (same as `sgbayes experiment natural-gradient`).
 */
import { toJson } from '../src/cli/format.js';
import { printTable, runNaturalGradientExperiment } from '../src/expfam/experiment.js';

const started = performance.now();
const result = runNaturalGradientExperiment();
if (process.argv.includes('--json')) process.stdout.write(`${toJson(result, 2)}\n`);
else {
  process.stdout.write(`${printTable(result.rows)}\n`);
  process.stdout.write(`\n${result.rows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
