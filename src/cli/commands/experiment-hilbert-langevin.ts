/**
 * `sgbayes experiment hilbert-langevin`: infinite-dimensional Langevin dynamics with the semi-implicit
 * scheme (Suzuki 2020) against explicit SGLD and SGD on teacher–student two-layer networks, over width
 * M and sample size n. The integrator mounts `register` under the `experiment` command.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runHilbertExperiment, type HilbertExperimentResult } from '../../hilbert/experiment.js';
import { excessRiskPlotSvg } from '../../hilbert/plot.js';
import { createProgress, type Progress } from '../progress.js';
import { formatNumber, formatTable, toJson } from '../format.js';
import { writeReportIfAsked } from '../experimentReport.js';
import { nonNegativeInteger } from '../options.js';

/** The experiment's human-readable report: the width sweep, the sample-size sweep and the fitted slopes. */
export function formatHilbertExperiment(result: HilbertExperimentResult): string {
  const headers = ['method', 'task', 'width', 'n', 'step', 'steps', 'train', 'test', 'gap', 'excess risk', 'diverged'];
  const cells = (sweep: 'width' | 'n'): string[][] =>
    result.rows
      .filter((r) => r.sweep === sweep)
      .map((r) => [
        r.method,
        r.task,
        String(r.width),
        String(r.n),
        formatNumber(r.stepSize, 3),
        String(r.steps),
        formatNumber(r.trainLoss),
        formatNumber(r.testLoss),
        formatNumber(r.gap, 3),
        formatNumber(r.excessRisk, 3),
        r.diverged ? `yes (step ${r.divergedAtStep})` : 'no',
      ]);
  const align = headers.map((_, c) => (c <= 1 ? 'left' : 'right') as 'left' | 'right');
  const fits = result.fits.map(
    (f) =>
      `${f.task}: fitted slope of log excess risk on log n = ${f.slope.toFixed(3)} ` +
      (f.predictedSlope === null ? '(Theorem 3: exponential in n, no polynomial slope)' : `(the bound's slope here: ${f.predictedSlope})`),
  );
  return [
    'Width sweep (regression, n = 1000, same step for every method unless "stable"; metrics averaged over the second half):',
    formatTable(headers, cells('width'), align),
    '',
    'Sample-size sweep (semi-implicit Langevin, β = n, λ = 1/n):',
    formatTable(headers, cells('n'), align),
    '',
    ...fits,
  ].join('\n');
}

/** Register `hilbert-langevin` on the `experiment` command. */
export function register(experiment: Command): void {
  experiment
    .command('hilbert-langevin')
    .description('Semi-implicit infinite-dimensional Langevin (Suzuki 2020) vs explicit SGLD/SGD over width and sample size')
    .option('--quick', 'a small grid (under a minute)')
    .option('--json', 'print { rows, traces, fits, settings } as JSON instead of tables')
    .option('--seed <s>', 'random seed', nonNegativeInteger('--seed'), 0)
    .option('--svg <path>', 'also write the log–log excess-risk plot to this SVG file')
    .option('--report <file>', 'also write an HTML report (tables and the log–log plot)')
    .action(async (flags: { quick?: boolean; json?: boolean; seed: number; svg?: string; report?: string }) => {
      const json = flags.json === true;
      // The number of runs is known only once the grid is built, so the bar starts on the first report.
      let progress: Progress | undefined;
      let result: HilbertExperimentResult;
      try {
        result = runHilbertExperiment({
          quick: flags.quick === true,
          seed: flags.seed,
          onProgress: (done, total) => {
            progress ??= createProgress({ total, label: 'hilbert-langevin runs', json });
            progress.update(done);
          },
        });
      } finally {
        progress?.stop();
      }
      if (flags.svg !== undefined) {
        try {
          writeFileSync(flags.svg, excessRiskPlotSvg(result));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`experiment hilbert-langevin: cannot write the plot to --svg ${flags.svg}: ${reason}`, { cause: error });
        }
      }
      process.stdout.write(json ? `${toJson(result)}\n` : `${formatHilbertExperiment(result)}\n`);
      await writeReportIfAsked(flags.report, () => ({
        title: 'Infinite-dimensional Langevin dynamics for two-layer networks (Suzuki 2020)',
        meta: [`sgbayes experiment hilbert-langevin${flags.quick ? ' --quick' : ''} --seed ${flags.seed}`],
        rows: result.rows as unknown as Record<string, unknown>[],
        figures: [{ svg: excessRiskPlotSvg(result), caption: 'Excess risk against n on log–log axes with the predicted slope.' }],
      }));
    });
}
