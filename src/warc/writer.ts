import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { CapturedExchange } from '../capture/exchange.js';
import type { ResponseRecord } from '../capture/replay-response.js';
import { RawcrawlError } from '../errors.js';
import { exchangeRecords } from './exchange-records.js';
import { formatRecord, gzipRecord, newRecordId, warcDate, type WarcField } from './record.js';

export interface WarcWriterOptions {
  /** First file's path; `.warc.gz` writes one gzip member per record, `.warc` writes plain. */
  file: string;
  /** Start a new file once the current one reaches this many bytes (default: never). */
  maxSize?: number;
  /** Extra warcinfo fields ("operator", "description", …). */
  info?: WarcField[];
}

/** Where one record starts: file path and byte offset (of its gzip member in a .warc.gz). */
export interface WarcLocation {
  file: string;
  offset: number;
  /** Bytes the record takes in the file (compressed size in a .warc.gz). */
  length: number;
}

export interface WrittenExchange {
  /** The response record; null when no response byte arrived. */
  response: WarcLocation | null;
  request: WarcLocation | null;
  metadata: WarcLocation;
}

/** `crawl.warc.gz` → `crawl-00001.warc.gz`, … (wget numbers its rotated files the same way). */
export function rotatedName(first: string, index: number): string {
  if (index === 0) return first;
  const m = /^(.*?)(\.warc(?:\.gz)?)?$/.exec(first)!;
  return `${m[1]}-${String(index).padStart(5, '0')}${m[2] ?? ''}`;
}

/**
 * Writes WARC/1.1 files (ISO 28500:2017): a warcinfo record first in each file, then request,
 * response and metadata records per exchange, kept together in one file. Writes are synchronous,
 * so a record's location is known when writeExchange() returns.
 */
export class WarcWriter {
  /** Every file written, in order. */
  readonly files: string[] = [];
  private fd = -1;
  private size = 0;
  private exchangesInFile = 0;
  private warcinfoId = '';
  private readonly gzip: boolean;

  constructor(private readonly o: WarcWriterOptions) {
    if (o.maxSize !== undefined && !(o.maxSize > 0)) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `warc max size must be > 0, got ${String(o.maxSize)}`);
    }
    this.gzip = o.file.endsWith('.gz');
    this.openNext();
  }

  writeExchange(ex: CapturedExchange, scan: ResponseRecord): WrittenExchange {
    if (this.o.maxSize !== undefined && this.exchangesInFile > 0 && this.size >= this.o.maxSize) this.openNext();
    const out: Partial<WrittenExchange> = { response: null, request: null };
    const file = this.files[this.files.length - 1]!;
    const members: Buffer[] = [];
    let at = this.size;
    for (const r of exchangeRecords(ex, scan, this.warcinfoId)) {
      const data = this.encode(formatRecord(r.fields, r.block));
      out[r.type] = { file, offset: at, length: data.length };
      members.push(data);
      at += data.length;
    }
    // One write per exchange: the records of an exchange stay together, at a third of the syscalls.
    this.write(Buffer.concat(members, at - this.size));
    this.exchangesInFile++;
    return out as WrittenExchange;
  }

  close(): void {
    if (this.fd === -1) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private openNext(): void {
    this.close();
    const file = rotatedName(this.o.file, this.files.length);
    try {
      this.fd = openSync(file, 'w');
    } catch (err) {
      throw new RawcrawlError('ERR_STORAGE', `cannot create WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    this.files.push(file);
    this.size = 0;
    this.exchangesInFile = 0;
    this.warcinfoId = newRecordId();
    const block = Buffer.from(
      [
        ['software', 'rawcrawl/0.1.0'],
        ['format', 'WARC File Format 1.1'],
        ['conformsTo', 'http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/'],
        ...(this.o.info ?? []),
      ]
        .map(([n, v]) => `${n}: ${v}\r\n`)
        .join(''),
      'utf8',
    );
    this.append(
      formatRecord(
        [
          ['WARC-Type', 'warcinfo'],
          ['WARC-Record-ID', this.warcinfoId],
          ['WARC-Date', warcDate(new Date().toISOString())],
          ['WARC-Filename', basename(file)],
          ['Content-Type', 'application/warc-fields'],
        ],
        block,
      ),
    );
  }

  private encode(record: Buffer): Buffer {
    return this.gzip ? gzipRecord(record) : record;
  }

  private append(record: Buffer): void {
    this.write(this.encode(record));
  }

  private write(data: Buffer): void {
    try {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd, data, done);
    } catch (err) {
      const file = this.files[this.files.length - 1]!;
      throw new RawcrawlError('ERR_STORAGE', `cannot write WARC file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    this.size += data.length;
  }
}
