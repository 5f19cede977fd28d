import { parentPort, workerData } from 'node:worker_threads';
import { RawcrawlError } from '../errors.js';
import { packWritten, type FromWorker, type ThreadError, type ToWorker, type WorkerInit } from './thread-protocol.js';
import { WarcWriter, type WrittenExchange } from './writer.js';

/**
 * The thread behind ThreadedWarcWriter: for each exchange it runs the parser over the response
 * (payload digest), formats, hashes, compresses and writes the records, and answers with where
 * they went. Exchanges are written in the order they arrive.
 */
const port = parentPort!;
const init = workerData as WorkerInit;
const inFlight = new Int32Array(init.inFlight);
const writer = new WarcWriter(init.options);

function describe(err: unknown): ThreadError {
  return err instanceof RawcrawlError ? { code: err.code, message: err.message } : { code: 'ERR_STORAGE', message: `WARC write failed: ${String(err)}` };
}

/** Answers collected during one turn of this thread's event loop, sent as one message. */
let pending: number[] = [];
let filesSent = 0;
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  if (pending.length === 0) return;
  const written = Float64Array.from(pending);
  pending = [];
  const files = writer.files.length !== filesSent ? [...writer.files] : undefined;
  filesSent = writer.files.length;
  port.postMessage({ type: 'written', written, ...(files ? { files } : {}) } satisfies FromWorker, [written.buffer]);
}

function answer(id: number, w: WrittenExchange): void {
  packWritten(pending, id, writer.files.indexOf(w.metadata.file), w);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'close') {
    flush();
    writer.close().then(
      () => port.postMessage({ type: 'closed', files: [...writer.files], error: null } satisfies FromWorker),
      (err: unknown) => port.postMessage({ type: 'closed', files: [...writer.files], error: describe(err) } satisfies FromWorker),
    );
    return;
  }
  const bytes = Buffer.from(msg.bytes);
  const size = bytes.length;
  const ex = { ...msg.facts, request: bytes.subarray(0, msg.requestLength), response: bytes.subarray(msg.requestLength) };
  const settled = (): void => {
    Atomics.sub(inFlight, 0, size);
    Atomics.notify(inFlight, 0);
  };
  const failed = (err: unknown): void => {
    settled();
    flush();
    port.postMessage({ type: 'failed', id: msg.id, error: describe(err) } satisfies FromWorker);
  };
  try {
    writer.writeExchange(ex).then((w) => {
      settled();
      answer(msg.id, w);
    }, failed);
  } catch (err) {
    failed(err);
  }
});
