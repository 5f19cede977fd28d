import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipEngine } from '../../src/warc/record.js';

const text = (n: number): Buffer => Buffer.from('<p>lorem ipsum dolor sit amet</p>\n'.repeat(Math.ceil(n / 34)).slice(0, n));

describe('GzipEngine (one engine reset between gzip members)', () => {
  const inputs: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['a 20 KB page', text(20 * 1024)],
    ['1.5 MB of random bytes (deflate makes it larger)', randomBytes(1_500_000)],
    ['3 MB of text', text(3 * 1024 * 1024)],
  ];

  it('reuses its engine on this Node (else every test below would only test gzipSync)', () => {
    expect(new GzipEngine().reused).toBe(true);
  });

  it.each(inputs)('%s: the same bytes as zlib.gzipSync at that level', (_, data) => {
    for (const level of [1, 6]) {
      const engine = new GzipEngine(level);
      const member = engine.gzip(data);
      expect(member.equals(zlib.gzipSync(data, { level }))).toBe(true);
      expect(zlib.gunzipSync(member).equals(data)).toBe(true);
      engine.close();
    }
  });

  it('members made one after another are each whole and independent', () => {
    const engine = new GzipEngine();
    const pieces = [text(5000), randomBytes(300_000), Buffer.alloc(0), text(70_000), Buffer.from('end')];
    const members = pieces.map((p) => engine.gzip(p));
    members.forEach((m, i) => expect(zlib.gunzipSync(m).equals(pieces[i]!)).toBe(true));
    // Concatenated, they are one multi-member gzip file of all the pieces, as a .warc.gz is.
    expect(zlib.gunzipSync(Buffer.concat(members)).equals(Buffer.concat(pieces))).toBe(true);
    engine.close();
  });

  it('returns buffers of their own: a later member does not change an earlier one', () => {
    const engine = new GzipEngine();
    const first = engine.gzip(text(1000));
    const copy = Buffer.from(first);
    engine.gzip(randomBytes(100_000));
    expect(first.equals(copy)).toBe(true);
    engine.close();
  });

  it.each(inputs)('%s: gzipInto() writes, from several pieces, the member gzipSync makes of them together', (_, data) => {
    const engine = new GzipEngine();
    const pieces = [Buffer.from('WARC/1.1\r\nContent-Length: 9\r\n\r\n'), data, Buffer.from('\r\n\r\n')];
    const whole = Buffer.concat(pieces);
    const expected = zlib.gzipSync(whole, { level: 1 });
    const out = Buffer.alloc(7 + expected.length + 64, 0xee);
    const end = engine.gzipInto(pieces, out, 7);
    expect(end).toBe(7 + expected.length);
    expect(zlib.gunzipSync(out.subarray(7, end)).equals(whole)).toBe(true);
    expect(out.subarray(7, end).equals(expected)).toBe(true);
    // Nothing before `at` is touched.
    expect(out.subarray(0, 7).equals(Buffer.alloc(7, 0xee))).toBe(true);
    engine.close();
  });

  it('gzipInto() says -1 unless the member fits with a byte to spare (zlib cannot tell a full buffer from a finished member)', () => {
    const engine = new GzipEngine();
    const pieces = [text(3000), randomBytes(70_000), text(10)];
    const size = zlib.gzipSync(Buffer.concat(pieces), { level: 1 }).length;
    expect(engine.gzipInto(pieces, Buffer.alloc(size - 1), 0)).toBe(-1);
    expect(engine.gzipInto(pieces, Buffer.alloc(size), 0)).toBe(-1);
    expect(engine.gzipInto(pieces, Buffer.alloc(size + 100), 100)).toBe(-1);
    const roomy = Buffer.alloc(size + 1);
    expect(engine.gzipInto(pieces, roomy, 0)).toBe(size);
    expect(zlib.gunzipSync(roomy.subarray(0, size)).equals(Buffer.concat(pieces))).toBe(true);
    engine.close();
  });

  it('gzipInto() members written back to back in one buffer read as one multi-member file', () => {
    const engine = new GzipEngine();
    const parts = [[text(500)], [randomBytes(20_000), text(2000)], [Buffer.alloc(0)]];
    const out = Buffer.alloc(200_000);
    let at = 0;
    for (const p of parts) at = engine.gzipInto(p, out, at);
    expect(zlib.gunzipSync(out.subarray(0, at)).equals(Buffer.concat(parts.flat()))).toBe(true);
    engine.close();
  });
});
