import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawcrawlError } from '../errors.js';
import type { Leniency } from '../http/leniency.js';
import type { WireListener } from '../wire/events.js';
import { WarcWriter, type WarcLocation } from '../warc/writer.js';
import { CAPTURE_EXTENSION, encodeCapture } from './capture-file.js';
import type { CaptureError, CaptureTls, CapturedExchange, PhaseTimings } from './exchange.js';
import { CaptureRecorder } from './recorder.js';
import { replayResponse, scanResponse } from './replay-response.js';

export interface CaptureSinkOptions {
  /** Write one capture file per exchange into this directory (created if missing). */
  dir?: string;
  /** Write a WARC/1.1 file (`.warc.gz`: one gzip member per record). */
  warcFile?: string;
  /** Rotate the WARC file at this size in bytes. */
  warcMaxSize?: number;
  /** Called with every exchange as it completes (after it was stored). */
  onExchange?: (ex: CapturedExchange, page: PageCapture) => void;
}

/** What a crawler stores next to a page row. */
export interface PageCapture {
  url: string;
  /** WARC file holding the response record (null without --warc, or when no response byte came). */
  warcFile: string | null;
  /** Byte offset of the response record's gzip member in warcFile. */
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
   * The capture of the last exchange for this URL (a redirect hop's URL gives that hop). Ready as
   * soon as request() settles: the WARC is written synchronously when the connection closes.
   */
  recordFor(url: string): PageCapture | undefined;
  /** WARC files written so far, in order. */
  readonly warcFiles: readonly string[];
  /** Exchanges stored so far. */
  readonly exchanges: number;
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

/** Capture file name: time first, so `ls` sorts them in the order they happened. */
function captureName(ex: CapturedExchange): string {
  const stamp = ex.startedAt.replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${process.pid}-${String(++fileSeq).padStart(6, '0')}${CAPTURE_EXTENSION}`;
}

/**
 * --capture and --warc for any caller of request(): a wire listener that stores each exchange
 * as it completes, and a lookup from URL to where it went.
 */
export function createCaptureSink(options: CaptureSinkOptions): CaptureSink {
  if (!options.dir && !options.warcFile) throw new RawcrawlError('ERR_INVALID_OPTION', 'a capture sink needs dir or warcFile');
  if (options.dir) {
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (err) {
      throw new RawcrawlError('ERR_STORAGE', `cannot create capture directory ${options.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const warc = options.warcFile
    ? new WarcWriter({ file: options.warcFile, ...(options.warcMaxSize !== undefined ? { maxSize: options.warcMaxSize } : {}) })
    : null;
  const pages = new Map<string, PageCapture>();
  const pending = new Set<Promise<void>>();
  let failure: RawcrawlError | null = null;
  let count = 0;
  const fail = (err: unknown): void => {
    failure ??= err instanceof RawcrawlError ? err : new RawcrawlError('ERR_STORAGE', `capture failed: ${String(err)}`, { cause: err });
  };

  const store = (ex: CapturedExchange): void => {
    if (failure) return;
    try {
      let at: WarcLocation | null = null;
      if (warc) {
        const stored = { response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method };
        at = warc.writeExchange(ex, scanResponse(stored)).response;
      }
      const captureFile = options.dir ? join(options.dir, captureName(ex)) : null;
      const page: PageCapture = {
        url: ex.url,
        warcFile: at?.file ?? null,
        warcOffset: at?.offset ?? null,
        captureFile,
        timings: ex.timings,
        leniencies: ex.leniencies,
        tls: ex.tlsInfo,
        remoteAddress: ex.remoteAddress,
        error: ex.error,
      };
      const key = stripFragment(ex.url);
      pages.delete(key);
      pages.set(key, page);
      if (pages.size > REMEMBERED) pages.delete(pages.keys().next().value!);
      count++;
      if (captureFile) {
        const job = replayResponse({ response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method })
          .then((record) => writeFile(captureFile, encodeCapture(ex, record, at ? { file: at.file, offset: at.offset } : undefined)))
          .catch(fail)
          .finally(() => pending.delete(job));
        pending.add(job);
      }
      options.onExchange?.(ex, page);
    } catch (err) {
      fail(err);
    }
  };
  const recorder = new CaptureRecorder(store);

  return {
    onWire: recorder.onWire,
    recordFor: (url) => pages.get(stripFragment(url)),
    get warcFiles() {
      return warc ? warc.files : [];
    },
    get exchanges() {
      return count;
    },
    async close() {
      while (pending.size > 0) await Promise.all([...pending]);
      warc?.close();
      if (failure) throw failure;
    },
  };
}
