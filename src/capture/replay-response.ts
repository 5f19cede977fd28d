import { ResponseAssembler } from '../client/assemble.js';
import { REQUEST_DEFAULTS } from '../client/options.js';
import { RawcrawlError } from '../errors.js';
import type { Leniency } from '../http/leniency.js';
import { DONE, NEED_DATA, ResponseParser, type RawHeader } from '../http/response-parser.js';
import { Sha1Digest } from './digest.js';
import type { ReadBoundary } from './exchange.js';

/** What rawcrawl makes of a response: the fields replay compares between two parser versions. */
export interface ResponseRecord {
  /** 1xx statuses before the final response. */
  informational: number[];
  status: number | null;
  statusText: string | null;
  httpVersion: string | null;
  headers: RawHeader[];
  trailers: RawHeader[];
  /** 'length', 'chunked', 'close' or 'none' (RFC 9112 §6.3). */
  framing: string | null;
  /** Response stream offset just past the final head. */
  headEnd: number | null;
  /** Response stream offset just past the response. */
  end: number | null;
  /** The body after de-chunking, before content decoding: WARC's payload. */
  payload: { bytes: number; sha1: string };
  /** The body as request() returns it (content decoded); null when not computed or on error. */
  body: { bytes: number; sha1: string } | null;
  leniencies: Leniency[];
  /** Why the bytes are not a complete response: a RawcrawlError code, or INCOMPLETE (no EOF seen). */
  error: { code: string; offset?: number } | null;
}

export interface StoredResponse {
  response: Buffer;
  /** Read boundaries to feed the parser at; none: one read of everything. */
  reads: ReadBoundary[];
  /** The peer closed the stream after the last read (ends a close-delimited body). */
  peerEof: boolean;
  method: string;
}

export interface ReplayLimits {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  decompress?: boolean;
}

interface Run {
  record: ResponseRecord;
  assembler: ResponseAssembler;
}

function drive(input: StoredResponse, limits: ReplayLimits, decompress: boolean): Run {
  const payload = new Sha1Digest();
  const parser = new ResponseParser({ method: input.method, maxHeaderBytes: limits.maxHeaderBytes ?? REQUEST_DEFAULTS.maxHeaderBytes });
  const assembler = new ResponseAssembler({
    method: input.method,
    decompress,
    maxBodyBytes: limits.maxBodyBytes ?? REQUEST_DEFAULTS.maxBodyBytes,
    onPayload: (d) => payload.update(d),
  });
  const record: ResponseRecord = {
    informational: [], status: null, statusText: null, httpVersion: null, headers: [], trailers: [], framing: null,
    headEnd: null, end: null, payload: { bytes: 0, sha1: '' }, body: null, leniencies: parser.leniencies, error: null,
  };
  const reads = input.reads.length > 0 ? input.reads : [{ offset: 0, size: input.response.length, t: 0 }];
  let next = 0;
  try {
    for (;;) {
      const ev = parser.next();
      if (ev === DONE) break;
      if (ev === NEED_DATA) {
        const r = reads[next++];
        if (r) parser.feed(input.response.subarray(r.offset, r.offset + r.size));
        else if (input.peerEof) parser.feedEof();
        else {
          record.error = { code: 'INCOMPLETE', offset: parser.offset };
          break;
        }
        continue;
      }
      assembler.accept(ev, parser.offset);
      if (ev.type === 'informational') record.informational.push(ev.head.status);
      else if (ev.type === 'head') {
        record.status = ev.head.status;
        record.statusText = ev.head.statusText;
        record.httpVersion = ev.head.httpVersion;
        record.headers = ev.head.rawHeaders;
        record.framing = ev.framing.kind;
        record.headEnd = parser.offset;
      } else if (ev.type === 'end') {
        record.trailers = ev.trailers;
        record.end = parser.offset;
      }
    }
  } catch (err) {
    if (!(err instanceof RawcrawlError)) throw err;
    record.error = { code: err.code, ...(err.offset !== undefined ? { offset: err.offset } : {}) };
  }
  record.payload = { bytes: payload.bytes, sha1: payload.digest() };
  return { record, assembler };
}

/**
 * Runs stored response bytes through the parser, fed at the stored read boundaries, without
 * content decoding: synchronous, for WARC digests and offsets.
 */
export function scanResponse(input: StoredResponse, limits: ReplayLimits = {}): ResponseRecord {
  const { record, assembler } = drive(input, limits, false);
  assembler.destroy();
  return record;
}

/**
 * Runs stored response bytes through the current parser and the client's ResponseAssembler,
 * exactly as request() would have (decoding included), and describes the result.
 */
export async function replayResponse(input: StoredResponse, limits: ReplayLimits = {}): Promise<ResponseRecord> {
  const { record, assembler } = drive(input, limits, limits.decompress ?? REQUEST_DEFAULTS.decompress);
  if (record.error) {
    assembler.destroy();
    return record;
  }
  try {
    const body = await assembler.body();
    const d = new Sha1Digest();
    d.update(body);
    record.body = { bytes: body.length, sha1: d.digest() };
  } catch (err) {
    if (!(err instanceof RawcrawlError)) throw err;
    record.error = { code: err.code, ...(err.offset !== undefined ? { offset: err.offset } : {}) };
  }
  return record;
}
