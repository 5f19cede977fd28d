import { parentPort } from 'node:worker_threads';
import { extract, type ExtractInput } from './extract.js';

/** Runs extract() off the I/O thread: one message in, one message out. */
parentPort!.on('message', (msg: { id: number; input: ExtractInput }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: extract(msg.input) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
