/**
 * The `sgbayes` command: builds the commander program from the commands under ./commands/ (each
 * exports `register(program)`) and runs it on process.argv. bin/sgbayes.js imports the compiled file.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import * as demo from './commands/demo.js';
import * as run from './commands/run.js';
import * as experiment from './commands/experiment.js';
import * as report from './commands/report.js';
import * as uci from './commands/uci.js';
import * as fashionMnist from './commands/fashion-mnist.js';

/** A CLI command module: adds its subcommand to the program. */
export interface CommandModule {
  register(program: Command): void;
}

/** Every subcommand, in the order `--help` lists them. */
const commands: readonly CommandModule[] = [demo, run, report, experiment, uci, fashionMnist];

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  if (typeof parsed.version !== 'string') throw new Error(`package.json at ${url.pathname} has no "version" string`);
  return parsed.version;
}

/** The `sgbayes` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('sgbayes')
    .description('Approximate Bayesian inference driven by stochastic optimisation dynamics')
    .version(packageVersion(), '-V, --version', 'print the sgbayes version')
    .showHelpAfterError()
    .exitOverride();
  for (const command of commands) command.register(program);
  return program;
}

/** Run the program on `argv` (node, script, args...); returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    // commander has already printed help, version or the usage error.
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`sgbayes: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
