import type { Readable } from 'node:stream';
import { RawcrawlError } from '../errors.js';

export interface StreamReaderOptions {
  /** Pause the source when more than this many bytes are buffered (default 256 KiB). */
  highWaterMark?: number;
  /** readline()/readuntil() fail with ERR_LINE_TOO_LONG past this many bytes (default 64 KiB). */
  maxLineLength?: number;
  /** Maps a source error to what readers see; by default errors pass through unchanged. */
  mapError?: (err: Error) => Error;
}

const EMPTY = Buffer.alloc(0);

/** A byte count argument that is not one: a fraction, NaN or a negative would corrupt the count of buffered bytes. */
function badCount(method: string, n: unknown, orElse: string): RawcrawlError {
  const shown = typeof n === 'string' ? JSON.stringify(n) : String(n);
  return new RawcrawlError('ERR_INVALID_OPTION', `${method}(n): n must be a non-negative integer${orElse}, got ${shown}`);
}
const LF_BUF = Buffer.from('\n');

/**
 * Python asyncio's StreamReader over a Node Readable (a socket): readline, readuntil,
 * readexactly, read, atEof and `for await (const line of reader)`. Bounded: it pauses the source
 * above the high-water mark and never buffers a line without limit. One read at a time: a read
 * started before the last one settled rejects at once with ERR_INVALID_OPTION (asyncio's
 * "already waiting"), so `Promise.all([r.readline(), r.readline()])` is a mistake, not a race.
 */
export class StreamReader implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private first = 0;
  private size = 0;
  private eof = false;
  private error: Error | null = null;
  private paused = false;
  /** A readline/readuntil/readexactly/read() to EOF has not settled yet (read(n) uses pendingRead). */
  private busy = false;
  private wake: (() => void) | null = null;
  private pendingRead: { n: number; resolve: (b: Buffer) => void; reject: (err: Error) => void } | null = null;
  private readonly hwm: number;
  private readonly maxLine: number;
  private readonly mapError: (err: Error) => Error;

  constructor(
    private readonly source: Readable,
    options: StreamReaderOptions = {},
  ) {
    this.hwm = options.highWaterMark ?? 256 * 1024;
    this.maxLine = options.maxLineLength ?? 64 * 1024;
    this.mapError = options.mapError ?? ((e) => e);
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => this.onEnd());
    source.on('error', (err: Error) => this.onError(err));
    source.on('close', () => this.onEnd());
    // A source paused by what used it before (a proxy handshake) flows into the reader from now on.
    if (source.isPaused()) source.resume();
  }

  /** Bytes buffered and not yet read. */
  get buffered(): number {
    return this.size;
  }

  /** True once the peer has finished sending and every buffered byte has been read. */
  atEof(): boolean {
    return this.eof && this.size === 0;
  }

  /**
   * Up to n bytes (at least one unless at EOF, where it returns an empty Buffer).
   * With n = -1 (the default) reads until EOF and returns everything, as asyncio does.
   * Any other n that is not a non-negative integer is ERR_INVALID_OPTION.
   */
  read(n = -1): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < -1) return Promise.reject(badCount('read', n, ' or -1 (to EOF)'));
    if (n === 0) return Promise.resolve(EMPTY);
    if (this.busy || this.pendingRead !== null) return Promise.reject(this.alreadyWaiting('read()'));
    if (n < 0) return this.readToEof();
    if (this.size > 0) return Promise.resolve(this.takeUpTo(n));
    if (this.eof) return this.error ? Promise.reject(this.error) : Promise.resolve(EMPTY);
    // Nothing buffered: the next chunk or EOF settles this promise directly, with no wake-up
    // promise. (A source paused with nothing buffered — a high-water mark of 0 — is resumed.)
    this.resumeIfPaused();
    return new Promise<Buffer>((resolve, reject) => {
      this.pendingRead = { n, resolve, reject };
    });
  }

  private async readToEof(): Promise<Buffer> {
    this.busy = true;
    try {
      while (!this.eof) await this.waitForData();
      this.throwIfError();
      return this.take(this.size);
    } finally {
      this.busy = false;
    }
  }

  /** The first buffered chunk, or its first n bytes. */
  private takeUpTo(n: number): Buffer {
    const head = this.chunks[this.first]!;
    return this.take(head.length <= n ? head.length : n);
  }

  /** Exactly n bytes, or ERR_PREMATURE_CLOSE if the stream ends first, the bytes it had as `partial`. */
  async readexactly(n: number): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < 0) throw badCount('readexactly', n, '');
    this.enter('readexactly()');
    try {
      while (this.size < n && !this.eof) await this.waitForData();
      if (this.size < n) {
        this.throwIfError();
        const partial = this.take(this.size);
        throw new RawcrawlError('ERR_PREMATURE_CLOSE', `stream ended after ${partial.length} of ${n} expected bytes`, { partial });
      }
      return this.take(n);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Bytes up to and including `separator`; ERR_PREMATURE_CLOSE at EOF without it, the bytes before
   * the end as `partial` (asyncio's IncompleteReadError). Past maxLineLength, ERR_LINE_TOO_LONG
   * with the bytes left buffered and their count as `consumed` (asyncio's LimitOverrunError).
   */
  async readuntil(separator: Buffer | string = LF_BUF): Promise<Buffer> {
    const sep = typeof separator === 'string' ? Buffer.from(separator, 'latin1') : separator;
    if (sep.length === 0) throw new RawcrawlError('ERR_INVALID_OPTION', 'separator must not be empty');
    this.enter('readuntil()');
    try {
      const end = await this.findSeparator(sep);
      if (end === -1) {
        this.throwIfError();
        const partial = this.take(this.size);
        throw new RawcrawlError('ERR_PREMATURE_CLOSE', `stream ended after ${partial.length} bytes without ${JSON.stringify(sep.toString('latin1'))}`, { partial });
      }
      return this.take(end);
    } finally {
      this.busy = false;
    }
  }

  /**
   * One line including its LF; at EOF the last partial line, then an empty Buffer. A line over
   * maxLineLength is discarded, as asyncio's readline() does, and ERR_LINE_TOO_LONG thrown: up to
   * and including its LF if that is in, and the next readline() returns the next line; else all
   * that is buffered, and the next readline() returns what follows of the long line.
   */
  async readline(): Promise<Buffer> {
    this.enter('readline()');
    try {
      let end: number;
      try {
        end = await this.findSeparator(LF_BUF);
      } catch (err) {
        if (err instanceof RawcrawlError && err.consumed !== undefined) this.take(err.consumed);
        throw err;
      }
      if (end === -1) {
        this.throwIfError();
        return this.take(this.size);
      }
      return this.take(end);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Lines as readline() reads them, until EOF. A line over maxLineLength ends the loop with
   * ERR_LINE_TOO_LONG, as asyncio's `async for` raises; readline() has discarded it, so a new
   * loop (or readline()) goes on after it.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /** Index just past the separator within the buffered bytes, or -1 at EOF without it. */
  private async findSeparator(sep: Buffer): Promise<number> {
    let scanned = 0;
    for (;;) {
      if (this.size > 0) {
        const all = this.coalesce();
        const idx = all.indexOf(sep, Math.max(0, scanned - sep.length + 1));
        if (idx !== -1) {
          const end = idx + sep.length;
          if (end > this.maxLine) throw this.lineTooLong(end, true);
          return end;
        }
        scanned = all.length;
        // The last sep.length - 1 bytes may yet begin a separator: they are not scanned.
        if (all.length > this.maxLine) throw this.lineTooLong(all.length - sep.length + 1, false);
      }
      if (this.eof) return -1;
      await this.waitForData();
    }
  }

  /**
   * One read at a time, as asyncio ("already waiting"): a second one would wait on the slot the
   * first holds, or take the bytes the first has found before it takes them.
   */
  private enter(what: string): void {
    if (this.busy || this.pendingRead !== null) throw this.alreadyWaiting(what);
    this.busy = true;
  }

  private alreadyWaiting(what: string): RawcrawlError {
    return new RawcrawlError('ERR_INVALID_OPTION', `${what} called while another read on this reader has not finished (one read at a time)`);
  }

  private lineTooLong(consumed: number, found: boolean): RawcrawlError {
    const what = found ? `${consumed} bytes with its separator` : `no separator in ${consumed} bytes`;
    return new RawcrawlError('ERR_LINE_TOO_LONG', `line longer than ${this.maxLine} bytes (${what})`, { consumed });
  }

  /** Joins the buffered chunks into one, so a separator split across reads is found. */
  private coalesce(): Buffer {
    if (this.chunks.length - this.first > 1) {
      const joined = Buffer.concat(this.chunks.slice(this.first), this.size);
      this.chunks.length = 0;
      this.chunks.push(joined);
      this.first = 0;
    }
    return this.chunks[this.first]!;
  }

  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    let out: Buffer;
    const head = this.chunks[this.first]!;
    if (head.length === n) {
      out = head;
      this.first++;
    } else if (head.length > n) {
      out = head.subarray(0, n);
      this.chunks[this.first] = head.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let copied = 0;
      while (copied < n) {
        const c = this.chunks[this.first]!;
        const want = n - copied;
        if (c.length <= want) {
          c.copy(out, copied);
          copied += c.length;
          this.first++;
        } else {
          c.copy(out, copied, 0, want);
          this.chunks[this.first] = c.subarray(want);
          copied = n;
        }
      }
    }
    this.size -= n;
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
    if (this.paused && this.size < this.hwm) {
      this.paused = false;
      this.source.resume();
    }
    return out;
  }

  private throwIfError(): void {
    if (this.error) throw this.error;
  }

  private waitForData(): Promise<void> {
    this.throwIfError();
    // The caller needs more than the high-water mark holds (a long line): let bytes in.
    this.resumeIfPaused();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private resumeIfPaused(): void {
    if (this.paused) {
      this.paused = false;
      this.source.resume();
    }
  }

  private notify(): void {
    const r = this.pendingRead;
    if (r) {
      if (this.size > 0) {
        this.pendingRead = null;
        r.resolve(this.takeUpTo(r.n));
      } else if (this.eof) {
        this.pendingRead = null;
        if (this.error) r.reject(this.error);
        else r.resolve(EMPTY);
      }
    }
    const w = this.wake;
    if (w) {
      this.wake = null;
      w();
    }
  }

  private onData(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.hwm && !this.paused) {
      this.paused = true;
      this.source.pause();
    }
    this.notify();
  }

  private onEnd(): void {
    this.eof = true;
    this.notify();
  }

  private onError(err: Error): void {
    if (!this.error) this.error = this.mapError(err);
    this.eof = true;
    this.notify();
  }
}
