import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExchangeRing } from '../../src/warc/ring.js';

const put = (r: ExchangeRing, id: number, facts: string, req: Buffer, res: Buffer): boolean =>
  r.tryPut(id, facts, Buffer.byteLength(facts), req, res);

describe('ExchangeRing (crawl thread → WARC thread)', () => {
  it('hands over id, facts and bytes exactly, in order', () => {
    const shared = ExchangeRing.allocate(4096);
    const producer = new ExchangeRing(shared);
    const consumer = new ExchangeRing(shared);
    expect(consumer.take()).toBeNull();
    expect(put(producer, 7, '{"url":"http://a/ü"}', Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody'))).toBe(true);
    expect(put(producer, 8, '{}', Buffer.alloc(0), Buffer.from([0, 255, 10]))).toBe(true);
    expect(consumer.pending).toBe(2);
    expect(consumer.peekId()).toBe(7);
    const a = consumer.take()!;
    expect([a.id, a.facts, a.request.toString(), a.response.toString()]).toEqual([7, '{"url":"http://a/ü"}', 'GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\nbody']);
    const b = consumer.take()!;
    expect([b.id, b.facts, b.request.length, [...b.response]]).toEqual([8, '{}', 0, [0, 255, 10]]);
    expect(consumer.take()).toBeNull();
    expect(consumer.peekId()).toBeNull();
  });

  it('refuses an entry while it is full, takes it once bytes are released, and never one over half its size', () => {
    const shared = ExchangeRing.allocate(512);
    const producer = new ExchangeRing(shared);
    const consumer = new ExchangeRing(shared);
    const body = Buffer.alloc(200, 1);
    expect(put(producer, 0, '{}', Buffer.alloc(0), body)).toBe(true);
    expect(put(producer, 1, '{}', Buffer.alloc(0), body)).toBe(true);
    expect(put(producer, 2, '{}', Buffer.alloc(0), body)).toBe(false);
    const first = consumer.take()!;
    expect(put(producer, 2, '{}', Buffer.alloc(0), body)).toBe(false); // taken, not yet released
    first.release();
    expect(put(producer, 2, '{}', Buffer.alloc(0), body)).toBe(true);
    expect([consumer.take()!.id, consumer.take()!.id]).toEqual([1, 2]);
    const empty = new ExchangeRing(ExchangeRing.allocate(512));
    expect(empty.maxEntry).toBe(256);
    expect(put(empty, 0, '{}', Buffer.alloc(0), Buffer.alloc(256 - 22))).toBe(true);
    expect(put(empty, 1, '{}', Buffer.alloc(0), Buffer.alloc(256 - 21))).toBe(false);
  });

  it('any sequence of sizes comes out whole and in order across wrap-arounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 2048 }),
        fc.array(fc.record({ facts: fc.string({ maxLength: 40 }), req: fc.integer({ min: 0, max: 300 }), res: fc.integer({ min: 0, max: 1500 }), takeNow: fc.boolean() }), { minLength: 1, maxLength: 60 }),
        (capacity, entries) => {
          const shared = ExchangeRing.allocate(capacity);
          const producer = new ExchangeRing(shared);
          const consumer = new ExchangeRing(shared);
          const sent: Array<{ id: number; facts: string; req: Buffer; res: Buffer }> = [];
          const got: typeof sent = [];
          // Taken entries are released in any order (the WARC thread releases each once written).
          const held: Array<() => void> = [];
          const drainOne = (): void => {
            if (consumer.pending === 0) {
              // Nothing left to take: give back what is held, newest first.
              while (held.length > 0) held.pop()!();
              return;
            }
            const e = consumer.take()!;
            got.push({ id: e.id, facts: e.facts, req: Buffer.from(e.request), res: Buffer.from(e.response) });
            if (e.id % 3 === 0) held.push(() => e.release());
            else e.release();
            if (held.length > 2) held.pop()!();
          };
          entries.forEach((x, id) => {
            // Bytes that differ along each buffer: a copy that repeated or shifted them would show.
            const req = Buffer.from(Array.from({ length: x.req }, (_, i) => (id + i * 7) % 251));
            const res = Buffer.from(Array.from({ length: x.res }, (_, i) => (id * 7 + i * 13) % 253));
            if (ExchangeRing.entrySize(Buffer.byteLength(x.facts), x.req, x.res) > producer.maxEntry) {
              expect(put(producer, id, x.facts, req, res)).toBe(false);
              return;
            }
            // Full: the consumer frees room, as the WARC thread does. Any entry up to maxEntry
            // fits once the ring is empty.
            while (!put(producer, id, x.facts, req, res)) {
              expect(consumer.pending + held.length).toBeGreaterThan(0);
              drainOne();
            }
            sent.push({ id, facts: x.facts, req, res });
            if (x.takeNow) drainOne();
          });
          while (consumer.pending > 0) {
            expect(consumer.peekId()).toBe(sent[got.length]!.id);
            drainOne();
          }
          while (held.length > 0) held.pop()!();
          // Everything given back: an entry of the largest size fits again.
          expect(put(producer, 9999, '', Buffer.alloc(0), Buffer.alloc(producer.maxEntry - 20))).toBe(true);
          expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
          got.forEach((g, i) => {
            expect(g.facts).toBe(sent[i]!.facts);
            expect(g.req.equals(sent[i]!.req)).toBe(true);
            expect(g.res.equals(sent[i]!.res)).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
