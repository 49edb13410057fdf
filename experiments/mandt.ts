/**
 * Reproduces Mandt, Hoffman & Blei 2017 (JMLR 18, arXiv 1704.04289) on our data: Table 1 (symmetrised
 * KL of each sampler's Gaussian fit to the posterior, on red wine and breast cancer), the OU prediction
 * of constant SGD's stationary covariance, variational EM's prior precision, and the IASG experiment
 * of Sec. 7.2. Run: `npx tsx experiments/mandt.ts [--quick] [--json] [--seed n]`
 * (same as `sgbayes experiment mandt`). Results and discussion: docs/mandt.md.
 */
import { loadBreastCancer, loadWine } from '../src/data/node.js';
import { formatMandtResult, runMandtExperiment } from '../src/noise/experiment.js';

const args = process.argv.slice(2);
const seedIndex = args.indexOf('--seed');
const seed = seedIndex >= 0 ? Number(args[seedIndex + 1]) : 0;
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got '${args[seedIndex + 1]}'`);
const json = args.includes('--json');
const started = performance.now();
const result = runMandtExperiment({
  wine: loadWine().dataset,
  breastCancer: loadBreastCancer(),
  quick: args.includes('--quick'),
  seed,
  onProgress: json ? undefined : (message) => process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s  ${message}\n`),
});
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else process.stdout.write(`${formatMandtResult(result)}\n\n${((performance.now() - started) / 1000).toFixed(1)} s\n`);
