/** A progress bar on stderr for long CLI runs, shown only to a person watching a terminal. */
import cliProgress from 'cli-progress';

/** A progress reporter; a no-op when the bar is not shown. */
export interface Progress {
  /** Set the number of finished units. */
  update(done: number): void;
  /** Finish and remove the bar. */
  stop(): void;
}

/** Options of `createProgress`. */
export interface ProgressOptions {
  /** Total number of units (e.g. steps over all chains). */
  total: number;
  /** Short text before the bar. */
  label?: string;
  /** Machine-readable output requested: never draw a bar. */
  json?: boolean;
  /** The stream to draw on (default process.stderr); the bar is shown only if it is a TTY. */
  stream?: NodeJS.WriteStream;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A cli-progress bar on stderr when stderr is a TTY and `--json` was not given; otherwise a no-op,
 * so piped and JSON output stay clean.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.json || !stream.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label ?? 'progress'} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
