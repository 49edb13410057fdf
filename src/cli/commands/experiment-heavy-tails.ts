/**
 * `sgbayes experiment heavy-tails [--quick] [--json] [--seed n] [--svg file] [--report file]`:
 * α-stable Lévy-driven Langevin training of a two-layer network over a grid of α, step size and σ
 * (Dupuis & Viallard 2023), with the accuracy and loss gaps, tail indices, bound terms and Kendall's
 * τ between α and the gap (see docs/heavy-tails.md). `register` adds it to the `experiment` command.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Dataset } from '../../core/types.js';
import { loadDigits, readIdxDataset } from '../../data/node.js';
import { formatHeavyTails, heavyTailsSettings, runHeavyTails, type HeavyTailsResult } from '../../experiments/heavyTails.js';
import { heavyTailsPlotSvg } from '../../experiments/heavyTailsPlot.js';
import { createProgress, type Progress } from '../progress.js';
import { toJson } from '../format.js';
import { parseSeed } from '../options.js';

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The shipped digits with pixels scaled from 0–16 to [0, 1], as one pool for train and test. */
export function digitsPool(): Dataset {
  const digits = loadDigits();
  return { ...digits, x: digits.x.map((v) => v / 16) };
}

/** Fashion-MNIST's training and test IDX files (pixels in [0, 1]). */
export function fashionMnistPools(dir = FASHION_MNIST_DIR): { train: Dataset; test: Dataset } {
  return {
    train: readIdxDataset(`${dir}/train-images-idx3-ubyte.gz`, `${dir}/train-labels-idx1-ubyte.gz`),
    test: readIdxDataset(`${dir}/t10k-images-idx3-ubyte.gz`, `${dir}/t10k-labels-idx1-ubyte.gz`),
  };
}

function writeOutput(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`experiment heavy-tails: cannot write ${flag} ${path}: ${reason}`, { cause: error });
  }
}

/** The HTML report of a result: the runs table, the figure and Kendall's τ. */
export async function heavyTailsReportHtml(result: HeavyTailsResult): Promise<string> {
  // Loaded on demand: the report module pulls in Vega, which the plain run does not need.
  const { experimentReportHtml } = await import('../../report/experiment.js');
  return experimentReportHtml({
    title: `Heavy-tailed Langevin dynamics on ${result.dataset} (Dupuis & Viallard 2023)`,
    description:
      'Two-layer network trained by W ← W − γ∇V_S(W) + σγ^{1/α}L (isotropic α-stable L) over a grid of α, γ and σ. ' +
      'Accuracy gap = train − test accuracy; α̂ = block-sum tail index of the iterates’ increments; mismatch = the ' +
      'geometric decoupling integrand ‖∇F̂_S − ∇F‖ estimated on held-out data.',
    meta: [
      `${result.trainRows} train / ${result.testRows} test rows, ${result.parameters} parameters, ${result.settings.steps} steps`,
      `Kendall τ_b(α, accuracy gap) = ${result.kendallTau.toFixed(3)}; loss gap ${result.kendallTauLoss.toFixed(3)}; granulated ${result.kendallTauGranulated.toFixed(3)}`,
    ],
    rows: result.rows.map((r) => ({
      alpha: r.alpha,
      stepSize: r.stepSize,
      sigma: r.sigma,
      seed: r.seed,
      trainAccuracy: r.trainAccuracy,
      testAccuracy: r.testAccuracy,
      generalizationGap: r.generalizationGap,
      lossGap: r.lossGap,
      alphaHat: r.alphaHat,
      alphaHatGradientNoise: r.alphaHatGradientNoise,
      driftMismatch: r.bound?.driftMismatch ?? Number.NaN,
      fractalRate: r.bound?.fractalRate ?? Number.NaN,
    })),
    figures: [{ svg: heavyTailsPlotSvg(result), caption: 'Left: accuracy gap per run against α. Right: α̂ of the iterates against α (dashed: α̂ = α).' }],
  });
}

/** Add `heavy-tails` to the `experiment` command. */
export function register(experiment: Command): void {
  experiment
    .command('heavy-tails')
    .description('α-stable Langevin training over α, step size and σ: generalisation gap, tail index, bound terms, Kendall τ (Dupuis & Viallard 2023)')
    .option('--quick', 'digits and a small grid (about a minute) instead of 10% of Fashion-MNIST')
    .option('--json', 'print { "rows": [...], "kendallTau": ... } as JSON')
    .option('--seed <n>', 'root seed of data subsets, initialisations, minibatches and noise', parseSeed, 0)
    .option('--svg <file>', 'also write the figure (gap and α̂ against α) as SVG')
    .option('--report <file>', 'also write an HTML report (table, figure, τ)')
    .option('--data <dir>', 'folder of the Fashion-MNIST IDX files for the full run', FASHION_MNIST_DIR)
    .action(async (opts: { quick?: boolean; json?: boolean; seed: number; svg?: string; report?: string; data: string }) => {
      const quick = opts.quick === true;
      const json = opts.json === true;
      const pools = quick ? { train: digitsPool(), test: undefined } : fashionMnistPools(opts.data);
      let progress: Progress | undefined;
      let result: HeavyTailsResult;
      try {
        result = runHeavyTails({
          name: quick ? 'digits' : 'Fashion-MNIST (10% subset)',
          trainPool: pools.train,
          testPool: pools.test,
          settings: heavyTailsSettings(quick),
          seed: opts.seed,
          onProgress: (done, total) => {
            progress ??= createProgress({ total, label: 'heavy-tails runs', json });
            progress.update(done);
          },
        });
      } finally {
        progress?.stop();
      }
      if (opts.svg !== undefined) writeOutput('--svg', opts.svg, heavyTailsPlotSvg(result));
      if (opts.report !== undefined) writeOutput('--report', opts.report, await heavyTailsReportHtml(result));
      process.stdout.write(json ? `${toJson(result)}\n` : `${formatHeavyTails(result)}\n`);
    });
}
