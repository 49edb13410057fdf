/**
 * Experiment: the UCI regression table of Louizos & Welling (2016, Table 1) for sgbayes's
 * Bayesian networks. Runs the standard split protocol (src/nn/uci.ts, default settings) for each
 * dataset folder and method, writes one JSON file per (dataset, method) — the `sgbayes uci --json`
 * output — and prints the table in Markdown, next to the paper's VMG column and MC dropout's
 * results on the same splits.
 *
 *   npx tsx experiments/uci.ts [--data-root ../shared/datasets/uci] [--datasets a,b] [--methods mvg,meanfield]
 *                              [--splits K] [--out experiments/results/uci] [--table-only]
 *
 * Finished (dataset, method) pairs found in --out are reused, so a killed run resumes.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readUciFolder } from '../src/data/node.js';
import { runUci, uciDefaults, UCI_METHODS, type UciMethod, type UciResult } from '../src/nn/uci.js';

const DATASETS = ['bostonHousing', 'energy', 'yacht', 'wine-quality-red', 'naval-propulsion-plant', 'protein-tertiary-structure'];

/** Louizos & Welling (2016) Table 1, VMG column: [RMSE, s.e., test LL, s.e.]. */
const PAPER_VMG: Record<string, [number, number, number, number]> = {
  bostonHousing: [2.81, 0.11, -2.54, 0.08],
  energy: [1.16, 0.03, -1.45, 0.03],
  'naval-propulsion-plant': [0.0, 0.0, 5.84, 0.0],
  'protein-tertiary-structure': [4.14, 0.01, -2.84, 0.0],
  'wine-quality-red': [0.61, 0.01, -0.93, 0.02],
  yacht: [0.77, 0.06, -1.29, 0.02],
};

/** MC dropout on the same splits (mean ± s.e. over splits of its published per-split results). */
const MC_DROPOUT: Record<string, [number, number, number, number]> = {
  bostonHousing: [3.61, 0.23, -2.4, 0.04],
  energy: [0.97, 0.06, -1.21, 0.01],
  yacht: [1.23, 0.37, -1.25, 0.02],
  'wine-quality-red': [0.657, 0.01, -0.928, 0.013],
  'naval-propulsion-plant': [0.002, 0.0, 4.45, 0.0],
  'protein-tertiary-structure': [4.39, 0.02, -2.871, 0.001],
};

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const dataRoot = argument('data-root', join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'uci'));
const datasets = argument('datasets', DATASETS.join(',')).split(',');
const methods = argument('methods', 'mvg').split(',') as UciMethod[];
const out = argument('out', join(import.meta.dirname, 'results', 'uci'));
const splitsArg = argument('splits', '');
const tableOnly = process.argv.includes('--table-only');
for (const m of methods) if (!UCI_METHODS.includes(m)) throw new Error(`experiments/uci: unknown method '${m}' (${UCI_METHODS.join(', ')})`);
mkdirSync(out, { recursive: true });

const fmt = (v: number, se: number, digits: number) => `${v.toFixed(digits)} ± ${se.toFixed(digits)}`;
const digitsOf = (dataset: string) => (dataset.startsWith('naval') ? 4 : dataset.startsWith('wine') ? 3 : 2);

const rows: string[] = [];
for (const dataset of datasets) {
  for (const method of methods) {
    const file = join(out, `${dataset}-${method}.json`);
    let result: UciResult | undefined;
    if (existsSync(file)) result = JSON.parse(readFileSync(file, 'utf8')) as UciResult;
    else if (!tableOnly) {
      const folder = readUciFolder(join(dataRoot, dataset));
      const settings = uciDefaults(folder, method);
      const started = Date.now();
      result = runUci(folder, settings, {
        splits: splitsArg ? Math.min(Number(splitsArg), folder.nSplits) : undefined,
        onSplit: (r) =>
          process.stderr.write(`${dataset} ${method} split ${r.split}: RMSE ${r.rmse.toFixed(4)}, LL ${r.testLogLikelihood.toFixed(4)} (${r.seconds.toFixed(0)} s)\n`),
      });
      // Write then rename: a killed run never leaves a half-written result.
      writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
      renameSync(`${file}.tmp`, file);
      process.stderr.write(`${dataset} ${method}: done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
    if (!result) continue;
    const d = digitsOf(dataset);
    const vmg = PAPER_VMG[dataset];
    const drop = MC_DROPOUT[dataset];
    rows.push(
      `| ${dataset} | ${method} | ${result.splits} | ${fmt(result.rmse.mean, result.rmse.se, d)} | ${fmt(result.testLogLikelihood.mean, result.testLogLikelihood.se, 2)} | ` +
        `${vmg ? `${fmt(vmg[0], vmg[1], 2)} / ${fmt(vmg[2], vmg[3], 2)}` : '—'} | ${drop ? `${fmt(drop[0], drop[1], d)} / ${fmt(drop[2], drop[3], 2)}` : '—'} | ` +
        `\`npx sgbayes uci --data ${join('../shared/datasets/uci', dataset)} --method ${method} --splits ${result.splits}\` |`,
    );
  }
}
process.stdout.write(
  [
    '| dataset | method | splits | test RMSE | test log likelihood | paper VMG (RMSE / LL) | MC dropout (RMSE / LL) | command |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n') + '\n',
);
