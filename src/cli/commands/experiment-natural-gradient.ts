/**
 * `sgbayes experiment natural-gradient [--json]`: convergence rates of θ-GD, η-GD and natural
 * gradient descent for KL minimisation over exponential families (Datar & Ay 2025), see
 * docs/natural-gradient.md. `register` adds the subcommand to the `experiment` command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { printTable, runNaturalGradientExperiment } from '../../expfam/experiment.js';
import { loadBreastCancer } from '../../data/node.js';
import { printNgviTable, runNgviComparison } from '../../vi/ngvi.js';
import { toJson } from '../format.js';
import { writeReportIfAsked } from '../experimentReport.js';
import { scatterSpec } from '../../report/figures.js';
import { parseSeed, positiveInteger } from '../options.js';

function parseCValues(value: string): number[] {
  const values = value.split(',').map((s) => Number(s.trim()));
  values.forEach((c, i) => {
    if (!(c > 0 && Number.isFinite(c))) throw new InvalidArgumentError(`--c entry ${i + 1} must be a positive number, got '${value.split(',')[i]}'`);
  });
  return values;
}

/** Add `natural-gradient` to the `experiment` command. */
export function register(experiment: Command): void {
  experiment
    .command('natural-gradient')
    .description('measured vs predicted convergence rates of θ-GD, η-GD and natural gradient descent (Datar & Ay 2025)')
    .option('--json', 'print { "rows": [...] } as JSON')
    .option('--seed <n>', 'seed of starts, targets and noise', parseSeed, 0)
    .option('--c <list>', 'comma-separated reparameterisation factors', parseCValues, [0.1, 0.5, 1, 2, 10])
    .option('--no-sweep', 'skip the largest-stable-step sweeps')
    .option('--vi', 'instead: natural-gradient VI vs Adam VI on Bayesian logistic regression (breast cancer), passes to the reference ELBO')
    .option('--passes <n>', 'with --vi: passes over the data per run', positiveInteger('--passes'), 60)
    .option('--batch-size <n>', 'with --vi: minibatch size', positiveInteger('--batch-size'), 32)
    .option('--report <file>', 'also write an HTML report (table and figure)')
    .action(async (opts: { json?: boolean; seed: number; c: number[]; sweep: boolean; vi?: boolean; passes: number; batchSize: number; report?: string }) => {
      if (opts.vi) {
        const vi = runNgviComparison({ dataset: loadBreastCancer(), maxPasses: opts.passes, batchSize: opts.batchSize, seed: opts.seed });
        process.stdout.write(`${opts.json ? toJson(vi) : printNgviTable(vi.rows)}\n`);
        await writeReportIfAsked(opts.report, () => ({
          title: 'Natural-gradient VI vs Adam VI: passes to the reference ELBO',
          meta: [`sgbayes experiment natural-gradient --vi --passes ${opts.passes} --batch-size ${opts.batchSize} --seed ${opts.seed}`],
          rows: vi.rows as unknown as Record<string, unknown>[],
        }));
        return;
      }
      const result = runNaturalGradientExperiment({ seed: opts.seed, cValues: opts.c, skipSweep: !opts.sweep });
      process.stdout.write(`${opts.json ? toJson(result) : printTable(result.rows)}\n`);
      const rows = result.rows.map((row) => ({ ...row, coordinates: row.c === null ? 'original' : `c = ${row.c}` }));

      await writeReportIfAsked(opts.report, () => ({

        title: 'Natural gradient descent for KL minimisation (Datar & Ay 2025)',

        meta: [`sgbayes experiment natural-gradient --seed ${opts.seed}`],

        rows,

        figures: [{ spec: scatterSpec({ title: 'Measured vs predicted local rate', data: rows, x: 'predictedRate', y: 'measuredRate', color: 'method', logX: true, logY: true }), caption: 'Each point is one family, direction and coordinate choice.' }],

      }));
    });
}
