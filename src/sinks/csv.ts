import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { PageRecord } from '../crawl/record.js';
import { LineSink } from './jsonl.js';

export interface CsvColumns {
  /** The --select and --select-all names, in order: a `fields.NAME` column each. */
  fields: readonly string[];
  /** A `body` column (--store-body). */
  body?: boolean;
  /** `warc_file`, `warc_offset` and `capture_file` columns (--warc, --capture). */
  capture?: boolean;
}

type Cell = string | number | null;

/** A --select value as it is; a --select-all list as JSON (["a","b"]): one cell either way. */
const fieldCell = (v: string | string[] | null | undefined): Cell => (Array.isArray(v) ? JSON.stringify(v) : (v ?? null));

/** Each column: its header and how a record fills it. */
function columns(c: CsvColumns): Array<[string, (r: PageRecord) => Cell]> {
  return [
    ['url', (r) => r.url],
    ['final_url', (r) => r.final_url],
    ['status', (r) => r.status],
    ['content_type', (r) => r.content_type],
    ['title', (r) => r.title],
    ['depth', (r) => r.depth],
    ['referrer', (r) => r.referrer],
    ['bytes', (r) => r.bytes],
    ['fetched_at', (r) => r.fetched_at],
    ['attempts', (r) => r.attempts],
    ['total_ms', (r) => r.timings?.total ?? null],
    ['error', (r) => r.error],
    ['error_message', (r) => r.error_message],
    ...c.fields.map((name): [string, (r: PageRecord) => Cell] => [`fields.${name}`, (r) => fieldCell(r.fields[name])]),
    ...(c.body ? [['body', (r: PageRecord) => r.body ?? null] as [string, (r: PageRecord) => Cell]] : []),
    ...(c.capture
      ? ([
          ['warc_file', (r) => r.capture?.warc_file ?? null],
          ['warc_offset', (r) => r.capture?.warc_offset ?? null],
          ['capture_file', (r) => r.capture?.capture_file ?? null],
        ] as Array<[string, (r: PageRecord) => Cell]>)
      : []),
  ];
}

/**
 * CSV (RFC 4180, CRLF line ends, a header row), one row per record, for a spreadsheet: the
 * record's flat fields, `fields.NAME` per --select, the total time; JSON Lines has the rest.
 * An empty cell is null. Cells a spreadsheet would run as a formula (starting with =, +, -, @,
 * tab or CR: text taken from pages, which anyone can write) get a leading `'`, as OWASP advises.
 */
export class CsvSink extends LineSink {
  constructor(out: Writable, ownsStream: boolean, name: string, c: CsvColumns) {
    const cols = columns(c);
    const options = { escape_formulas: true, record_delimiter: 'windows', cast: { number: (n: number) => String(n) } } as const;
    const row = (cells: Cell[]): string => stringify([cells.map((v) => v ?? '')], options);
    super(out, ownsStream, name, (record) => row(cols.map(([, get]) => get(record))), row(cols.map(([header]) => header)));
  }
}
