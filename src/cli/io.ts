import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { RawcrawlError } from '../errors.js';

/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  /** What `import -` reads; none in tests that do not give one. */
  stdin?: Readable;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (live progress line). */
  isTTY: boolean;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, isTTY: Boolean(process.stderr.isTTY) };
}

/** Exit statuses. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

/**
 * A command's stdout, watched for the reader going away (EPIPE: `rawcrawl … | head`, which has
 * what it wanted: the command stops quietly) and for any other write error. The listener stays
 * on: the error of a last write can come after the command returns, and an 'error' event with no
 * listener would crash the process.
 */
export class StdoutWatch {
  readerGone = false;
  error: NodeJS.ErrnoException | null = null;

  constructor(
    private readonly out: Writable,
    /** Called once, when the reader goes away. */
    private readonly onGone: () => void = () => {},
  ) {
    out.on('error', this.onError);
  }

  /**
   * No more output can be written. Also true before the 'error' event of a write that failed (it
   * comes a tick later), so that a loop with no I/O wait in it stops at once.
   */
  get done(): boolean {
    const failed = this.out.errored as NodeJS.ErrnoException | null;
    if (failed && !this.readerGone && !this.error) this.onError(failed);
    return this.readerGone || this.error !== null;
  }

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') {
      this.error ??= err;
      return;
    }
    if (this.readerGone) return;
    this.readerGone = true;
    this.onGone();
  };
}

/**
 * A command's output file (`-o`, `--dump-wire FILE`), opened before anything is fetched: one that
 * cannot be created is ERR_STORAGE naming it, now. A later write error (a full disk) does not
 * crash the process as an unhandled 'error' event: closeOutputFile() reports it.
 */
export async function openOutputFile(file: string, what: string): Promise<WriteStream> {
  const stream = createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new RawcrawlError('ERR_STORAGE', `cannot write ${what} ${file}: ${err.code ?? err.message}`)));
  });
  stream.on('error', () => {
    // Reported by closeOutputFile().
  });
  return stream;
}

/** Ends an output file opened by openOutputFile(); ERR_STORAGE naming it if a write failed. */
export async function closeOutputFile(stream: WriteStream, what: string): Promise<void> {
  stream.end();
  try {
    await finished(stream);
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot write ${what} ${String(stream.path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
