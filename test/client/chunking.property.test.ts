import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResponseParser } from '../../src/http/response-parser.js';
import { drain, splitAt } from '../helpers/feed.js';

/** Feeds the pieces, pulling after each, and returns the body and trailers the parser produced. */
function parseBody(pieces: Buffer[], eof: boolean): { body: Buffer; trailers: Array<[string, string]>; unconsumed: number } {
  const p = new ResponseParser();
  const body: Buffer[] = [];
  let trailers: Array<[string, string]> = [];
  let done = false;
  const pull = (): void => {
    done = drain(p, (ev) => {
      if (ev.type === 'data') body.push(Buffer.from(ev.data));
      if (ev.type === 'end') trailers = ev.trailers;
    });
  };
  for (const piece of pieces) {
    p.feed(piece);
    pull();
  }
  if (eof) {
    p.feedEof();
    pull();
  }
  expect(done).toBe(true);
  return { body: Buffer.concat(body), trailers, unconsumed: p.unconsumed };
}

const body = fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((a) => Buffer.from(a));
const cuts = fc.array(fc.nat(), { maxLength: 40 });

function chunkedWire(data: Buffer, sizes: number[], upper: boolean, ext: boolean, trailer: boolean): Buffer {
  const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')];
  let i = 0;
  let k = 0;
  while (i < data.length) {
    const n = Math.min(sizes.length > 0 ? sizes[k++ % sizes.length]! : data.length, data.length - i);
    let hex = n.toString(16);
    if (upper) hex = hex.toUpperCase();
    parts.push(Buffer.from(`${hex}${ext ? ';a=b' : ''}\r\n`), data.subarray(i, i + n), Buffer.from('\r\n'));
    i += n;
  }
  parts.push(Buffer.from(`0\r\n${trailer ? 'X-T: done\r\n' : ''}\r\n`));
  return Buffer.concat(parts);
}

describe('random bodies, random framings, random split points → the same bytes', () => {
  it('chunked', () => {
    fc.assert(
      fc.property(body, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }), fc.boolean(), fc.boolean(), fc.boolean(), cuts, (data, sizes, upper, ext, trailer, points) => {
        const wire = chunkedWire(data, sizes, upper, ext, trailer);
        const got = parseBody(splitAt(wire, points), false);
        expect(got.body.equals(data)).toBe(true);
        expect(got.trailers).toEqual(trailer ? [['X-T', 'done']] : []);
        expect(got.unconsumed).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('Content-Length, with trailing bytes left unconsumed', () => {
    fc.assert(
      fc.property(body, fc.uint8Array({ maxLength: 50 }), cuts, (data, extra, points) => {
        const wire = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`), data, extra]);
        const got = parseBody(splitAt(wire, points), false);
        expect(got.body.equals(data)).toBe(true);
        expect(got.unconsumed).toBe(extra.length);
      }),
      { numRuns: 300 },
    );
  });

  it('close-delimited', () => {
    fc.assert(
      fc.property(body, cuts, (data, points) => {
        const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n'), data]);
        expect(parseBody(splitAt(wire, points), true).body.equals(data)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated chunked or Content-Length message is never a silently short body', () => {
    fc.assert(
      fc.property(body.filter((b) => b.length > 0), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1 }), fc.nat(), fc.boolean(), (data, sizes, cut, useChunked) => {
        const wire = useChunked ? chunkedWire(data, sizes, false, false, false) : Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`), data]);
        const at = cut % wire.length;
        expect(() => parseBody([wire.subarray(0, at)], true)).toThrowError(expect.objectContaining({ code: 'ERR_PREMATURE_CLOSE' }));
      }),
      { numRuns: 300 },
    );
  });
});
