import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawcrawlError } from '../errors.js';
import { readWarc } from '../warc/reader.js';
import { warcExchanges } from '../warc/read-exchanges.js';
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

/** Loads exchanges from a capture directory, one capture file, or a WARC (.warc, .warc.gz). */
export function loadStored(path: string): StoredExchange[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (isDir) {
    return readdirSync(path)
      .filter((f) => f.endsWith(CAPTURE_EXTENSION))
      .sort()
      .map((f) => {
        const file = join(path, f);
        const c = readCapture(file);
        return { source: file, exchange: c.exchange, record: c.header.record };
      });
  }
  if (path.endsWith(CAPTURE_EXTENSION)) {
    const c = readCapture(path);
    return [{ source: path, exchange: c.exchange, record: c.header.record }];
  }
  return warcExchanges(readWarc(path)).map((w, i) => ({ source: `${path}#${i + 1}`, ...w }));
}
