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
    ['1.5 MB of random bytes (more output than its 256 KB buffer)', randomBytes(1_500_000)],
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
});
