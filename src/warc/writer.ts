import { closeSync, openSync, writeSync, writevSync } from 'node:fs';
import { basename } from 'node:path';
import type { CapturedExchange } from '../capture/exchange.js';
import { scanResponse, type ResponseRecord } from '../capture/replay-response.js';
import { RawcrawlError } from '../errors.js';
import { isFieldName, parseCodings } from '../http/abnf.js';
import { exchangeRecords, type ExchangeRecord } from './exchange-records.js';
import { storedGzipMember } from './gzip-member.js';
import { formatRecord, newRecordId, RecordGzipper, warcDate, type WarcField } from './record.js';

export interface WarcWriterOptions {
  /** First file's path; `.warc.gz` writes one gzip member per record, `.warc` writes plain. */
  file: string;
  /** Start a new file once the current one reaches this many bytes (default: never). */
  maxSize?: number;
  /** Extra warcinfo fields ("operator", "description", …). */
  info?: WarcField[];
  /** zlib level for the gzip members, 1 (fastest, default) to 9 (smallest). */
  gzipLevel?: number;
}

/** What the capture sink needs of a WARC writer: this one, or the one on its own thread. */
export interface ExchangeWriter {
  readonly files: readonly string[];
  /** Resolves with where the exchange's records went. */
  writeExchange(ex: CapturedExchange): Promise<WrittenExchange>;
  close(): Promise<void>;
}

/** Checks a WarcWriter's options, so a bad value fails before any file is created. */
export function checkWarcOptions(o: WarcWriterOptions): void {
  if (o.maxSize !== undefined && !(o.maxSize > 0)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `warc max size must be > 0, got ${String(o.maxSize)}`);
  }
  if (o.gzipLevel !== undefined && !(Number.isInteger(o.gzipLevel) && o.gzipLevel >= 1 && o.gzipLevel <= 9)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `gzip level must be 1 to 9, got ${String(o.gzipLevel)}`);
  }
}

/** Creates (or truncates) a WARC file for writing; ERR_STORAGE naming the file when it cannot. */
export function openWarcFile(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot create WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** Where one record starts: file path and byte offset (of its gzip member in a .warc.gz). */
export interface WarcLocation {
  file: string;
  offset: number;
  /** Bytes the record takes in the file (compressed size in a .warc.gz). */
  length: number;
}

export interface WrittenExchange {
  /** The response record; null when no response byte arrived. */
  response: WarcLocation | null;
  request: WarcLocation | null;
  metadata: WarcLocation;
}

/** Media types whose bytes are compressed by their format (images, audio, video, archives, fonts). */
const COMPRESSED_TYPE =
  /^(?:image\/(?:jpeg|pjpeg|png|apng|gif|webp|avif|heic|heif|jxl)|audio\/|video\/|font\/woff2?|application\/(?:zip|gzip|x-gzip|zstd|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|x-lzip|ogg))\b/i;

/**
 * True when the response's payload is compressed already: it has a Content-Encoding other than
 * identity, or a Content-Type in COMPRESSED_TYPE. Deflate would not shrink such a record.
 */
export function alreadyCompressed(scan: Pick<ResponseRecord, 'headers'>): boolean {
  for (const [name, value] of scan.headers) {
    if (isFieldName(name, 'content-encoding') && parseCodings(value).length > 0) return true;
    if (isFieldName(name, 'content-type') && COMPRESSED_TYPE.test(value.trim())) return true;
  }
  return false;
}

/** `crawl.warc.gz` → `crawl-00001.warc.gz`, … (wget numbers its rotated files the same way). */
export function rotatedName(first: string, index: number): string {
  if (index === 0) return first;
  const m = /^(.*?)(\.warc(?:\.gz)?)?$/.exec(first)!;
  return `${m[1]}-${String(index).padStart(5, '0')}${m[2] ?? ''}`;
}

/**
 * Writes WARC/1.1 files (ISO 28500:2017): a warcinfo record first in each file, then request,
 * response and metadata records per exchange, kept together in one file, exchanges in the order
 * writeExchange() was called. Each record is its own gzip member (zlib, synchronously); the file
 * writes are synchronous and in order, so a location is final when its promise resolves.
 */
export class WarcWriter implements ExchangeWriter {
  /** Every file opened, in order. */
  readonly files: string[] = [];
  private fd = -1;
  /** Bytes written to the open file. */
  private size = 0;
  /** The file index new exchanges go to (ahead of the open file while a rotation is queued). */
  private target = 0;
  private targetExchanges = 0;
  private readonly warcinfoIds: string[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private failure: RawcrawlError | null = null;
  private readonly gzip: boolean;
  private readonly gzipper: RecordGzipper;

  constructor(private readonly o: WarcWriterOptions) {
    checkWarcOptions(o);
    this.gzip = o.file.endsWith('.gz');
    this.gzipper = new RecordGzipper(o.gzipLevel);
    this.openNext();
  }

  /**
   * Queues the exchange's records; resolves with where they were written. The response is run
   * through the parser here, for the payload digest and the metadata record.
   */
  writeExchange(ex: CapturedExchange): Promise<WrittenExchange> {
    if (this.failure) return Promise.reject(this.failure);
    // Rotation is decided when the exchange is queued, from the bytes already written: with
    // exchanges in flight a file can end up to their size past maxSize.
    const max = this.o.maxSize;
    if (max !== undefined && this.targetExchanges > 0 && this.target === this.files.length - 1 && this.size >= max) {
      this.target++;
      this.targetExchanges = 0;
    }
    const index = this.target;
    this.targetExchanges++;
    const warcinfoId = (this.warcinfoIds[index] ??= newRecordId());
    const scan = scanResponse({ response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method });
    const records = exchangeRecords(ex, scan, warcinfoId);
    // Each record its own gzip member, compressed synchronously (~0.05 ms for a 20 KB page at
    // level 1: less CPU than a thread-pool engine once its stream and callbacks are counted).
    // Only the response is compressed: request and metadata records are a few hundred bytes to
    // a few KB, where setting up a zlib engine costs more than the bytes it saves, so they go
    // into stored members (still gzip, still one member per record).
    // A payload that is compressed already (a content coding, or an image, audio, video or
    // archive type) would not shrink: its record is stored too, as deflating it costs about as
    // much CPU as a page of text and gains a few bytes of HTTP head.
    const deflateResponse = !alreadyCompressed(scan);
    const members = records.map((r) => {
      if (!this.gzip) return formatRecord(r.fields, r.block);
      return r.type === 'response' && deflateResponse ? this.gzipper.gzip(r.fields, r.block) : storedGzipMember(formatRecord(r.fields, r.block));
    });
    const done = this.tail.then(() => this.place(index, records, members));
    this.tail = done.catch((err: unknown) => {
      this.failure ??= err instanceof RawcrawlError ? err : new RawcrawlError('ERR_STORAGE', `WARC write failed: ${String(err)}`, { cause: err });
    });
    return done;
  }

  /** Waits for queued exchanges, closes the file; rejects with the first write error. */
  async close(): Promise<void> {
    await this.tail;
    this.gzipper.close();
    if (this.fd !== -1) {
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.failure) throw this.failure;
  }

  private place(index: number, records: ExchangeRecord[], members: Buffer[]): WrittenExchange {
    while (this.files.length - 1 < index) this.openNext();
    const file = this.files[index]!;
    const out: Partial<WrittenExchange> = { response: null, request: null };
    let at = this.size;
    records.forEach((r, i) => {
      out[r.type] = { file, offset: at, length: members[i]!.length };
      at += members[i]!.length;
    });
    // One write per exchange: its records stay together, at a third of the syscalls.
    this.write(members);
    return out as WrittenExchange;
  }

  private openNext(): void {
    if (this.fd !== -1) closeSync(this.fd);
    const index = this.files.length;
    const file = rotatedName(this.o.file, index);
    this.fd = openWarcFile(file);
    this.files.push(file);
    this.size = 0;
    const id = (this.warcinfoIds[index] ??= newRecordId());
    const block = Buffer.from(
      [
        ['software', 'rawcrawl/0.1.0'],
        ['format', 'WARC File Format 1.1'],
        ['conformsTo', 'http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/'],
        ...(this.o.info ?? []),
      ]
        .map(([n, v]) => `${n}: ${v}\r\n`)
        .join(''),
      'utf8',
    );
    const record = formatRecord(
      [
        ['WARC-Type', 'warcinfo'],
        ['WARC-Record-ID', id],
        ['WARC-Date', warcDate(new Date().toISOString())],
        ['WARC-Filename', basename(file)],
        ['Content-Type', 'application/warc-fields'],
      ],
      block,
    );
    this.write([this.gzip ? this.gzipper.member(record) : record]);
  }

  /** Writes the buffers in order with as few system calls as the kernel allows. */
  private write(parts: Buffer[]): void {
    let total = 0;
    for (const p of parts) total += p.length;
    try {
      let done = 0;
      let pending = parts;
      while (done < total) {
        const n = pending.length === 1 ? writeSync(this.fd, pending[0]!) : writevSync(this.fd, pending);
        done += n;
        if (done < total) pending = unwritten(pending, n);
      }
    } catch (err) {
      const file = this.files[this.files.length - 1]!;
      throw new RawcrawlError('ERR_STORAGE', `cannot write WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    this.size += total;
  }
}

/** What is left of `parts` once their first `n` bytes were written (after a short write). */
export function unwritten(parts: Buffer[], n: number): Buffer[] {
  let skip = n;
  let i = 0;
  while (i < parts.length && skip >= parts[i]!.length) skip -= parts[i++]!.length;
  const rest = parts.slice(i);
  if (rest.length > 0 && skip > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}
