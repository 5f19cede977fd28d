import { closeSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import path, { basename } from 'node:path';
import type { CapturedExchange } from '../capture/exchange.js';
import { scanResponse, type ResponseRecord } from '../capture/replay-response.js';
import { RawcrawlError } from '../errors.js';
import { isFieldName, parseCodings } from '../http/abnf.js';
import { exchangeRecords, type ExchangeRecord } from './exchange-records.js';
import { MAX_STORED_BLOCK, STORED_HEAD, STORED_TAIL, storedGzipMember, wrapStoredInPlace } from './gzip-member.js';
import { deflateBound, GzipEngine, newRecordId, RECORD_END, recordHead, STORE_BELOW, warcDate, type WarcField } from './record.js';

export interface WarcWriterOptions {
  /**
   * First file's path; `.warc.gz` writes one gzip member per record, `.warc` writes plain. When
   * it exists, the first free name of its rotation is used instead (see claimWarcFile()).
   */
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
  // A directory would become the first name of a rotation beside it (DIR-00001).
  if (o.file.endsWith('/') || o.file.endsWith(path.sep) || statSync(o.file, { throwIfNoEntry: false })?.isDirectory()) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `WARC file ${o.file} is a directory: give a file name, e.g. ${path.join(o.file, 'crawl.warc.gz')}`);
  }
  if (o.maxSize !== undefined && !(o.maxSize > 0)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `warc max size must be > 0, got ${String(o.maxSize)}`);
  }
  if (o.gzipLevel !== undefined && !(Number.isInteger(o.gzipLevel) && o.gzipLevel >= 1 && o.gzipLevel <= 9)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `gzip level must be 1 to 9, got ${String(o.gzipLevel)}`);
  }
}

/** A WARC file name taken for one writer: the name and its index in the rotation (rotatedName()). */
export interface ClaimedWarcName {
  file: string;
  index: number;
}

/** A WARC file created for writing: its name, index and descriptor. */
export interface ClaimedWarcFile extends ClaimedWarcName {
  fd: number;
}

/** How many taken names claimWarcFile() skips before it gives up. */
const MAX_TAKEN_NAMES = 100_000;

/**
 * Creates the first WARC file of `first`'s rotation (rotatedName()) from index `from` on whose
 * name is free, with O_EXCL: a WARC file is never overwritten or appended to. Running the same
 * command again (a resumed --crawl-id crawl, a second fetch) keeps the earlier files, which page
 * rows point into, and processes sharing a directory never write into one file. ERR_STORAGE
 * naming the file when one cannot be created for another reason.
 */
export function claimWarcFile(first: string, from = 0): ClaimedWarcFile {
  for (let index = from; index < from + MAX_TAKEN_NAMES; index++) {
    const file = rotatedName(first, index);
    try {
      return { fd: openSync(file, 'wx'), file, index };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new RawcrawlError('ERR_STORAGE', `cannot create WARC file ${file}: ${code ?? String(err)}`, { cause: err });
    }
  }
  throw new RawcrawlError('ERR_STORAGE', `cannot create WARC file ${first}: ${MAX_TAKEN_NAMES} names of its rotation are taken`);
}

/** Opens for writing a file claimWarcFile() created (it is empty). */
function openClaimed(file: string): number {
  try {
    return openSync(file, 'r+');
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot open WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
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
 * rotatedName()'s inverse for a WARC file name: its rotation's first name and its index in it
 * (`crawl-00002.warc.gz` → [`crawl.warc.gz`, 2], `crawl.warc.gz` → [`crawl.warc.gz`, 0]); null
 * for a name that is not a WARC's (.warc, .warc.gz).
 */
export function rotationOf(name: string): [first: string, index: number] | null {
  const m = /^(.*?)(?:-(\d{5,}))?(\.warc(?:\.gz)?)$/.exec(name);
  return m ? [m[1]! + m[3]!, Number(m[2] ?? 0)] : null;
}

/** The records buffer's usual size, and how many queued bytes make a write at once. */
const OUT_BYTES = 256 * 1024;
const FLUSH_AT = 128 * 1024;

/**
 * Writes WARC/1.1 files (ISO 28500:2017): a warcinfo record first in each file, then request,
 * response and metadata records per exchange, kept together in one file, exchanges in the order
 * writeExchange() was called. Each record is its own gzip member. Exchanges are formatted,
 * digested and compressed into one reused buffer (no buffer per record, no copy of the page
 * before zlib) and written together, synchronously, once the current task is done (or sooner
 * when FLUSH_AT bytes wait): one system call for a batch instead of one per exchange. An
 * exchange's promise resolves once its bytes are written.
 */
export class WarcWriter implements ExchangeWriter {
  /** Every file opened, in order. */
  readonly files: string[] = [];
  private fd = -1;
  /** Bytes written to the open file. */
  private size = 0;
  /** Exchanges in the open file (written or waiting). */
  private fileExchanges = 0;
  private warcinfoId = '';
  private failure: RawcrawlError | null = null;
  private readonly gzip: boolean;
  private readonly engine: GzipEngine;
  /** Records not written yet: `out[0]` goes to the open file's offset `size`. */
  private out: Buffer = Buffer.allocUnsafeSlow(OUT_BYTES);
  private pendingEnd = 0;
  private waiting: Array<{ written: WrittenExchange; resolve: (w: WrittenExchange) => void; reject: (err: RawcrawlError) => void }> = [];
  private flushQueued = false;
  private readonly flushSoon = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  /** The response record's head, then the metadata block, before they go into `out`. */
  private scratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);

  /** Index in the rotation (rotatedName()) from which the next file's name is looked for. */
  private nextIndex = 0;

  /**
   * Opens the first file (see claimWarcFile(): `o.file` if that name is free, else the next
   * free name of its rotation), or writes into `claimed`, a file claimWarcFile() created for
   * this writer (on another thread: a descriptor is closed by the thread that opened it).
   */
  constructor(
    private readonly o: WarcWriterOptions,
    claimed?: ClaimedWarcName,
  ) {
    checkWarcOptions(o);
    this.gzip = o.file.endsWith('.gz');
    this.engine = new GzipEngine(o.gzipLevel);
    this.openNext(claimed);
  }

  /**
   * Formats the exchange's records and queues them; resolves with where they went once they are
   * written. The response is run through the parser here, for the payload digest and the
   * metadata record. A record that cannot be formatted rejects this exchange only; a failed
   * write rejects every exchange in it and every later one. The exchange's bytes are copied or
   * compressed before this returns: the caller may reuse their memory at once.
   */
  writeExchange(ex: CapturedExchange): Promise<WrittenExchange> {
    if (this.failure) return Promise.reject(this.failure);
    let written: WrittenExchange;
    try {
      // Rotation: from the bytes queued so far, and never before a file's first exchange.
      const max = this.o.maxSize;
      if (max !== undefined && this.fileExchanges > 0 && this.size + this.pendingEnd >= max) {
        this.flush();
        if (this.failure) return Promise.reject(this.failure);
        this.openNext();
      }
      const scan = scanResponse({ response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method });
      // A payload that is compressed already (a content coding, or an image, audio, video or
      // archive type) would not shrink: its record is stored, as deflating it costs about as
      // much CPU as a page of text and gains a few bytes of HTTP head.
      written = this.format(exchangeRecords(ex, scan, this.warcinfoId), !alreadyCompressed(scan));
    } catch (err) {
      return Promise.reject(err instanceof RawcrawlError ? err : new RawcrawlError('ERR_STORAGE', `cannot format WARC records for ${ex.url}: ${String(err)}`, { cause: err }));
    }
    this.fileExchanges++;
    const done = new Promise<WrittenExchange>((resolve, reject) => this.waiting.push({ written, resolve, reject }));
    if (this.pendingEnd >= FLUSH_AT) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushSoon);
    }
    return done;
  }

  /** Writes the queued records now and settles their exchanges. */
  flush(): void {
    if (this.pendingEnd === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    try {
      this.writeOut(this.pendingEnd);
    } catch (err) {
      this.failure ??= err as RawcrawlError;
      for (const w of waiting) w.reject(this.failure);
      return;
    } finally {
      this.pendingEnd = 0;
      // A very large exchange grew the buffer: do not keep that much memory for the next ones.
      if (this.out.length > 16 * OUT_BYTES) this.out = Buffer.allocUnsafeSlow(OUT_BYTES);
    }
    for (const w of waiting) w.resolve(w.written);
  }

  /** Writes what is queued and closes the file; rejects with the first write error. */
  async close(): Promise<void> {
    this.flush();
    this.engine.close();
    if (this.fd !== -1) {
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.failure) throw this.failure;
  }

  /** Formats the exchange's records one after another into `out`, after what is queued. */
  private format(records: ExchangeRecord[], deflateResponse: boolean): WrittenExchange {
    const file = this.files[this.files.length - 1]!;
    const written: Partial<WrittenExchange> = { response: null, request: null };
    let at = this.pendingEnd;
    for (const r of records) {
      const block = typeof r.block === 'string' ? this.scratchText(r.block) : r.block;
      const end = this.recordInto(at, r.fields, block, r.type === 'response' && deflateResponse);
      written[r.type] = { file, offset: this.size + at, length: end - at };
      at = end;
    }
    this.pendingEnd = at;
    return written as WrittenExchange;
  }

  /**
   * One record at `at` in `out`; returns where it ends. In a .warc.gz it is a gzip member of its
   * own: deflated when `deflate` and it is STORE_BELOW bytes or more, stored otherwise (request
   * and metadata records are a few hundred bytes to a few KB, where setting up zlib costs more
   * than it saves; still gzip, still one member per record). `block` may be the scratch's text
   * only when it is not deflated: the deflated head goes through the scratch.
   */
  private recordInto(at: number, fields: WarcField[], block: Buffer, deflate: boolean): number {
    const head = recordHead(fields, block);
    const recordBytes = Buffer.byteLength(head, 'utf8') + block.length + RECORD_END.length;
    if (!this.gzip) {
      this.room(at + recordBytes, at);
      return this.plainInto(at, head, block);
    }
    if (deflate && recordBytes >= STORE_BELOW) {
      const pieces = [this.scratchText(head), block, RECORD_END];
      let end = -1;
      for (let need = at + deflateBound(recordBytes); end === -1; need *= 2) {
        this.room(need, at);
        end = this.engine.gzipInto(pieces, this.out, at);
      }
      return end;
    }
    if (recordBytes <= MAX_STORED_BLOCK) {
      this.room(at + STORED_HEAD + recordBytes + STORED_TAIL, at);
      return wrapStoredInPlace(this.out, at, this.plainInto(at + STORED_HEAD, head, block));
    }
    // Larger than one stored block (an image, say): a member of several, made apart.
    const member = storedGzipMember(Buffer.concat([Buffer.from(head, 'utf8'), block, RECORD_END]));
    this.room(at + member.length, at);
    return at + member.copy(this.out, at);
  }

  /** Head, block and record end at `at` in `out` (room made by the caller); returns the end. */
  private plainInto(at: number, head: string, block: Buffer): number {
    let p = at + this.out.write(head, at, 'utf8');
    p += block.copy(this.out, p);
    return p + RECORD_END.copy(this.out, p);
  }

  /** Makes `out` at least `need` bytes long, keeping its first `keep` bytes. */
  private room(need: number, keep: number): void {
    if (this.out.length >= need) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(need, this.out.length * 2));
    this.out.copy(bigger, 0, 0, keep);
    this.out = bigger;
  }

  /** `text` as UTF-8 at the scratch's start. */
  private scratchText(text: string): Buffer {
    const need = Buffer.byteLength(text, 'utf8');
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafeSlow(need + 16 * 1024);
    return this.scratch.subarray(0, this.scratch.write(text, 0, 'utf8'));
  }

  /** Writes `out`'s first `end` bytes to the open file. */
  private writeOut(end: number): void {
    try {
      let done = 0;
      while (done < end) done += writeSync(this.fd, this.out, done, end - done);
    } catch (err) {
      // A full disk cuts the write short: the file is cut back to its last whole exchange, so it
      // ends with no torn record (the exchanges of this write are rejected, none points there).
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // Best effort: the write error is the one to report.
      }
      const file = this.files[this.files.length - 1]!;
      throw new RawcrawlError('ERR_STORAGE', `cannot write WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    this.size += end;
  }

  private openNext(claimed?: ClaimedWarcName): void {
    if (this.fd !== -1) {
      closeSync(this.fd);
      this.fd = -1;
    }
    const { fd, file, index } = claimed ? { ...claimed, fd: openClaimed(claimed.file) } : claimWarcFile(this.o.file, this.nextIndex);
    this.fd = fd;
    this.nextIndex = index + 1;
    this.files.push(file);
    this.size = 0;
    this.fileExchanges = 0;
    const id = (this.warcinfoId = newRecordId());
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
    const fields: WarcField[] = [
      ['WARC-Type', 'warcinfo'],
      ['WARC-Record-ID', id],
      ['WARC-Date', warcDate(new Date().toISOString())],
      ['WARC-Filename', basename(file)],
      ['Content-Type', 'application/warc-fields'],
    ];
    // Opened with nothing queued (at the start, or after a flush): the record goes out alone.
    this.writeOut(this.recordInto(0, fields, block, true));
  }
}
