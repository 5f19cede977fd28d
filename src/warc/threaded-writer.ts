import { closeSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { exchangeFacts, type CapturedExchange } from '../capture/exchange.js';
import { RawcrawlError } from '../errors.js';
import { ExchangeRing } from './ring.js';
import { unpackWritten, WRITTEN_FIELDS, type FromWorker, type ToWorker, type WorkerInit } from './thread-protocol.js';
import { checkWarcOptions, claimWarcFile, type ExchangeWriter, type WarcWriterOptions, type WrittenExchange } from './writer.js';

const SCRIPT = new URL('./warc-worker.js', import.meta.url);
/**
 * The shared ring's size. Small on purpose: the crawl's thread writes each page into ring memory
 * the WARC thread read a few ms before, still in the caches, not into memory last touched 32 MiB
 * ago. Measured in the crawl (bench/warc.mjs pages, BENCHMARKS.md): 8–10 µs per 20 KB page to
 * put it in a 1–2 MiB ring against 15–17 µs in a 32 MiB one, and 0.08–0.1 ms less CPU per page
 * in all; 4–8 MiB fell in between.
 */
const RING_BYTES = 2 * 1024 * 1024;
/** How long writeExchange() blocks on a full ring before it calls the thread stalled. */
const STALL_MS = 60_000;

export interface ThreadedWarcWriterOptions extends WarcWriterOptions {
  /**
   * Bytes handed to the thread and not yet taken in (formatted into its write buffer, which
   * goes to the file at every 128 KB) above which writeExchange() blocks until it catches up
   * (default 32 MiB): a slow disk then slows the crawl instead of filling memory.
   * Exchanges go through a shared ring of 2 MiB (or of this size, if smaller); one larger than
   * half the ring goes in a message of its own, and such messages are capped at this many bytes.
   */
  maxInFlightBytes?: number;
}

interface Waiting {
  resolve: (w: WrittenExchange) => void;
  reject: (err: RawcrawlError) => void;
}

/**
 * A WarcWriter on its own thread. What --warc costs past keeping the bytes (running the parser
 * over the response for the payload digest, two SHA-1s, formatting, gzip, the file write) runs
 * there; the crawl's thread copies each exchange's bytes into one buffer and transfers it.
 * Records are written in the order writeExchange() was called, exactly as WarcWriter does.
 *
 * The first file is created here, synchronously, so a path that cannot be written fails at once
 * with ERR_STORAGE, before anything is fetched.
 */
export class ThreadedWarcWriter implements ExchangeWriter {
  /** True where the compiled worker script exists (not when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(SCRIPT));
  }

  private filesSeen: readonly string[];
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private readonly inFlight: Int32Array;
  private readonly maxInFlight: number;
  private readonly ring: ExchangeRing;
  private nextId = 0;
  private failure: RawcrawlError | null = null;
  private closing: Promise<void> | null = null;
  private onClosed: ((msg: Extract<FromWorker, { type: 'closed' }>) => void) | null = null;
  private exited = false;

  constructor(options: ThreadedWarcWriterOptions) {
    const { maxInFlightBytes, ...o } = options;
    checkWarcOptions(o);
    if (maxInFlightBytes !== undefined && !(maxInFlightBytes > 0)) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `maxInFlightBytes must be > 0, got ${String(maxInFlightBytes)}`);
    }
    this.maxInFlight = Math.min(maxInFlightBytes ?? 32 * 1024 * 1024, 0x7fffffff);
    // Created here so that a bad path is an error now; the thread opens it again to write.
    const { fd, ...first } = claimWarcFile(o.file);
    closeSync(fd);
    this.filesSeen = [first.file];
    const shared = new SharedArrayBuffer(4);
    this.inFlight = new Int32Array(shared);
    this.ring = new ExchangeRing(ExchangeRing.allocate(Math.min(this.maxInFlight, RING_BYTES)));
    this.worker = new Worker(SCRIPT, { workerData: { options: o, first, inFlight: shared, ring: this.ring.shared } satisfies WorkerInit });
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (err) => this.crash(new RawcrawlError('ERR_STORAGE', `WARC writer thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (!this.onClosed) this.crash(new RawcrawlError('ERR_STORAGE', `WARC writer thread exited (code ${code})`));
      else this.onClosed({ type: 'closed', files: [...this.filesSeen], error: null });
    });
    // Only a thread with records in flight keeps the process alive.
    this.worker.unref();
  }

  get files(): readonly string[] {
    return this.filesSeen;
  }

  writeExchange(ex: CapturedExchange): Promise<WrittenExchange> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new RawcrawlError('ERR_STORAGE', 'the WARC writer is closed'));
    const id = this.nextId++;
    const done = new Promise<WrittenExchange>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    if (this.waiting.size === 1) this.worker.ref();
    const facts = exchangeFacts(ex);
    const json = JSON.stringify(facts);
    const jsonBytes = Buffer.byteLength(json, 'utf8');
    if (ExchangeRing.entrySize(jsonBytes, ex.request.length, ex.response.length) <= this.ring.maxEntry) {
      // Into the ring: a copy and no message. When it is full, wait for the thread to catch up.
      const since = performance.now();
      while (!this.ring.tryPut(id, json, jsonBytes, ex.request, ex.response)) {
        // A thread that died cannot say so while this thread blocks: give up after STALL_MS.
        if (this.exited || this.failure || performance.now() - since > STALL_MS) {
          this.crash(this.failure ?? new RawcrawlError('ERR_STORAGE', `the WARC writer thread took no records for ${STALL_MS / 1000} s`));
          break;
        }
        this.ring.waitForRoom(1000);
      }
      return done;
    }
    // Too large for the ring: a buffer of its own (not from the shared pool), transferred.
    const size = ex.request.length + ex.response.length;
    const bytes = Buffer.allocUnsafeSlow(size);
    ex.request.copy(bytes, 0);
    ex.response.copy(bytes, ex.request.length);
    this.waitForRoom(size);
    Atomics.add(this.inFlight, 0, size);
    this.post({ type: 'exchange', id, facts, bytes: bytes.buffer as ArrayBuffer, requestLength: ex.request.length }, [bytes.buffer as ArrayBuffer]);
    this.ring.wake();
    return done;
  }

  /** Waits for the thread to write what it was given and close the file. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Blocks (like a synchronous write to a slow disk) while too many bytes wait for the thread. */
  private waitForRoom(size: number): void {
    for (;;) {
      const now = Atomics.load(this.inFlight, 0);
      if (now === 0 || now + size <= this.maxInFlight || this.exited) return;
      Atomics.wait(this.inFlight, 0, now, 1000);
    }
  }

  private async shutdown(): Promise<void> {
    if (!this.exited) {
      const closed = new Promise<Extract<FromWorker, { type: 'closed' }>>((resolve) => {
        this.onClosed = resolve;
      });
      this.worker.ref();
      this.post({ type: 'close' });
      this.ring.wake();
      const msg = await closed;
      this.filesSeen = msg.files;
      if (msg.error) this.failure ??= new RawcrawlError(msg.error.code, msg.error.message);
      await this.worker.terminate();
    }
    if (this.failure) throw this.failure;
  }

  private post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    try {
      this.worker.postMessage(msg, transfer);
    } catch (err) {
      this.crash(new RawcrawlError('ERR_STORAGE', `cannot hand records to the WARC writer thread: ${String(err)}`, { cause: err }));
    }
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'closed') {
      this.filesSeen = msg.files;
      this.onClosed?.(msg);
      return;
    }
    if (msg.type === 'failed') {
      const err = new RawcrawlError(msg.error.code, msg.error.message);
      this.failure ??= err;
      this.settle(msg.id)?.reject(err);
    } else {
      if (msg.files) this.filesSeen = msg.files;
      for (let at = 0; at < msg.written.length; at += WRITTEN_FIELDS) {
        const { id, written } = unpackWritten(msg.written, at, this.filesSeen);
        this.settle(id)?.resolve(written);
      }
    }
    if (this.waiting.size === 0 && !this.closing) this.worker.unref();
  }

  private settle(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    return w;
  }

  private crash(err: RawcrawlError): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }
}
