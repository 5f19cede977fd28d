import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawcrawlError } from '../errors.js';
import { readWarc, readWarcRecords, type ReadWarcOptions } from '../warc/reader.js';
import { streamWarcExchanges, warcExchanges } from '../warc/read-exchanges.js';
import { rotationOf } from '../warc/writer.js';
import { CAPTURE_EXTENSION, PARTIAL_SUFFIX, readCapture } from './capture-file.js';
import type { CapturedExchange } from './exchange.js';
import type { ResponseRecord } from './replay-response.js';

export interface StoredExchange {
  /** The capture file, or "FILE.warc.gz#N" for the Nth response record of a WARC. */
  source: string;
  exchange: CapturedExchange;
  /** What rawcrawl made of the response when it was stored (null: a WARC from another tool). */
  record: ResponseRecord | null;
}

/**
 * What a directory holds to replay, in the order it was written: its capture files by name
 * (they are named by time); or, when it holds none, its WARC files (.warc, .warc.gz), each
 * rotation in order (crawl.warc.gz, crawl-00001.warc.gz, …). A directory given to both
 * --capture and --warc is thus replayed once, from its capture files.
 */
export function storedFiles(dir: string): string[] {
  const names = readdirSync(dir);
  const captures = names.filter((f) => f.endsWith(CAPTURE_EXTENSION)).sort();
  if (captures.length > 0) return captures.map((f) => join(dir, f));
  return names
    .flatMap((f) => {
      const key = rotationOf(f);
      return key ? [{ f, key }] : [];
    })
    .sort((a, b) => (a.key[0] < b.key[0] ? -1 : a.key[0] > b.key[0] ? 1 : a.key[1] - b.key[1]))
    .map(({ f }) => join(dir, f));
}

/**
 * Capture files a run began and never finished (NAME.rawcap.part: written, then renamed, so a
 * run killed while writing one leaves it), which replay does not read.
 */
export function unfinishedCaptures(dir: string): number {
  return readdirSync(dir).filter((f) => f.endsWith(CAPTURE_EXTENSION + PARTIAL_SUFFIX)).length;
}

/** Whether `path` is a directory; ERR_STORAGE naming it when it cannot be read. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The exchange of one capture file. */
function fromCapture(file: string): StoredExchange {
  const c = readCapture(file);
  return { source: file, exchange: c.exchange, record: c.header.record };
}

/** The exchanges of one capture file or WARC, all at once. */
function loadFile(path: string): StoredExchange[] {
  if (path.endsWith(CAPTURE_EXTENSION)) return [fromCapture(path)];
  return warcExchanges(readWarc(path)).map((w, i) => ({ source: `${path}#${i + 1}`, ...w }));
}

/**
 * Loads exchanges from a directory (its capture files and WARCs, see storedFiles()), one
 * capture file, or a WARC (.warc, .warc.gz).
 */
export function loadStored(path: string): StoredExchange[] {
  return isDirectory(path) ? storedFiles(path).flatMap(loadFile) : loadFile(path);
}

export interface IterateStoredOptions extends ReadWarcOptions {
  /**
   * Called with the error of a capture file in a directory that cannot be read or is not a
   * capture file; it is skipped and the others are read. Without it, that error ends the
   * iteration.
   */
  onBadFile?: (err: RawcrawlError) => void;
}

/**
 * loadStored() one exchange at a time: a WARC is read as a stream (memory holds an exchange, not
 * the file), and one that ends inside a record (a run killed while writing) yields its whole
 * exchanges and then calls `onTruncated` when given (else it is an ERR_STORAGE error).
 */
export async function* iterateStored(path: string, options: IterateStoredOptions = {}): AsyncGenerator<StoredExchange> {
  if (!isDirectory(path)) {
    yield* iterateFile(path, options);
    return;
  }
  for (const f of storedFiles(path)) {
    if (!f.endsWith(CAPTURE_EXTENSION)) {
      yield* iterateFile(f, options);
      continue;
    }
    let stored;
    try {
      stored = fromCapture(f);
    } catch (err) {
      if (!options.onBadFile || !(err instanceof RawcrawlError)) throw err;
      options.onBadFile(err);
      continue;
    }
    yield stored;
  }
}

/** The exchanges of one capture file or WARC, a WARC read as a stream. */
async function* iterateFile(path: string, options: IterateStoredOptions): AsyncGenerator<StoredExchange> {
  if (path.endsWith(CAPTURE_EXTENSION)) {
    yield fromCapture(path);
    return;
  }
  let n = 0;
  for await (const w of streamWarcExchanges(readWarcRecords(path, options))) yield { source: `${path}#${++n}`, ...w };
}
