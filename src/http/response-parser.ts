import { RawcrawlError } from '../errors.js';
import { CR, LF, hexValue, isDigit, isFieldName } from './abnf.js';
import { describeByte, parseChunkSize, parseFieldLine, parseStatusLine, type Lenient, type RawHeader, type ResponseHead } from './lines.js';
import { formatExcerpt } from './excerpt.js';
import { decideFraming, type Framing } from './framing.js';
import type { Leniency } from './leniency.js';

export type { RawHeader, ResponseHead } from './lines.js';

export type ParserEvent =
  | { type: 'informational'; head: ResponseHead }
  | { type: 'head'; head: ResponseHead; framing: Framing; transferCodings: string[] }
  | { type: 'data'; data: Buffer }
  | { type: 'end'; trailers: RawHeader[] };

/** Returned by next() when it cannot make progress until more bytes (or EOF) are fed. */
export const NEED_DATA = Symbol('NEED_DATA');
/** Returned by next() once the response is complete. */
export const DONE = Symbol('DONE');

/** What a run of received bytes was to the parser; the wire trace labels bytes with it. */
export type SegmentKind = 'head' | 'framing' | 'body' | 'trailer';

export interface ResponseParserOptions {
  /** The request method: a HEAD response never has a body. */
  method?: string;
  /** Limit on status line + header bytes, and separately on trailer bytes. */
  maxHeaderBytes?: number;
  /** Called for every run of bytes consumed, in stream order. */
  onSegment?: (kind: SegmentKind, bytes: Buffer, offset: number) => void;
}

const enum State {
  StatusLine,
  Headers,
  LengthBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  CloseBody,
  /** The body is complete; the next call reports 'end'. */
  End,
  Done,
}

/** Interim (1xx) responses accepted before the final one. */
const MAX_INTERIM = 16;
/**
 * Leniencies recorded per kind: the first ones. A bare LF after every 1-byte chunk is two per body
 * byte; kept one by one, 16 MiB of body made 32 million of them (2 GB of heap), and a head after
 * 64 KB of stray LFs, per interim response too, returned 2 million with the response.
 */
const MAX_LENIENCIES_PER_KIND = 16;
/** Bytes kept from earlier reads from which feed() makes room to spare rather than copy them each read. */
const LONG_KEEP = 4096;
/** A chunk-size line longer than this is an attack (endless extensions), not framing. */
const MAX_CHUNK_LINE = 4096;
/** A range of bytes up to this long is searched byte by byte in JavaScript, not with indexOf(). */
const SHORT_SCAN = 64;
const EMPTY = Buffer.alloc(0);
/** The end of a head whose lines all end in CRLF: the last line's CRLF, then the empty line. */
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** What every status line starts with, before the minor version digit. */
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');
/**
 * The rest of a head, when every field line is plain: RFC 9112 §5 field-line = field-name ":" OWS
 * field-value OWS, the name a token (RFC 9110 §5.6.2), the value without NUL or CR (RFC 9110 §5.5),
 * each line ending in CRLF, then the empty line. parseFieldLine() can skip its own checks on these.
 */
const PLAIN_FIELD_LINES = /(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\0\r\n]*\r\n)*\r\n$/y;

/**
 * HTTP/1.x response parser without I/O (RFC 9112): feed() it bytes, feedEof() at the end, and
 * call next() until it returns NEED_DATA or DONE.
 */
export class ResponseParser {
  readonly leniencies: Leniency[] = [];
  private readonly method: string;
  private readonly maxHeaderBytes: number;
  private readonly onSegment: ResponseParserOptions['onSegment'];

  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Where to resume looking for LF, so a line fed byte by byte is not rescanned. */
  private scan = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  /**
   * A buffer of the parser's own with room to spare, while a long line spans reads: `buf` is then
   * store[storeEnd - buf.length, storeEnd), and the next read's bytes are copied in after it rather
   * than the kept bytes copied again with them (see feed()). Null otherwise.
   */
  private store: Buffer | null = null;
  private storeEnd = 0;
  /**
   * Received bytes decoded as latin1 (one character per byte) from stream offset textAt, holding
   * the head or trailer line taken last: that line alone, or the whole head when it was all
   * buffered (see decodeHead()), so its other lines need no decoding of their own.
   */
  private text = '';
  private textAt = 0;
  /**
   * Index in this.text from which every line is known to be a plain field line, up to the empty
   * line that ends the text (PLAIN_FIELD_LINES); past the end of the text when there is none.
   */
  private checkedFrom = 1;
  /** Stream offset before which decodeHead() found no CRLFCRLF, so it does not search there again. */
  private headEndScan = 0;
  private eof = false;

  private state: State = State.StatusLine;
  private headBytes = 0;
  private interim = 0;
  private head: ResponseHead | null = null;
  /** Where each of the head's field lines begins (obs-fold lines belong to the field before). */
  private readonly fieldAt: number[] = [];
  /**
   * The head's Content-Length and Transfer-Encoding lines as received (latin1, without the line
   * end) and their offsets: an error about one shows its bytes even when they were fed reads ago.
   */
  private framingLines: Array<{ at: number; text: string }> = [];
  private remaining = 0;
  /** Bytes after the size in the chunk-size lines so far (see State.ChunkSize). */
  private chunkExtBytes = 0;
  private trailers: RawHeader[] = [];
  private sawAnyByte = false;
  /** How many leniencies of each kind were recorded (see MAX_LENIENCIES_PER_KIND). */
  private lenientKinds: Map<Leniency['kind'], number> | null = null;

  constructor(options: ResponseParserOptions = {}) {
    this.method = (options.method ?? 'GET').toUpperCase();
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.onSegment = options.onSegment;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.base + this.pos;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.eof) throw new Error('feed() after feedEof()');
    this.sawAnyByte = true;
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.scan -= this.buf.length;
      this.buf = chunk;
      this.store = null;
      this.pos = 0;
    } else {
      const keep = this.buf.length - this.pos;
      this.base += this.pos;
      this.scan -= this.pos;
      if (this.store !== null && this.store.length - this.storeEnd >= chunk.length) {
        // The line goes on in the room after it: the bytes kept stay where they are.
        chunk.copy(this.store, this.storeEnd);
        const start = this.storeEnd - keep;
        this.storeEnd += chunk.length;
        this.buf = this.store.subarray(start, this.storeEnd);
      } else if (keep >= LONG_KEEP) {
        // A long line spanning reads (a head fed a byte at a time): room for as much again, so
        // that its bytes are copied O(log n) times in all, not once a read (O(n²)).
        const store = Buffer.allocUnsafe(2 * (keep + chunk.length));
        this.buf.copy(store, 0, this.pos);
        chunk.copy(store, keep);
        this.store = store;
        this.storeEnd = keep + chunk.length;
        this.buf = store.subarray(0, this.storeEnd);
      } else {
        // A few bytes kept (a line cut by the read's end): one exact copy, as they come.
        this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
        this.store = null;
      }
      this.pos = 0;
    }
    if (this.scan < 0) this.scan = 0;
  }

  feedEof(): void {
    this.eof = true;
  }

  /** Bytes fed but not consumed (for example after a complete response). */
  get unconsumed(): number {
    return this.buf.length - this.pos;
  }

  /** Removes and returns the bytes fed but not consumed (to show them after an error). */
  takeUnconsumed(): Buffer {
    const rest = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    this.scan = this.pos;
    return rest;
  }

  /**
   * The bytes still buffered around a stream offset, as a hex/ASCII excerpt for an error message.
   * The parser keeps the current read and anything unconsumed, which covers where it failed.
   */
  excerptAt(offset: number): string {
    if (offset >= this.base) return formatExcerpt(this.buf, this.base, offset);
    // Consumed already: a framing field line the error is about (see framingLines).
    const line = this.framingLines.find((l) => offset >= l.at && offset < l.at + l.text.length);
    return line ? formatExcerpt(Buffer.from(line.text, 'latin1'), line.at, offset) : '';
  }

  next(): ParserEvent | typeof NEED_DATA | typeof DONE {
    for (;;) {
      switch (this.state) {
        case State.StatusLine: {
          const start = this.offset;
          this.checkVersionPrefix();
          const end = this.takeTextLine('head');
          if (end === -1) return this.needData();
          const from = start - this.textAt;
          if (end === from) {
            // Tolerated like browsers do: stray CRLF before the status line (after a 1xx, say).
            this.lenient('empty-line-before-status', start);
            continue;
          }
          this.head = parseStatusLine(this.text.slice(from, end), start, this.onLenient);
          this.fieldAt.length = 0;
          if (this.framingLines.length > 0) this.framingLines = [];
          this.state = State.Headers;
          continue;
        }
        case State.Headers: {
          const start = this.offset;
          const end = this.takeTextLine('head');
          if (end === -1) return this.needData();
          const head = this.head!;
          const from = start - this.textAt;
          if (end > from) {
            parseFieldLine(this.text, from, end, start, from >= this.checkedFrom, head.rawHeaders, this.onLenient);
            const fields = head.rawHeaders.length;
            if (fields > this.fieldAt.length) {
              this.fieldAt.push(start);
              const name = head.rawHeaders[fields - 1]![0];
              if (isFieldName(name, 'content-length') || isFieldName(name, 'transfer-encoding')) this.framingLines.push({ at: start, text: this.text.slice(from, end) });
            }
            continue;
          }
          return this.finishHead(head);
        }
        case State.LengthBody: {
          const avail = this.buf.length - this.pos;
          if (avail === 0) return this.needData();
          const n = Math.min(avail, this.remaining);
          const data = this.consume(n, 'body');
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.End;
          return { type: 'data', data };
        }
        case State.CloseBody: {
          const avail = this.buf.length - this.pos;
          if (avail === 0) {
            if (this.eof) return this.finish([]);
            return NEED_DATA;
          }
          return { type: 'data', data: this.consume(avail, 'body') };
        }
        case State.ChunkSize: {
          const start = this.offset;
          const line = this.takeChunkLine();
          if (line === null) return this.needData();
          const size = parseChunkSize(line, start, this.onLenient);
          // What follows the size digits (whitespace, extensions) counts toward maxHeaderBytes
          // for the whole body: each line is limited (MAX_CHUNK_LINE), but a 4 KB extension
          // on every 1-byte chunk was 4 KB of wire per body byte, bounded only by the timeout.
          let digits = 0;
          while (digits < line.length && hexValue(line[digits]!) >= 0) digits++;
          this.chunkExtBytes += line.length - digits;
          if (this.chunkExtBytes > this.maxHeaderBytes) throw this.chunkError(`chunk extensions exceed maxHeaderBytes (${this.maxHeaderBytes}) in all`, start);
          if (size === 0) {
            this.state = State.Trailers;
            this.headBytes = 0;
          } else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          continue;
        }
        case State.ChunkData: {
          const avail = this.buf.length - this.pos;
          if (avail === 0) return this.needData();
          const n = Math.min(avail, this.remaining);
          const data = this.consume(n, 'body');
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          return { type: 'data', data };
        }
        case State.ChunkDataEnd: {
          // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
          const avail = this.buf.length - this.pos;
          if (avail === 0) return this.needData();
          const c0 = this.buf[this.pos]!;
          if (c0 === LF) {
            this.lenient('bare-lf', this.offset);
            this.consume(1, 'framing');
          } else if (c0 === CR) {
            if (avail < 2) return this.needData();
            if (this.buf[this.pos + 1] !== LF) throw this.chunkError('CR after chunk data is not followed by LF', this.offset + 1);
            this.consume(2, 'framing');
          } else {
            throw this.chunkError(`chunk data is not followed by CRLF (found ${describeByte(c0)})`, this.offset);
          }
          this.state = State.ChunkSize;
          continue;
        }
        case State.Trailers: {
          const start = this.offset;
          const end = this.takeTextLine('trailer');
          if (end === -1) return this.needData();
          const from = start - this.textAt;
          if (end > from) {
            parseFieldLine(this.text, from, end, start, from >= this.checkedFrom, this.trailers, this.onLenient);
            continue;
          }
          return this.finish(this.trailers);
        }
        case State.End:
          return this.finish([]);
        case State.Done:
          return DONE;
      }
    }
  }

  private finish(trailers: RawHeader[]): ParserEvent {
    this.state = State.Done;
    return { type: 'end', trailers };
  }

  private finishHead(head: ResponseHead): ParserEvent {
    const headOffset = this.offset;
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) {
        throw new RawcrawlError('ERR_UNEXPECTED_RESPONSE', '101 Switching Protocols answers a request that asked for no upgrade', { offset: headOffset });
      }
      // RFC 9110 §15.2: interim responses are followed by the final one on the same connection.
      // Each interim head has its own size limit, so their number is bounded too.
      if (++this.interim > MAX_INTERIM) {
        throw new RawcrawlError('ERR_UNEXPECTED_RESPONSE', `more than ${MAX_INTERIM} interim (1xx) responses`, { offset: headOffset });
      }
      this.state = State.StatusLine;
      this.headBytes = 0;
      this.head = null;
      return { type: 'informational', head };
    }
    const { framing, transferCodings } = decideFraming({
      method: this.method,
      status: head.status,
      rawHeaders: head.rawHeaders,
      offset: headOffset,
      fieldOffsets: this.fieldAt,
      lenient: (l) => this.lenient(l.kind, l.offset),
    });
    switch (framing.kind) {
      case 'none':
        // Every response ends with an 'end' event, whatever its framing (as h11's EndOfMessage).
        this.state = State.End;
        break;
      case 'length':
        this.remaining = framing.length;
        this.state = State.LengthBody;
        break;
      case 'chunked':
        this.state = State.ChunkSize;
        break;
      case 'close':
        this.state = State.CloseBody;
        break;
    }
    this.headBytes = 0;
    return { type: 'head', head, framing, transferCodings };
  }

  /** The event to return when the buffer ran dry: NEED_DATA, or an error at EOF. */
  private needData(): typeof NEED_DATA {
    if (!this.eof) return NEED_DATA;
    throw new RawcrawlError('ERR_PREMATURE_CLOSE', this.prematureMessage(), { offset: this.offset });
  }

  private prematureMessage(): string {
    switch (this.state) {
      case State.StatusLine:
        return this.sawAnyByte ? 'connection closed inside the status line' : 'connection closed before any response byte';
      case State.Headers:
        return 'connection closed inside the response headers';
      case State.LengthBody:
        return `connection closed with ${this.remaining} of the Content-Length body bytes still to come`;
      case State.ChunkSize:
        return 'connection closed before the next chunk-size line (missing last-chunk "0")';
      case State.ChunkData:
        return `connection closed with ${this.remaining} bytes of a chunk still to come`;
      case State.ChunkDataEnd:
        return 'connection closed before the CRLF that ends a chunk';
      case State.Trailers:
        return 'connection closed inside the trailer section';
      default:
        return 'connection closed early';
    }
  }

  private lenient(kind: Leniency['kind'], offset: number): void {
    // Made at the first leniency: most responses have none, and a parser is made per request.
    const kinds = (this.lenientKinds ??= new Map());
    const n = kinds.get(kind) ?? 0;
    if (n >= MAX_LENIENCIES_PER_KIND) return;
    kinds.set(kind, n + 1);
    this.leniencies.push({ kind, offset });
  }

  /** lenient(), for the line parsers. */
  private readonly onLenient: Lenient = (kind, offset) => this.lenient(kind, offset);

  private consume(n: number, kind: SegmentKind): Buffer {
    const start = this.pos;
    const bytes = this.buf.subarray(start, start + n);
    if (this.onSegment) this.onSegment(kind, bytes, this.base + start);
    this.pos += n;
    if (this.scan < this.pos) this.scan = this.pos;
    return bytes;
  }

  /** consume() for bytes the caller has no use for: no Buffer unless onSegment wants one. */
  private skip(n: number, kind: SegmentKind): void {
    if (this.onSegment) this.onSegment(kind, this.buf.subarray(this.pos, this.pos + n), this.base + this.pos);
    this.pos += n;
    if (this.scan < this.pos) this.scan = this.pos;
  }

  /**
   * Takes one head or trailer line ending in LF (CRLF or bare LF), leaving it in this.text, and
   * returns where it ends there, without the line end; -1 if no full line is buffered. The line
   * starts at this.text index (its stream offset - this.textAt). Enforces the size limit as bytes
   * arrive, not after the fact.
   */
  private takeTextLine(kind: 'head' | 'trailer'): number {
    const lineStart = this.pos;
    // Where the line starts in this.text, if it is decoded already.
    const at = this.base + lineStart - this.textAt;
    const textLf = at >= 0 && at < this.text.length ? this.text.indexOf('\n', at) : -1;
    // The first LF after lineStart either way: [lineStart, scan) holds none.
    const lf = textLf !== -1 ? lineStart + (textLf - at) : this.buf.indexOf(LF, this.scan);
    // Where the buffer would pass maxHeaderBytes: a line reaching there is too large.
    const limit = lineStart + (this.maxHeaderBytes - this.headBytes);
    if (lf === -1) {
      this.checkBareCr(lineStart, this.buf.length, limit, kind);
      this.scan = this.buf.length;
      if (this.headBytes + this.buf.length - lineStart > this.maxHeaderBytes) throw this.headersTooLarge();
      return -1;
    }
    // A line decodeHead() found plain holds no CR but the one ending it.
    if (textLf === -1 || at < this.checkedFrom) this.checkBareCr(lineStart, lf, limit, kind);
    const total = lf + 1 - lineStart;
    this.headBytes += total;
    if (this.headBytes > this.maxHeaderBytes) throw this.headersTooLarge();
    let end = lf;
    if (end > lineStart && this.buf[end - 1] === CR) end--;
    else this.lenient('bare-lf', this.base + lf);
    if (textLf === -1 && !(kind === 'head' && end !== lf && end > lineStart && this.decodeHead(lineStart, lf))) {
      this.text = this.buf.toString('latin1', lineStart, end);
      this.textAt = this.base + lineStart;
      this.checkedFrom = this.text.length + 1;
    }
    this.skip(total, kind);
    return this.base + end - this.textAt;
  }

  /**
   * Decodes the rest of a head into this.text when all of it is buffered, so that its lines are
   * not decoded one by one: called with the first line not decoded yet, non-empty and ending in
   * CRLF at `lf`. RFC 9112 §2.1: the head ends with an empty line, so where every line ends in CRLF
   * the first CRLFCRLF ends it. Looks no further than maxHeaderBytes allows (the head would be too
   * large), and not again where an earlier call found nothing. Checks the lines after this one all
   * at once (PLAIN_FIELD_LINES). Returns whether it decoded.
   */
  private decodeHead(lineStart: number, lf: number): boolean {
    const buf = this.buf;
    // this.headBytes already counts this line, up to lf.
    const limit = lf + 1 + (this.maxHeaderBytes - this.headBytes);
    const stop = limit < buf.length ? limit : buf.length;
    const from = Math.max(lf - 1, this.headEndScan - this.base);
    if (stop - from < CRLFCRLF.length) return false;
    const end = (stop < buf.length ? buf.subarray(0, stop) : buf).indexOf(CRLFCRLF, from);
    if (end === -1) {
      this.headEndScan = this.base + stop - (CRLFCRLF.length - 1);
      return false;
    }
    this.text = buf.toString('latin1', lineStart, end + CRLFCRLF.length);
    this.textAt = this.base + lineStart;
    const next = lf + 1 - lineStart;
    PLAIN_FIELD_LINES.lastIndex = next;
    this.checkedFrom = PLAIN_FIELD_LINES.test(this.text) ? next : this.text.length + 1;
    return true;
  }

  /** Takes one chunk-size line ending in LF (CRLF or bare LF), without the line end, or null. */
  private takeChunkLine(): Buffer | null {
    const lf = this.buf.indexOf(LF, this.scan);
    const lineStart = this.pos;
    if (lf === -1) {
      this.checkBareCr(lineStart, this.buf.length, lineStart + MAX_CHUNK_LINE, 'chunk');
      this.scan = this.buf.length;
      if (this.buf.length - lineStart > MAX_CHUNK_LINE) throw this.chunkError(`chunk-size line longer than ${MAX_CHUNK_LINE} bytes`, this.offset);
      return null;
    }
    this.checkBareCr(lineStart, lf, lineStart + MAX_CHUNK_LINE, 'chunk');
    const total = lf + 1 - lineStart;
    if (total > MAX_CHUNK_LINE) throw this.chunkError(`chunk-size line longer than ${MAX_CHUNK_LINE} bytes`, this.offset);
    let end = lf;
    if (end > lineStart && this.buf[end - 1] === CR) end--;
    else this.lenient('bare-lf', this.base + lf);
    const line = this.buf.subarray(lineStart, end);
    this.skip(total, 'framing');
    return line;
  }

  /**
   * RFC 9112 §2.2: a CR not immediately followed by LF (a bare CR) is invalid outside the content;
   * it ends no line. Throws at the first one in the line starting at buffer index `lineStart`,
   * before `to` (its LF, or the end of the buffer, where a last CR may yet be followed by LF) and
   * before `limit` (from there the line is too long, whatever it holds). It fails when the byte
   * after the CR comes, not when an LF does, which a peer ending its lines in CR alone never sends
   * (the request would wait for its timeout, then blame the close). [lineStart, scan - 1) was
   * searched by an earlier call, so bytes fed one by one are not searched again.
   */
  private checkBareCr(lineStart: number, to: number, limit: number, kind: 'head' | 'trailer' | 'chunk'): void {
    const buf = this.buf;
    const from = Math.max(lineStart, this.scan - 1);
    // Any CR before `stop` is followed by a byte that is not LF.
    const stop = Math.min(to - 1, limit);
    if (from >= stop) return;
    let cr = -1;
    if (stop - from <= SHORT_SCAN) {
      // Most lines (status, chunk-size, short fields): cheaper than a call into indexOf().
      for (let i = from; i < stop; i++) {
        if (buf[i] === CR) {
          cr = i;
          break;
        }
      }
    } else {
      // indexOf() stops at the CR of a CRLF line end; a line ending in a bare LF is searched alone.
      cr = buf[stop] === CR || stop === buf.length - 1 ? buf.indexOf(CR, from) : buf.subarray(0, stop).indexOf(CR, from);
    }
    if (cr === -1 || cr >= stop) return;
    const offset = this.base + cr;
    if (kind === 'chunk') throw this.chunkError('bare CR (not followed by LF) in a chunk-size line', offset);
    if (this.state === State.StatusLine) throw new RawcrawlError('ERR_INVALID_STATUS_LINE', 'bare CR (not followed by LF) in the status line', { offset });
    throw new RawcrawlError('ERR_INVALID_HEADER', `bare CR (not followed by LF) in a ${kind === 'trailer' ? 'trailer' : 'header'} line`, { offset });
  }

  private headersTooLarge(): RawcrawlError {
    const what = this.state === State.Trailers ? 'trailer section' : 'response head';
    return new RawcrawlError('ERR_HEADERS_TOO_LARGE', `${what} exceeds maxHeaderBytes (${this.maxHeaderBytes})`, { offset: this.offset });
  }

  private chunkError(message: string, offset: number): RawcrawlError {
    return new RawcrawlError('ERR_INVALID_CHUNK', message, { offset });
  }

  /**
   * Rejects a status line at its first byte that cannot be part of "HTTP/1.x", as soon as that
   * byte arrives (as llhttp does), not at the line's end, which a peer speaking another protocol
   * may never send (the request would wait for its timeout), nor at the close (a PREMATURE_CLOSE
   * that hides the cause). Only bytes up to the bad one go into the error, so it is the same
   * however the bytes were split. A first byte that starts TLS records gets a hint: the usual
   * cause is an https server asked in plain http.
   */
  private checkVersionPrefix(): void {
    const buf = this.buf;
    const from = this.pos;
    const first = buf[from];
    // Nothing yet, or stray line ends before the status line (taken once their LF is in).
    if (first === undefined || first === CR || first === LF) return;
    // No further than the head may grow (stray line ends before it count): past that, the head is
    // too large whatever its bytes say, as takeTextLine() finds when the bytes come one by one.
    const n = Math.min(buf.length - from, HTTP_1.length + 1, this.maxHeaderBytes - this.headBytes);
    for (let i = 0; i < n; i++) {
      const c = buf[from + i]!;
      if (i < HTTP_1.length ? c === HTTP_1[i] : isDigit(c)) continue;
      const why =
        i === 0 && (first === 0x15 || first === 0x16)
          ? `the response starts with byte ${describeByte(first)}, as a TLS record does: is it an https:// port?`
          : `not an HTTP/1.x status line: starts ${JSON.stringify(buf.toString('latin1', from, from + i + 1))}`;
      throw new RawcrawlError('ERR_INVALID_STATUS_LINE', why, { offset: this.base + from + i });
    }
  }
}
