/**
 * Reproduces the Hilbert-space Langevin claims (Suzuki 2020) and writes the figure and raw results
 * that docs/hilbert-langevin.md shows:
 *
 *   npx tsx experiments/hilbert-langevin.ts [--quick] [--seed 0] [--out docs]
 *   npx tsx experiments/hilbert-langevin.ts --from docs/hilbert-langevin-results.json   (re-plot only)
 *
 * writes <out>/hilbert-langevin-excess-risk.svg and <out>/hilbert-langevin-results.json and prints
 * the tables; `--from` redraws the figure and tables from a saved results file without running. The same runs are `sgbayes experiment hilbert-langevin [--quick] [--json] [--svg file]`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runHilbertExperiment, type HilbertExperimentResult } from '../src/hilbert/experiment.js';
import { excessRiskPlotSvg } from '../src/hilbert/plot.js';
import { formatHilbertExperiment } from '../src/cli/commands/experiment-hilbert-langevin.js';
import { toJson } from '../src/cli/format.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'docs' },
    from: { type: 'string' },
  },
});
if (values.from !== undefined) {
  // Saved numbers: toJson wrote non-finite values as strings ("NaN").
  const saved = JSON.parse(readFileSync(values.from, 'utf8'), (_key, v: unknown) => (v === 'NaN' ? Number.NaN : v)) as HilbertExperimentResult;
  const svgPath = values.from.replace(/-results\.json$/, '-excess-risk.svg');
  if (svgPath === values.from) throw new Error(`--from ${values.from}: expected a file named *-results.json`);
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, excessRiskPlotSvg(saved));
  process.stdout.write(`${formatHilbertExperiment(saved)}\n\nre-plotted ${svgPath}\n`);
  process.exit(0);
}
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`--seed must be a non-negative integer, got '${values.seed}'`);
const started = Date.now();
const result = runHilbertExperiment({
  quick: values.quick,
  seed,
  onProgress: (done, total) => process.stderr.write(`run ${done}/${total} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`),
});
mkdirSync(values.out, { recursive: true });
const prefix = values.quick ? 'hilbert-langevin-quick' : 'hilbert-langevin';
writeFileSync(join(values.out, `${prefix}-excess-risk.svg`), excessRiskPlotSvg(result));
writeFileSync(join(values.out, `${prefix}-results.json`), `${toJson(result, 1)}\n`);
process.stdout.write(`${formatHilbertExperiment(result)}\n\n${((Date.now() - started) / 1000).toFixed(0)} s\n`);
