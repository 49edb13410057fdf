/**
 * `sgbayes fashion-mnist`: a Bayesian softmax network on Fashion-MNIST (Xiao, Rasul & Vollgraf
 * 2017) from Debian's `dataset-fashion-mnist`, trained by matrix-variate / pseudo-data / mean-field
 * VI, SGLD or constant SGD; reports test error, NLL and expected calibration error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readIdxDataset } from '../../data/node.js';
import type { Dataset } from '../../data/types.js';
import { classificationDefaults, runClassification, type ClassificationResult } from '../../nn/classify.js';
import { UCI_METHODS, type UciMethod } from '../../nn/uci.js';
import { createProgress } from '../progress.js';
import { toJson } from '../format.js';

/** Where Debian's dataset-fashion-mnist installs the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};

/** Thrown when the Fashion-MNIST files are missing, with the command that installs them. */
export class MissingDatasetError extends Error {
  override readonly name = 'MissingDatasetError';
}

/** The IDX file paths under `dir`, plain or gzipped; throws `MissingDatasetError` saying how to install them. */
export function fashionMnistFiles(dir: string): typeof FILES {
  const resolved = { ...FILES };
  for (const [name, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const gz = join(dir, file);
    const plain = join(dir, file.replace(/\.gz$/, ''));
    if (existsSync(gz)) resolved[name] = gz;
    else if (existsSync(plain)) resolved[name] = plain;
    else {
      throw new MissingDatasetError(
        `Fashion-MNIST not found: ${gz} is missing. Install it with \`apt-get install -y dataset-fashion-mnist\` ` +
          `(Debian/Ubuntu), or pass --data <folder> holding the four IDX files.`,
      );
    }
  }
  return resolved;
}

/** The first ⌈fraction · rows⌉ rows of a dataset (the IDX files are in random order). */
function head(dataset: Dataset, fraction: number): Dataset {
  const rows = Math.max(1, Math.ceil(fraction * dataset.rows));
  return { ...dataset, rows, x: dataset.x.subarray(0, rows * dataset.cols), y: dataset.y.subarray(0, rows) };
}

function method(text: string): UciMethod {
  if (!(UCI_METHODS as readonly string[]).includes(text)) throw new InvalidArgumentError(`--method must be one of ${UCI_METHODS.join(', ')}, got '${text}'`);
  return text as UciMethod;
}

function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${text}'`);
    return value;
  };
}

function subset(text: string): number {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new InvalidArgumentError(`--subset must be a fraction in (0, 1], got '${text}'`);
  return value;
}

function hiddenList(text: string): number[] {
  const widths = text.split(',').map(Number);
  if (widths.some((w) => !Number.isSafeInteger(w) || w < 1)) throw new InvalidArgumentError(`--hidden must be comma-separated positive integers, got '${text}'`);
  return widths;
}

/** The report printed without --json. */
export function formatFashionMnist(result: ClassificationResult): string {
  const s = result.settings;
  return [
    `Fashion-MNIST: ${result.method}, hidden [${s.hidden.join(', ')}], ${s.epochs} epochs, batch ${s.batchSize}, ` +
      `${result.trainRows} training / ${result.testRows} test images, ${s.samples} predictive draws`,
    `test error  ${(100 * result.testError).toFixed(2)}%`,
    `test NLL    ${result.nll.toFixed(4)}`,
    `ECE         ${result.ece.toFixed(4)}`,
    `${result.seconds.toFixed(1)} s`,
  ].join('\n');
}

/** Register `sgbayes fashion-mnist` on the program. */
export function register(program: Command): void {
  program
    .command('fashion-mnist')
    .description('Bayesian network on Fashion-MNIST: test error, NLL and expected calibration error')
    .option('--method <m>', `inference method: ${UCI_METHODS.join(' | ')}`, method, 'mvg' as UciMethod)
    .option('--data <folder>', 'folder with the Fashion-MNIST IDX files', FASHION_MNIST_DIR)
    .option('--subset <fraction>', 'use this fraction of the training and test images', subset, 1)
    .option('--epochs <e>', 'passes over the training images (default 10)', positiveInteger('--epochs'))
    .option('--hidden <widths>', 'hidden widths, comma-separated (default 100)', hiddenList)
    .option('--json', 'print one JSON object instead of text')
    .action((flags: { method: UciMethod; data: string; subset: number; epochs?: number; hidden?: number[]; json?: boolean }) => {
      const json = flags.json === true;
      const files = fashionMnistFiles(flags.data);
      const train = head(readIdxDataset(files.trainImages, files.trainLabels), flags.subset);
      const test = head(readIdxDataset(files.testImages, files.testLabels), flags.subset);
      const settings = classificationDefaults(flags.method);
      if (flags.epochs !== undefined) settings.epochs = flags.epochs;
      if (flags.hidden !== undefined) settings.hidden = flags.hidden;
      const total = settings.epochs * Math.floor(train.rows / Math.min(settings.batchSize, train.rows));
      const progress = createProgress({ total, label: flags.method, json });
      let result: ClassificationResult;
      try {
        result = runClassification(train, test, settings, (done) => progress.update(done));
      } finally {
        progress.stop();
      }
      process.stdout.write(json ? `${toJson(result)}\n` : `${formatFashionMnist(result)}\n`);
    });
}
