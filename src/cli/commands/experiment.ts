/**
 * `sgbayes experiment <name>`: the experiments that reproduce each paper's central claim. Each
 * experiment module exports `register(experiment)` and adds its own subcommand.
 */
import type { Command } from 'commander';
import * as heavyTails from './experiment-heavy-tails.js';
import * as hilbertLangevin from './experiment-hilbert-langevin.js';
import * as mandt from './experiment-mandt.js';
import * as naturalGradient from './experiment-natural-gradient.js';

/** An experiment module: adds its subcommand to the `experiment` command. */
export interface ExperimentModule {
  register(experiment: Command): void;
}

/** Every experiment, in the order `sgbayes experiment --help` lists them. */
const experiments: readonly ExperimentModule[] = [mandt, naturalGradient, hilbertLangevin, heavyTails];

/** Add `experiment` and its subcommands to the program. */
export function register(program: Command): void {
  const experiment = program
    .command('experiment')
    .description("run an experiment that reproduces a paper's central claim (see docs/)");
  for (const module of experiments) module.register(experiment);
}
