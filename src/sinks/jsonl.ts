import { fstatSync } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { PageRecord } from '../crawl/record.js';
import { RawcrawlError } from '../errors.js';
import { drainOrClose } from '../net/stream-writer.js';
import { storedFields, type Sink } from './sink.js';

/**
 * Records as text, one after another, to stdout or a file: each as `format` writes it, after a
 * `header` if there is one. A write error (a full disk: ENOSPC) fails the next write() and
 * close() with ERR_STORAGE, instead of records going nowhere; a file of its own is then cut back
 * to the end of its last whole record (the write that failed may have put part of one there).
 */
export class LineSink implements Sink {
  /** Records the stream has handed to the file or pipe (its write callback came without an error). */
  written = 0;
  private failure: Error | null = null;
  /** Bytes of the header and of the records counted in `written` (a file of its own only). */
  private wholeBytes = 0;
  /** Byte lengths of the writes not called back yet, in order (a file of its own only). */
  private readonly lengths: number[] = [];
  /** Device and inode of the file this sink writes (a file of its own only). */
  private opened: { dev: number; ino: number } | null = null;
  private readonly onFlushed = (err?: Error | null): void => {
    if (this.ownsStream) {
      const n = this.lengths.shift() ?? 0;
      if (!err && this.failure === null) this.wholeBytes += n;
    }
    if (!err) this.written++;
  };

  constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
    /** How the output is named in an error ("output file pages.jsonl", "stdout"). */
    private readonly name: string,
    private readonly format: (record: PageRecord) => string,
    header = '',
  ) {
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
    // The file as opened: cutTornRecord() goes by its path, which may name another file by then
    // (renamed away and a new one made there, as logrotate does).
    const fd = (out as { fd?: unknown }).fd;
    if (ownsStream && typeof fd === 'number') {
      try {
        const st = fstatSync(fd);
        this.opened = { dev: st.dev, ino: st.ino };
      } catch {
        // No identity: the file is not cut.
      }
    }
    if (header !== '') {
      if (ownsStream) {
        const n = Buffer.byteLength(header);
        out.write(header, (err?: Error | null) => {
          if (!err && this.failure === null) this.wholeBytes += n;
        });
      } else out.write(header);
    }
  }

  private corked = false;
  private drained: Promise<void> | null = null;

  private check(): void {
    const err = this.failure as NodeJS.ErrnoException | null;
    if (err) throw new RawcrawlError('ERR_STORAGE', `cannot write ${this.name}: ${err.code ?? err.message}`, { cause: err });
  }

  async write(record: PageRecord): Promise<void> {
    this.check();
    // Records that arrive in the same tick go out in one write(v) call, not one each.
    if (!this.corked) {
      this.corked = true;
      this.out.cork();
      process.nextTick(() => {
        if (!this.corked) return;
        this.corked = false;
        this.out.uncork();
      });
    }
    const line = this.format(record);
    if (this.ownsStream) this.lengths.push(Buffer.byteLength(line));
    if (!this.out.write(line, this.onFlushed)) {
      // Every writer that found the buffer full waits for the same drain.
      this.drained ??= drainOrClose(this.out).finally(() => {
        this.drained = null;
      });
      await this.drained;
      this.check();
    }
  }

  async close(): Promise<void> {
    if (this.corked) {
      this.corked = false;
      this.out.uncork();
    }
    if (this.ownsStream) {
      if (!this.out.destroyed) {
        await new Promise<void>((resolve) =>
          this.out.end((err?: Error | null) => {
            if (err) this.failure ??= err;
            resolve();
          }),
        );
      }
      if (this.failure) await this.cutTornRecord();
    } else if (!this.out.destroyed && !this.out.writableEnded) {
      // A stream this sink does not end (stdout): its earlier writes' callbacks, which count
      // `written`, have all come once an empty write's has (a stream calls them in order).
      await new Promise<void>((resolve) => this.out.write('', () => resolve()));
    }
    this.check();
  }

  /**
   * After a failed write, cuts the file back to its whole records: the write that failed (a disk
   * filling up) may have put the first part of one there, which a reader would choke on (a CSV
   * quote never closed). Best effort, and only ever shorter: a path that is no regular file
   * (/dev/full, a FIFO) is left alone.
   */
  private async cutTornRecord(): Promise<void> {
    const file = (this.out as { path?: unknown }).path;
    if (typeof file !== 'string' || this.opened === null) return;
    try {
      const st = await stat(file);
      if (st.dev !== this.opened.dev || st.ino !== this.opened.ino) return;
      if (st.isFile() && st.size > this.wholeBytes) await truncate(file, this.wholeBytes);
    } catch {
      // The error already reported is the one that matters.
    }
  }
}

/** JSON Lines: one record per line, every field (see storedFields()). */
export class JsonlSink extends LineSink {
  constructor(out: Writable, ownsStream: boolean, name = 'the output') {
    super(out, ownsStream, name, (record) => JSON.stringify(storedFields(record)) + '\n');
  }
}
