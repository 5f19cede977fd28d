import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { request } from '../../src/client/request.js';
import { BodyDecoder, parseCodings, WHOLE_BODY_MAX } from '../../src/client/decode.js';

import { chunked, rawServers, response, type Step } from '../helpers/raw-server.js';
import { failure } from '../helpers/failure.js';

const serve = rawServers();

const TEXT = Buffer.from('<html><head><meta charset="utf-8"></head><body>' + 'Grüße, 世界! '.repeat(500) + '</body></html>');
const gzip = (b: Buffer): Buffer => zlib.gzipSync(b);
const br = (b: Buffer): Buffer => zlib.brotliCompressSync(b);

const codings: Array<[string, string, Buffer]> = [
  ['gzip', 'gzip', gzip(TEXT)],
  ['x-gzip', 'x-gzip', gzip(TEXT)],
  ['upper-case GZIP', 'GZIP', gzip(TEXT)],
  ['deflate (zlib-wrapped)', 'deflate', zlib.deflateSync(TEXT)],
  ['deflate (raw, as some servers send)', 'deflate', zlib.deflateRawSync(TEXT)],
  ['br', 'br', br(TEXT)],
  ['stacked gzip then br', 'gzip, br', br(gzip(TEXT))],
  ['stacked in two fields', 'deflate\r\nContent-Encoding: gzip', gzip(zlib.deflateSync(TEXT))],
  ['identity', 'identity', TEXT],
];

describe.each([
  ['whole', (w: Buffer): Step[] => [{ send: w }]],
  ['byte at a time', (w: Buffer): Step[] => [{ split: w, sizes: [...Array<number>(600).fill(1), 4096] }]],
])('Content-Encoding decoded, delivered %s', (_, deliver) => {
  it.each(codings)('%s', async (_name, value, body) => {
    const s = await serve([...deliver(response('200 OK', [['Content-Encoding', value], ['Content-Length', body.length]], body)), { hold: true }]);
    const res = await request(`${s.origin}/`);
    expect(res.body.equals(TEXT)).toBe(true);
    expect(res.text()).toBe(TEXT.toString('utf8'));
  });
});

describe('decoding edges', () => {
  it('a gzip transfer coding under chunked is decoded too', async () => {
    const s = await serve([{ send: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'), chunked([gzip(TEXT)])]) }, { hold: true }]);
    expect((await request(`${s.origin}/`)).body.equals(TEXT)).toBe(true);
  });

  it('gzip content coding inside a chunked, many-chunk body', async () => {
    const z = gzip(TEXT);
    const pieces = [];
    for (let i = 0; i < z.length; i += 13) pieces.push(z.subarray(i, i + 13));
    const s = await serve([{ send: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'), chunked(pieces)]) }, { hold: true }]);
    expect((await request(`${s.origin}/`)).body.equals(TEXT)).toBe(true);
  });

  it('an unknown content coding is left as it is', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Encoding', 'zstd'], ['Content-Length', 4]], 'abcd') }, { hold: true }]);
    const res = await request(`${s.origin}/`);
    expect(res.body.toString()).toBe('abcd');
    expect(res.headers.get('content-encoding')).toBe('zstd');
  });

  it('decompress: false returns the coded bytes and does not ask for codings', async () => {
    const z = gzip(TEXT);
    const s = await serve([{ send: response('200 OK', [['Content-Encoding', 'gzip'], ['Content-Length', z.length]], z) }, { hold: true }]);
    const res = await request(`${s.origin}/`, { decompress: false });
    expect(res.body.equals(z)).toBe(true);
    expect(s.requests[0]!.toString()).not.toMatch(/accept-encoding/i);
  });

  it.each([
    ['HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 500\r\n\r\n'],
    ['204', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n'],
    ['empty body', 'GET', 'HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n'],
  ] as const)('a coded response without a body (%s) is an empty body, not an error', async (_, method, wire) => {
    const s = await serve([{ send: wire }, { hold: true }]);
    const res = await request(`${s.origin}/`, { method });
    expect(res.body.length).toBe(0);
  });

  it('five stacked codings are decoded', async () => {
    const body = zlib.deflateSync(br(gzip(gzip(gzip(TEXT)))));
    const s = await serve([{ send: response('200 OK', [['Content-Encoding', 'gzip, gzip, gzip, br, deflate'], ['Content-Length', body.length]], body) }, { hold: true }]);
    expect((await request(`${s.origin}/`)).body.equals(TEXT)).toBe(true);
  });

  it.each([
    ['six content codings', 'Content-Encoding: gzip, gzip, gzip, gzip, gzip, gzip\r\nContent-Length: 100000'],
    ['20,000 content codings (a decoder each, 700 MB)', `Content-Encoding: ${Array<string>(20_000).fill('br').join(',')}\r\nContent-Length: 100000`],
    ['content and transfer codings, six in all', 'Content-Encoding: gzip, br, deflate\r\nTransfer-Encoding: gzip, x-gzip, deflate, chunked'],
  ])('%s: ERR_DECOMPRESS at the head, before a byte of body', async (_, fields) => {
    const s = await serve([{ send: `HTTP/1.1 200 OK\r\n${fields}\r\n\r\n` }, { hold: true }]);
    const e = await failure(request(`${s.origin}/`, { timeoutMs: 5000, maxHeaderBytes: 128 * 1024 }));
    expect(e.code).toBe('ERR_DECOMPRESS');
    expect(e.message).toMatch(/more than 5 codings are not decoded/);
  });

  it.each([
    ['gzip', 'gzip', Buffer.from('this is not gzip at all, just text')],
    ['truncated gzip', 'gzip', gzip(TEXT).subarray(0, 100)],
    ['corrupt gzip in the middle', 'gzip', Buffer.from(gzip(TEXT).map((b, i) => (i > 20 && i < 40 ? 0xff : b)))],
    ['br', 'br', Buffer.from('\xff\xff\xff\xffnot brotli', 'latin1')],
    ['deflate', 'deflate', Buffer.from('\x78\x9c garbage garbage', 'latin1')],
  ])('corrupt %s is ERR_DECOMPRESS', async (_, value, body) => {
    const s = await serve([{ send: response('200 OK', [['Content-Encoding', value], ['Content-Length', body.length]], body) }, { hold: true }]);
    const e = await failure(request(`${s.origin}/`));
    expect(e.code).toBe('ERR_DECOMPRESS');
    expect(e.url).toBe(`${s.origin}/`);
  });

  it('a whole response whose decoding fails traces each leniency once, then the error', async () => {
    const body = Buffer.from('this is not gzip at all');
    const s = await serve([{ send: Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`), body]) }, { hold: true }]);
    const types: string[] = [];
    const e = await failure(request(`${s.origin}/`, { onWire: (ev) => types.push(ev.type) }));
    expect(e.code).toBe('ERR_DECOMPRESS');
    expect(types.filter((t) => t === 'leniency')).toHaveLength(1);
    expect(types.slice(-2)).toEqual(['error', 'close']);
  });
});

describe('BodyDecoder', () => {
  it('parses codings in applied order, dropping identity', () => {
    expect(parseCodings('gzip, Identity, BR')).toEqual(['gzip', 'br']);
    expect(parseCodings(null)).toEqual([]);
  });

  /** The decoder's result, whether end() returned it, threw, or returned a promise. */
  const ended = (d: BodyDecoder): Promise<Buffer> => new Promise((resolve) => resolve(d.end()));

  it('limits the decoded size, not the coded size', async () => {
    const d = new BodyDecoder(['gzip'], 1000);
    d.write(gzip(Buffer.alloc(1001)));
    await expect(ended(d)).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE', message: 'decoded body exceeds maxBodyBytes (--max-body): 1000 bytes' });
    const ok = new BodyDecoder(['gzip'], 1000);
    ok.write(gzip(Buffer.alloc(1000)));
    expect((await ended(ok)).length).toBe(1000);
    const none = new BodyDecoder(['gzip'], 0);
    none.write(gzip(Buffer.alloc(0)));
    expect((await ended(none)).length).toBe(0);
  });

  // Past WHOLE_BODY_MAX coded bytes the decoder streams: random bytes do not compress, so these
  // coded bodies are longer than that.
  const BIG = crypto.randomBytes(WHOLE_BODY_MAX + 50_000);
  const both: Array<[string, string[], Buffer, Buffer]> = [
    ['gzip', ['gzip'], TEXT, gzip(TEXT)],
    ['deflate (zlib-wrapped)', ['deflate'], TEXT, zlib.deflateSync(TEXT)],
    ['deflate (raw)', ['deflate'], TEXT, zlib.deflateRawSync(TEXT)],
    ['br', ['br'], TEXT, br(TEXT)],
    ['gzip then br', ['gzip', 'br'], TEXT, br(gzip(TEXT))],
    ['long gzip', ['gzip'], BIG, gzip(BIG)],
    ['long deflate (raw)', ['deflate'], BIG, zlib.deflateRawSync(BIG)],
    ['long br', ['br'], BIG, br(BIG)],
    ['long gzip then br', ['gzip', 'br'], BIG, br(gzip(BIG))],
  ];

  it.each(both)('%s: one write, or 7,001-byte pieces, decode to the same bytes', async (_, codings, plain, coded) => {
    const whole = new BodyDecoder(codings, 1 << 20);
    whole.write(coded);
    const pieces = new BodyDecoder(codings, 1 << 20);
    for (let i = 0; i < coded.length; i += 7001) pieces.write(coded.subarray(i, i + 7001));
    const result = whole.end();
    expect(result instanceof Promise).toBe(coded.length > WHOLE_BODY_MAX);
    expect((await result).equals(plain)).toBe(true);
    expect((await ended(pieces)).equals(plain)).toBe(true);
  });

  it.each([
    ['whole', zlib.gzipSync(Buffer.alloc(200_000))],
    ['streamed', Buffer.concat([zlib.gzipSync(Buffer.alloc(200_000)), crypto.randomBytes(WHOLE_BODY_MAX)])],
  ])('a decoded size over the limit is ERR_BODY_TOO_LARGE (%s)', async (_, coded) => {
    const d = new BodyDecoder(['gzip'], 100_000);
    d.write(coded);
    await expect(ended(d)).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
  });

  // A gzip member of empty stored blocks: `n` * 5 bytes that decode to nothing.
  const emptyBlocks = (n: number): Buffer =>
    Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), Buffer.alloc(n * 5).fill(Buffer.from([0, 0, 0, 0xff, 0xff])), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
  const inner = emptyBlocks(200_000); // 1 MB

  it.each([
    ['whole', gzip(inner)],
    ['streamed', zlib.gzipSync(inner, { level: 0 })],
  ])('a coding inside another decodes at most maxBytes of it: ERR_BODY_TOO_LARGE (%s)', async (_, coded) => {
    const d = new BodyDecoder(['gzip', 'gzip'], 500_000);
    d.write(coded);
    await expect(ended(d)).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
  });

  it('with truncate, a coding inside another decoding past maxBytes ends the body there', async () => {
    const d = new BodyDecoder(['gzip', 'gzip'], 500_000, true);
    d.write(gzip(inner));
    expect((await ended(d)).length).toBe(0);
    expect(d.full).toBe(true);
    expect(d.truncated).toBe(true);
  });

  it.each([
    ['truncated, whole', gzip(TEXT).subarray(0, 100)],
    ['truncated, streamed', gzip(BIG).subarray(0, WHOLE_BODY_MAX + 1000)],
    ['not gzip, whole', Buffer.from('not gzip at all')],
    ['not gzip, streamed', crypto.randomBytes(WHOLE_BODY_MAX + 1000)],
  ])('corrupt data is ERR_DECOMPRESS naming the coding (%s)', async (_, coded) => {
    const d = new BodyDecoder(['gzip'], 1 << 20);
    d.write(coded);
    await expect(ended(d)).rejects.toMatchObject({ code: 'ERR_DECOMPRESS', message: expect.stringMatching(/^cannot decode gzip body: /) });
  });

  it('raw deflate fed one byte at a time', async () => {
    const d = new BodyDecoder(['deflate'], 1 << 20);
    for (const b of zlib.deflateRawSync(TEXT)) d.write(Buffer.from([b]));
    expect((await d.end()).equals(TEXT)).toBe(true);
  });
});
