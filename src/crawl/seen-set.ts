/**
 * A set of URL fingerprints: 64-bit hashes in an open-addressing table of two Uint32 words per
 * slot. At most 0.75 load, so 8 / 0.75 ≈ 10.7 to 21 bytes per URL as the table doubles
 * (≈ 13.4 at 10 million). A false "seen" needs a 64-bit collision: about 3 in a million
 * at 10 million URLs.
 */
export class SeenSet {
  private table: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.table = new Uint32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  has(key: string): boolean {
    const [hi, lo] = fingerprint(key);
    return this.find(hi, lo) >= 0;
  }

  /** Adds the key; returns false if it was already there. */
  add(key: string): boolean {
    const [hi, lo] = fingerprint(key);
    return this.addHash(hi, lo);
  }

  private find(hi: number, lo: number): number {
    const t = this.table;
    let i = (lo ^ hi) & this.mask;
    for (;;) {
      const h = t[i * 2]!;
      const l = t[i * 2 + 1]!;
      if (h === 0 && l === 0) return -1 - i;
      if (h === hi && l === lo) return i;
      i = (i + 1) & this.mask;
    }
  }

  private addHash(hi: number, lo: number): boolean {
    // (0, 0) marks an empty slot; move that one fingerprint aside.
    if (hi === 0 && lo === 0) lo = 1;
    const at = this.find(hi, lo);
    if (at >= 0) return false;
    const slot = -1 - at;
    this.table[slot * 2] = hi;
    this.table[slot * 2 + 1] = lo;
    this.count++;
    if (this.count * 4 > (this.mask + 1) * 3) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    this.table = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!;
      const l = old[i + 1]!;
      if (h !== 0 || l !== 0) this.addHash(h, l);
    }
  }
}

/** Two independent 32-bit mixes of the string's UTF-16 code units (a 64-bit fingerprint). */
export function fingerprint(s: string): [number, number] {
  let h1 = 0xdeadbeef ^ s.length;
  let h2 = 0x41c6ce57 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}
