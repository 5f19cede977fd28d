/** Grow when this full; grow by GROWTH. 8 bytes / slot → 8 / 0.8 = 10 to 8 * 1.5 / 0.8 = 15 bytes per URL. */
const MAX_LOAD = 0.8;
const GROWTH = 1.5;

/**
 * A set of URL fingerprints: 64-bit hashes in an open-addressing (linear probing) table of two
 * Uint32 words per slot, never the URL strings. Between 10 and 15 bytes per URL at any size
 * (the table grows by half, not double). A false "seen" needs a 64-bit collision: about
 * 3 in a million at 10 million URLs.
 */
export class SeenSet {
  private table: Uint32Array;
  private cap: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    this.cap = Math.max(16, Math.ceil(initialCapacity));
    this.table = new Uint32Array(this.cap * 2);
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
    // Multiply-shift range reduction: a uniform slot in [0, cap) for any cap.
    let i = Math.floor(((lo ^ hi) >>> 0) * this.cap / 4294967296);
    for (;;) {
      const h = t[i * 2]!;
      const l = t[i * 2 + 1]!;
      if (h === 0 && l === 0) return -1 - i;
      if (h === hi && l === lo) return i;
      i = i + 1 === this.cap ? 0 : i + 1;
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
    if (this.count > this.cap * MAX_LOAD) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.table;
    this.cap = Math.ceil(this.cap * GROWTH);
    this.table = new Uint32Array(this.cap * 2);
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
