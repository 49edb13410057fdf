/**
 * `sgbayes experiment mandt [--quick] [--json] [--seed n]`: Table 1 and the IASG experiment of
 * Mandt, Hoffman & Blei 2017 on the shipped red wine and breast cancer data, the OU prediction of
 * constant SGD's covariance, and variational EM's prior precision (see docs/mandt.md).
 * `register` adds the subcommand to the `experiment` command.
 */
import type { Command } from 'commander';
import { loadBreastCancer, loadWine } from '../../data/node.js';
import { formatMandtResult, runMandtExperiment } from '../../noise/experiment.js';
import { toJson } from '../format.js';
import { writeReportIfAsked } from '../experimentReport.js';
import { barSpec } from '../../report/figures.js';
import { parseSeed } from '../options.js';

/** Add `mandt` to the `experiment` command. */
export function register(experiment: Command): void {
  experiment
    .command('mandt')
    .description('constant SGD, SG-MCMC and the OU prediction against the posterior; variational EM; IASG (Mandt, Hoffman & Blei 2017)')
    .option('--quick', 'fewer steps, chains and draws (under a minute)')
    .option('--json', 'print { "rows": [...], "variationalEM": {...}, "iasg": {...} } as JSON')
    .option('--seed <n>', 'root seed of minibatches, noise and data', parseSeed, 0)
    .option('--report <file>', 'also write an HTML report (table and figure)')
    .action(async (opts: { quick?: boolean; json?: boolean; seed: number; report?: string }) => {
      const result = runMandtExperiment({
        wine: loadWine().dataset,
        breastCancer: loadBreastCancer(),
        quick: opts.quick ?? false,
        seed: opts.seed,
        onProgress: opts.json ? undefined : (message) => process.stderr.write(`… ${message}\n`),
      });
      process.stdout.write(`${opts.json ? toJson(result) : formatMandtResult(result)}\n`);
      await writeReportIfAsked(opts.report, () => ({
        title: 'Constant SGD as approximate Bayesian inference (Mandt, Hoffman & Blei 2017)',
        meta: [`sgbayes experiment mandt${opts.quick ? ' --quick' : ''} --seed ${opts.seed}`],
        rows: result.rows as unknown as Record<string, unknown>[],
        figures: [{
          spec: barSpec({ title: 'Symmetrised KL to the reference (log scale)', data: result.rows as unknown as Record<string, unknown>[], x: 'method', y: 'symmetricKL', color: 'dataset', logY: true }),
          caption: 'Gaussian fitted to each method\'s samples against the exact posterior (wine) or NUTS (breast cancer).',
        }],
        notes: [`Variational EM: ${JSON.stringify(result.variationalEM)}`],
      }));
    });
}
