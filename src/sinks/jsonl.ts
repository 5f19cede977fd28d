import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { PageRecord } from '../crawl/record.js';
import { storedFields, type Sink } from './sink.js';

/** JSON Lines: one record per line, to stdout or a file. */
export class JsonlSink implements Sink {
  written = 0;

  constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
  ) {}

  private corked = false;

  async write(record: PageRecord): Promise<void> {
    this.written++;
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
    if (!this.out.write(JSON.stringify(storedFields(record)) + '\n')) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    if (this.corked) {
      this.corked = false;
      this.out.uncork();
    }
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
