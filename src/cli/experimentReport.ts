/**
 * The `--report <file>` option every experiment takes: one self-contained HTML page with the
 * experiment's table and figures, written through src/report (loaded only when asked for, since it
 * pulls in Vega).
 */
import type { ExperimentReport } from '../report/experiment.js';

/** Write `report` as HTML to `file` when the user passed `--report <file>`; returns the path or undefined. */
export async function writeReportIfAsked(file: string | undefined, report: () => ExperimentReport): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const { writeExperimentReport } = await import('../run/report.js');
  try {
    return await writeExperimentReport(file, report());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot write the report to --report ${file}: ${reason}`, { cause: error });
  }
}
