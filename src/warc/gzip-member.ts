import zlib from 'node:zlib';

/**
 * A gzip member (RFC 1952) holding `data` in deflate *stored* blocks (RFC 1951 §3.2.4): no
 * compression, so no zlib engine. Creating a zlib engine costs about 0.1 ms before the first
 * byte (its tables and the stream around it), more than compressing a 1 KB record saves;
 * WARC request and metadata records are that small. Any gzip reader reads it.
 */
export function storedGzipMember(data: Buffer): Buffer {
  if (data.length <= MAX_STORED_BLOCK) {
    const out = Buffer.allocUnsafe(STORED_HEAD + data.length + STORED_TAIL);
    data.copy(out, STORED_HEAD);
    wrapStoredInPlace(out, 0, STORED_HEAD + data.length);
    return out;
  }
  const blocks = Math.ceil(data.length / MAX_STORED_BLOCK);
  const out = Buffer.allocUnsafe(GZIP_HEADER.length + blocks * 5 + data.length + STORED_TAIL);
  out.set(GZIP_HEADER, 0);
  let at = GZIP_HEADER.length;
  for (let b = 0; b < blocks; b++) {
    const piece = data.subarray(b * MAX_STORED_BLOCK, (b + 1) * MAX_STORED_BLOCK);
    blockHeader(out, at, piece.length, b === blocks - 1);
    piece.copy(out, at + 5);
    at += 5 + piece.length;
  }
  out.writeUInt32LE(crc32(data), at);
  out.writeUInt32LE(data.length >>> 0, at + 4);
  return out;
}

/** ID1 ID2 CM=8 (deflate) FLG=0 MTIME=0 XFL=0 OS=255 (unknown). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** The most one stored block holds. */
export const MAX_STORED_BLOCK = 0xffff;
/** Bytes before the data of a one-block stored member: gzip header and block header. */
export const STORED_HEAD = GZIP_HEADER.length + 5;
/** Bytes after it: CRC-32 and size. */
export const STORED_TAIL = 8;

function blockHeader(out: Buffer, at: number, length: number, last: boolean): void {
  out[at] = last ? 1 : 0; // BFINAL, BTYPE=00 (stored)
  out.writeUInt16LE(length, at + 1);
  out.writeUInt16LE(~length & 0xffff, at + 3);
}

/**
 * Makes the bytes at `out[at + STORED_HEAD, end)` (at most MAX_STORED_BLOCK of them) a stored gzip
 * member where they are: writes the headers before them and the CRC and size after. The member
 * ends at `end + STORED_TAIL`, which is returned. For a record formatted straight into a buffer.
 */
export function wrapStoredInPlace(out: Buffer, at: number, end: number): number {
  const start = at + STORED_HEAD;
  const length = end - start;
  if (length < 0 || length > MAX_STORED_BLOCK) throw new RangeError(`a one-block stored member holds 0 to ${MAX_STORED_BLOCK} bytes, not ${length}`);
  out.set(GZIP_HEADER, at);
  blockHeader(out, at + GZIP_HEADER.length, length, true);
  out.writeUInt32LE(crc32(out.subarray(start, end)), end);
  out.writeUInt32LE(length, end + 4);
  return end + STORED_TAIL;
}

let table: Uint32Array | null = null;

/** CRC-32 (ISO 3309, as gzip uses): zlib.crc32 where Node has it (20.15+), else a table. */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (native) return native(data);
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
