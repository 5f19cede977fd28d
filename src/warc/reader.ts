import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { RawcrawlError } from '../errors.js';
import type { WarcField } from './record.js';

export interface WarcRecordRead {
  version: string;
  fields: WarcField[];
  block: Buffer;
}

/** The first value of a named field, case-insensitively (ISO 28500 §4: names are case-insensitive). */
export function warcField(r: WarcRecordRead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return r.fields.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Splits an uncompressed WARC stream into records (§4: header, Content-Length block, CRLF CRLF). */
export function parseWarc(data: Buffer, name = 'WARC'): WarcRecordRead[] {
  const out: WarcRecordRead[] = [];
  const bad = (why: string, at: number): RawcrawlError => new RawcrawlError('ERR_STORAGE', `${name} is not a valid WARC file at byte ${at}: ${why}`);
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf('\r\n\r\n', pos);
    if (end === -1) throw bad('record header does not end', pos);
    const lines = data.toString('utf8', pos, end).split('\r\n');
    const version = lines[0]!;
    if (!/^WARC\/1\.[01]$/.test(version)) throw bad(`version line is ${JSON.stringify(version.slice(0, 20))}`, pos);
    const fields: WarcField[] = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) throw bad(`field line ${JSON.stringify(line.slice(0, 40))} has no name`, pos);
      fields.push([line.slice(0, i), line.slice(i + 1).trim()]);
    }
    const rec: WarcRecordRead = { version, fields, block: Buffer.alloc(0) };
    const length = Number(warcField(rec, 'Content-Length'));
    if (!Number.isSafeInteger(length) || length < 0) throw bad('Content-Length missing or invalid', pos);
    const blockStart = end + 4;
    if (blockStart + length + 4 > data.length) throw bad('record is cut short', pos);
    rec.block = data.subarray(blockStart, blockStart + length);
    if (data.toString('latin1', blockStart + length, blockStart + length + 4) !== '\r\n\r\n') throw bad('block is not followed by CRLF CRLF', blockStart + length);
    out.push(rec);
    pos = blockStart + length + 4;
  }
  return out;
}

/** Reads a .warc or .warc.gz (one gzip member per record, or one for all) into records. */
export function readWarc(path: string): WarcRecordRead[] {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      data = gunzipSync(raw);
    } catch (err) {
      throw new RawcrawlError('ERR_STORAGE', `${path} is not valid gzip: ${String(err)}`);
    }
  }
  return parseWarc(data, path);
}
