/**
 * `sgbayes report <run-dir> [--out report.html]`: one self-contained HTML report of a run directory
 * (docs/report.md).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { writeRunReport } from '../../run/report.js';
import { positiveInteger } from '../options.js';

function parameterPair(text: string): [string, string] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new InvalidArgumentError(`--pair must be two parameter names separated by a comma, got '${text}'`);
  return [parts[0], parts[1]];
}

/** Register `sgbayes report` on the program. */
export function register(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML report (plots, R̂/ESS, noise, calibration) of a run directory')
    .argument('<run-dir>', 'a directory written by `sgbayes run`')
    .option('--out <file>', 'the HTML file (default <run-dir>/report.html)')
    .option('--pair <a,b>', 'the two parameters of the pair plot (default the first two)', parameterPair)
    .option('--max-parameters <n>', 'trace/rank/density plots for at most n parameters (default 12)', positiveInteger('--max-parameters'))
    .option('--no-noise', 'skip the gradient-noise spectrum and tail index')
    .action(async (dir: string, flags: { out?: string; pair?: [string, string]; maxParameters?: number; noise: boolean }) => {
      const out = await writeRunReport(dir, { out: flags.out, pair: flags.pair, maxParameters: flags.maxParameters, noise: flags.noise });
      process.stdout.write(`report written to ${out}\n`);
    });
}
