/**
 * Worker-thread entry of a run: builds the model from the dataset it is given, then runs the chains
 * the main thread hands it, one at a time, reporting progress, outcomes and errors by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Dataset } from '../data/types.js';
import type { RunConfig } from './config.js';
import { runChainToFiles } from './chain.js';
import { buildRunTarget } from './target.js';
import { errorRecord, type ToWorker, type WorkerInit, type FromWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('src/run/worker: must run in a worker thread');
const init = workerData as WorkerInit;
const config: RunConfig = init.config;
const dataset: Dataset = init.dataset;
const stopFlag = new Int32Array(init.stop);
const send = (message: FromWorker): void => port.postMessage(message);

let built: ReturnType<typeof buildRunTarget> | undefined;

port.on('message', (message: ToWorker) => {
  if (message.type === 'exit') {
    port.close();
    return;
  }
  const chain = message.chain;
  try {
    built ??= buildRunTarget(config.model, dataset);
    const outcome = runChainToFiles({
      config,
      target: built.target,
      parameterNames: built.parameterNames,
      chain,
      outDir: init.outDir,
      resume: init.resume,
      configDigest: init.configDigest,
      shouldStop: () => Atomics.load(stopFlag, 0) !== 0,
      onProgress: (steps) => send({ type: 'progress', chain, steps }),
    });
    send({ type: 'outcome', outcome });
  } catch (error) {
    send({ type: 'error', chain, error: errorRecord(error) });
  }
});
send({ type: 'ready' });
