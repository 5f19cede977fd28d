import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Resolves at the stream's next 'drain' or 'close' (a failed stream never drains: it closes).
 * The listener that did not fire is taken off again: left on, each wait for a full buffer would
 * leave a 'close' and an 'error' listener behind, and a long crawl to a slow output would pile
 * them up (Node's MaxListenersExceededWarning after ten).
 */
export async function drainOrClose(out: Writable): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([once(out, 'drain', { signal: ac.signal }), once(out, 'close', { signal: ac.signal })]);
  } catch {
    // The stream failed: its 'error' reaches the caller's own listener.
  } finally {
    ac.abort();
  }
}

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
