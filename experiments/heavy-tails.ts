/**
 * Reproduces the heavy-tails experiment of Dupuis & Viallard 2023 (arXiv 2312.00427; protocol of
 * Dupuis & Şimşekli 2024): Lévy-driven Langevin training of a two-layer network over α, step size
 * and σ, with the generalisation gaps, tail indices, bound terms and Kendall's τ between α and the
 * gap. Run: `npx tsx experiments/heavy-tails.ts [--quick] [--json] [--seed n] [--svg file]`
 * (same as `sgbayes experiment heavy-tails`). Results and discussion: docs/heavy-tails.md.
 */
import { writeFileSync } from 'node:fs';
import { digitsPool, fashionMnistPools } from '../src/cli/commands/experiment-heavy-tails.js';
import { toJson } from '../src/cli/format.js';
import { formatHeavyTails, heavyTailsSettings, runHeavyTails } from '../src/experiments/heavyTails.js';
import { heavyTailsPlotSvg } from '../src/experiments/heavyTailsPlot.js';

const args = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const seed = Number(valueOf('--seed') ?? 0);
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got '${valueOf('--seed')}'`);
const quick = args.includes('--quick');
const json = args.includes('--json');
const pools = quick ? { train: digitsPool(), test: undefined } : fashionMnistPools();
const result = runHeavyTails({
  name: quick ? 'digits' : 'Fashion-MNIST (10% subset)',
  trainPool: pools.train,
  testPool: pools.test,
  settings: heavyTailsSettings(quick),
  seed,
  onProgress: json ? undefined : (done, total, row) => process.stderr.write(`run ${done}/${total} (α ${row.alpha}, γ ${row.stepSize}, σ ${row.sigma}, seed ${row.seed}) ${row.seconds.toFixed(1)} s\n`),
});
const svg = valueOf('--svg');
if (svg !== undefined) writeFileSync(svg, heavyTailsPlotSvg(result));
process.stdout.write(json ? `${toJson(result, 2)}\n` : `${formatHeavyTails(result)}\n`);
