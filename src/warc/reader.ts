import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { RawcrawlError } from '../errors.js';
import type { WarcField } from './record.js';

export interface WarcRecordRead {
  version: string;
  fields: WarcField[];
  block: Buffer;
}

/** The first value of a named field, case-insensitively (ISO 28500 §4: names are case-insensitive). */
export function warcField(r: WarcRecordRead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return r.fields.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** The largest record read (each is held whole): 1 GiB, far above the client's 16 MiB body limit. */
const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** A record header longer than this is not a WARC record header (ours are under 1 KB). */
const MAX_HEAD_BYTES = 1024 * 1024;

const RECORD_END = '\r\n\r\n';
/** How every record starts (WARC/1.0 or WARC/1.1). */
const VERSION_PREFIX = 'WARC/1.';

type Bad = (why: string, at: number) => RawcrawlError;

const badIn =
  (name: string): Bad =>
  (why, at) =>
    new RawcrawlError('ERR_STORAGE', `${name} is not a valid WARC file at byte ${at}: ${why}`);

/** The version line and fields of the header `data[start, end)` (`end`: where its CRLF CRLF starts), and the block's length. */
function parseHead(data: Buffer, start: number, end: number, at: number, bad: Bad): { rec: WarcRecordRead; length: number } {
  const lines = data.toString('utf8', start, end).split('\r\n');
  const version = lines[0]!;
  if (!/^WARC\/1\.[01]$/.test(version)) throw bad(`version line is ${JSON.stringify(version.slice(0, 20))}`, at);
  const fields: WarcField[] = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw bad(`field line ${JSON.stringify(line.slice(0, 40))} has no name`, at);
    fields.push([line.slice(0, i), line.slice(i + 1).trim()]);
  }
  const rec: WarcRecordRead = { version, fields, block: Buffer.alloc(0) };
  const length = Number(warcField(rec, 'Content-Length'));
  if (!Number.isSafeInteger(length) || length < 0) throw bad('Content-Length missing or invalid', at);
  // Each record is read whole into memory: a length past this is refused before any of it is.
  if (length > MAX_RECORD_BYTES) throw bad(`record of ${length} bytes is larger than rawcrawl reads (${MAX_RECORD_BYTES})`, at);
  return { rec, length };
}

/** Splits an uncompressed WARC stream into records (§4: header, Content-Length block, CRLF CRLF). */
export function parseWarc(data: Buffer, name = 'WARC'): WarcRecordRead[] {
  const splitter = new WarcRecordSplitter(name);
  const out = splitter.push(data);
  if (splitter.pending > 0) {
    const at = splitter.consumed;
    if (data.indexOf(RECORD_END, at) === -1) throw badIn(name)('record header does not end', at);
    throw badIn(name)('record is cut short', at);
  }
  return out;
}

/**
 * Splits an uncompressed WARC byte stream into records as its bytes arrive, holding no more than
 * the record being read: push() bytes in any pieces, get back the records they complete.
 */
export class WarcRecordSplitter {
  /** Bytes received and not yet part of a returned record, in pieces. */
  private pieces: Buffer[] = [];
  private size = 0;
  /** Bytes the record being read needs in all (head, block, CRLF CRLF), once its head is parsed. */
  private need = -1;
  private head: { rec: WarcRecordRead; blockStart: number; length: number } | null = null;
  private done = 0;
  private readonly bad: Bad;

  constructor(name = 'WARC') {
    this.bad = badIn(name);
  }

  /** Offset just past the last record returned: where the next one starts. */
  get consumed(): number {
    return this.done;
  }

  /** Bytes received past the last record returned (0 when the stream ended between records). */
  get pending(): number {
    return this.size;
  }

  push(chunk: Buffer): WarcRecordRead[] {
    const out: WarcRecordRead[] = [];
    if (chunk.length === 0) return out;
    this.pieces.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.head === null) {
        const data = this.joined();
        // Not a record's start: say so now, not after reading on for a header end.
        const start = data.toString('latin1', 0, Math.min(data.length, VERSION_PREFIX.length));
        if (!VERSION_PREFIX.startsWith(start)) throw this.bad(`version line is ${JSON.stringify(data.toString('latin1', 0, Math.min(data.length, 20)))}`, this.done);
        const end = data.indexOf(RECORD_END);
        if (end === -1) {
          if (data.length > MAX_HEAD_BYTES) throw this.bad('record header does not end', this.done);
          return out;
        }
        const { rec, length } = parseHead(data, 0, end, this.done, this.bad);
        this.head = { rec, blockStart: end + 4, length };
        this.need = end + 4 + length + 4;
      }
      if (this.size < this.need) return out;
      const data = this.joined();
      const { rec, blockStart, length } = this.head;
      if (data.toString('latin1', blockStart + length, this.need) !== RECORD_END) throw this.bad('block is not followed by CRLF CRLF', this.done + blockStart + length);
      rec.block = data.subarray(blockStart, blockStart + length);
      out.push(rec);
      const rest = data.subarray(this.need);
      this.pieces = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      this.done += this.need;
      this.head = null;
      this.need = -1;
    }
  }

  /** The pieces as one buffer (a copy only when there are several). */
  private joined(): Buffer {
    if (this.pieces.length > 1) this.pieces = [Buffer.concat(this.pieces, this.size)];
    return this.pieces[0] ?? Buffer.alloc(0);
  }
}

/** Reads a .warc or .warc.gz (one gzip member per record, or one for all) into records. */
export function readWarc(path: string): WarcRecordRead[] {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      data = gunzipSync(raw);
    } catch (err) {
      throw new RawcrawlError('ERR_STORAGE', `${path} is not valid gzip: ${String(err)}`);
    }
  }
  return parseWarc(data, path);
}

/** Where a WARC ends inside a record, as a run killed while writing leaves it. */
export interface WarcTruncation {
  /** The WARC file. */
  file: string;
  /** Whole records read before it. */
  records: number;
  /** Offset in the uncompressed stream where the incomplete record starts. */
  offset: number;
}

export interface ReadWarcOptions {
  /**
   * Called when the file ends inside a record (a cut-short gzip member, or a record shorter
   * than its Content-Length); the records before it have been yielded, and the iteration then
   * ends. Without it, that is an ERR_STORAGE error.
   */
  onTruncated?: (t: WarcTruncation) => void;
}

/**
 * The records of a .warc or .warc.gz one after another, read as a stream: memory holds the
 * record being read, not the file (a 1 GB WARC is several GB uncompressed).
 */
export async function* readWarcRecords(path: string, options: ReadWarcOptions = {}): AsyncGenerator<WarcRecordRead> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const magic = Buffer.alloc(2);
  const { bytesRead } = await file.read(magic, 0, 2, 0);
  const gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  const source = file.createReadStream({ start: 0, highWaterMark: 1024 * 1024 });
  let stream: AsyncIterable<Buffer> = source;
  if (gzip) {
    const gunzip = createGunzip();
    // A source error (EIO) reaches the gunzip stream, which the loop below reads.
    pipeline(source, gunzip, () => {});
    stream = gunzip;
  }
  const splitter = new WarcRecordSplitter(path);
  let records = 0;
  const truncated = (): RawcrawlError | null => {
    const t = { file: path, records, offset: splitter.consumed };
    if (options.onTruncated) {
      options.onTruncated(t);
      return null;
    }
    return new RawcrawlError('ERR_STORAGE', `${path} is cut short: it ends inside its record ${records + 1}, at byte ${t.offset} uncompressed`);
  };
  try {
    try {
      for await (const chunk of stream) {
        for (const rec of splitter.push(chunk)) {
          records++;
          yield rec;
        }
      }
    } catch (err) {
      if (err instanceof RawcrawlError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // zlib's "unexpected end of file": the last gzip member is cut short.
      if (gzip && code === 'Z_BUF_ERROR') {
        const e = truncated();
        if (e) throw e;
        return;
      }
      throw new RawcrawlError('ERR_STORAGE', gzip && code?.startsWith('Z_') ? `${path} is not valid gzip after its record ${records} (byte ${splitter.consumed} uncompressed): ${(err as Error).message}` : `cannot read ${path}: ${code ?? String(err)}`, { cause: err });
    }
    if (splitter.pending > 0) {
      const e = truncated();
      if (e) throw e;
    }
  } finally {
    source.destroy();
    await file.close().catch(() => {});
  }
}
