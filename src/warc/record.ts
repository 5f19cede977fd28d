import { randomUUID } from 'node:crypto';
import zlib, { gzipSync } from 'node:zlib';
import { sha1Label } from '../capture/digest.js';

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

/** The record head: version line, named fields, WARC-Block-Digest and Content-Length, blank line (§4). */
export function recordHead(fields: WarcField[], block: Buffer): string {
  let head = `${WARC_VERSION}\r\n`;
  for (const [n, v] of fields) {
    // A field value must not break the record's framing (§4: no CR or LF outside folding).
    if (v.includes('\r') || v.includes('\n')) throw new Error(`WARC field ${n} holds a line break`);
    head += `${n}: ${v}\r\n`;
  }
  return `${head}WARC-Block-Digest: ${sha1Label(block)}\r\nContent-Length: ${block.length}\r\n\r\n`;
}

/** The two CRLFs after a record's block (§4). */
export const RECORD_END = Buffer.from('\r\n\r\n');

/**
 * Level 1 by default: on HTML it costs about half the CPU of zlib's default level 6 for files
 * about 10% larger, and compressing is most of what --warc adds to a page (bench/warc.mjs).
 */
export const DEFAULT_GZIP_LEVEL = 1;

/** Records smaller than this go into stored (uncompressed) gzip members: see gzip-member.ts. */
export const STORE_BELOW = 1024;

/** What GzipEngine uses of a zlib stream's internals (Node 20 to 24 have them). */
interface ZlibInternals {
  _handle?: {
    reset(): void;
    writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  };
  _writeState?: Uint32Array;
}

/**
 * Bytes a gzip member of `n` input bytes can take, with room to spare: deflate grows
 * incompressible data by a few bytes per 16 KB block, plus the gzip header and trailer.
 */
export const deflateBound = (n: number): number => n + (n >> 8) + 256;

const PROBE = Buffer.from('WARC/1.1\r\nWARC-Type: response\r\n\r\n'.repeat(40));

/**
 * One zlib gzip engine for every member, reset between them. `gzipSync` sets up and tears down
 * an engine per call, about half of what a 20 KB record costs; resetting one costs little.
 * Driven through the stream's native handle, as Node's own gzipSync drives it: if that is not
 * there or does not round-trip a probe (another Node), `gzip()` is `gzipSync`.
 */
export class GzipEngine {
  private readonly stream: zlib.Gzip;
  private readonly handle: NonNullable<ZlibInternals['_handle']> | null;
  private readonly state: Uint32Array | null;
  /** gzip()'s output before it is copied out (grown to what the largest member needed). */
  private out: Buffer = Buffer.alloc(0);
  private error: Error | null = null;

  constructor(private readonly level = DEFAULT_GZIP_LEVEL) {
    // zlib's default windowBits/memLevel: smaller ones set up less state but measured no faster
    // on 20 KB pages (BENCHMARKS.md), and compress real text worse.
    this.stream = zlib.createGzip({ level });
    // zlib reports an engine error as an 'error' event during writeSync (as gzipSync's own loop
    // catches it); deflating a buffer does not fail short of running out of memory.
    this.stream.on('error', (err: Error) => {
      this.error = err;
    });
    const internals = this.stream as unknown as ZlibInternals;
    let handle = internals._handle ?? null;
    const state = internals._writeState ?? null;
    if (!handle || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) handle = null;
    this.handle = handle;
    this.state = state;
    if (this.handle) {
      try {
        if (!zlib.gunzipSync(this.gzip(PROBE)).equals(PROBE)) this.handle = null;
      } catch {
        this.handle = null;
      }
    }
  }

  /** True when members come from the reused engine (false: gzipSync per member). */
  get reused(): boolean {
    return this.handle !== null;
  }

  /** `data` as one gzip member, in a buffer of its own. */
  gzip(data: Buffer): Buffer {
    if (!this.handle) return gzipSync(data, { level: this.level });
    for (;;) {
      const end = this.gzipInto([data], this.out, 0);
      if (end !== -1) return Buffer.from(this.out.subarray(0, end));
      this.out = Buffer.allocUnsafeSlow(Math.max(deflateBound(data.length), this.out.length * 2));
    }
  }

  /**
   * The pieces, one after another, as one gzip member written into `out` from `at`: no
   * concatenated input and no output buffer of its own. Returns where the member ends, or -1
   * when `out` has not room enough from `at` (nothing after `at` is then meaningful). It needs a
   * byte to spare past the member's end: zlib does not tell a full buffer from a finished member.
   */
  gzipInto(pieces: readonly Buffer[], out: Buffer, at: number): number {
    if (!this.handle) {
      const member = gzipSync(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces), { level: this.level });
      if (at + member.length > out.length) return -1;
      return at + member.copy(out, at);
    }
    const handle = this.handle;
    const state = this.state!;
    handle.reset();
    let outOff = at;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const room = out.length - outOff;
      if (room === 0) return -1;
      handle.writeSync(i === pieces.length - 1 ? zlib.constants.Z_FINISH : zlib.constants.Z_NO_FLUSH, piece, 0, piece.length, out, outOff, room);
      if (this.error) throw this.error;
      const availOut = state[0]!;
      outOff += room - availOut;
      // Output left over means the piece was taken whole (and, for the last, the member ended).
      if (availOut === 0) return -1;
    }
    return outOff;
  }

  close(): void {
    this.stream.close();
  }
}
