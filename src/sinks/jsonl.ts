import type { Writable } from 'node:stream';
import type { PageRecord } from '../crawl/record.js';
import { RawcrawlError } from '../errors.js';
import { drainOrClose } from '../net/stream-writer.js';
import { storedFields, type Sink } from './sink.js';

/**
 * Records as text, one after another, to stdout or a file: each as `format` writes it, after a
 * `header` if there is one. A write error (a full disk: ENOSPC) fails the next write() and
 * close() with ERR_STORAGE, instead of records going nowhere.
 */
export class LineSink implements Sink {
  /** Records the stream has handed to the file or pipe (its write callback came without an error). */
  written = 0;
  private failure: Error | null = null;
  private readonly onFlushed = (err?: Error | null): void => {
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
    if (header !== '') out.write(header);
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
    if (!this.out.write(this.format(record), this.onFlushed)) {
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
    if (this.ownsStream && !this.out.destroyed) {
      await new Promise<void>((resolve) => this.out.end(() => resolve()));
    } else if (!this.out.destroyed && !this.out.writableEnded) {
      // A stream this sink does not end (stdout): its earlier writes' callbacks, which count
      // `written`, have all come once an empty write's has (a stream calls them in order).
      await new Promise<void>((resolve) => this.out.write('', () => resolve()));
    }
    this.check();
  }
}

/** JSON Lines: one record per line, every field (see storedFields()). */
export class JsonlSink extends LineSink {
  constructor(out: Writable, ownsStream: boolean, name = 'the output') {
    super(out, ownsStream, name, (record) => JSON.stringify(storedFields(record)) + '\n');
  }
}
