import { describe, expect, it } from 'vitest';
import { formatExcerpt } from '../../src/http/excerpt.js';
import { base32, Sha1Digest, sha1Label } from '../../src/capture/digest.js';

describe('error excerpt', () => {
  it.each([
    ['marks the offending byte in hex and ASCII', Buffer.from('HTTP/1.1 2x0 OK\r\n'), 0, 10, '@0: 48 54 54 50 2f 31 2e 31 20 32 [78] 30 20 4f 4b 0d 0a |HTTP/1.1 2[x]0 OK..|'],
    ['shows at most 12 bytes on each side, from the stream offset', Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'), 100, 118, '@106: 36 37 38 39 61 62 63 64 65 66 67 68 [69] 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 |6789abcdefgh[i]jklmnopqrstu|'],
    ['marks an offset just past the bytes (an early close) at the end', Buffer.from('abc'), 0, 3, '@0: 61 62 63 [] |abc[]|'],
    ['shows non-printable bytes as dots', Buffer.from([0x00, 0xff, 0x0a]), 5, 6, '@5: 00 [ff] 0a |.[.].|'],
  ])('%s', (_, bytes, start, offset, expected) => {
    expect(formatExcerpt(bytes, start, offset)).toBe(expected);
  });

  it('is empty when the bytes around the offset are gone', () => {
    expect(formatExcerpt(Buffer.from('abc'), 100, 10)).toBe('');
  });
});

describe('WARC digest label', () => {
  it('is base32 as in RFC 4648 §10', () => {
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map((s) => base32(Buffer.from(s)))).toEqual([
      '', 'MY======', 'MZXQ====', 'MZXW6===', 'MZXW6YQ=', 'MZXW6YTB', 'MZXW6YTBOI======',
    ]);
  });

  it('is sha1: + base32 of the SHA-1 (as wget writes it)', () => {
    // wget 1.21's WARC-Payload-Digest for the chunked body "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".
    expect(sha1Label(Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'))).toBe('sha1:G775HZIMW5LWK7CYOI5L7HHTGZCQWVVO');
  });

  it.each([
    ['no piece', []],
    ['one piece', ['hello world']],
    ['an empty piece, then bytes', ['', 'hello']],
    ['two pieces', ['hello', ' world']],
    ['three pieces with an empty one', ['he', '', 'llo world']],
  ])('a running digest over %s equals the digest of the whole', (_, pieces) => {
    const d = new Sha1Digest();
    for (const p of pieces) d.update(Buffer.from(p));
    expect(d.bytes).toBe(pieces.join('').length);
    expect(d.digest()).toBe(sha1Label(Buffer.from(pieces.join(''))));
  });
});
