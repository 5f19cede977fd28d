import type { ExchangeFacts } from '../capture/exchange.js';
import type { ErrorCode } from '../errors.js';
import type { ClaimedWarcName, WarcWriterOptions, WrittenExchange } from './writer.js';

export type { ExchangeFacts };

/** A RawcrawlError across the thread boundary. */
export interface ThreadError {
  code: ErrorCode;
  message: string;
}

export type ToWorker =
  /**
   * An exchange too large for the ring. `bytes` holds the request bytes, then the response bytes
   * (`requestLength` splits them).
   */
  | { type: 'exchange'; id: number; facts: ExchangeFacts; bytes: ArrayBuffer; requestLength: number }
  | { type: 'close' };

/**
 * Where one exchange's records went, as WRITTEN_FIELDS numbers: id, file index, then offset and
 * length of the request, response and metadata records (-1 for a record not written).
 */
export const WRITTEN_FIELDS = 8;

export type FromWorker =
  /** `written` holds WRITTEN_FIELDS numbers per exchange; `files` is sent when it changed. */
  | { type: 'written'; written: Float64Array; files?: string[] }
  | { type: 'failed'; id: number; error: ThreadError }
  | { type: 'closed'; files: string[]; error: ThreadError | null };

/** Packs a WrittenExchange (all its records are in one file). */
export function packWritten(out: number[], id: number, fileIndex: number, w: WrittenExchange): void {
  out.push(id, fileIndex, w.request?.offset ?? -1, w.request?.length ?? -1, w.response?.offset ?? -1, w.response?.length ?? -1, w.metadata.offset, w.metadata.length);
}

/** Unpacks the exchange at `at` of a 'written' message. */
export function unpackWritten(v: Float64Array, at: number, files: readonly string[]): { id: number; written: WrittenExchange } {
  const file = files[v[at + 1]!]!;
  const loc = (offset: number, length: number): { file: string; offset: number; length: number } | null =>
    offset < 0 ? null : { file, offset, length };
  return {
    id: v[at]!,
    written: {
      request: loc(v[at + 2]!, v[at + 3]!),
      response: loc(v[at + 4]!, v[at + 5]!),
      metadata: loc(v[at + 6]!, v[at + 7]!)!,
    },
  };
}

export interface WorkerInit {
  options: WarcWriterOptions;
  /** The first file, created by the crawl's thread (claimWarcFile()), empty. */
  first: ClaimedWarcName;
  /** The ExchangeRing exchanges come through (those larger than it come as messages). */
  ring: SharedArrayBuffer;
  /** Int32Array over it: [0] = bytes handed over and not yet written (the main thread waits above a cap). */
  inFlight: SharedArrayBuffer;
}
