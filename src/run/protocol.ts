/** Messages between the main thread of a run and its worker threads (plain, structured-clonable data). */
import type { Dataset } from '../data/types.js';
import type { RunConfig } from './config.js';
import type { ChainOutcome } from './chain.js';

/** What each worker is started with. */
export interface WorkerInit {
  config: RunConfig;
  dataset: Dataset;
  outDir: string;
  resume: boolean;
  configDigest: string;
  /** One Int32 flag: non-zero asks workers to stop at the next step boundary. */
  stop: SharedArrayBuffer;
}

/** Main thread → worker. */
export type ToWorker = { type: 'chain'; chain: number } | { type: 'exit' };

/** An error as data, keeping the fields of a DivergenceError. */
export interface ErrorRecord {
  name: string;
  message: string;
  chain?: number;
  step?: number;
  quantity?: 'gradient' | 'position';
  stepSize?: number;
}

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; chain: number; steps: number }
  | { type: 'outcome'; outcome: ChainOutcome }
  | { type: 'error'; chain: number; error: ErrorRecord };

/** An error as an {@link ErrorRecord}. */
export function errorRecord(error: unknown): ErrorRecord {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields = error as Error & Partial<Omit<ErrorRecord, 'name' | 'message'>>;
  return {
    name: error.name,
    message: error.message,
    ...(typeof fields.chain === 'number' ? { chain: fields.chain } : {}),
    ...(typeof fields.step === 'number' ? { step: fields.step } : {}),
    ...(fields.quantity ? { quantity: fields.quantity } : {}),
    ...(typeof fields.stepSize === 'number' ? { stepSize: fields.stepSize } : {}),
  };
}
