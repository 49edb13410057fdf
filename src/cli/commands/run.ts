/**
 * `sgbayes run <config.json> --out <dir> [--resume] [--workers N] [--json]`: run the chains of a
 * configuration on worker threads into a directory of draw files, checkpoints and a summary
 * (docs/runs.md).
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadRunConfig } from '../../run/config.js';
import { runToDirectory, type RunReport } from '../../run/run.js';
import { formatSummary } from '../../diagnostics/summary.js';
import { toJson } from '../format.js';
import { positiveInteger } from '../options.js';

/** Per-chain progress bars on stderr, only when it is a terminal and `--json` was not given. */
function chainProgress(chains: number, steps: number, json: boolean): { update(chain: number, done: number): void; stop(): void } {
  const stream = process.stderr;
  if (json || !stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const multibar = new cliProgress.MultiBar(
    { stream, format: 'chain {chain} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  const bars = Array.from({ length: chains }, (_, chain) => multibar.create(steps, 0, { chain }));
  return { update: (chain, done) => bars[chain]?.update(done, { chain }), stop: () => multibar.stop() };
}

/** The human-readable report of a finished run. */
export function formatRunReport(report: RunReport, outDir: string): string {
  return [
    `${report.model.type} on ${report.model.data} (target ${report.model.target}); sampler ${report.sampler.type}`,
    `${report.chains} chains × ${report.steps} steps (burn-in ${report.burnIn}, thin ${report.thin}), ${report.drawsPerChain} draws per chain, seed ${report.seed}`,
    '',
    formatSummary(report.parameters),
    '',
    `draws, checkpoints and summary.json in ${outDir} (${report.seconds.toFixed(1)} s, ${report.workers === 0 ? 'in-process' : `${report.workers} worker(s)`})`,
  ].join('\n');
}

/** Register `sgbayes run` on the program. */
export function register(program: Command): void {
  program
    .command('run')
    .description('run the chains of a JSON config into a directory of draws, checkpoints and a summary')
    .argument('<config>', 'the run configuration (JSON; see docs/runs.md)')
    .requiredOption('--out <dir>', 'the run directory')
    .option('--resume', 'continue the run in --out from its last checkpoints')
    .option('--workers <n>', 'worker threads (default: one per core, at most one per chain)', positiveInteger('--workers'))
    .option('--json', 'no progress bars; print the summary as JSON')
    .action(async (configPath: string, flags: { out: string; resume?: boolean; workers?: number; json?: boolean }) => {
      const config = loadRunConfig(configPath);
      const json = flags.json === true;
      const progress = chainProgress(config.chains, config.steps, json);
      // Ctrl-C stops the chains at their next step with every draw flushed, ready for --resume.
      const interrupt = new AbortController();
      const onSigint = (): void => interrupt.abort();
      process.once('SIGINT', onSigint);
      let report: RunReport;
      try {
        report = await runToDirectory({
          config,
          outDir: flags.out,
          resume: flags.resume === true,
          ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
          onProgress: (chain, steps) => progress.update(chain, steps),
          signal: interrupt.signal,
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
        progress.stop();
      }
      process.stdout.write(json ? `${toJson(report, 2)}\n` : `${formatRunReport(report, flags.out)}\n`);
    });
}
