import type { Writable } from 'node:stream';

/** asyncio's StreamWriter: write(), drain(), writeEof(), close(). */
export class StreamWriter {
  constructor(private readonly sink: Writable) {}

  /** Writes and waits until the bytes are handed to the OS (or buffered below the high-water mark). */
  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ok = this.sink.write(data, (err) => {
        if (err) reject(err);
        else if (ok) resolve();
      });
      if (!ok) this.sink.once('drain', resolve);
    });
  }

  /**
   * Writes without waiting (asyncio's `write()`; follow with `drain()` to wait). Cheaper than
   * write() when nobody needs to know when the bytes reached the OS.
   */
  send(data: Buffer | string): void {
    this.sink.write(data);
  }

  /** Waits until the write buffer is below the high-water mark. */
  drain(): Promise<void> {
    if (!this.sink.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.sink.once('drain', resolve));
  }

  /** Half-closes: sends FIN, keeps reading. */
  writeEof(): void {
    this.sink.end();
  }

  close(): void {
    this.sink.destroy();
  }
}
