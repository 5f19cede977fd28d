import zlib from 'node:zlib';
import { crc32 } from './gzip-member.js';

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty stored block with BFINAL set: ends a deflate stream that a full flush left byte-aligned. */
const FINAL_EMPTY_BLOCK = Buffer.from([1, 0, 0, 0xff, 0xff]);

/**
 * Makes one gzip member per record from a single long-lived raw deflate engine, on the thread
 * pool. zlib.gzip() sets up and tears down an engine per call, which here cost more than the
 * compressing itself. Each record is written then flushed with Z_FULL_FLUSH (RFC 1951 output
 * byte-aligned and the dictionary reset, so no member refers to an earlier one), closed with an
 * empty final block, and wrapped in the RFC 1952 header and CRC-32/size trailer.
 */
export class MemberDeflater {
  private readonly engine: zlib.DeflateRaw;
  private out: Buffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;

  constructor(level: number) {
    this.engine = zlib.createDeflateRaw({ level });
    this.engine.on('data', (d: Buffer) => this.out.push(d));
    this.engine.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  /** The gzip member for `data`; members come out in call order. */
  member(data: Buffer): Promise<Buffer> {
    const job = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.engine.write(data);
          this.engine.flush(zlib.constants.Z_FULL_FLUSH, () => {
            if (this.failure) return reject(this.failure);
            const body = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
            this.out = [];
            const trailer = Buffer.allocUnsafe(8);
            trailer.writeUInt32LE(crc32(data), 0);
            trailer.writeUInt32LE(data.length >>> 0, 4);
            resolve(Buffer.concat([GZIP_HEADER, body, FINAL_EMPTY_BLOCK, trailer]));
          });
        }),
    );
    this.tail = job.catch(() => {});
    return job;
  }

  close(): void {
    this.engine.close();
  }
}
