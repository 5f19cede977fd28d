import { readFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { RawcrawlError } from '../errors.js';
import type { CapturedExchange } from './exchange.js';
import type { ResponseRecord } from './replay-response.js';

/** First field of every capture file's header line. */
export const CAPTURE_FORMAT = 'rawcrawl-capture/1';
export const CAPTURE_EXTENSION = '.rawcap';

/** The header line: everything but the bytes, plus where the bytes are. */
export type CaptureHeader = Omit<CapturedExchange, 'request' | 'response'> & {
  format: typeof CAPTURE_FORMAT;
  /** Bytes of the request, right after the header line. */
  requestBytes: number;
  /** Bytes of the response, right after the request. */
  responseBytes: number;
  /** What rawcrawl made of the response when it was captured (compared by replay). */
  record: ResponseRecord;
  /** WARC file and offset of the response record, when a WARC was written too. */
  warc?: { file: string; offset: number };
};

export interface CaptureFile {
  header: CaptureHeader;
  exchange: CapturedExchange;
}

/**
 * One exchange per file: a JSON header line (LF-terminated, no raw LF inside), then the request
 * bytes, then the response bytes, exactly as on the wire. `head -1` shows the header; `tail -c`
 * with responseBytes extracts the response.
 */
export function encodeCapture(ex: CapturedExchange, record: ResponseRecord, warc?: { file: string; offset: number }): Buffer {
  const { request, response, ...facts } = ex;
  const header: CaptureHeader = {
    format: CAPTURE_FORMAT,
    ...facts,
    requestBytes: request.length,
    responseBytes: response.length,
    record,
    ...(warc ? { warc } : {}),
  };
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), request, response]);
}

export function decodeCapture(data: Buffer, name = 'capture'): CaptureFile {
  const bad = (why: string): RawcrawlError => new RawcrawlError('ERR_STORAGE', `${name} is not a rawcrawl capture file: ${why}`);
  const lf = data.indexOf(0x0a);
  if (lf === -1) throw bad('no header line');
  let header: CaptureHeader;
  try {
    header = JSON.parse(data.toString('utf8', 0, lf)) as CaptureHeader;
  } catch {
    throw bad('the header line is not JSON');
  }
  if (header.format !== CAPTURE_FORMAT) throw bad(`format is ${JSON.stringify(header.format)}, not ${CAPTURE_FORMAT}`);
  const start = lf + 1;
  if (data.length !== start + header.requestBytes + header.responseBytes) {
    throw bad(`holds ${data.length - start} bytes after the header, the header says ${header.requestBytes} + ${header.responseBytes}`);
  }
  const { format: _f, requestBytes: _q, responseBytes: _r, record: _rec, warc: _w, ...facts } = header;
  const request = data.subarray(start, start + header.requestBytes);
  const response = data.subarray(start + header.requestBytes);
  // Files written before `proxy` was recorded hold no such field: their exchanges were direct.
  return { header, exchange: { ...facts, proxy: facts.proxy ?? null, request, response } };
}

/** Suffix of a capture file being written: replay and `ls *.rawcap` never see one. */
export const PARTIAL_SUFFIX = '.part';

/**
 * Writes a capture file whole or not at all: into `path.part`, then renamed to `path`, so a run
 * killed while writing leaves no cut-short capture file for replay to stumble on (at most a
 * `.part` file, which replay ignores). ERR_STORAGE naming the file when it cannot be written.
 */
export async function writeCaptureFile(path: string, data: Buffer): Promise<void> {
  const partial = path + PARTIAL_SUFFIX;
  try {
    await writeFile(partial, data);
    await rename(partial, path);
  } catch (err) {
    await unlink(partial).catch(() => {});
    throw new RawcrawlError('ERR_STORAGE', `cannot write capture file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

export function readCapture(path: string): CaptureFile {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return decodeCapture(data, path);
}
