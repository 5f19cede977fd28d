import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawcrawlError } from '../errors.js';
import { readWarc, readWarcRecords, type ReadWarcOptions } from '../warc/reader.js';
import { streamWarcExchanges, warcExchanges } from '../warc/read-exchanges.js';
import { CAPTURE_EXTENSION, readCapture } from './capture-file.js';
import type { CapturedExchange } from './exchange.js';
import type { ResponseRecord } from './replay-response.js';

export interface StoredExchange {
  /** The capture file, or "FILE.warc.gz#N" for the Nth response record of a WARC. */
  source: string;
  exchange: CapturedExchange;
  /** What rawcrawl made of the response when it was stored (null: a WARC from another tool). */
  record: ResponseRecord | null;
}

/** The capture files of a directory, in name order (the order they were captured in). */
function captureFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(CAPTURE_EXTENSION))
    .sort()
    .map((f) => join(dir, f));
}

/** Whether `path` is a directory; ERR_STORAGE naming it when it cannot be read. */
function isDirectory(path: string): boolean {
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

/** Loads exchanges from a capture directory, one capture file, or a WARC (.warc, .warc.gz). */
export function loadStored(path: string): StoredExchange[] {
  if (isDirectory(path)) return captureFiles(path).map(fromCapture);
  if (path.endsWith(CAPTURE_EXTENSION)) return [fromCapture(path)];
  return warcExchanges(readWarc(path)).map((w, i) => ({ source: `${path}#${i + 1}`, ...w }));
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
  if (isDirectory(path)) {
    for (const f of captureFiles(path)) {
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
    return;
  }
  if (path.endsWith(CAPTURE_EXTENSION)) {
    yield fromCapture(path);
    return;
  }
  let n = 0;
  for await (const w of streamWarcExchanges(readWarcRecords(path, options))) yield { source: `${path}#${++n}`, ...w };
}
