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

  async write(record: PageRecord): Promise<void> {
    this.written++;
    if (!this.out.write(JSON.stringify(storedFields(record)) + '\n')) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
