import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RawcrawlError } from '../errors.js';
import type { Leniency } from '../http/leniency.js';
import type { WireListener } from '../wire/events.js';
import { availableParallelism } from 'node:os';
import { BoundedMap } from '../net/bounded-map.js';
import { ThreadedWarcWriter } from '../warc/threaded-writer.js';
import { WarcWriter, type ExchangeWriter, type WarcLocation, type WarcWriterOptions, type WrittenExchange } from '../warc/writer.js';
import { CAPTURE_EXTENSION, encodeCapture, writeCaptureFile } from './capture-file.js';
import type { CaptureError, CaptureTls, CapturedExchange, PhaseTimings } from './exchange.js';
import { CaptureRecorder } from './recorder.js';
import { replayResponse } from './replay-response.js';

export interface CaptureSinkOptions {
  /** Write one capture file per exchange into this directory (created if missing). */
  dir?: string;
  /** Write a WARC/1.1 file (`.warc.gz`: one gzip member per record). */
  warcFile?: string;
  /** Rotate the WARC file at this size in bytes. */
  warcMaxSize?: number;
  /** zlib level of the WARC's gzip members (1 fastest, default; 9 smallest). */
  warcGzipLevel?: number;
  /**
   * Write the WARC from its own thread (digests, gzip and file writes off the crawl's thread).
   * Default: yes on more than one core without `dir`, where the compiled worker exists (not
   * when running from the TypeScript sources).
   */
  warcThread?: boolean;
  /** Called with every exchange once it was stored. */
  onExchange?: (ex: CapturedExchange, page: PageCapture) => void;
}

/** What a crawler stores next to a page row. */
export interface PageCapture {
  url: string;
  /** WARC file holding the response record, or the metadata record when no response byte came (null without --warc). */
  warcFile: string | null;
  /** Byte offset of that record's gzip member in warcFile. */
  warcOffset: number | null;
  /** Capture file path (null without --capture). */
  captureFile: string | null;
  timings: PhaseTimings;
  leniencies: Leniency[];
  tls: CaptureTls | null;
  remoteAddress: string | null;
  error: CaptureError | null;
}

export interface CaptureSink {
  /** Plug into request()'s onWire (chain it with other listeners if needed). */
  onWire: WireListener;
  /**
   * The capture of the last exchange for this URL (a redirect hop's URL gives that hop), once
   * its WARC records and capture file are written (they are compressed and written in the
   * background, so request() does not wait for them). Undefined for a URL never captured.
   */
  recordFor(url: string): Promise<PageCapture | undefined>;
  /** WARC files written so far, in order. */
  readonly warcFiles: readonly string[];
  /** Exchanges stored so far. */
  readonly exchanges: number;
  /**
   * The first storage error (a full disk, a directory gone), as soon as it happened: no exchange
   * is stored after it. close() rejects with it.
   */
  readonly error: RawcrawlError | null;
  /** Waits for pending capture files, closes the WARC; rejects with the first storage error. */
  close(): Promise<void>;
}

/** URLs remembered for recordFor(); the oldest are forgotten first. */
const REMEMBERED = 10_000;

function stripFragment(url: string): string {
  const i = url.indexOf('#');
  return i === -1 ? url : url.slice(0, i);
}

let fileSeq = 0;

const noop = (): void => {};

/** Capture file name: time first, so `ls` sorts them in the order they happened. */
function captureName(ex: CapturedExchange): string {
  const stamp = ex.startedAt.replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${process.pid}-${String(++fileSeq).padStart(6, '0')}${CAPTURE_EXTENSION}`;
}

function openWarcWriter(file: string, options: CaptureSinkOptions): ExchangeWriter {
  const o: WarcWriterOptions = {
    file,
    ...(options.warcMaxSize !== undefined ? { maxSize: options.warcMaxSize } : {}),
    ...(options.warcGzipLevel !== undefined ? { gzipLevel: options.warcGzipLevel } : {}),
  };
  // With capture files as well, the crawl's thread parses every response again anyway and each
  // file waits for its WARC offset: that mode ran at 0.34× plain with the thread and 0.41×
  // without (bench/warc.mjs, second session), and at 0.66× and 0.69× (1.30 and 1.12 ms of CPU
  // per page) in paired crawls after the fifth session's writer change, so it stays in-thread.
  const threaded = options.warcThread ?? (availableParallelism() > 1 && !options.dir);
  return threaded && ThreadedWarcWriter.available() ? new ThreadedWarcWriter(o) : new WarcWriter(o);
}

/**
 * Notes in `page` where its response record went, or for an exchange that got no response (a
 * refused connection, a timeout before a byte) its metadata record, which says what happened; a
 * function of its own: see captureFileOf.
 */
function warcLocation(written: Promise<WrittenExchange>, page: PageCapture): Promise<WarcLocation | null> {
  return written.then((w) => {
    const at = w.response ?? w.metadata;
    page.warcFile = at.file;
    page.warcOffset = at.offset;
    return w.response;
  });
}

/**
 * mkdir -p, without `mkdirSync(dir, { recursive: true })`: Node 20's loops forever, at 100 % CPU,
 * where mkdir says ENOENT although the parent exists (/proc/x, say). Here a second ENOENT once
 * the parent is made is an error.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  makeDirectory(dirname(dir));
  mkdirSync(dir);
}

/**
 * --capture and --warc for any caller of request(): a wire listener that stores each exchange
 * as it completes, and a lookup from URL to where it went.
 */
export function createCaptureSink(options: CaptureSinkOptions): CaptureSink {
  if (!options.dir && !options.warcFile) throw new RawcrawlError('ERR_INVALID_OPTION', 'a capture sink needs dir or warcFile');
  if (options.dir) {
    try {
      makeDirectory(options.dir);
    } catch (err) {
      throw new RawcrawlError('ERR_STORAGE', `cannot create capture directory ${options.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const warc = options.warcFile ? openWarcWriter(options.warcFile, options) : null;
  const pages = new BoundedMap<{ page: PageCapture; ready: Promise<void> }>(REMEMBERED);
  const pending = new Set<Promise<void>>();
  let failure: RawcrawlError | null = null;
  let count = 0;
  const fail = (err: unknown): void => {
    failure ??= err instanceof RawcrawlError ? err : new RawcrawlError('ERR_STORAGE', `capture failed: ${String(err)}`, { cause: err });
  };

  const track = (job: Promise<void>): Promise<void> => {
    const p = job.catch(fail).finally(() => pending.delete(p));
    pending.add(p);
    return p;
  };

  /**
   * The capture file's work, in a scope of its own: closures made in store() share its context,
   * so one that used the exchange there would keep its bytes alive for as long as the WARC
   * location's callback waits (until the WARC thread answers), with or without capture files.
   */
  const captureFileOf = (ex: CapturedExchange, file: string, written: Promise<WarcLocation | null>): Promise<void> => {
    const replayInput = { response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method };
    return Promise.all([replayResponse(replayInput), written]).then(([record, at]) =>
      writeCaptureFile(file, encodeCapture(ex, record, at ? { file: at.file, offset: at.offset } : undefined)),
    );
  };

  const store = (ex: CapturedExchange): void => {
    if (failure) return;
    try {
      const captureFile = options.dir ? join(options.dir, captureName(ex)) : null;
      const page: PageCapture = {
        url: ex.url,
        warcFile: null,
        warcOffset: null,
        captureFile,
        timings: ex.timings,
        leniencies: ex.leniencies,
        tls: ex.tlsInfo,
        remoteAddress: ex.remoteAddress,
        error: ex.error,
      };
      const written = warc ? warcLocation(warc.writeExchange(ex), page) : Promise.resolve(null);
      // Without capture files the page is ready once its WARC records are written.
      // The capture file waits for the WARC location (it names it), so it settles last.
      const stored: Promise<unknown> = captureFile ? captureFileOf(ex, captureFile, written) : written;
      const onExchange = options.onExchange;
      const ready = track(onExchange ? stored.then(() => onExchange(ex, page)) : stored.then(noop));
      pages.set(stripFragment(ex.url), { page, ready });
      count++;
    } catch (err) {
      fail(err);
    }
  };
  const recorder = new CaptureRecorder(store);

  return {
    onWire: recorder.onWire,
    async recordFor(url) {
      const hit = pages.get(stripFragment(url));
      if (!hit) return undefined;
      await hit.ready;
      return hit.page;
    },
    get warcFiles() {
      return warc ? warc.files : [];
    },
    get exchanges() {
      return count;
    },
    get error() {
      return failure;
    },
    async close() {
      while (pending.size > 0) await Promise.all([...pending]);
      await warc?.close().catch(fail);
      if (failure) throw failure;
    },
  };
}
