import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { RawcrawlError } from '../errors.js';

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

export interface StreamWriterOptions {
  /**
   * Maps a sink error to what write() and drain() reject with; by default one that is not a
   * RawcrawlError becomes ERR_CONNECTION_RESET with the original as `cause`.
   */
  mapError?: (err: Error) => RawcrawlError;
}

function toResetError(err: Error): RawcrawlError {
  if (err instanceof RawcrawlError) return err;
  return new RawcrawlError('ERR_CONNECTION_RESET', `stream error: ${err.message}`, { cause: err });
}

/** asyncio's StreamWriter: write(), drain(), writeEof(), close(). */
export class StreamWriter {
  private readonly mapError: (err: Error) => RawcrawlError;

  constructor(
    private readonly sink: Writable,
    options: StreamWriterOptions = {},
  ) {
    this.mapError = options.mapError ?? toResetError;
  }

  /**
   * Writes and waits until the bytes are handed to the OS (or buffered below the high-water mark).
   * Rejects with a RawcrawlError (a reset, a closed connection, a write after writeEof(): all
   * ERR_CONNECTION_RESET, the stream's own error as `cause`) as drain() does.
   */
  write(data: Buffer | string): Promise<void> {
    const sink = this.sink;
    if (sink.destroyed) return Promise.reject(this.closedError('write()'));
    // Node would fail the write and destroy the whole socket with it: the reading side too, which
    // may still have the peer's answer to read.
    if (sink.writableEnded) return Promise.reject(new RawcrawlError('ERR_CONNECTION_RESET', "write() after the sending side was closed (writeEof(), or the peer's FIN)"));
    return new Promise((resolve, reject) => {
      const ok = this.sink.write(data, (err) => {
        if (err) reject(this.mapError(err));
        else if (ok) resolve();
      });
      if (!ok) this.waitForDrain().then(resolve, reject);
    });
  }

  /**
   * Writes without waiting (asyncio's `write()`; follow with `drain()` to wait). Cheaper than
   * write() when nobody needs to know when the bytes reached the OS.
   */
  send(data: Buffer | string): void {
    this.sink.write(data);
  }

  /**
   * Waits until the write buffer is below the high-water mark (or, after writeEof(), flushed).
   * Rejects, as asyncio's drain() raises, if the connection is closed or closes meanwhile: with
   * its error (a reset is ERR_CONNECTION_RESET) or, closed without one, ERR_CONNECTION_RESET.
   */
  drain(): Promise<void> {
    const sink = this.sink;
    if (sink.destroyed) return Promise.reject(this.closedError('drain()'));
    // Once ending, Node says no drain is needed and emits no 'drain': wait for 'finish' instead.
    const full = sink.writableNeedDrain || (sink.writableEnded && !sink.writableFinished && sink.writableLength > sink.writableHighWaterMark);
    return full ? this.waitForDrain() : Promise.resolve();
  }

  /**
   * The sink's next 'drain' ('finish' once ended: a stream that is ending never emits 'drain')
   * or 'close'. Its listeners are taken off when one fires: left on, every wait would add to them.
   */
  private waitForDrain(): Promise<void> {
    const sink = this.sink;
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        off();
        resolve();
      };
      const onClose = (): void => {
        off();
        reject(this.closedError('drain()'));
      };
      const off = (): void => {
        sink.off('drain', onDrain);
        sink.off('finish', onDrain);
        sink.off('close', onClose);
      };
      sink.on('drain', onDrain);
      sink.on('finish', onDrain);
      sink.on('close', onClose);
    });
  }

  /** What a closed sink fails with: the error that closed it, else a plain close. */
  private closedError(what: string): RawcrawlError {
    const cause = this.sink.errored;
    if (cause) return this.mapError(cause);
    return new RawcrawlError('ERR_CONNECTION_RESET', `${what}: the connection is closed`);
  }

  /** Half-closes: sends FIN, keeps reading. */
  writeEof(): void {
    this.sink.end();
  }

  close(): void {
    this.sink.destroy();
  }
}
