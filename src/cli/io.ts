import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { RawcrawlError } from '../errors.js';

/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (live progress line). */
  isTTY: boolean;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: Boolean(process.stderr.isTTY) };
}

/** Exit statuses. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

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
