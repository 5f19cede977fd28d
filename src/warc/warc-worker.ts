import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { withBytes } from '../capture/exchange.js';
import { RawcrawlError } from '../errors.js';
import { ExchangeRing } from './ring.js';
import { packWritten, type ExchangeFacts, type FromWorker, type ThreadError, type ToWorker, type WorkerInit } from './thread-protocol.js';
import { WarcWriter, type WrittenExchange } from './writer.js';

/**
 * The thread behind ThreadedWarcWriter: for each exchange it runs the parser over the response
 * (payload digest), formats, hashes, compresses and writes the records, and answers with where
 * they went. Exchanges come through the shared ring (or, when larger than the ring, in a
 * message) and are written in the order of their ids.
 *
 * The thread polls the ring instead of being woken per exchange: every POLL_MS while exchanges
 * are coming, and after IDLE_MS without one it sleeps until the crawl's thread wakes it.
 * POLL_MS is 4, not 1: at a thousand pages a second each turn then takes a few exchanges, and
 * the thread's CPU per page fell by a tenth (fewer timed waits, turns and answer messages); a
 * record's location comes at most a few ms later, which only the crawl's annotate step waits for.
 */
const POLL_MS = 4;
const IDLE_MS = 20;
const DEEP_SLEEP_MS = 250;

const port = parentPort!;
const init = workerData as WorkerInit;
const inFlight = new Int32Array(init.inFlight);
const ring = new ExchangeRing(init.ring);
const writer = new WarcWriter(init.options, init.first);

function describe(err: unknown): ThreadError {
  return err instanceof RawcrawlError ? { code: err.code, message: err.message } : { code: 'ERR_STORAGE', message: `WARC write failed: ${String(err)}` };
}

/** Answers not sent yet, sent as one message per turn of the poll loop. */
let pending: number[] = [];
let filesSent = 0;

function flush(): void {
  if (pending.length === 0) return;
  const written = Float64Array.from(pending);
  pending = [];
  const files = writer.files.length !== filesSent ? [...writer.files] : undefined;
  filesSent = writer.files.length;
  port.postMessage({ type: 'written', written, ...(files ? { files } : {}) } satisfies FromWorker, [written.buffer]);
}

/** Exchanges that came as messages (larger than the ring), by id. */
const stash = new Map<number, Extract<ToWorker, { type: 'exchange' }>>();
/** The id to write next. */
let expected = 0;
let closing = false;
let lastWork = performance.now();

/**
 * Hands one exchange to the writer. `release` gives its bytes back (ring space, or the in-flight
 * count of a message): as soon as writeExchange() returns, since the writer has copied or
 * compressed them by then, so a turn's later exchanges never wait for its write.
 */
function write(id: number, facts: ExchangeFacts, request: Buffer, response: Buffer, release: () => void): void {
  const failed = (err: unknown): void => {
    flush();
    port.postMessage({ type: 'failed', id, error: describe(err) } satisfies FromWorker);
  };
  let done: Promise<WrittenExchange>;
  try {
    done = writer.writeExchange(withBytes(facts, request, response));
  } catch (err) {
    release();
    failed(err);
    return;
  }
  release();
  done.then((w) => packWritten(pending, id, writer.files.indexOf(w.metadata.file), w), failed);
}

/** Writes every exchange that is next in id order, from the ring or from a message. */
function pump(): boolean {
  let any = false;
  for (;;) {
    const msg = stash.get(expected);
    if (msg) {
      stash.delete(expected);
      const bytes = Buffer.from(msg.bytes);
      const size = bytes.length;
      write(expected, msg.facts, bytes.subarray(0, msg.requestLength), bytes.subarray(msg.requestLength), () => {
        Atomics.sub(inFlight, 0, size);
        Atomics.notify(inFlight, 0);
      });
    } else if (ring.peekId() === expected) {
      const e = ring.take()!;
      write(e.id, JSON.parse(e.facts) as ExchangeFacts, e.request, e.response, () => e.release());
    } else {
      // The turn's exchanges go to the file in one write, before poll() answers for them.
      if (any) writer.flush();
      return any;
    }
    expected++;
    any = true;
  }
}

function poll(): void {
  flush();
  if (closing && ring.pending === 0 && stash.size === 0) {
    writer.close().then(
      () => port.postMessage({ type: 'closed', files: [...writer.files], error: null } satisfies FromWorker),
      (err: unknown) => port.postMessage({ type: 'closed', files: [...writer.files], error: describe(err) } satisfies FromWorker),
    );
    return;
  }
  if (ring.pending === 0 && !stash.has(expected) && !closing) {
    const idle = performance.now() - lastWork > IDLE_MS;
    ring.waitForEntries(idle ? DEEP_SLEEP_MS : POLL_MS, idle);
  }
  if (pump()) lastWork = performance.now();
  // Through the event loop: written records' promises settle, messages come in.
  setImmediate(poll);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'close') closing = true;
  else stash.set(msg.id, msg);
});
setImmediate(poll);
