import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha1Label } from '../capture/digest.js';
import { storedGzipMember } from './gzip-member.js';

/** A WARC named field as written, in order (ISO 28500:2017 §4). */
export type WarcField = [name: string, value: string];

export const WARC_VERSION = 'WARC/1.1';

/** `<urn:uuid:…>` (ISO 28500 §5.2 WARC-Record-ID). */
export function newRecordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

/** WARC-Date: W3C-ISO8601 to the second, UTC (§5.4), as wget and warcio write it. */
export function warcDate(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/**
 * One record: version line, named fields, WARC-Block-Digest and Content-Length (added here),
 * blank line, block, two CRLFs (§4). Not compressed.
 */
export function formatRecord(fields: WarcField[], block: Buffer): Buffer {
  let head = `${WARC_VERSION}\r\n`;
  for (const [n, v] of fields) {
    // A field value must not break the record's framing (§4: no CR or LF outside folding).
    if (/[\r\n]/.test(v)) throw new Error(`WARC field ${n} holds a line break`);
    head += `${n}: ${v}\r\n`;
  }
  head += `WARC-Block-Digest: ${sha1Label(block)}\r\nContent-Length: ${block.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), block, Buffer.from('\r\n\r\n')]);
}

/**
 * Level 1 by default: on HTML it costs about half the CPU of zlib's default level 6 for files
 * about 10% larger, and compressing is most of what --warc adds to a page (bench/warc.mjs).
 */
export const DEFAULT_GZIP_LEVEL = 1;

/** Records smaller than this go into stored (uncompressed) gzip members: see gzip-member.ts. */
export const STORE_BELOW = 1024;

/** Each record its own gzip member (Annex D), so a reader can seek to any record's offset. */
export function gzipRecord(record: Buffer, level = DEFAULT_GZIP_LEVEL): Buffer {
  return record.length < STORE_BELOW ? storedGzipMember(record) : gzipSync(record, { level });
}

