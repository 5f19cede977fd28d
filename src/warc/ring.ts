/**
 * A single-producer, single-consumer ring of exchanges in a SharedArrayBuffer: how the crawl's
 * thread hands exchanges to the WARC thread without a message per exchange. Putting one costs a
 * copy of its bytes and two atomic operations; no allocation, no structured clone, and no wake-up
 * of the other thread (it polls: see warc-worker.ts), which on a small VM cost the crawl's thread
 * tens of µs per postMessage.
 *
 * Layout: a control block of Int32 counters, then `capacity` data bytes. Each entry is a 20-byte
 * header (entry size, id, facts length, request length, response length), the facts (UTF-8
 * JSON), the request bytes and the response bytes, padded to 8 bytes. An entry never wraps: when
 * it does not fit before the end, the producer leaves a WRAP marker and starts again at 0.
 */

/** Control block: bytes in use (entries and skipped tails), entries published. */
const USED = 0;
const PUBLISHED = 1;
/** 1 while the consumer sleeps in a long wait: the producer wakes it. */
const DEEP_SLEEP = 2;
/** Where the oldest entry not released yet starts (the producer must not write past it). */
const RELEASED_TO = 3;
const CONTROL_BYTES = 16;
const HEADER = 20;
const WRAP = 0xffffffff;

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Copies `source` into `target` from `at`; returns its length. Buffer#fill() with a buffer for
 * value is a plain memcpy in Node's C++, where Buffer#copy() into shared memory goes through
 * V8's relaxed-atomic copy: 0.25 µs against 2.9 for 20 KB here, per page of a --warc crawl.
 */
function copyInto(target: Buffer, source: Buffer, at: number): number {
  if (source.length > 0) target.fill(source, at, at + source.length);
  return source.length;
}

export interface RingEntry {
  id: number;
  facts: string;
  /** Views into the ring: valid until release(). */
  request: Buffer;
  response: Buffer;
  /** Ring bytes the entry takes (with a skipped tail before it). */
  size: number;
  /** Gives the entry's bytes back once it is written (the views above then become invalid). */
  release(): void;
}

export class ExchangeRing {
  readonly capacity: number;
  /**
   * The largest entry the ring takes: half of it, so that an empty ring always has room for
   * one (at the end, or at the start when the end is too short).
   */
  readonly maxEntry: number;
  private readonly control: Int32Array;
  private readonly data: Buffer;
  private readonly view: DataView;
  /** Producer's next write offset, consumer's next read offset: each side keeps its own. */
  private offset = 0;
  private taken = 0;
  /** Consumer: entries taken, oldest first, and whether each was released. */
  private readonly held: Array<{ size: number; released: boolean }> = [];
  private releasedTo = 0;

  /** A new ring's shared memory, for `capacity` data bytes. */
  static allocate(capacity: number): SharedArrayBuffer {
    return new SharedArrayBuffer(CONTROL_BYTES + align8(capacity));
  }

  constructor(readonly shared: SharedArrayBuffer) {
    this.capacity = shared.byteLength - CONTROL_BYTES;
    this.maxEntry = Math.floor(this.capacity / 16) * 8;
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.data = Buffer.from(shared, CONTROL_BYTES, this.capacity);
    this.view = new DataView(shared, CONTROL_BYTES, this.capacity);
  }

  /** Ring bytes an entry takes. */
  static entrySize(factsBytes: number, requestLength: number, responseLength: number): number {
    return align8(HEADER + factsBytes + requestLength + responseLength);
  }

  // ---- producer ----

  /**
   * Copies an exchange in and publishes it. False when there is not room now (the caller waits
   * with waitForRoom() and tries again); an entry larger than maxEntry never fits.
   */
  tryPut(id: number, facts: string, factsBytes: number, request: Buffer, response: Buffer): boolean {
    const size = ExchangeRing.entrySize(factsBytes, request.length, response.length);
    if (size > this.maxEntry) return false;
    // USED first: RELEASED_TO is stored before USED drops, so it is at least as new.
    const used = Atomics.load(this.control, USED);
    // With nothing in use the consumer has caught up: it reads next at this.offset.
    const releasedTo = used === 0 ? this.offset : Atomics.load(this.control, RELEASED_TO);
    const w = this.offset;
    let skip = 0;
    if (used === 0 || releasedTo < w) {
      // In use: [releasedTo, w). Free: [w, end) and [0, releasedTo). Wrapping leaves a marker
      // at w, which the entry at 0 must not cover.
      if (size > this.capacity - w) {
        if (size > releasedTo) return false;
        skip = this.capacity - w;
      }
    } else if (w + size > releasedTo) {
      // In use: [releasedTo, end) and [0, w) (all of it when releasedTo === w). Free: [w, releasedTo).
      return false;
    }
    if (skip > 0) {
      if (skip >= 4) this.view.setUint32(w, WRAP, true);
      this.offset = 0;
    }
    const at = this.offset;
    this.view.setUint32(at, size, true);
    this.view.setUint32(at + 4, id, true);
    this.view.setUint32(at + 8, factsBytes, true);
    this.view.setUint32(at + 12, request.length, true);
    this.view.setUint32(at + 16, response.length, true);
    let p = at + HEADER;
    p += this.data.write(facts, p, factsBytes, 'utf8');
    p += copyInto(this.data, request, p);
    copyInto(this.data, response, p);
    this.offset = (at + size) % this.capacity;
    // The bytes above are written before the counters say so (Atomics are sequentially
    // consistent), so a consumer that sees the count sees the entry.
    Atomics.add(this.control, USED, skip + size);
    Atomics.add(this.control, PUBLISHED, 1);
    if (Atomics.load(this.control, DEEP_SLEEP) === 1) this.wake();
    return true;
  }

  /** Blocks until `size` bytes might fit (or `timeoutMs` passed). */
  waitForRoom(timeoutMs: number): void {
    const used = Atomics.load(this.control, USED);
    if (used === 0) return;
    Atomics.wait(this.control, USED, used, timeoutMs);
  }

  /** Wakes a consumer sleeping in waitForEntries(). */
  wake(): void {
    Atomics.notify(this.control, PUBLISHED);
  }

  // ---- consumer ----

  /** Entries published and not taken yet. */
  get pending(): number {
    return Atomics.load(this.control, PUBLISHED) - this.taken;
  }

  /** The id of the next entry, or null when none is published. */
  peekId(): number | null {
    if (this.pending <= 0) return null;
    let at = this.offset;
    if (this.capacity - at < HEADER || this.view.getUint32(at, true) === WRAP) at = 0;
    return this.view.getUint32(at + 4, true);
  }

  /** The next entry, or null when none is published. */
  take(): RingEntry | null {
    if (this.pending <= 0) return null;
    let skipped = 0;
    if (this.capacity - this.offset < HEADER || this.view.getUint32(this.offset, true) === WRAP) {
      skipped = this.capacity - this.offset;
      this.offset = 0;
    }
    const at = this.offset;
    const size = this.view.getUint32(at, true);
    const id = this.view.getUint32(at + 4, true);
    const factsBytes = this.view.getUint32(at + 8, true);
    const requestLength = this.view.getUint32(at + 12, true);
    const responseLength = this.view.getUint32(at + 16, true);
    let p = at + HEADER;
    const facts = this.data.toString('utf8', p, p + factsBytes);
    p += factsBytes;
    const request = this.data.subarray(p, p + requestLength);
    p += requestLength;
    const response = this.data.subarray(p, p + responseLength);
    this.offset = (at + size) % this.capacity;
    this.taken++;
    const held = { size: skipped + size, released: false };
    this.held.push(held);
    return { id, facts, request, response, size: held.size, release: () => this.release(held) };
  }

  /** Gives an entry's bytes back (in any order: the producer gets them back in ring order). */
  private release(entry: { size: number; released: boolean }): void {
    if (entry.released) return;
    entry.released = true;
    let freed = 0;
    while (this.held.length > 0 && this.held[0]!.released) {
      const h = this.held.shift()!;
      this.releasedTo = (this.releasedTo + h.size) % this.capacity;
      freed += h.size;
    }
    if (freed === 0) return;
    Atomics.store(this.control, RELEASED_TO, this.releasedTo);
    Atomics.sub(this.control, USED, freed);
    Atomics.notify(this.control, USED);
  }

  /**
   * Sleeps until an entry is published or `timeoutMs` passed. With `deep`, the producer wakes
   * it on its next put (no entry waits for the timeout); otherwise it sleeps out the timeout.
   */
  waitForEntries(timeoutMs: number, deep = false): void {
    const published = Atomics.load(this.control, PUBLISHED);
    if (published !== this.taken) return;
    if (deep) Atomics.store(this.control, DEEP_SLEEP, 1);
    // An entry published after the load above changes PUBLISHED, so the wait returns at once.
    Atomics.wait(this.control, PUBLISHED, published, timeoutMs);
    if (deep) Atomics.store(this.control, DEEP_SLEEP, 0);
  }
}
