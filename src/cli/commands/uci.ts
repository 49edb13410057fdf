/**
 * `sgbayes uci`: the UCI regression benchmark protocol (Hernández-Lobato & Adams 2015) for Bayesian
 * networks trained by matrix-variate Gaussian VI (Louizos & Welling 2016), its pseudo-data variant,
 * mean-field VI, SGLD or constant SGD, on any folder in the split format.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readUciFolder } from '../../data/node.js';
import { runUci, uciDefaults, uciStepsPerSplit, UCI_METHODS, type UciMethod, type UciResult } from '../../nn/uci.js';
import { createProgress } from '../progress.js';
import { formatTable, toJson } from '../format.js';

function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${text}'`);
    return value;
  };
}

function nonNegativeInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${text}'`);
    return value;
  };
}

function noisePrior(text: string): 'empirical-bayes' | 'fixed' {
  if (text !== 'empirical-bayes' && text !== 'fixed') throw new InvalidArgumentError(`--noise-prior must be empirical-bayes or fixed, got '${text}'`);
  return text;
}

function pseudoNoise(text: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || !values.every((value) => value > 0 && value <= 1)) {
    throw new InvalidArgumentError(`--pseudo-noise must be numbers in (0, 1], comma-separated, got '${text}'`);
  }
  return values;
}

function method(text: string): UciMethod {
  if (!(UCI_METHODS as readonly string[]).includes(text)) throw new InvalidArgumentError(`--method must be one of ${UCI_METHODS.join(', ')}, got '${text}'`);
  return text as UciMethod;
}

/** Significant digits for a summary: enough to show the standard error. */
function meanPm(mean: number, se: number): string {
  const digits = se > 0 ? Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(se)))) : 3;
  return `${mean.toFixed(digits)} ± ${se.toFixed(digits)}`;
}

/** The human-readable report: per-split rows, then mean ± standard error. */
export function formatUci(result: UciResult): string {
  const s = result.settings;
  const rows = result.perSplit.map((r) => [String(r.split), r.rmse.toPrecision(4), r.testLogLikelihood.toFixed(4), r.seconds.toFixed(1)]);
  return [
    `${result.dataset}: ${result.method}, ${result.splits} split(s), ${s.hidden} hidden units, ${s.epochs} epochs, batch ${s.batchSize}` +
      (s.method === 'mvg-pseudo' ? `, ${s.pseudoPairs} pseudo pairs` : '') +
      (s.method === 'sgld' || s.method === 'constant-sgd' ? `, step size ${s.stepSize}/N` : `, Adam ${s.learningRate}`),
    '',
    formatTable(['split', 'test RMSE', 'test LL', 'seconds'], rows),
    '',
    `test RMSE            ${meanPm(result.rmse.mean, result.rmse.se)}`,
    `test log likelihood  ${meanPm(result.testLogLikelihood.mean, result.testLogLikelihood.se)}`,
  ].join('\n');
}

/** Register `sgbayes uci` on the program. */
export function register(program: Command): void {
  program
    .command('uci')
    .description('UCI regression benchmark: test RMSE and log likelihood of a Bayesian network over the standard splits')
    .requiredOption('--data <folder>', 'a folder in the UCI split format (data.txt, index_*.txt, n_*.txt)')
    .option('--method <m>', `inference method: ${UCI_METHODS.join(' | ')}`, method, 'mvg' as UciMethod)
    .option('--splits <k>', 'run the first k splits (default all)', positiveInteger('--splits'))
    .option('--epochs <e>', 'passes over the training rows (default: see docs/uci.md)', positiveInteger('--epochs'))
    .option('--batch-size <s>', 'minibatch size (default 32)', positiveInteger('--batch-size'))
    .option('--hidden <h>', 'hidden units (default n_hidden.txt)', positiveInteger('--hidden'))
    .option('--samples <s>', 'posterior draws of the predictive distribution (default 100)', positiveInteger('--samples'))
    .option('--seed <s>', 'random seed', nonNegativeInteger('--seed'), 0)
    .option('--noise-prior <p>', "VI methods: the noise precision prior's rate, empirical-bayes (default) or fixed Gamma(6, 6); SGLD and constant SGD: fixed only", noisePrior)
    .option('--pseudo-noise <alpha>', 'mvg-pseudo: the largest multiplicative noise variance of the pseudo data; several, comma-separated, are chosen from per split by validation (default 2.5e-5,0.01; see docs/uci.md)', pseudoNoise)
    .option('--json', 'print one JSON object instead of a table')
    .action(
      (flags: { data: string; method: UciMethod; splits?: number; epochs?: number; batchSize?: number; hidden?: number; samples?: number; seed: number; noisePrior?: 'empirical-bayes' | 'fixed'; pseudoNoise?: number[]; json?: boolean }) => {
        const json = flags.json === true;
        const folder = readUciFolder(flags.data);
        if (flags.splits !== undefined && flags.splits > folder.nSplits) {
          throw new InvalidArgumentError(`--splits ${flags.splits} exceeds the ${folder.nSplits} splits of ${flags.data}`);
        }
        const settings = uciDefaults(folder, flags.method);
        if (flags.epochs !== undefined) settings.epochs = flags.epochs;
        if (flags.batchSize !== undefined) settings.batchSize = flags.batchSize;
        if (flags.hidden !== undefined) settings.hidden = flags.hidden;
        if (flags.samples !== undefined) settings.samples = flags.samples;
        if (flags.noisePrior !== undefined) settings.noisePrior = flags.noisePrior;
        if (flags.pseudoNoise !== undefined) settings.maxPseudoNoise = flags.pseudoNoise;
        settings.seed = flags.seed;
        const splits = flags.splits ?? folder.nSplits;
        const progress = createProgress({ total: splits * uciStepsPerSplit(folder, settings), label: `${flags.method}`, json });
        let result: UciResult;
        try {
          result = runUci(folder, settings, { splits, onProgress: (done) => progress.update(done) });
        } finally {
          progress.stop();
        }
        process.stdout.write(json ? `${toJson(result)}\n` : `${formatUci(result)}\n`);
      },
    );
}
