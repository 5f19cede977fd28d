import crypto, { createHash, type Hash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32 with padding (a SHA-1 digest, 20 bytes, needs none). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

/** One-shot SHA-1 (crypto.hash, Node 20.12+; no Hash object), else through createHash. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;
function sha1(data: Buffer): Buffer {
  return oneShot ? oneShot('sha1', data, 'buffer') : createHash('sha1').update(data).digest();
}

/**
 * A running SHA-1 written as WARC tools write it: "sha1:" + base32 (wget, warcio, Heritrix).
 * A digest of one piece (a Content-Length body) is hashed in one shot; a Hash object is made only
 * once a second piece comes (a chunked body).
 */
export class Sha1Digest {
  private hash: Hash | null = null;
  private first: Buffer | null = null;
  bytes = 0;

  update(data: Buffer): void {
    if (this.hash === null && this.first === null) {
      this.first = data;
    } else {
      if (!this.hash) {
        this.hash = createHash('sha1');
        if (this.first) this.hash.update(this.first);
        this.first = null;
      }
      this.hash.update(data);
    }
    this.bytes += data.length;
  }

  digest(): string {
    const d = this.hash ? this.hash.digest() : sha1(this.first ?? EMPTY);
    return `sha1:${base32(d)}`;
  }
}

const EMPTY = Buffer.alloc(0);

export function sha1Label(data: Buffer): string {
  return `sha1:${base32(sha1(data))}`;
}
