import { createHash, type Hash } from 'node:crypto';

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

/** A running SHA-1 written as WARC tools write it: "sha1:" + base32 (wget, warcio, Heritrix). */
export class Sha1Digest {
  private readonly hash: Hash = createHash('sha1');
  bytes = 0;

  update(data: Buffer): void {
    this.hash.update(data);
    this.bytes += data.length;
  }

  digest(): string {
    return `sha1:${base32(this.hash.digest())}`;
  }
}

export function sha1Label(data: Buffer): string {
  const d = new Sha1Digest();
  d.update(data);
  return d.digest();
}
